"""Routes of the EPCIS 2.0 REST binding (../shared/standards/epcis/REST Bindings/openapi.yaml), at ``/epcis``."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, BackgroundTasks, Depends, Header, Path, Query, Request, Response, status
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from zhuisu.api import paging
from zhuisu.api.deps import IngestAccess, ReadAccess, State
from zhuisu.api.epcis import capture, repository
from zhuisu.api.epcis.repository import EventQuery
from zhuisu.api.epcis.versions import negotiate
from zhuisu.api.errors import PROBLEM, Conflict, UnsupportedMediaType, responses
from zhuisu.api.types import Time
from zhuisu.errors import BadInput, NotFound
from zhuisu.ingest.records import epoch_ms


class QueryParameterError(BadInput):
    """A query parameter the EPCIS query interface cannot use."""

    problem_type = "epcisException:QueryParameterException"


router = APIRouter(prefix="/epcis", tags=["EPCIS 2.0"], dependencies=[Depends(negotiate)])

_JSON_TYPES = ("application/json", "application/ld+json")
_EXAMPLE_EVENT: dict[str, Any] = {
    "@context": ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld"],
    "type": "ObjectEvent", "eventTime": "2023-11-20T08:15:00+08:00", "eventTimeZoneOffset": "+08:00",
    "eventID": "urn:uuid:7a3f2c10-5b1e-4c8a-9d2e-1f0a6b3c4d5e",
    "epcList": ["https://id.gs1.org/01/06901234567892/21/SN-M2311-00042"],
    "action": "OBSERVE", "bizStep": "shipping", "disposition": "in_transit",
    "readPoint": {"id": "urn:epc:id:sgln:6901234.00001.0"},
}
_EXAMPLE_DOCUMENT: dict[str, Any] = {
    "@context": ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld"],
    "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2023-11-20T08:20:00+08:00",
    "epcisBody": {"eventList": [{k: v for k, v in _EXAMPLE_EVENT.items() if k != "@context"}]},
}


def _body(example: dict[str, Any], what: str) -> dict[str, Any]:
    schema = {"type": "object", "description": what}
    return {"requestBody": {"required": True, "content": {t: {"schema": schema, "example": example}
                                                          for t in _JSON_TYPES}}}


def _check_type(request: Request) -> None:
    kind = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    if kind not in _JSON_TYPES:
        raise UnsupportedMediaType(f"不支持的格式 Content-Type {kind!r}; send EPCIS 2.0 JSON or JSON-LD "
                                   "(application/json or application/ld+json)")


async def _read(request: Request, state: State) -> bytes:
    _check_type(request)
    return await request.body()


Behaviour = Annotated[Literal["rollback", "proceed"], Header(
    alias="GS1-Capture-Error-Behaviour",
    description="rollback：全部或全不 all or nothing (default); proceed：尽量保存 keep every event that can be")]
CbvVersion = Annotated[str | None, Header(alias="GS1-CBV-Version", max_length=20, pattern=r"^\d+(\.\d+)*$",
                                          description="CBV 版本 the CBV version (2.0.0)")]


@router.post(
    "/capture", status_code=status.HTTP_202_ACCEPTED, response_class=Response,
    summary="批量采集 Capture an EPCIS document",
    description="接收 EPCISDocument 或 EPCISQueryDocument：先按 EPCIS 2.0 JSON Schema 校验（不合格立即 400，指出违反的"
                "规则），再由采集任务提交；任务状态见 Location。\n\nThe document is checked against the EPCIS 2.0 "
                "JSON schema before this answers (an invalid one gets 400 naming the violated rule); a capture "
                "job then commits it, by default all or nothing. `Location` names the job.",
    openapi_extra=_body(_EXAMPLE_DOCUMENT, "EPCISDocument or EPCISQueryDocument (EPCIS 2.0 JSON/JSON-LD)"),
    responses={202: {"description": "已接收 accepted; the job is at Location",
                     "headers": {"Location": {"schema": {"type": "string"}}}},
               **responses(400, 401, 403, 406, 413, 415)},
)
async def post_capture(request: Request, state: State, background: BackgroundTasks, _: IngestAccess,
                       behaviour: Behaviour = "rollback", cbv: CbvVersion = None) -> Response:
    body = await _read(request, state)
    received = await run_in_threadpool(capture.receive, body, name="document")
    job_id = await run_in_threadpool(capture.open_job, state.store, behaviour=behaviour,
                                     events=len(received.events))
    background.add_task(capture.run, state.store, job_id, received, behaviour=behaviour,
                        on_commit=lambda: state.graph.refresh(only_if_stale=True))
    return Response(status_code=status.HTTP_202_ACCEPTED, headers={"Location": f"/epcis/capture/{job_id}"})


@router.get(
    "/capture", summary="采集任务列表 Capture jobs",
    description="全部采集任务，按创建顺序分页（perPage, nextPageToken，下一页见 Link）。All capture jobs in the "
                "order they were created, in pages; the `Link` header names the next page.",
    responses={200: {"content": {"application/json": {"schema": {"type": "array", "items": {"type": "object"}}}}},
               **responses(400, 401, 403, 406)},
)
def list_captures(request: Request, state: State, _: ReadAccess,
                  per_page: Annotated[int, Query(alias="perPage", ge=1, le=1_000_000)] = 30,
                  next_page_token: Annotated[str | None, Query(alias="nextPageToken", max_length=1000)] = None,
                  ) -> JSONResponse:
    after = _after(next_page_token, "capture")
    found, last = capture.jobs(state.store, after=after, limit=min(per_page, state.settings.page_rows))
    return JSONResponse([j.to_dict() for j in found], headers=_link(request, last, "capture"))


@router.get(
    "/capture/{capture_id}", summary="采集任务 A capture job",
    description="任务是否仍在运行、是否成功，以及失败时的错误。Whether the job is running, whether it succeeded, "
                "and its errors (problem objects) when it did not.",
    responses={200: {"content": {"application/json": {"schema": {"type": "object"}}}},
               **responses(400, 401, 403, 404, 406)},
)
def get_capture(state: State, _: ReadAccess,
                capture_id: Annotated[str, Path(max_length=80, description="采集任务编号 captureID")]) -> JSONResponse:
    job = capture.get(state.store, capture_id)
    if job is None:
        raise NotFound(f"没有这个采集任务 no capture job {capture_id!r}; GET /epcis/capture lists them")
    return JSONResponse(job.to_dict())


@router.post(
    "/events", status_code=status.HTTP_201_CREATED,
    summary="采集单个事件 Capture one EPCIS event",
    description="同步采集一个事件；提交后返回 201 与事件地址。\n\nCaptures one bare event synchronously: 201 with "
                "its `Location` once committed. An eventID already captured with other content is a 409 (an "
                "error declaration, which repeats the eventID, is accepted).",
    openapi_extra=_body(_EXAMPLE_EVENT, "one EPCIS 2.0 event (with @context)"),
    responses={201: {"description": "已采集 captured", "content": {"application/json": {"schema": {"type": "object"}}},
                     "headers": {"Location": {"schema": {"type": "string"}}}},
               **responses(400, 401, 403, 406, 409, 413, 415)},
)
async def post_event(request: Request, state: State, _: IngestAccess, cbv: CbvVersion = None) -> JSONResponse:
    body = await _read(request, state)
    received = await run_in_threadpool(capture.receive, body, name="event", single=True)
    (event,) = received.events
    await run_in_threadpool(_refuse_clash, state, event)
    job_id = await run_in_threadpool(capture.open_job, state.store, behaviour="rollback", events=1)
    job = await run_in_threadpool(capture.run, state.store, job_id, received, behaviour="rollback",
                                  on_commit=lambda: state.graph.refresh(only_if_stale=True))
    if not job.success:
        error = job.errors[0]
        return JSONResponse({**error, "instance": request.url.path}, status_code=error.get("status", 400),
                            media_type=PROBLEM)
    location = f"/epcis/events/{quote(event.event_id, safe='')}"
    return JSONResponse(repository.bare(event.body), status_code=201, headers={"Location": location})


def _refuse_clash(state: State, event: repository.StoredEvent) -> None:
    if event.error_declared:
        return
    with state.store.engine.connect() as conn:
        known = repository.find(conn, event.event_id)
    if any(repository.StoredEvent(event.event_id, "", 0, k).digest != event.digest for k in known
           if "errorDeclaration" not in k):
        raise Conflict(f"事件编号已存在 an event with eventID {event.event_id!r} was captured with other content; "
                       "correct it with an error declaration instead")


@router.get(
    "/events", summary="查询事件 Query EPCIS events",
    description="按 EPCIS 查询语言筛选已采集的事件，返回 EPCISQueryDocument；列表参数可用 | 分隔或重复给出；"
                "perPage 每页条数（默认 30），下一页见 Link 头的 nextPageToken。\n\nThe captured events that match, "
                "as an EPCISQueryDocument. List parameters take values separated by `|` (the binding's "
                "pipeDelimited style) or repeated. Identifiers match in any spelling (EPC URN or GS1 Digital "
                "Link); an `urn:epc:idpat:…` pattern or a trailing `*` matches every instance and lot of a trade "
                "item. Pages of `perPage` events (30 by default); `Link: <…nextPageToken=…>; rel=\"next\"` "
                "names the next page.",
    responses={200: {"description": "EPCISQueryDocument", "content": {"application/json": {"schema": {
        "type": "object"}}}}, **responses(400, 401, 403, 406)},
)
def get_events(
    request: Request, state: State, _: ReadAccess,
    event_type: Annotated[list[str] | None, Query(alias="eventType", description="ObjectEvent|AggregationEvent|"
                                                  "TransactionEvent|TransformationEvent|AssociationEvent")] = None,
    ge_event_time: Annotated[Time | None, Query(alias="GE_eventTime", description="eventTime ≥")] = None,
    lt_event_time: Annotated[Time | None, Query(alias="LT_eventTime", description="eventTime <")] = None,
    ge_record_time: Annotated[Time | None, Query(alias="GE_recordTime")] = None,
    lt_record_time: Annotated[Time | None, Query(alias="LT_recordTime")] = None,
    eq_action: Annotated[list[str] | None, Query(alias="EQ_action")] = None,
    eq_biz_step: Annotated[list[str] | None, Query(alias="EQ_bizStep", description="shipping, or its URN / Web URI")]
    = None,
    eq_disposition: Annotated[list[str] | None, Query(alias="EQ_disposition")] = None,
    eq_read_point: Annotated[list[str] | None, Query(alias="EQ_readPoint")] = None,
    eq_biz_location: Annotated[list[str] | None, Query(alias="EQ_bizLocation")] = None,
    eq_event_id: Annotated[list[str] | None, Query(alias="EQ_eventID")] = None,
    exists_error: Annotated[str | None, Query(alias="EXISTS_errorDeclaration", max_length=10,
                                              description="有纠错声明 only error declarations (false: none)")] = None,
    match_epc: Annotated[list[str] | None, Query(alias="MATCH_epc")] = None,
    match_parent: Annotated[list[str] | None, Query(alias="MATCH_parentID")] = None,
    match_input: Annotated[list[str] | None, Query(alias="MATCH_inputEPC")] = None,
    match_output: Annotated[list[str] | None, Query(alias="MATCH_outputEPC")] = None,
    match_any: Annotated[list[str] | None, Query(alias="MATCH_anyEPC", description="epcList, childEPCs, parentID, "
                                                 "inputEPCList or outputEPCList")] = None,
    match_class: Annotated[list[str] | None, Query(alias="MATCH_epcClass")] = None,
    match_input_class: Annotated[list[str] | None, Query(alias="MATCH_inputEPCClass")] = None,
    match_output_class: Annotated[list[str] | None, Query(alias="MATCH_outputEPCClass")] = None,
    match_any_class: Annotated[list[str] | None, Query(alias="MATCH_anyEPCClass")] = None,
    per_page: Annotated[int, Query(alias="perPage", ge=1, le=1_000_000, description="每页事件数 events per page")] = 30,
    next_page_token: Annotated[str | None, Query(alias="nextPageToken", max_length=1000)] = None,
) -> JSONResponse:
    match = {
        ("epc",): match_epc, ("parent",): match_parent, ("input",): match_input, ("output",): match_output,
        repository.INSTANCE_ROLES: match_any, ("class",): match_class, ("input_class",): match_input_class,
        ("output_class",): match_output_class, repository.CLASS_ROLES: match_any_class,
    }
    query = EventQuery(
        event_types=_split(event_type), ge_event_time=epoch_ms(ge_event_time), lt_event_time=epoch_ms(lt_event_time),
        ge_record_time=epoch_ms(ge_record_time), lt_record_time=epoch_ms(lt_record_time), actions=_split(eq_action),
        biz_steps=_split(eq_biz_step), dispositions=_split(eq_disposition), read_points=_split(eq_read_point),
        biz_locations=_split(eq_biz_location), event_ids=_split(eq_event_id), error_declared=_flag(exists_error),
        match={roles: _split(values) for roles, values in match.items() if _split(values)},
    )
    after = _after(next_page_token, _query_digest(request))
    with state.store.engine.connect() as conn:
        events, last = repository.select(conn, query, after=after, limit=min(per_page, state.settings.page_rows))
    return JSONResponse(repository.query_document(events), headers=_link(request, last, _query_digest(request)))


@router.get(
    "/events/{event_id:path}", summary="按编号取事件 Events with one eventID",
    description="给定 eventID 的事件（及其纠错声明），以 EPCISQueryDocument 返回；编号中的 / ? # 需百分号编码。\n\n"
                "The event with this eventID (and any error declaration of it), as an EPCISQueryDocument; "
                "percent-encode the eventID.",
    responses={200: {"description": "EPCISQueryDocument", "content": {"application/json": {"schema": {
        "type": "object"}}}}, **responses(400, 401, 403, 404, 406)},
)
def get_event(state: State, _: ReadAccess,
              event_id: Annotated[str, Path(min_length=1, max_length=400, description="eventID")]) -> JSONResponse:
    with state.store.engine.connect() as conn:
        found = repository.find(conn, event_id)
    if not found:
        raise NotFound(f"没有这个事件 no event with eventID {event_id!r}")
    return JSONResponse(repository.query_document(found))


def _split(values: list[str] | None) -> list[str]:
    """Values of a list parameter, repeated or ``|``-separated."""
    return [v.strip() for item in values or () for v in item.split("|") if v.strip()]


def _flag(value: str | None) -> bool | None:
    if value is None:
        return None
    text = value.strip().lower()
    if text in ("", "true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    raise QueryParameterError(f"EXISTS_errorDeclaration takes no value (or true/false), not {value!r}",
                   where="EXISTS_errorDeclaration")


def _query_digest(request: Request) -> str:
    items = sorted((k, v) for k, v in request.query_params.multi_items() if k not in ("nextPageToken", "perPage"))
    return paging.digest(request.url.path, items)


def _after(token: str | None, query: str) -> int:
    if not token:
        return 0
    try:
        state = paging.decode(token, where="nextPageToken")
    except BadInput as exc:
        raise QueryParameterError(exc.message, where=exc.where) from None
    after = state.get("a")
    if state.get("q") != query or not isinstance(after, int):
        raise QueryParameterError("nextPageToken 不属于此查询 the token continues another query; repeat the same "
                                  "parameters, "
                       "or start again without it", where="nextPageToken")
    return after


def _link(request: Request, last: int | None, query: str) -> dict[str, str]:
    if last is None:
        return {}
    token = paging.encode({"a": last, "q": query})
    return {"Link": f'<{request.url.include_query_params(nextPageToken=token)}>; rel="next"'}
