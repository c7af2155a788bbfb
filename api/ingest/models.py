"""Request and response shapes of the ingest domain."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from zhuisu.api.types import Time, Uid


class NodeCreate(BaseModel):
    """一个节点 A typed node; its kind defaults to the one its uid prefix names (docs/formats.md)."""

    model_config = ConfigDict(extra="forbid")

    uid: Uid
    kind: str | None = Field(None, max_length=40, description="本体类 ontology kind, e.g. MaterialLot")
    name: str | None = Field(None, max_length=2000, description="名称 display name")
    attrs: dict[str, Any] = Field(default_factory=dict, description="属性 attributes (any JSON)")
    aliases: list[Annotated[str, Field(min_length=1, max_length=400)]] = Field(
        default_factory=list, max_length=100, description="别名 GS1 URNs, Digital Links, Handles, local names")


class EdgeCreate(BaseModel):
    """一条关系 A typed relation; ``(src, rel, dst, key)`` identifies it, so re-sending it changes nothing."""

    model_config = ConfigDict(extra="forbid")

    src: Uid
    rel: str = Field(min_length=1, max_length=40, description="本体关系 ontology relation, e.g. consumedBy")
    dst: Uid
    time: Time | None = Field(None, description="时间 ISO 8601; without offset: plant time (ZHUISU_TIMEZONE)")
    quantity: float | None = Field(None, allow_inf_nan=False, description="数量 quantity carried")
    uom: str | None = Field(None, max_length=20, description="单位 unit of measure")
    key: str = Field("", max_length=200, description="区分重复关系的键 tells apart repeated edges (an event id)")
    attrs: dict[str, Any] = Field(default_factory=dict)


class BatchCreate(BaseModel):
    """一批记录 Records committed together: all or none, acknowledged only after commit."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "source": "mes:line-2",
        "key": "mes-line2-2023-11-03T08:15",
        "nodes": [
            {"uid": "lot:ML2311-0042", "kind": "MaterialLot", "name": "磁钢 ML2311-0042",
             "attrs": {"quantity": 500, "uom": "pcs"}},
            {"uid": "op:OP-2311-0815", "kind": "Operation", "name": "压装", "attrs": {"step": "压装"}},
        ],
        "edges": [
            {"src": "lot:ML2311-0042", "rel": "consumedBy", "dst": "op:OP-2311-0815",
             "time": "2023-11-03T08:15:00+08:00", "quantity": 2, "uom": "pcs"},
            {"src": "op:OP-2311-0815", "rel": "performedOn", "dst": "equipment:PRESS-02"},
        ],
    }]})

    source: str | None = Field(None, min_length=1, max_length=200,
                               description="来源 where the records come from (kept as api:SOURCE)")
    key: str | None = Field(None, min_length=1, max_length=180,
                            description="幂等键 idempotency key (or the Idempotency-Key header); default: the "
                                        "content hash")
    nodes: list[NodeCreate] = Field(default_factory=list, max_length=200_000)
    edges: list[EdgeCreate] = Field(default_factory=list, max_length=200_000)
    retract: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        default_factory=list, max_length=200_000, description="撤回的关系键 edge keys withdrawn (error declarations)")


class BatchRead(BaseModel):
    """一批的结果 What one committed (or already committed) batch did."""

    batch: int = Field(description="存储批次号 the store's batch number")
    key: str = Field(description="幂等键 the batch's idempotency key")
    source: str
    skipped: bool = Field(description="已提交过 true when this key was committed before: nothing changed")
    nodes_added: int = 0
    nodes_updated: int = 0
    edges_added: int = 0
    edges_retracted: int = 0
    graph_batch: int = Field(0, description="查询所见的批次 the batch queries see after this call")


class BatchLog(BaseModel):
    """导入日志中的一批 One entry of the append-only ingest log."""

    batch: int
    source: str
    key: str
    received_at: datetime
    nodes: int
    edges: int
    retracted: int


class BatchPage(BaseModel):
    items: list[BatchLog]
    next_after: int | None = Field(None, description="下一页 pass as `after` for the next page")


class MaintenanceNote(BaseModel):
    """一条维修记录 A maintenance order with its free-text note (the canonical ``maintenance`` table)."""

    model_config = ConfigDict(extra="forbid")

    order_id: str = Field(min_length=1, max_length=200, description="工单号 order id (uid mo:ORDER_ID)")
    equipment_id: str = Field(min_length=1, max_length=200, description="设备 equipment id, e.g. PRESS-02")
    reported_at: Time = Field(description="报修时间 reported at (ISO 8601)")
    text: str = Field(min_length=1, max_length=20_000, description="维修记录 the technician's note, in Chinese")
    finished_at: Time | None = None
    technician: str | None = Field(None, max_length=200)
    downtime_h: float | None = Field(None, ge=0, allow_inf_nan=False)
    type: str | None = Field(None, description="corrective, preventive or calibration")


class NotesCreate(BaseModel):
    """维修记录 Maintenance notes: stored as MaintenanceOrder nodes, then read by the Chinese NLP pipeline."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "notes": [{"order_id": "MO-2311-0007", "equipment_id": "PRESS-02", "reported_at": "2023-11-07T09:30:00",
                   "text": "2号压装机压力传感器读数漂移，校准后恢复正常", "technician": "王工", "type": "corrective"}],
        "nlp": True,
    }]})

    notes: list[MaintenanceNote] = Field(min_length=1, max_length=10_000)
    nlp: bool = Field(True, description="抽取 run the NLP extraction on the new notes")
    key: str | None = Field(None, min_length=1, max_length=180, description="幂等键 idempotency key")


class NotesRead(BaseModel):
    batch: BatchRead
    extraction: BatchRead | None = Field(None, description="NLP 抽取结果 the batch of what the notes say")


class UploadRead(BaseModel):
    batches: list[BatchRead]
    extraction: BatchRead | None = None
