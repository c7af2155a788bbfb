"""Response shapes of the entities domain."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class Label(BaseModel):
    zh: str
    en: str


class LinkCount(BaseModel):
    rel: str
    direction: str = Field(description="out：本节点为起点 this node is the source; in: the target")
    count: int


class EntityRead(BaseModel):
    """一个节点 A node with its aliases and how it is linked."""

    uid: str
    kind: str
    kind_label: Label
    name: str | None
    attrs: dict[str, Any]
    aliases: list[str]
    links: list[LinkCount]


class EntityBrief(BaseModel):
    uid: str
    kind: str
    name: str | None


class SearchPage(BaseModel):
    """搜索结果 Nodes whose uid, name or an alias matches, by uid."""

    exact: EntityBrief | None = Field(None, description="精确命中 the node that q names exactly, if any")
    items: list[EntityBrief]
    next_cursor: str | None


class KindRead(BaseModel):
    name: str
    prefix: str
    label: Label
    synonyms: list[str]
    ancestors: list[str]


class RelationRead(BaseModel):
    name: str
    flow: str = Field(description="material：追溯沿此边 traced through; context: attached, never expanded")
    sources: list[str]
    targets: list[str]
    label: Label


class Vocabulary(BaseModel):
    """本体词汇 The ontology's kinds and relations, with Chinese and English labels."""

    kinds: list[KindRead]
    relations: list[RelationRead]
