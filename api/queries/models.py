"""Response shapes of the query domain (the ``to_dict()`` forms of zhuisu.graph.results, documented)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class RefOut(BaseModel):
    uid: str
    name: str | None


class InspectionOut(BaseModel):
    uid: str
    target: str
    result: str | None
    defect_code: str | None
    time: str | None


class ParameterOut(BaseModel):
    uid: str
    name: str | None
    value: Any = None
    unit: str | None
    lsl: float | None
    usl: float | None
    out_of_spec: bool | None


class TraceNodeOut(BaseModel):
    uid: str
    kind: str
    name: str | None
    level: int = Field(description="物料层数 material hops from the root")
    received: float | None = Field(description="正向：收到根的数量；反向：进入根的数量 amount carried")
    uom: str | None
    material: RefOut | None
    inspections: list[InspectionOut]


class TraceEdgeOut(BaseModel):
    src: str
    dst: str
    rel: str
    time: str | None
    quantity: float | None
    uom: str | None


class StepOut(BaseModel):
    operation: str
    step: str | None
    time: str | None
    level: int
    inputs: list[str]
    outputs: list[str]
    equipment: list[RefOut]
    operators: list[RefOut]
    shifts: list[RefOut]
    tools: list[RefOut]
    work_orders: list[RefOut]
    parameters: list[ParameterOut]
    inspections: list[InspectionOut]


class Page(BaseModel):
    """分页 Where this page sits in the whole result."""

    offset: int = Field(description="本页第一行的位置 position of this page's first row")
    rows: int = Field(description="本页行数 rows on this page")
    total: int = Field(description="总行数 rows in the whole result")
    next_cursor: str | None = Field(description="下一页 pass as `cursor` for the next page; null on the last")


class TraceStats(BaseModel):
    nodes: int
    edges: int
    steps: int
    ms: float


class TracePage(BaseModel):
    """追溯结果 A backward or forward trace. Rows run nodes, then edges, then steps; a page holds a slice."""

    root: str
    direction: str
    depth: int | None
    since: str | None
    until: str | None
    stats: TraceStats
    nodes: list[TraceNodeOut]
    edges: list[TraceEdgeOut]
    steps: list[StepOut]
    page: Page


class PathNodeOut(BaseModel):
    uid: str
    kind: str
    name: str | None


class PathEdgeOut(BaseModel):
    src: str
    dst: str
    rel: str


class RouteOut(BaseModel):
    length: int
    nodes: list[PathNodeOut]
    edges: list[PathEdgeOut]


class PathsOut(BaseModel):
    """关联路径 Paths between two nodes, shortest first (empty when they are not connected)."""

    source: str
    target: str
    paths: list[RouteOut]
