"""Finding a node from what a quality engineer types: a uid or alias, part of a code or name, a machine in any
of its Chinese forms ("2号压装机", "#2压机", "压装鸡2号"), or a code with a typo.

The exact lookup and the substring search are the API's (``GET /api/v1/entities``); machine names and
identifiers are read as the maintenance assistant reads a question; only what none of them finds is matched
fuzzily (rapidfuzz) against every uid and every master-data name, when nothing else matched.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from rapidfuzz import fuzz, process, utils

from zhuisu.api.entities import service as entities
from zhuisu.graph.schema import nodes
from zhuisu.graph.store import Store

# Kinds whose names repeat or are sentences (every 总装 operation): their uids are searched, their names not.
_UNNAMED = ("Operation", "Inspection", "Alarm", "MaintenanceOrder", "Observation")
UID_CUTOFF, NAME_CUTOFF = 80.0, 75.0
_LOOKALIKE = str.maketrans("oil", "011")  # a letter typed for the digit it looks like: SN-0O42, LOT-l7


def _fold(text: str) -> str:
    """Lower case, punctuation as spaces (rapidfuzz's default), and look-alike letters as their digits."""
    return str(utils.default_process(text)).translate(_LOOKALIKE)


@dataclass(frozen=True, slots=True)
class Suggestion:
    uid: str
    kind: str
    name: str | None
    how: str  # exact | match | named | fuzzy

    def to_dict(self) -> dict[str, str | None]:
        return {"uid": self.uid, "kind": self.kind, "name": self.name, "how": self.how}


def suggest(store: Store, q: str, *, limit: int = 8) -> list[Suggestion]:
    """Up to ``limit`` nodes that ``q`` may mean, the likeliest first."""
    q = q.strip()
    if not q:
        return []
    found: dict[str, Suggestion] = {}

    def add(uid: str, kind: str, name: str | None, how: str) -> None:
        if uid not in found and len(found) < limit:
            found[uid] = Suggestion(uid, kind, name, how)

    exact = entities.exact(store=store, q=q)
    if exact is not None:
        add(exact.uid, exact.kind, exact.name, "exact")
    for uid in _named(store, q):
        record = store.node(uid)
        add(record.uid, record.kind, record.name, "named")
    items, _ = entities.search(store=store, q=q, kinds=None, prefix=False, limit=limit, after=None)
    for item in items:
        add(item.uid, item.kind, item.name, "match")
    if not found:
        for uid, kind, name in _index(store).closest(q, limit):
            add(uid, kind, name, "fuzzy")
    return list(found.values())


def _named(store: Store, q: str) -> list[str]:
    """Machines, items, materials and people that ``q`` names the way the assistant reads them."""
    from zhuisu.assistant.kb import load
    from zhuisu.assistant.slots import extract

    slots = extract(q, load(store), store, date.today())
    return [*slots.equipment, *(uid for uid, _ in slots.items), *slots.candidates, *slots.materials,
            *slots.people]


class _Fuzzy:
    """Every uid's code (the part after ``prefix:``) and every master-data name, kept current batch by batch."""

    def __init__(self) -> None:
        self.batch = -1
        self.at: dict[str, int] = {}  # uid → row
        self.rows: list[tuple[str, str, str | None]] = []  # (uid, kind, name)
        self.codes: list[str] = []
        self.names: dict[int, str] = {}  # row → name, for named kinds
        self.lock = threading.Lock()

    def update(self, store: Store) -> None:
        last = store.last_batch()
        if last == self.batch:
            return
        query = sa.select(nodes.c.uid, nodes.c.kind, nodes.c.name).where(nodes.c.updated > self.batch)
        with store.engine.connect() as conn:
            for uid, kind, name in conn.execute(query):
                row = self.at.setdefault(uid, len(self.rows))
                if row == len(self.rows):
                    self.rows.append((uid, kind, name))
                    self.codes.append(uid.partition(":")[2] or uid)
                else:
                    self.rows[row] = (uid, kind, name)
                if name and kind not in _UNNAMED:
                    self.names[row] = name
        self.batch = last

    def closest(self, q: str, limit: int) -> list[tuple[str, str, str | None]]:
        code = q.partition(":")[2] if ":" in q else q
        with self.lock:
            return self._closest(q, code, limit)

    def _closest(self, q: str, code: str, limit: int) -> list[tuple[str, str, str | None]]:
        scored: dict[int, float] = {}
        for _, score, row in process.extract(code, self.codes, scorer=fuzz.ratio, processor=_fold, limit=limit,
                                             score_cutoff=UID_CUTOFF):
            scored[row] = max(scored.get(row, 0.0), score)
        for _, score, row in process.extract(q, self.names, scorer=fuzz.WRatio, processor=utils.default_process,
                                             limit=limit, score_cutoff=NAME_CUTOFF):
            scored[row] = max(scored.get(row, 0.0), score)
        best = sorted(scored, key=lambda r: (-scored[r], self.rows[r][0]))[:limit]
        return [self.rows[r] for r in best]


_indexes: dict[str, _Fuzzy] = {}
_lock = threading.Lock()


def _index(store: Store) -> _Fuzzy:
    with _lock:
        index = _indexes.setdefault(store.url, _Fuzzy())
    with index.lock:
        index.update(store)
    return index
