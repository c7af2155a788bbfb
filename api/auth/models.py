"""Shapes of the keys domain."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Scope = Literal["read", "ingest", "admin"]


class KeyCreate(BaseModel):
    """新建密钥 A new API key: who uses it and what it may do."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"name": "MES 2号线 line-2 MES", "scopes": ["ingest"]}]})

    name: str = Field(min_length=1, max_length=200, pattern=r"\S", description="名称 who or what uses the key")
    scopes: list[Scope] = Field(min_length=1, max_length=3,
                                description="权限 read：查询; ingest：写入与查询; admin：全部 all, including keys")


class KeyRead(BaseModel):
    id: str = Field(description="公开编号 the public id (the part after zs_)")
    name: str
    scopes: list[str]
    created_at: datetime
    revoked_at: datetime | None


class KeyCreated(KeyRead):
    key: str = Field(description="完整密钥，只显示这一次 the full key: shown only this once")
