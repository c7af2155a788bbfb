"""The trace page (``/trace?uid=UID&direction=backward|forward``): graph, tables in pages, and exports."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response, StreamingResponse

from zhuisu.api.state import AppState
from zhuisu.errors import BadInput
from zhuisu.graph.results import Trace, iso
from zhuisu.web import graphview, i18n
from zhuisu.web.auth import Reader
from zhuisu.web.pages import PAGE_ROWS, PageRoute, Recent, day, page_number, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def _trace(state: AppState, recent: Recent, uid: str, direction: str, since: datetime | None,
           until: datetime | None) -> Trace:
    with state.graph.reading() as graph:
        key = ("trace", uid, direction, since, until, state.graph.batch)
        return recent.get(key, lambda: graph.trace(uid, direction=direction, since=since, until=until))


def query(request: Request) -> dict[str, Any]:
    """The trace a page's parameters ask for: uid, direction and the time filter, checked."""
    params = request.query_params
    direction = params.get("direction") or "backward"
    if direction not in ("backward", "forward"):
        raise BadInput(f"方向无效 direction={direction!r}; use backward or forward", where="direction")
    return {"uid": (params.get("uid") or "").strip(), "direction": direction,
            "since": params.get("since") or "", "until": params.get("until") or ""}


async def compute(request: Request, q: dict[str, Any]) -> Trace:
    if not q["uid"]:
        raise BadInput("缺少 uid the trace needs a uid, e.g. /trace?uid=unit:SN-M2311-00042", where="uid")
    since, until = day(q["since"], "since"), day(q["until"], "until", end=True)
    return await run_in_threadpool(_trace, request.app.state.zhuisu, request.app.state.web_recent, q["uid"],
                                   q["direction"], since, until)


@router.get("/trace")
async def trace_page(request: Request, _: Reader) -> Response:
    q = query(request)
    if not q["uid"]:
        return render(request, "trace.html", {"q": q, "trace": None})
    trace = await compute(request, q)
    page, spage = page_number(request.query_params.get("page")), page_number(request.query_params.get("spage"))
    return render(request, "trace.html", {
        "q": q, "trace": trace, "rows": PAGE_ROWS, "members": graphview.MEMBERS,
        "nodes": trace.nodes[(page - 1) * PAGE_ROWS: page * PAGE_ROWS], "page": page,
        "steps": trace.steps[(spage - 1) * PAGE_ROWS: spage * PAGE_ROWS], "spage": spage,
    })


@router.get("/trace/graph.json")
async def trace_graph(request: Request, _: Reader) -> Response:
    q = query(request)
    trace = await compute(request, q)
    expand = request.query_params.get("expand")
    lang = i18n.language(request)
    onto = request.app.state.zhuisu.store.ontology
    chosen = None if expand is None else [g for g in expand.split(",") if g]
    body = await run_in_threadpool(graphview.view, trace, onto, lang, i18n.translator(lang), chosen)
    return JSONResponse(body)


@router.get("/trace/export.json")
async def export_json(request: Request, _: Reader) -> Response:
    trace = await compute(request, query(request))
    body = await run_in_threadpool(lambda: json.dumps(trace.to_dict(), ensure_ascii=False))
    return Response(body, media_type="application/json",
                    headers={"Content-Disposition": _attachment(trace, "json")})


@router.get("/trace/export.csv")
async def export_csv(request: Request, _: Reader) -> Response:
    trace = await compute(request, query(request))
    steps = request.query_params.get("table") == "steps"
    rows = _step_rows(trace) if steps else _node_rows(trace)
    return StreamingResponse(_csv(rows), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": _attachment(trace, "steps.csv" if steps else "csv")})


def _attachment(trace: Trace, suffix: str) -> str:
    name = "".join(c if c.isalnum() or c in "-_." else "_" for c in trace.root)
    return f'attachment; filename="trace-{trace.direction}-{name}.{suffix}"'


def _node_rows(trace: Trace) -> Iterator[list[Any]]:
    yield ["level", "kind", "uid", "name", "material", "received", "uom", "inspections"]
    for n in trace.nodes:
        yield [n.level, n.kind, n.uid, n.name or "", n.material.uid if n.material else "",
               "" if n.received is None else n.received, n.uom or "",
               "; ".join(f"{i.uid} {i.result or ''} {i.defect_code or ''}".strip() for i in n.inspections)]


def _step_rows(trace: Trace) -> Iterator[list[Any]]:
    yield ["level", "operation", "step", "time", "inputs", "outputs", "equipment", "operators", "tools", "shifts",
           "work_orders", "parameters", "inspections"]
    for s in trace.steps:
        yield [s.level, s.operation, s.step or "", iso(s.time) or "", " ".join(s.inputs), " ".join(s.outputs),
               *(" ".join(r.uid for r in refs) for refs in (s.equipment, s.operators, s.tools, s.shifts,
                                                          s.work_orders)),
               "; ".join(f"{p.uid}={p.value}{p.unit or ''}{' OOS' if p.out_of_spec else ''}" for p in s.parameters),
               "; ".join(f"{i.uid} {i.result or ''} {i.defect_code or ''}".strip() for i in s.inspections)]


def _csv(rows: Iterator[list[Any]]) -> Iterator[bytes]:
    """UTF-8 with a byte-order mark, so that Excel opens the Chinese text as it is."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    yield "\ufeff".encode()
    for i, row in enumerate(rows, 1):
        writer.writerow(row)
        if i % 1000 == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()
