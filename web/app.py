"""The workbench mounted on the API's app: its pages at ``/``, its scripts and styles, and vis-network from the
pyvis package, all served by zhuisu (nothing is fetched from a CDN)."""

from __future__ import annotations

from pathlib import Path

import pyvis
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from zhuisu.web import analysis, contain, entity, home, i18n, ingest, trace
from zhuisu.web.pages import Recent, error_page

STATIC = Path(__file__).with_name("static")
NOT_PAGES = ("/api/", "/epcis", "/static/")
VIS = Path(pyvis.__file__).with_name("lib") / "vis-9.1.2"  # vis-network as pyvis ships it (Apache-2.0/MIT)


def mount(app: FastAPI) -> None:
    """Add the workbench's pages and static files to ``app`` (made by ``zhuisu.api.app.create_app``)."""
    app.state.web_recent = Recent()
    app.state.web_failures = ingest.Failures()
    app.mount("/static/web", StaticFiles(directory=STATIC), name="web-static")
    app.mount("/static/vis", StaticFiles(directory=VIS), name="web-vis")
    for module in (home, trace, contain, entity, analysis, ingest):
        app.include_router(module.router)
        if hasattr(module, "data"):
            app.include_router(module.data)
    api_problem = app.exception_handlers[HTTPException]  # the API's problem+json renderer (zhuisu.api.errors)

    async def page_or_problem(request: Request, exc: Exception) -> Response:
        """A browser asking for an unknown page gets a page; everything else the API's problem+json."""
        assert isinstance(exc, HTTPException)
        if exc.status_code == 404 and request.method == "GET" and not request.url.path.startswith(NOT_PAGES) \
                and "text/html" in request.headers.get("accept", ""):
            t = i18n.translator(i18n.language(request))
            return error_page(request, 404, t("not_found_page", path=request.url.path))
        return await api_problem(request, exc)

    app.add_exception_handler(HTTPException, page_or_problem)
