"""Into the graph: maintenance orders' notes → a Batch linking them to components, symptoms, causes, actions, parts.

Every edge keeps its evidence: the surface text, its character offsets in the order's ``text``, and whether
the note negates it or is unsure of it. Negated mentions ("未发现异常") produce no edge.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from zhuisu.ingest.records import Batch, Edge, Node

if TYPE_CHECKING:
    from zhuisu.graph.store import Store
    from zhuisu.nlp.events import MaintenanceEvent, Mention

# mention label → (relation from the maintenance order, uid prefix, ontology kind)
TARGETS = {
    "Component": ("maintains", "component", "Component"),
    "Symptom": ("reportsSymptom", "symptom", "Symptom"),
    "Cause": ("foundCause", "cause", "Cause"),
    "Action": ("tookAction", "action", "Action"),
    "SparePart": ("usedSparePart", "part", "SparePart"),
}


def orders(store: Store, *, since_batch: int = 0) -> list[tuple[str, str, Any]]:
    """``(uid, text, reported_at)`` of maintenance orders with a note, created or changed after ``since_batch``."""
    import sqlalchemy as sa

    from zhuisu.graph.schema import nodes

    q = (sa.select(nodes.c.uid, nodes.c.attrs).where(nodes.c.kind == "MaintenanceOrder",
                                                     nodes.c.updated > since_batch).order_by(nodes.c.id))
    out = []
    with store.engine.connect() as conn:
        for uid, attrs in conn.execute(q):
            data = json.loads(attrs or "{}")
            if isinstance(data.get("text"), str) and data["text"].strip():
                out.append((uid, data["text"], data.get("reported_at")))
    return out


def enrich(store: Store, *, since_batch: int = 0, nlp: Any = None) -> Batch:
    """A Batch of the nodes and edges that the notes of maintenance orders say (not yet committed)."""
    from zhuisu.nlp.events import extract_many
    from zhuisu.nlp.pipeline import build_pipeline

    todo = orders(store, since_batch=since_batch)
    nlp = nlp or build_pipeline(store)
    events = extract_many([t for _, t, _ in todo], note_dates=[_date(r) for _, _, r in todo], nlp=nlp)
    batch = Batch(source=f"nlp:maintenance-notes@{since_batch}")
    for (uid, _text, _reported), event in zip(todo, events, strict=True):
        add_event(batch, uid, event)
    return batch


def add_event(batch: Batch, order_uid: str, event: MaintenanceEvent) -> None:
    """Append the nodes and evidence-carrying edges of one order's event to ``batch``."""
    seen: set[tuple[str, str, str]] = set()
    for i, m in enumerate(event.mentions):
        if m.negated:
            continue
        if m.label == "Equipment" and m.concept.startswith("equipment:"):
            _edge(batch, seen, order_uid, "maintains", m.concept, m, i)
            continue
        target = TARGETS.get(m.label)
        if target is None:
            continue
        rel, prefix, kind = target
        uid = _uid(prefix, m)
        batch.nodes.append(Node(uid=uid, kind=kind, name=uid.partition(":")[2]))
        _edge(batch, seen, order_uid, rel, uid, m, i)
    for r in event.relations:  # replaced component → the spare part it became
        if r.label == "part-of":
            part, whole = event.mentions[r.head], event.mentions[r.tail]
            if part.label == "Component" and whole.label == "Equipment" and whole.concept.startswith("equipment:"):
                key = (_uid("component", part), "partOf", whole.concept)
                if key not in seen:
                    seen.add(key)
                    batch.edges.append(Edge(src=key[0], rel="partOf", dst=whole.concept,
                                            attrs={"evidence": part.text, "source": order_uid}))


def _uid(prefix: str, m: Mention) -> str:
    if m.concept.startswith(prefix + ":"):
        return m.concept
    local = m.concept.partition(":")[2] if m.concept else m.text
    return f"{prefix}:{local.strip() or m.text.strip()}"


def _edge(batch: Batch, seen: set[tuple[str, str, str]], src: str, rel: str, dst: str, m: Mention, i: int) -> None:
    key = (src, rel, dst)
    if key in seen:
        return
    seen.add(key)
    batch.edges.append(Edge(src=src, rel=rel, dst=dst, key=f"nlp:{m.start}", attrs={
        "surface": m.text, "start": m.start, "end": m.end, "negated": m.negated, "uncertain": m.uncertain,
        "label": m.label, "source": m.source}))


def _date(value: Any) -> datetime | None:
    if isinstance(value, (int, float)):
        from zhuisu.ingest.records import from_epoch_ms

        return from_epoch_ms(int(value))
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return value if isinstance(value, datetime) else None
