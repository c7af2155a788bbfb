"""The home page, search (a page and the suggestion list's JSON), and signing in with an API key."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, RedirectResponse, Response

from zhuisu.web import i18n
from zhuisu.web.analysis import defect_codes
from zhuisu.web.auth import COOKIE, Reader, Viewer, same_origin
from zhuisu.web.kinds import label
from zhuisu.web.pages import PageRoute, render
from zhuisu.web.search import suggest

router = APIRouter(route_class=PageRoute, include_in_schema=False)
data = APIRouter(include_in_schema=False)
MAX_QUERY = 200


@router.get("/")
async def home(request: Request, _: Reader) -> Response:
    store = request.app.state.zhuisu.store
    counts = await run_in_threadpool(store.counts)
    codes = await run_in_threadpool(defect_codes, store)
    return render(request, "index.html", {"counts": counts, "codes": codes})


@router.get("/search")
async def search_page(request: Request, _: Reader) -> Response:
    q = (request.query_params.get("q") or "").strip()[:MAX_QUERY]
    found = await run_in_threadpool(suggest, request.app.state.zhuisu.store, q, limit=50) if q else []
    if len(found) == 1 and found[0].how in ("exact", "named"):
        return RedirectResponse(f"/entity?uid={found[0].uid}", status_code=303)
    return render(request, "search.html", {"q": q, "found": found})


@data.get("/search.json")
async def search_json(request: Request, _: Reader) -> Response:
    q = (request.query_params.get("q") or "").strip()[:MAX_QUERY]
    found = await run_in_threadpool(suggest, request.app.state.zhuisu.store, q) if q else []
    lang = i18n.language(request)
    onto = request.app.state.zhuisu.store.ontology
    return JSONResponse([{**s.to_dict(), "kind_label": label(onto, s.kind, lang)} for s in found])


@router.get("/login")
async def login_page(request: Request, key: Viewer) -> Response:
    return render(request, "login.html", {"key": key, "next": _local(request.query_params.get("next")),
                                          "failed": False})


@router.post("/login")
async def login(request: Request, key: Annotated[str, Form(max_length=300)],
                next: Annotated[str, Form(max_length=2000)] = "/") -> Response:
    same_origin(request)
    found = await run_in_threadpool(request.app.state.zhuisu.keys.verify, key)
    if found is None:
        return render(request, "login.html", {"key": None, "next": _local(next), "failed": True}, status=401)
    response = RedirectResponse(_local(next), status_code=303)
    response.set_cookie(COOKIE, key.strip(), httponly=True, samesite="strict", secure=request.url.scheme == "https",
                        max_age=12 * 3600)
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    same_origin(request)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(COOKIE, samesite="strict")
    return response


def _local(target: str | None) -> str:
    """Only a path on this server (never ``//other.host``) is a place to go back to."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
