"""The RCA page (``/rca?defect_code=CODE``) with its charts and the 8D report, and the assistant's chat (``/ask``).

Both run what the API runs: ``zhuisu.rca.analysis`` (charts and wording from the 8D report's own builder) and
the API's ``POST /api/v1/ask`` handler, so the page and an integrator always see the same answer.
"""

from __future__ import annotations

import re
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Request
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.responses import FileResponse, JSONResponse, Response

from zhuisu.api.analysis.models import AskCreate
from zhuisu.api.analysis.views import post_ask
from zhuisu.api.state import AppState
from zhuisu.errors import BadInput
from zhuisu.graph.schema import nodes
from zhuisu.graph.store import Store
from zhuisu.rca.results import RcaResult
from zhuisu.web.auth import Reader, same_origin
from zhuisu.web.pages import PageRoute, Recent, day, remove_folder, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)
data = APIRouter(include_in_schema=False)  # JSON for the page's script: errors as problem+json
MAX_UNITS = 10_000


def _case(request: Request) -> dict[str, Any]:
    params = request.query_params
    code = (params.get("defect_code") or "").strip()
    units = [u for u in re.split(r"[\s,;，；]+", params.get("units") or "") if u]
    if code and units:
        raise BadInput("给出缺陷代码或产品清单之一 give a defect code or a list of units, not both", where="units")
    if len(units) > MAX_UNITS:
        raise BadInput(f"清单过长 at most {MAX_UNITS} units; narrow the list", where="units")
    return {"defect_code": code, "units": units, "units_text": "\n".join(units),
            "since": params.get("since") or "", "until": params.get("until") or ""}


def _analyse(state: AppState, recent: Recent, case: dict[str, Any], since: datetime | None,
             until: datetime | None) -> tuple[RcaResult, dict[str, Any]]:
    from zhuisu.rca.analysis import analyse
    from zhuisu.rca.report import ReportContext  # the 8D report's charts and wording, shared with this page

    code, units = case["defect_code"] or None, case["units"] or None
    with state.graph.engine_reading() as engine:
        def make() -> tuple[RcaResult, dict[str, Any]]:
            result, pop = analyse(engine, defect_code=code, units=units, since=since, until=until)
            return result, ReportContext(engine, result, pop, None, None).build()

        key = ("rca", code, tuple(units or ()), since, until, state.graph.batch)
        return recent.get(key, make)


def defect_codes(store: Store) -> list[tuple[str, str | None]]:
    """The defect codes the store knows, with their names (for the form's suggestions)."""
    query = sa.select(nodes.c.uid, nodes.c.name).where(nodes.c.kind == "Defect").order_by(nodes.c.uid)
    with store.engine.connect() as conn:
        return [(uid.partition(":")[2], name) for uid, name in conn.execute(query)]


@router.get("/rca")
async def rca_page(request: Request, _: Reader) -> Response:
    case = _case(request)
    state = request.app.state.zhuisu
    codes = await run_in_threadpool(defect_codes, state.store)
    if not case["defect_code"] and not case["units"]:
        return render(request, "rca.html", {"case": case, "codes": codes, "result": None})
    since, until = day(case["since"], "since"), day(case["until"], "until", end=True)
    result, context = await run_in_threadpool(_analyse, state, request.app.state.web_recent, case, since, until)
    return render(request, "rca.html", {"case": case, "codes": codes, "result": result, "report": context})


@router.get("/rca/report")
async def rca_report(request: Request, _: Reader) -> Response:
    """The 8D report of the case (self-contained HTML, or its Excel workbook with ``format=xlsx``)."""
    from zhuisu.rca.report import report

    case = _case(request)
    fmt = request.query_params.get("format") or "html"
    if fmt not in ("html", "xlsx"):
        raise BadInput(f"不支持的格式 format={fmt!r}; use html or xlsx", where="format")
    if not case["defect_code"] and not case["units"]:
        raise BadInput("缺少缺陷代码 the report needs a defect_code or units", where="defect_code")
    since, until = day(case["since"], "since"), day(case["until"], "until", end=True)
    state = request.app.state.zhuisu
    folder = Path(tempfile.mkdtemp(prefix="zhuisu-8d-"))

    def write() -> Path:
        with state.graph.engine_reading() as engine:
            files = report(engine, folder, defect_code=case["defect_code"] or None, units=case["units"] or None,
                           since=since, until=until)
        return files.html if fmt == "html" else files.xlsx

    try:
        path = await run_in_threadpool(write)
    except BaseException:
        remove_folder(folder)
        raise
    cleanup = BackgroundTask(remove_folder, folder)
    if fmt == "html":
        return FileResponse(path, media_type="text/html; charset=utf-8", background=cleanup)
    name = f"8D-{case['defect_code'] or 'units'}.xlsx"
    return FileResponse(path, filename=name, background=cleanup,
                        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@router.get("/ask")
async def ask_page(request: Request, _: Reader) -> Response:
    return render(request, "ask.html", {})


@data.post("/ask.json")
async def ask_json(request: Request, key: Reader) -> Response:
    """The chat's question, answered by the API's own handler (sessions included)."""
    same_origin(request)
    try:
        body = AskCreate.model_validate(await request.json())
    except ValueError:
        raise BadInput("问题无效 send {\"question\": \"…\"} with 1 to 300 characters", where="question") from None
    state = request.app.state.zhuisu
    answer: JSONResponse = await run_in_threadpool(post_ask, body, state.store, state.graph, key)
    return answer
