"""Dependencies declared once as ``Annotated`` aliases: the app's state, the store, the graph, and access.

They are ``async`` where they do not block, so that a request does not hop to a worker thread for each.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from zhuisu.api.auth.keys import ApiKey
from zhuisu.api.errors import Forbidden, Unauthorized
from zhuisu.api.live import LiveGraph
from zhuisu.api.state import AppState
from zhuisu.graph.store import Store


async def get_state(request: Request) -> AppState:
    return request.app.state.zhuisu  # type: ignore[no-any-return]


State = Annotated[AppState, Depends(get_state)]


async def get_store(state: State) -> Store:
    return state.store


async def get_graph(state: State) -> LiveGraph:
    return state.graph


StoreDep = Annotated[Store, Depends(get_store)]
GraphDep = Annotated[LiveGraph, Depends(get_graph)]

_bearer = HTTPBearer(auto_error=False, scheme_name="bearer",
                     description="API 密钥 API key: `Authorization: Bearer zs_…` (`zhuisu apikey create`)")
_header = APIKeyHeader(name="X-API-Key", auto_error=False, scheme_name="apiKey",
                       description="API 密钥 API key in the `X-API-Key` header")


async def presented_key(state: State,
                        bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
                        header: Annotated[str | None, Depends(_header)]) -> ApiKey | None:
    """The key the request presents, verified (in a worker thread: it reads the store); None without one."""
    token = bearer.credentials if bearer is not None else header
    if token is None or not token.strip():
        return None
    key = await run_in_threadpool(state.keys.verify, token)
    if key is None:
        raise Unauthorized("API 密钥无效或已吊销 the API key is unknown, malformed or revoked; "
                           "create one with `zhuisu apikey create --name NAME --scope SCOPE`")
    return key


Presented = Annotated[ApiKey | None, Depends(presented_key)]


def _need(key: ApiKey | None, scope: str) -> ApiKey:
    if key is None:
        raise Unauthorized(f"需要 API 密钥 this operation needs an API key with the {scope} scope: send "
                           "`Authorization: Bearer KEY` or `X-API-Key: KEY`")
    if not key.allows(scope):
        raise Forbidden(f"权限不足 key {key.id} ({key.name}) has scopes {', '.join(key.scopes)}; this operation "
                        f"needs {scope}")
    return key


async def read_access(state: State, key: Presented) -> ApiKey | None:
    """Reads are open unless ``ZHUISU_API_KEYS_REQUIRED_FOR_READS`` is 1; a key presented must allow reading."""
    if key is None and not state.settings.keys_for_reads:
        return None
    return _need(key, "read")


async def ingest_access(key: Presented) -> ApiKey:
    return _need(key, "ingest")


async def admin_access(key: Presented) -> ApiKey:
    return _need(key, "admin")


ReadAccess = Annotated[ApiKey | None, Depends(read_access)]
IngestAccess = Annotated[ApiKey, Depends(ingest_access)]
AdminAccess = Annotated[ApiKey, Depends(admin_access)]
