"""The entity page (``/entity?uid=UID``): attributes and aliases (the API's ``GET /api/v1/entities/{ref}``), a
timeline of the events that touch the node (production, inspections, alarms, maintenance, shipments,
complaints) and its neighbours by relation."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from zhuisu.api.entities import service as entities
from zhuisu.errors import BadInput
from zhuisu.graph.schema import edges, nodes
from zhuisu.graph.store import Store
from zhuisu.ingest.records import from_epoch_ms
from zhuisu.web.auth import Reader
from zhuisu.web.pages import PAGE_ROWS, PageRoute, page_number, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)
EVENTS = {"Operation": "production", "Inspection": "inspection", "Alarm": "alarm",
          "MaintenanceOrder": "maintenance", "Shipment": "shipment", "Complaint": "complaint"}
# Attributes that say what an event was, in the order they are worth reading.
_SAYS = ("step", "type", "result", "defect_code", "code", "severity", "message", "text", "carrier", "technician")
NEIGHBOURS = 20  # shown per relation


@dataclass(frozen=True, slots=True)
class Event:
    time: datetime | None
    category: str
    uid: str
    kind: str
    rel: str
    outgoing: bool
    says: str


@dataclass(frozen=True, slots=True)
class Neighbours:
    rel: str
    outgoing: bool
    kind: str
    count: int
    first: list[tuple[str, str | None]]


def _other() -> Any:
    return sa.case((edges.c.src == sa.bindparam("me"), edges.c.dst), else_=edges.c.src)


def _touching(node_id: int) -> Any:
    return sa.and_(sa.or_(edges.c.src == node_id, edges.c.dst == node_id), edges.c.retracted.is_(None))


def timeline(store: Store, node_id: int, *, category: str | None, page: int,
             rows: int) -> tuple[list[Event], dict[str, int]]:
    """Events touching the node (of one category, or all), newest first, one page of them; and how many there
    are of each category."""
    joined = edges.join(nodes, nodes.c.id == _other())
    where = sa.and_(_touching(node_id), nodes.c.kind.in_(list(EVENTS)))
    chosen = [k for k, c in EVENTS.items() if c == category] if category else list(EVENTS)
    query = (sa.select(edges.c.rel, edges.c.t, edges.c.src, nodes.c.uid, nodes.c.kind, nodes.c.name, nodes.c.attrs)
             .select_from(joined).where(where, nodes.c.kind.in_(chosen))
             .order_by(edges.c.t.desc().nulls_last(), nodes.c.uid).limit(rows).offset((page - 1) * rows))
    count = sa.select(nodes.c.kind, sa.func.count()).select_from(joined).where(where).group_by(nodes.c.kind)
    with store.engine.connect() as conn:
        found = conn.execute(query, {"me": node_id}).all()
        counts = {EVENTS[kind]: n for kind, n in conn.execute(count, {"me": node_id})}
    out = []
    for rel, t, src, uid, kind, name, attrs in found:
        data = json.loads(attrs) if attrs and attrs != "{}" else {}
        when = from_epoch_ms(t) if t is not None else _first_time(data)
        says = " · ".join(str(data[k]) for k in _SAYS if data.get(k) not in (None, ""))
        out.append(Event(when, EVENTS[kind], uid, kind, rel, src == node_id, says or name or ""))
    return out, counts


def _first_time(attrs: dict[str, Any]) -> datetime | None:
    for key, value in attrs.items():
        if key.endswith("_at") and isinstance(value, str):
            try:
                return datetime.fromisoformat(value)
            except ValueError:
                continue
    return None


def neighbours(store: Store, node_id: int) -> list[Neighbours]:
    """The node's neighbours by relation, direction and kind: how many, and the first ``NEIGHBOURS``."""
    other = _other()
    out_ = edges.c.src == node_id
    groups = (sa.select(edges.c.rel, out_, nodes.c.kind, sa.func.count())
              .select_from(edges.join(nodes, nodes.c.id == other)).where(_touching(node_id))
              .group_by(edges.c.rel, out_, nodes.c.kind).order_by(edges.c.rel, nodes.c.kind))
    found = []
    with store.engine.connect() as conn:
        for rel, outgoing, kind, count in conn.execute(groups, {"me": node_id}).all():
            side, far = (edges.c.src, edges.c.dst) if outgoing else (edges.c.dst, edges.c.src)
            first = conn.execute(
                sa.select(nodes.c.uid, nodes.c.name).select_from(edges.join(nodes, nodes.c.id == far))
                .where(side == node_id, edges.c.rel == rel, nodes.c.kind == kind, edges.c.retracted.is_(None))
                .order_by(nodes.c.uid).limit(NEIGHBOURS)).all()
            found.append(Neighbours(rel, bool(outgoing), kind, count, [(u, n) for u, n in first]))
    return found


def _gather(store: Store, uid: str, category: str | None, page: int) -> dict[str, Any]:
    entity = entities.get(store=store, ref=uid)
    node_id = store.node(entity.uid).id
    events, counts = timeline(store, node_id, category=category, page=page, rows=PAGE_ROWS)
    onto = store.ontology
    total = counts.get(category, 0) if category else sum(counts.values())
    return {"entity": entity, "events": events, "counts": counts, "total": total, "category": category,
            "neighbours": neighbours(store, node_id),
            "traceable": onto.is_a(entity.kind, "TraceableItem") if entity.kind in onto.kinds else False}


@router.get("/entity")
async def entity_page(request: Request, _: Reader) -> Response:
    uid = (request.query_params.get("uid") or "").strip()
    if not uid:
        return render(request, "entity.html", {"entity": None, "uid": ""})
    page = page_number(request.query_params.get("page"))
    category = request.query_params.get("category") or None
    if category is not None and category not in EVENTS.values():
        raise BadInput(f"类别无效 category={category!r}; use one of {', '.join(sorted(set(EVENTS.values())))}",
                       where="category")
    found = await run_in_threadpool(_gather, request.app.state.zhuisu.store, uid, category, page)
    relations = request.app.state.zhuisu.store.ontology.relations
    return render(request, "entity.html", {"uid": uid, "page": page, "rows": PAGE_ROWS, "relations": relations,
                                           **found})
