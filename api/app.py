"""The FastAPI app: ``create_app(store=...)`` mounts each domain's routes under ``/api/v1`` and the EPCIS 2.0
binding under ``/epcis``, renders every error as problem+json, and keeps the graph in step with the store."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi_offline import FastAPIOffline
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import zhuisu
from zhuisu.api import errors
from zhuisu.api.analysis.views import router as analysis_router
from zhuisu.api.auth.views import router as keys_router
from zhuisu.api.deps import ReadAccess, State
from zhuisu.api.entities.views import router as entities_router
from zhuisu.api.epcis import capture
from zhuisu.api.epcis.versions import VersionHeaders
from zhuisu.api.epcis.views import router as epcis_router
from zhuisu.api.ingest.views import router as ingest_router
from zhuisu.api.queries.views import router as queries_router
from zhuisu.api.state import ApiSettings, AppState
from zhuisu.graph.store import Store
from zhuisu.web import app as web

log = logging.getLogger("zhuisu.api")

DESCRIPTION = """\
**追溯 zhuisu** 制造业知识图谱追溯的 REST 接口，供 MES/ERP 集成：推送事件（含 GS1 EPCIS 2.0）、上传表格与维修记录、
查询追溯、围堵与关联路径。

The REST interface of zhuisu for MES and ERP integration: push canonical records and GS1 EPCIS 2.0 events,
upload tables and maintenance notes, and ask for traces, containments and paths. Writes need an API key
(`Authorization: Bearer KEY` or `X-API-Key: KEY`, made with `zhuisu apikey create`); reads need one when
`ZHUISU_API_KEYS_REQUIRED_FOR_READS=1`. Every error is `application/problem+json` (RFC 9457). The EPCIS 2.0
REST binding is at `/epcis`. docs/api.md has the details.
"""

TAGS = [
    {"name": "ingest 导入", "description": "写入图谱 Write canonical records, tables and maintenance notes."},
    {"name": "trace 追溯", "description": "追溯与路径 Backward and forward traces, paths between nodes."},
    {"name": "analysis 分析", "description": "根因、相似产品、围堵与维修问答 Root causes, similar units, containment, "
                                           "and the maintenance assistant."},
    {"name": "entities 实体", "description": "查找节点 Look up and search nodes; the ontology's vocabulary."},
    {"name": "EPCIS 2.0", "description": "GS1 EPCIS 2.0 REST binding: capture, capture jobs, events query."},
    {"name": "keys 密钥", "description": "API 密钥管理 Manage API keys (admin scope)."},
    {"name": "service 服务", "description": "服务状态 Health and live connectors."},
]


class Health(BaseModel):
    status: str
    version: str
    store_batch: int
    graph_batch: int | None


class ConnectorStatus(BaseModel):
    name: str
    kind: str
    running: bool
    stats: dict[str, Any]


def create_app(store: Store | None = None, *, settings: ApiSettings | None = None,
               connectors: Sequence[Any] = ()) -> FastAPI:
    """The API over ``store`` (default: ``ZHUISU_DB_URL``); ``connectors`` (objects with ``start()``, ``stop()``
    and ``status()``) run while the app does."""
    state = AppState(store or Store(), settings or ApiSettings.from_env(), connectors=list(connectors))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        recovered = await run_in_threadpool(capture.recover, state.store)
        if recovered:
            log.warning("%d capture jobs left running by a stopped server are marked failed", recovered)
        await run_in_threadpool(lambda: state.graph.batch)  # load the graph before the first query
        for connector in state.connectors:
            connector.start()
        try:
            yield
        finally:
            for connector in state.connectors:
                await run_in_threadpool(connector.stop)
            state.close()

    # FastAPIOffline: /docs and /redoc load their scripts from this server, not from a CDN
    app = FastAPIOffline(title="追溯 zhuisu API", version=zhuisu.__version__, description=DESCRIPTION,
                         openapi_tags=TAGS, lifespan=lifespan, license_info={"name": "Apache-2.0"})
    app.state.zhuisu = state
    errors.install(app)
    v1 = APIRouter(prefix="/api/v1")
    for router in (ingest_router, queries_router, analysis_router, entities_router, keys_router, _service_router()):
        v1.include_router(router)
    app.include_router(v1)
    app.include_router(epcis_router)
    web.mount(app)  # the quality engineer's workbench at /
    app.add_middleware(VersionHeaders)
    if state.settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(state.settings.cors_origins),
                           allow_methods=["GET", "POST", "DELETE", "OPTIONS"],
                           allow_headers=["Authorization", "X-API-Key", "Content-Type", "Idempotency-Key",
                                          "GS1-EPCIS-Version", "GS1-EPCIS-Min", "GS1-EPCIS-Max", "GS1-CBV-Version",
                                          "GS1-Capture-Error-Behaviour"],
                           expose_headers=["Location", "Link", "GS1-EPCIS-Version", "GS1-CBV-Version"])
    app.add_middleware(BodyLimit, limit=state.settings.max_body)
    return app


def _service_router() -> APIRouter:
    router = APIRouter(tags=["service 服务"])

    @router.get("/health", response_model=Health, summary="健康检查 Health",
                description="服务与存储是否可用，图谱已应用到哪一批。Whether the service and its store answer, and "
                            "which batch the graph has applied. Needs no key.",
                responses=errors.responses(503))
    def health(state: State) -> Health:
        engine_batch = state.graph.batch
        return Health(status="ok", version=zhuisu.__version__, store_batch=state.store.last_batch(),
                      graph_batch=engine_batch)

    @router.get("/connectors", response_model=list[ConnectorStatus], summary="连接器状态 Live connectors",
                description="zhuisu serve 运行的 SQL 与 MQTT 连接器及其计数。The SQL and MQTT connectors this "
                            "server runs, with their counters (rows, messages, malformed, errors).",
                responses=errors.responses(401, 403))
    def connectors(state: State, _: ReadAccess) -> list[ConnectorStatus]:
        return [ConnectorStatus(**c.status()) for c in state.connectors]

    return router


class BodyLimit:
    """ASGI middleware: a request body over ``limit`` bytes is refused with 413 before it is all read."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(scope, receive, send)
            return
        seen = 0
        started = False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge
            return message

        async def tracking(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, tracking)
        except _TooLarge:
            if not started:
                await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        from starlette.requests import Request

        response = errors.problem(Request(scope, receive), 413, f"请求体过大 the request body is over "
                                  f"{self.limit >> 20} MiB (ZHUISU_API_MAX_BODY_MB); split it", code="E413")
        await response(scope, receive, send)


class _TooLarge(Exception):
    pass
