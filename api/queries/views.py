"""Routes of the query domain: trace, containment, paths."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query
from fastapi.responses import JSONResponse, StreamingResponse

from zhuisu.api.deps import GraphDep, ReadAccess, State
from zhuisu.api.errors import responses
from zhuisu.api.queries import service
from zhuisu.api.queries.models import PathsOut, TracePage
from zhuisu.api.types import Time, Uid

router = APIRouter(tags=["trace 追溯"])
NDJSON = "application/x-ndjson"

Ref = Annotated[Uid, Query(description="uid 或别名 uid or alias (GS1 URN, Digital Link, Handle)",
                           examples=["unit:SN-M2311-00042"])]
Depth = Annotated[int | None, Query(ge=0, le=10_000, description="最大物料层数 max material hops")]
Since = Annotated[Time | None, Query(description="起始时间 edges from (ISO 8601, inclusive)")]
Until = Annotated[Time | None, Query(description="截止时间 edges until (ISO 8601, inclusive)")]
Limit = Annotated[int | None, Query(ge=1, le=1_000_000, description="每页行数 rows per page (at most "
                                    "ZHUISU_API_PAGE_ROWS, 50 000 by default)")]
Cursor = Annotated[str | None, Query(max_length=200, description="下一页 the previous page's next_cursor; the "
                                     "other parameters are then ignored")]
Format = Annotated[Literal["json", "ndjson"] | None, Query(
    description="json: pages; ndjson: the whole result streamed, one row a line (or send Accept: "
                "application/x-ndjson)")]
Accept = Annotated[str | None, Header(include_in_schema=False)]
_STREAM = {"content": {NDJSON: {"schema": {"type": "string"}}},
           "description": "NDJSON：首行为摘要，其后每行一条 head line, then one row a line"}


def _stream(fmt: str | None, accept: str | None) -> bool:
    return fmt == "ndjson" or (fmt is None and accept is not None and NDJSON in accept)


def _limit(state: State, limit: int | None) -> int:
    return min(limit or state.settings.page_rows, state.settings.page_rows)


@router.get(
    "/trace", response_model=TracePage,
    summary="追溯 Backward or forward trace",
    description="反向追溯：一个产品或批次用到的所有上游批次、供应商、设备、人员、班次、参数、检验；正向追溯：去向。\n\n"
                "Backward: every upstream lot, supplier, machine, operator, shift, parameter and inspection of a "
                "unit or lot. Forward: where it went. Edges outside `since`..`until` are not followed. Results "
                "over one page (`limit`) continue with `cursor`; `format=ndjson` streams the whole result.",
    responses={200: {"content": {NDJSON: _STREAM["content"]}}, **responses(400, 401, 403, 404, 410, 422)},
)
def get_trace(state: State, graph: GraphDep, _: ReadAccess, ref: Ref,
              direction: Annotated[Literal["backward", "forward"], Query(description="方向 direction")] = "backward",
              depth: Depth = None, since: Since = None, until: Until = None,
              kinds: Annotated[list[Annotated[str, Query(max_length=40)]] | None, Query(
                  max_length=50, description="只报告这些类 report only these kinds (and their subclasses)")] = None,
              limit: Limit = None, cursor: Cursor = None, format: Format = None, accept: Accept = None,
              ) -> JSONResponse | StreamingResponse:
    if cursor:
        trace, offset, key = service.resume(state.snapshots, cursor, "trace")
    else:
        with graph.reading() as g:
            trace = g.trace(ref, direction=direction, depth=depth, since=since, until=until,
                            kinds=_names(kinds))
        offset, key = 0, None
    if _stream(format, accept):
        return StreamingResponse(service.trace_lines(trace), media_type=NDJSON)
    body = service.trace_page(state.snapshots, trace, offset=offset, limit=_limit(state, limit), key=key)
    return JSONResponse(body)


@router.get(
    "/paths", response_model=PathsOut,
    summary="关联路径 Paths between two nodes",
    description="两个节点之间最短的 k 条简单路径（双向沿边）。\n\nUp to `k` simple paths between two nodes, "
                "shortest first, following edges either way; `material_only` keeps to material flow.",
    responses=responses(400, 401, 403, 404, 422),
)
def get_paths(graph: GraphDep, _: ReadAccess,
              source: Annotated[Uid, Query(description="起点 from", examples=["unit:SN-M2311-00042"])],
              target: Annotated[Uid, Query(description="终点 to", examples=["lot:CG2311-0020"])],
              k: Annotated[int, Query(ge=1, le=10, description="路径条数 number of paths")] = 3,
              material_only: Annotated[bool, Query(description="只走物料流 material flow only")] = False,
              ) -> JSONResponse:
    with graph.reading() as g:
        found = g.k_paths(source, target, k=k, material_only=material_only)
    return JSONResponse(found.to_dict())


def _names(kinds: list[str] | None) -> list[str] | None:
    """Kinds given repeated or comma-separated."""
    if not kinds:
        return None
    return [k.strip() for item in kinds for k in item.split(",") if k.strip()] or None
