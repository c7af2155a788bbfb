"""Who the browser is: the API key it signed in with, kept in an HttpOnly cookie, and the checks on forms.

The workbench reads like the API does: open unless ``ZHUISU_API_KEYS_REQUIRED_FOR_READS=1``. Anything that
writes (an upload) needs a key with the ``ingest`` scope, exactly as ``POST /api/v1/uploads`` does; the key is
entered once on /login and kept in a ``SameSite=Strict`` HttpOnly cookie, and every form POST must come from
this server's own pages (its ``Origin``), so another site cannot make a signed-in browser write.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from zhuisu.api.auth.keys import ApiKey
from zhuisu.api.deps import State
from zhuisu.api.errors import Forbidden, Unauthorized

COOKIE = "zhuisu_key"


class SignIn(Unauthorized):
    """The page needs a key the browser has not given: a page sends it to /login (then back), a script gets 401."""

    def __init__(self, back: str) -> None:
        super().__init__("需要 API 密钥 reading needs an API key here (ZHUISU_API_KEYS_REQUIRED_FOR_READS=1); "
                         "sign in on /login")
        self.location = f"/login?next={quote(back, safe='')}"


async def signed_in(request: Request, state: State) -> ApiKey | None:
    """The live key of the browser's cookie, or None (no cookie, or a key since revoked)."""
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    return await run_in_threadpool(state.keys.verify, token)


Viewer = Annotated[ApiKey | None, Depends(signed_in)]


async def reader(request: Request, state: State, key: Viewer) -> ApiKey | None:
    """Pages are open unless the API's reads need a key; then the browser must have signed in with one."""
    if key is None:
        if state.settings.keys_for_reads:
            raise SignIn(str(request.url.path) + (f"?{request.url.query}" if request.url.query else ""))
        return None
    if not key.allows("read"):
        raise Forbidden(f"权限不足 key {key.id} ({key.name}) cannot read")
    return key


Reader = Annotated[ApiKey | None, Depends(reader)]


def same_origin(request: Request) -> None:
    """Refuse a POST that another site's page sent (its Origin, or Referer, names another host)."""
    sent = request.headers.get("origin") or request.headers.get("referer")
    host = request.headers.get("host", "")
    if not sent or urlsplit(sent).netloc != host:
        raise Forbidden("请求来源不符 this form must be sent from this server's own pages (Origin/Referer "
                        f"{sent or 'missing'} is not {host}); reload the page and try again")


def writer(request: Request, key: Viewer) -> ApiKey:
    """A same-origin request from a browser signed in with an ``ingest`` key."""
    same_origin(request)
    if key is None:
        raise Unauthorized("需要 API 密钥 uploading needs an API key with the ingest scope: sign in on /login "
                           "(create one with `zhuisu apikey create --name NAME --scope ingest`)")
    if not key.allows("ingest"):
        raise Forbidden(f"权限不足 key {key.id} ({key.name}) has scopes {', '.join(key.scopes)}; uploading needs "
                        "ingest")
    return key


Writer = Annotated[ApiKey, Depends(writer)]
