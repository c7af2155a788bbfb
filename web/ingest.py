"""The ingest page (``/ingest``): what the store holds, the live connectors and their last errors, failed
EPCIS capture jobs, recent batches, and the upload of CSV/Excel tables and EPCIS/B2MML documents.

Tables go through the API's own ``POST /api/v1/uploads`` handler; documents through the same adapters as
``zhuisu ingest``. Uploading needs a signed-in ``ingest`` key (zhuisu.web.auth).
"""

from __future__ import annotations

import threading
from collections import deque
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, File, Form, Request, UploadFile
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from zhuisu.api.deps import State
from zhuisu.api.epcis import capture
from zhuisu.api.ingest import service
from zhuisu.api.ingest.models import BatchRead, UploadRead
from zhuisu.api.ingest.views import file_chunks, upload_tables
from zhuisu.api.schema import capture_jobs
from zhuisu.api.state import AppState
from zhuisu.errors import ZhuisuError
from zhuisu.graph.schema import nodes
from zhuisu.ingest.registry import plan
from zhuisu.web.auth import Reader, Viewer, Writer
from zhuisu.web.pages import PageRoute, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)
data = APIRouter(include_in_schema=False)  # the upload answers JSON (problem+json on errors) to the page's script
DOCUMENTS = {".json", ".jsonld", ".xml"}
RECENT = 20


class Failures:
    """The last uploads that failed on this server, for the ingest page."""

    def __init__(self, size: int = 20) -> None:
        self._items: deque[dict[str, Any]] = deque(maxlen=size)
        self._lock = threading.Lock()

    def add(self, files: list[str], error: ZhuisuError) -> None:
        with self._lock:
            self._items.appendleft({"time": datetime.now(UTC), "files": files, "message": str(error)})

    def all(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._items)


def overview(state: AppState) -> dict[str, Any]:
    """Counts, nodes by kind, recent batches and failed capture jobs."""
    store = state.store
    last = store.last_batch()
    recent, _ = service.batches(store=store, after=max(0, last - RECENT), limit=RECENT)
    failed = (sa.select(capture_jobs.c.id).where(capture_jobs.c.running == 0, capture_jobs.c.success == 0)
              .order_by(capture_jobs.c.seq.desc()).limit(10))
    by_kind = sa.select(nodes.c.kind, sa.func.count()).group_by(nodes.c.kind).order_by(sa.func.count().desc())
    with store.engine.connect() as conn:
        jobs = [j for i in conn.execute(failed).scalars() if (j := capture.get(store, i)) is not None]
        kinds = [(kind, n) for kind, n in conn.execute(by_kind)]
    return {"counts": store.counts(), "by_kind": kinds, "recent": list(reversed(recent)), "jobs": jobs,
            "connectors": [c.status() for c in state.connectors], "graph_batch": state.graph.batch}


@router.get("/ingest")
async def ingest_page(request: Request, _: Reader, key: Viewer) -> Response:
    state = request.app.state.zhuisu
    found = await run_in_threadpool(overview, state)
    return render(request, "ingest.html", {**found, "key": key, "failures": request.app.state.web_failures.all(),
                                           "can_upload": key is not None and key.allows("ingest"),
                                           "max_mb": state.settings.max_body >> 20})


@data.post("/ingest/upload", response_model=UploadRead)
def upload(request: Request, state: State, key: Writer,
           files: Annotated[list[UploadFile], File(description="表或文档 tables or documents")],
           mapping: Annotated[UploadFile | None, File()] = None,
           nlp: Annotated[bool, Form()] = True) -> UploadRead:
    """Tables through ``POST /api/v1/uploads``'s handler, then EPCIS/B2MML documents, each batch atomically."""
    documents = [f for f in files if Path(f.filename or "").suffix.lower() in DOCUMENTS]
    tables = [f for f in files if f not in documents]
    try:
        done = UploadRead(batches=[])
        if tables or mapping is not None:
            done = upload_tables(state, key, tables, mapping, nlp)
        if documents:
            done.batches += _documents(state, documents)
        return done
    except ZhuisuError as exc:
        request.app.state.web_failures.add([f.filename or "?" for f in files], exc)
        raise


def _documents(state: AppState, files: list[UploadFile]) -> list[BatchRead]:
    folder = service.Upload(state.settings.max_body)
    try:
        for item in files:
            folder.add(item.filename, file_chunks(item))
        return service.commit_all(store=state.store, graph=state.graph, batches=plan(folder.folder))
    finally:
        folder.close()
