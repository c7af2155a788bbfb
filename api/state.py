"""What the app holds while it serves: the store, the live graph, the key ring, settings and connectors."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from zhuisu import config
from zhuisu.api import schema
from zhuisu.api.auth.keys import KeyRing
from zhuisu.api.live import LiveGraph
from zhuisu.api.paging import Snapshots
from zhuisu.errors import BadInput
from zhuisu.graph.store import Store


@dataclass(frozen=True, slots=True)
class ApiSettings:
    """The API's settings (docs/settings.md), read once when the app is made."""

    keys_for_reads: bool = False
    cors_origins: tuple[str, ...] = ()
    max_body: int = 64 << 20
    page_rows: int = 50_000

    @classmethod
    def from_env(cls) -> ApiSettings:
        origins = tuple(o.strip() for o in config.get("cors_origins").split(",") if o.strip())
        return cls(keys_for_reads=config.get("api_keys_required_for_reads").strip() in {"1", "true", "yes"},
                   cors_origins=origins, max_body=int(_number("api_max_body_mb") * (1 << 20)),
                   page_rows=int(_number("api_page_rows")))


def _number(name: str) -> float:
    text = config.get(name)
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if value <= 0:
        raise BadInput(f"设置无效 ZHUISU_{name.upper()} must be a positive number, not {text!r}")
    return value


@dataclass
class AppState:
    """Everything a request handler may need, made once per app."""

    store: Store
    settings: ApiSettings
    graph: LiveGraph = field(init=False)
    keys: KeyRing = field(init=False)
    snapshots: Snapshots = field(default_factory=Snapshots)
    connectors: list[Any] = field(default_factory=list)  # running live connectors (serve), for their status

    def __post_init__(self) -> None:
        schema.create(self.store)
        self.graph = LiveGraph(self.store)
        self.keys = KeyRing(self.store)

    def close(self) -> None:
        self.graph.close()
