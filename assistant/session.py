"""Conversation state for follow-ups ("那它上次是谁修的？"), kept in the store's ``meta`` table by session id.

The store is the one durable place every front end (cli, api, web) already shares, on SQLite and PostgreSQL
alike; a session is one row ``ask:<sha1 of the id>`` holding the last few turns as JSON.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from zhuisu.graph.schema import meta

if TYPE_CHECKING:
    from zhuisu.graph.store import Store

MAX_TURNS = 5


@dataclass
class Session:
    """The last turns of one conversation: question, intent and what each answer was about (its focus)."""

    id: str
    turns: list[dict[str, Any]] = field(default_factory=list)

    @property
    def last(self) -> dict[str, Any] | None:
        return self.turns[-1] if self.turns else None

    def recall(self, key: str) -> list[str]:
        """The most recent non-empty focus value ``key`` (equipment, items, lots, orders)."""
        for turn in reversed(self.turns):
            value = turn.get("focus", {}).get(key)
            if value:
                return list(value)
        return []

    def add(self, question: str, intent: str | None, focus: dict[str, Any]) -> None:
        self.turns.append({"question": question, "intent": intent, "focus": focus})
        del self.turns[:-MAX_TURNS]


def _key(session_id: str) -> str:
    return "ask:" + hashlib.sha1(session_id.encode("utf-8")).hexdigest()[:32]


def load(store: Store, session_id: str) -> Session:
    """The stored session, or a new empty one."""
    with store.engine.connect() as conn:
        value = conn.execute(sa.select(meta.c.value).where(meta.c.name == _key(session_id))).scalar()
    try:
        turns = json.loads(value)["turns"] if value else []
    except (ValueError, KeyError, TypeError):
        turns = []  # a damaged session starts over rather than failing the question
    return Session(session_id, turns if isinstance(turns, list) else [])


def save(store: Store, session: Session) -> None:
    """Write the session (one row, replaced)."""
    value = json.dumps({"turns": session.turns}, ensure_ascii=False)
    name = _key(session.id)
    with store.engine.begin() as conn:
        if conn.execute(meta.update().where(meta.c.name == name).values(value=value)).rowcount == 0:
            conn.execute(meta.insert().values(name=name, value=value))
