"""Routes of the analysis domain; each hands off to a query function of zhuisu.rca or zhuisu.assistant."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, StreamingResponse

from zhuisu.api.analysis.models import AnswerOut, AskCreate, ContainmentPage, RcaOut, SimilarOut
from zhuisu.api.deps import GraphDep, ReadAccess, State, StoreDep
from zhuisu.api.errors import responses
from zhuisu.api.queries import service
from zhuisu.api.queries.views import NDJSON, Accept, Cursor, Format, Limit, Ref, Since, Until, _limit, _stream
from zhuisu.api.types import Uid

router = APIRouter(tags=["analysis 分析"])
_NDJSON: dict[int | str, dict[str, Any]] = {200: {"content": {NDJSON: {"schema": {"type": "string"}}}}}


@router.get(
    "/rca", response_model=RcaOut, summary="根因分析 Root-cause ranking",
    description="给出缺陷代码或一组不良产品，对比同期同产品，排出共同的上游因素（批次、设备时段、参数、人员、班次…），"
                "附统计与证据。\n\nGiven a defect code or a list of defective units (lots, complaints, inspections), "
                "ranks the upstream factors they share against the same products over the same period, each "
                "with its statistics and evidence paths.",
    responses=responses(400, 401, 403, 404, 422, 501),
)
def get_rca(graph: GraphDep, _: ReadAccess,
            defect_code: Annotated[str | None, Query(max_length=100, description="缺陷代码 defect code",
                                                     examples=["E-VIB"])] = None,
            units: Annotated[list[Uid] | None, Query(max_length=10_000, description="不良产品 defective items")] = None,
            since: Since = None, until: Until = None,
            limit: Annotated[int, Query(ge=1, le=200, description="候选数 candidates")] = 20,
            evidence: Annotated[bool, Query(description="附证据 attach evidence")] = True) -> JSONResponse:
    from zhuisu.rca.analysis import rca

    with graph.engine_reading() as engine:
        result = rca(engine, defect_code=defect_code, units=units, since=since, until=until, limit=limit,
                     evidence=evidence)
    return JSONResponse(result.to_dict())


@router.get(
    "/similar", response_model=SimilarOut, summary="相似产品 Similar units",
    description="与给定产品共享批次、设备时段、人员等因素的产品，按共享程度排序。\n\nItems that share the given "
                "unit's or lot's factors (lots, machines within a time window, operators…), most shared first.",
    responses=responses(400, 401, 403, 404, 422, 501),
)
def get_similar(graph: GraphDep, _: ReadAccess, ref: Ref,
                window_hours: Annotated[float, Query(gt=0, le=24 * 365, description="设备时段 machine window, h")]
                = 24.0,
                limit: Annotated[int, Query(ge=1, le=1000)] = 20) -> JSONResponse:
    from zhuisu.rca.similar import similar

    with graph.engine_reading() as engine:
        result = similar(engine, ref, window_hours=window_hours, limit=limit)
    return JSONResponse(result.to_dict())


@router.get(
    "/containment", response_model=ContainmentPage, summary="围堵 Containment of a suspect factor",
    description="可疑批次、产品、设备（时段）、人员等的正向影响范围：受影响的批次与产品及其状态（在库、在制、已发货），"
                "发货单与客户。\n\nThe forward set of a suspect lot, unit, supplier, machine, operator…: the affected "
                "lots and units with their status (in stock, work in progress, shipped, consumed), the shipments "
                "and customers reached. Items come in pages (`cursor`) or streamed (`format=ndjson`).",
    responses={**_NDJSON, **responses(400, 401, 403, 404, 410, 422, 501)},
)
def get_containment(state: State, graph: GraphDep, _: ReadAccess, ref: Ref, since: Since = None,
                    until: Until = None, limit: Limit = None, cursor: Cursor = None, format: Format = None,
                    accept: Accept = None) -> JSONResponse | StreamingResponse:
    from zhuisu.rca.containment import contain

    if cursor:
        found, offset, key = service.resume(state.snapshots, cursor, "containment")
    else:
        with graph.engine_reading() as engine:
            found = contain(engine, ref, since=since, until=until)
        offset, key = 0, None
    head = _head(found)
    if _stream(format, accept):
        return StreamingResponse(_lines(head, found.items), media_type=NDJSON)
    (items,), where = service.page(state.snapshots, ("containment", found), (found.items,), offset=offset,
                                   limit=_limit(state, limit), key=key)
    return JSONResponse({**head, "items": [i.to_dict() for i in items], "page": where})


def _head(found: Any) -> dict[str, Any]:
    return {k: v for k, v in found.to_dict().items() if k != "items"}


def _lines(head: dict[str, Any], items: Any) -> Iterator[bytes]:
    yield service.line({"row": "containment", **head})
    for start in range(0, len(items), 1000):
        yield b"".join(service.line({"row": "item", **i.to_dict()}) for i in items[start:start + 1000])


@router.post(
    "/ask", response_model=AnswerOut, summary="维修助手问答 Ask the maintenance assistant",
    description="用中文提问维修与追溯问题（“3号注塑机最近有哪些故障？”“主轴异响一般怎么处理？”），回答附引用的记录；"
                "给出 session 可追问。\n\nA Chinese question about maintenance and traceability records; the answer "
                "cites the records it came from, or says why the records cannot answer. A `session` id lets "
                "follow-up questions refer back.",
    responses=responses(400, 401, 403, 422),
)
def post_ask(body: AskCreate, store: StoreDep, graph: GraphDep, _: ReadAccess) -> JSONResponse:
    from zhuisu.assistant import ask

    engine = graph.engine
    if engine is None:
        return JSONResponse(ask(body.question, store=store, session=body.session).to_dict())
    with graph.engine_reading() as live:
        return JSONResponse(ask(body.question, store=store, engine=live, session=body.session).to_dict())
