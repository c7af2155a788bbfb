"""Shapes of the analysis domain: the ``to_dict()`` forms of zhuisu.rca and zhuisu.assistant results."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from zhuisu.api.queries.models import Page


class RcaOut(BaseModel):
    """根因排序 Upstream factors the defective items share, ranked, each with its evidence."""

    model_config = ConfigDict(extra="allow")

    defect_code: str | None
    population: dict[str, Any] = Field(description="对比范围 the defective items and the population compared")
    candidates: list[dict[str, Any]] = Field(description="候选根因 ranked candidates with statistics and evidence")
    tested: int
    alpha: float
    significant: int


class SimilarOut(BaseModel):
    """相似产品 Items sharing the root item's factors (lots, machines in a time window, operators…)."""

    model_config = ConfigDict(extra="allow")

    root: str
    window_hours: float
    factors: list[dict[str, Any]]
    units: list[dict[str, Any]]


class ContainmentPage(BaseModel):
    """围堵 The forward set of a suspect factor: affected items by status (paged), shipments and customers."""

    model_config = ConfigDict(extra="allow")

    root: str
    kind: str
    since: str | None
    until: str | None
    totals: dict[str, Any] = Field(description="按状态汇总 items by status, shipments, customers")
    shipments: list[dict[str, Any]]
    items: list[dict[str, Any]]
    page: Page


class AskCreate(BaseModel):
    """提问 A question in Chinese about maintenance and traceability records."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"question": "3号注塑机最近有哪些故障？", "session": "engineer-42"},
        {"question": "主轴异响一般怎么处理？"}]})

    question: str = Field(min_length=1, max_length=300, description="问题 the question")
    session: str | None = Field(None, min_length=1, max_length=200,
                                description="会话 a conversation id, so that follow-ups (那它上次…) resolve")


class AnswerOut(BaseModel):
    """回答 A concise answer with the records it cites; ``refused`` when the records cannot answer."""

    model_config = ConfigDict(extra="allow")

    answer: str
    intent: str | None
    citations: list[dict[str, Any]]
    refused: bool
    clarify: list[str]
    data: dict[str, Any]
    question: str
