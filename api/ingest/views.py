"""Routes of the ingest domain: fetch or write, then hand off to the service."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, File, Form, Header, Path, Query, Response, UploadFile, status

from zhuisu.api.deps import GraphDep, IngestAccess, ReadAccess, State, StoreDep
from zhuisu.api.errors import responses
from zhuisu.api.ingest import service
from zhuisu.api.ingest.models import BatchCreate, BatchLog, BatchPage, BatchRead, NotesCreate, NotesRead, UploadRead
from zhuisu.errors import BadInput, NotFound

router = APIRouter(tags=["ingest 导入"])

IdempotencyKey = Annotated[str | None, Header(
    alias="Idempotency-Key", min_length=1, max_length=180,
    description="幂等键 idempotency key: a batch sent again with the same key changes nothing")]


def _key(header: str | None, body: str | None) -> str | None:
    if header and body and header != body:
        raise BadInput(f"幂等键不一致 the Idempotency-Key header ({header!r}) and the body's key ({body!r}) differ; "
                       "send one", where="key")
    return header or body


@router.post(
    "/batches", status_code=status.HTTP_201_CREATED, response_model=BatchRead,
    summary="提交一批规范记录 Commit a batch of canonical records",
    description="节点与关系一次性原子提交，提交后才确认；同一幂等键重复发送不产生变化（200）。\n\n"
                "Nodes and edges are committed atomically and acknowledged only after the commit; the graph "
                "answers queries with them as soon as this returns. A batch sent again with the same idempotency "
                "key (or, without one, the same content) changes nothing and answers 200 with `skipped: true`; "
                "the same key with other content is a 409.",
    responses={200: {"description": "已提交过 already committed: nothing changed", "model": BatchRead},
               **responses(400, 401, 403, 409, 413, 422)},
)
def create_batch(body: BatchCreate, store: StoreDep, graph: GraphDep, _: IngestAccess, response: Response,
                 idempotency_key: IdempotencyKey = None) -> BatchRead:
    batch = service.to_batch(body, key=_key(idempotency_key, body.key))
    result = service.commit(store=store, graph=graph, batch=batch)
    response.headers["Location"] = f"/api/v1/batches/{result.batch}"
    if result.skipped:
        response.status_code = status.HTTP_200_OK
    return result


@router.get("/batches", response_model=BatchPage, summary="导入日志 The ingest log",
            description="已确认的批次，按批次号排序。Acknowledged batches, oldest first, in pages.",
            responses=responses(401, 403, 422))
def list_batches(store: StoreDep, _: ReadAccess,
                 after: Annotated[int, Query(ge=0, le=2**62, description="从此批次之后 batches after this one")] = 0,
                 limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> BatchPage:
    items, next_after = service.batches(store=store, after=after, limit=limit)
    return BatchPage(items=items, next_after=next_after)


@router.get("/batches/{number}", response_model=BatchLog, summary="一批的记录 One batch of the ingest log",
            responses=responses(401, 403, 404, 422))
def get_batch(number: Annotated[int, Path(ge=1, le=2**62, description="批次号 batch number")], store: StoreDep,
              _: ReadAccess) -> BatchLog:
    found = service.batch(store=store, number=number)
    if found is None:
        raise NotFound(f"没有这一批 no batch {number}; GET /api/v1/batches lists them")
    return found


@router.post(
    "/uploads", status_code=status.HTTP_201_CREATED, response_model=UploadRead,
    summary="上传 CSV/Excel 表 Upload CSV or Excel tables",
    description="按规范表名命名的文件（lots.csv、operations.xlsx…），或导出文件加映射文件 mapping.toml。"
                "每个文件原子提交。\n\nFiles named after the canonical tables (docs/formats.md), or a system's "
                "exports with a `mapping` file naming them. Each file commits atomically, in the documented table "
                "order; an error names the file, line and column, and the files committed before it are kept. "
                "New maintenance orders are read by the NLP pipeline unless `nlp` is false.",
    responses=responses(400, 401, 403, 413, 422),
)
def upload_tables(state: State, _: IngestAccess,
                  files: Annotated[list[UploadFile], File(description="表文件 table files (.csv, .xlsx)")],
                  mapping: Annotated[UploadFile | None, File(description="映射文件 mapping.toml")] = None,
                  nlp: Annotated[bool, Form(description="抽取维修记录 read new maintenance notes")] = True,
                  ) -> UploadRead:
    upload = service.Upload(state.settings.max_body)
    try:
        for item in files:
            upload.add(item.filename, file_chunks(item))
        mapping_path = upload.add(mapping.filename or "mapping.toml", file_chunks(mapping)) if mapping else None
        first = state.store.last_batch()
        done = service.commit_all(store=state.store, graph=state.graph, batches=upload.batches(mapping_path))
        extraction = None
        if nlp and any(not b.skipped for b in done):
            extraction = service.extract(store=state.store, graph=state.graph, since_batch=first)
        return UploadRead(batches=done, extraction=extraction)
    finally:
        upload.close()


def file_chunks(item: UploadFile) -> Iterator[bytes]:
    """The parts of an uploaded file (spooled to disk by the form parser), read without holding it whole."""
    while chunk := item.file.read(1 << 20):
        yield chunk


@router.post(
    "/maintenance-notes", status_code=status.HTTP_201_CREATED, response_model=NotesRead,
    summary="维修记录 Maintenance notes",
    description="维修工单及其中文记录：存为 MaintenanceOrder，再由中文 NLP 抽取部件、症状、原因、措施、备件。\n\n"
                "Maintenance orders with their free-text Chinese notes are stored as MaintenanceOrder nodes "
                "(linked to their equipment), then the NLP pipeline reads the new notes and commits the "
                "components, symptoms, causes, actions and spare parts they name, each edge with its evidence.",
    responses=responses(400, 401, 403, 409, 413, 422),
)
def create_notes(body: NotesCreate, store: StoreDep, graph: GraphDep, _: IngestAccess,
                 idempotency_key: IdempotencyKey = None) -> NotesRead:
    batch = service.notes_batch(body.notes, key=_key(idempotency_key, body.key))
    result = service.commit(store=store, graph=graph, batch=batch)
    extraction = None
    if body.nlp and not result.skipped:
        extraction = service.extract(store=store, graph=graph, since_batch=result.batch - 1)
    return NotesRead(batch=result, extraction=extraction)
