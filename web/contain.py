"""The containment page (``/contain?uid=UID``): affected lots and units with quantities and status, the
shipments and customers they reached, and exports (zhuisu.rca.containment, as ``GET /api/v1/containment``)."""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path

from fastapi import APIRouter, Request
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.responses import FileResponse, Response

from zhuisu.api.state import AppState
from zhuisu.errors import BadInput
from zhuisu.rca.export import STATUS, customer_rows, write_containment
from zhuisu.rca.results import Containment
from zhuisu.web.auth import Reader
from zhuisu.web.pages import PAGE_ROWS, PageRoute, Recent, day, page_number, remove_folder, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)
FORMATS = {"csv": "text/csv; charset=utf-8",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def _contain(state: AppState, recent: Recent, uid: str, since: datetime | None,
             until: datetime | None) -> Containment:
    from zhuisu.rca.containment import contain

    with state.graph.engine_reading() as engine:
        key = ("contain", uid, since, until, state.graph.batch)
        return recent.get(key, lambda: contain(engine, uid, since=since, until=until))


async def compute(request: Request) -> tuple[dict[str, str], Containment | None]:
    params = request.query_params
    q = {"uid": (params.get("uid") or "").strip(), "since": params.get("since") or "",
         "until": params.get("until") or ""}
    if not q["uid"]:
        return q, None
    since, until = day(q["since"], "since"), day(q["until"], "until", end=True)
    found = await run_in_threadpool(_contain, request.app.state.zhuisu, request.app.state.web_recent, q["uid"],
                                    since, until)
    return q, found


@router.get("/contain")
async def contain_page(request: Request, _: Reader) -> Response:
    q, found = await compute(request)
    if found is None:
        return render(request, "contain.html", {"q": q, "found": None})
    page = page_number(request.query_params.get("page"))
    totals = found.totals()
    status = [{"label": STATUS.get(k, k), "items": v["items"],
               "quantity": "; ".join(f"{amount:g} {uom}".strip() for uom, amount in v["quantity"].items())}
              for k, v in totals["by_status"].items()]
    return render(request, "contain.html", {
        "q": q, "found": found, "totals": totals, "status": status, "customers": customer_rows(found),
        "status_label": STATUS, "items": found.items[(page - 1) * PAGE_ROWS: page * PAGE_ROWS], "page": page,
        "rows": PAGE_ROWS,
    })


@router.get("/contain/export.{fmt}")
async def contain_export(request: Request, fmt: str, _: Reader) -> Response:
    if fmt not in FORMATS:
        raise BadInput(f"不支持的导出格式 cannot export as {fmt!r}; use csv or xlsx", where="format")
    q, found = await compute(request)
    if found is None:
        raise BadInput("缺少 uid the containment needs a uid, e.g. /contain?uid=lot:CG2311-0020", where="uid")
    folder = Path(tempfile.mkdtemp(prefix="zhuisu-export-"))
    name = "".join(c if c.isalnum() or c in "-_." else "_" for c in found.root)
    path = await run_in_threadpool(write_containment, found, folder / f"containment-{name}.{fmt}")
    return FileResponse(path, media_type=FORMATS[fmt], filename=path.name,
                        background=BackgroundTask(remove_folder, folder))

