"""What the assistant reads from a store, loaded once per store state: equipment, maintenance orders, alarms, names.

Everything is read with parameterised SQLAlchemy Core selects; the cache is keyed by the store's URL and its
last batch, so an ingest (a new batch) is picked up on the next question.
"""

from __future__ import annotations

import json
import re
import threading
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from zhuisu.graph.schema import aliases, edges, nodes
from zhuisu.nlp.normalize import fold, to_simplified

if TYPE_CHECKING:
    from zhuisu.graph.store import Store

_EQUIPMENT_KINDS = ("EquipmentUnit", "Equipment", "WorkCenter", "Line", "Area", "Site")
PART_NUMBER = re.compile(r"(?<![A-Za-z])SP-?(\d{3,})", re.IGNORECASE)  # a spare part number, dash or not
_NUMBER_MARK = re.compile(r"^(?:#\s*)?(\d{1,3}|[零一二两三四五六七八九十]{1,3})\s*[号#]?|[-_#\s]*(\d{1,3})\s*[号#]?$")


def norm(text: str) -> str:
    """Folded, simplified, lower-cased text: the form every match in the assistant works on."""
    return to_simplified(fold(text)).lower()


@dataclass(slots=True)
class Equipment:
    """A machine with every surface form a technician may use for it."""

    uid: str
    name: str
    type: str | None
    number: int | None
    level: str
    surfaces: set[str] = field(default_factory=set)


@dataclass(slots=True)
class Order:
    """A maintenance order with what the notes were found to say (edges from ``nlp.enrich``)."""

    uid: str
    id: str
    text: str
    norm: str
    equipment: str | None
    reported_at: datetime | None
    finished_at: datetime | None
    technician: str | None
    downtime_h: float | None
    type: str | None
    symptoms: dict[str, str] = field(default_factory=dict)  # concept uid → surface in the note
    causes: dict[str, str] = field(default_factory=dict)
    actions: dict[str, str] = field(default_factory=dict)
    components: dict[str, str] = field(default_factory=dict)
    parts: dict[str, str] = field(default_factory=dict)

    @property
    def resolved(self) -> bool:
        """Whether the note says the problem went away (and not that it is still pending)."""
        if self.type != "corrective":
            return True
        return not re.search(r"待查|交班|继续观察|再次报警|未解决|再确认", self.text)


@dataclass(slots=True)
class Alarm:
    uid: str
    equipment: str | None
    code: str | None
    message: str | None
    raised_at: datetime | None


@dataclass(slots=True)
class Named:
    """A supplier, customer, material, operator… with its name forms."""

    uid: str
    kind: str
    name: str
    surfaces: set[str] = field(default_factory=set)
    attrs: dict[str, Any] = field(default_factory=dict)


@dataclass
class KB:
    """The assistant's view of one store state."""

    equipment: dict[str, Equipment]
    orders: dict[str, Order]
    alarms: list[Alarm]
    named: dict[str, Named]  # suppliers, customers, materials, operators, products
    supplier_lots: dict[str, list[str]]  # folded supplier lot number → lot uids
    technicians: set[str]
    type_words: dict[str, str]  # surface of an equipment type (folded) → the type name the store uses
    symptoms: set[str] = field(default_factory=set)  # symptom concepts the notes report
    vocabulary: dict[str, tuple[str, str]] = field(default_factory=dict)  # surface → (label, concept) the notes use
    _surfaces: dict[str, set[str]] | None = field(default=None, repr=False)

    def surfaces_of(self, concept: str) -> set[str]:
        """Every surface the notes wrote for ``concept`` (柱塞 for component:活塞)."""
        if self._surfaces is None:
            out: dict[str, set[str]] = defaultdict(set)
            for surface, (_label, c) in self.vocabulary.items():
                out[c].add(surface)
            self._surfaces = dict(out)
        return self._surfaces.get(concept, set())

    def orders_of(self, equipment: set[str] | None = None, since: datetime | None = None,
                  until: datetime | None = None) -> list[Order]:
        """Orders of the given machines (all when None) reported within the window, newest first."""
        out = [o for o in self.orders.values()
               if (equipment is None or o.equipment in equipment)
               and (since is None or (o.reported_at is not None and o.reported_at >= since))
               and (until is None or (o.reported_at is not None and o.reported_at < until))]
        return sorted(out, key=lambda o: (o.reported_at or datetime.min, o.id), reverse=True)


_cache: dict[tuple[str, int], KB] = {}
_lock = threading.Lock()


def load(store: Store) -> KB:
    """The KB for the store's current state (cached until the next batch)."""
    key = (store.url, store.last_batch())
    kb = _cache.get(key)
    if kb is None:
        with _lock:
            kb = _cache.get(key)
            if kb is None:
                kb = _read(store)
                for old in [k for k in _cache if k[0] == store.url]:
                    del _cache[old]
                _cache[key] = kb
    return kb


def _time(value: Any) -> datetime | None:
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value).replace(tzinfo=None)
        except ValueError:
            return None
    return None


def _read(store: Store) -> KB:
    wanted = [*_EQUIPMENT_KINDS, "MaintenanceOrder", "Alarm", "Supplier", "Customer", "Material", "Product",
              "Operator", "MaterialLot", "Symptom", "Cause", "Action", "Component", "SparePart"]
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(nodes.c.id, nodes.c.uid, nodes.c.kind, nodes.c.name, nodes.c.attrs)
                            .where(nodes.c.kind.in_(wanted))).all()
        by_id = {r.id: r for r in rows}
        ids = [r.id for r in rows if r.kind not in ("MaterialLot",)]
        alias_rows = conn.execute(sa.select(aliases.c.alias, aliases.c.node)
                                  .where(aliases.c.node.in_(ids))).all()
        order_ids = [r.id for r in rows if r.kind in ("MaintenanceOrder", "Alarm")]
        edge_rows = conn.execute(
            sa.select(edges.c.src, edges.c.dst, edges.c.rel, edges.c.attrs)
            .where(edges.c.src.in_(order_ids), edges.c.retracted.is_(None))).all()
    alias_of: dict[int, list[str]] = defaultdict(list)
    for alias, node_id in alias_rows:
        alias_of[node_id].append(alias)

    equipment: dict[str, Equipment] = {}
    named: dict[str, Named] = {}
    supplier_lots: dict[str, list[str]] = defaultdict(list)
    attrs_of: dict[int, dict[str, Any]] = {}
    for r in rows:
        attrs = json.loads(r.attrs or "{}")
        attrs_of[r.id] = attrs
        local = r.uid.partition(":")[2]
        if r.kind in _EQUIPMENT_KINDS:
            m = re.search(r"(\d{1,3})$", local)
            eq = Equipment(r.uid, r.name or local, attrs.get("type"), int(m.group(1)) if m else None, r.kind)
            eq.surfaces = {norm(s) for s in (r.name, local, *alias_of[r.id]) if s and ":" not in s}
            eq.surfaces |= {norm(s) for s in re.split(r"[;；,，]", str(attrs.get("aliases", ""))) if s.strip()}
            equipment[r.uid] = eq
        elif r.kind in ("Supplier", "Customer", "Material", "Product", "Operator"):
            n = Named(r.uid, r.kind, r.name or local, attrs=attrs)
            n.surfaces = {norm(s) for s in (r.name, local, *alias_of[r.id]) if s and ":" not in s and len(s) >= 2}
            named[r.uid] = n
        elif r.kind == "MaterialLot" and attrs.get("supplier_lot"):
            supplier_lots[norm(str(attrs["supplier_lot"]))].append(r.uid)

    orders: dict[str, Order] = {}
    alarms: dict[str, Alarm] = {}
    for r in rows:
        a = attrs_of[r.id]
        if r.kind == "MaintenanceOrder":
            text = str(a.get("text") or "")
            dt = a.get("downtime_h")
            orders[r.uid] = Order(
                uid=r.uid, id=r.uid.partition(":")[2], text=text, norm=norm(text), equipment=None,
                reported_at=_time(a.get("reported_at")), finished_at=_time(a.get("finished_at")),
                technician=a.get("technician"), downtime_h=float(dt) if isinstance(dt, (int, float)) else None,
                type=a.get("type"))
        elif r.kind == "Alarm":
            alarms[r.uid] = Alarm(r.uid, None, a.get("code"), a.get("message"), _time(a.get("raised_at")))
    slots = {"reportsSymptom": "symptoms", "foundCause": "causes", "tookAction": "actions",
             "usedSparePart": "parts"}
    for src, dst, rel, eattrs in edge_rows:
        s, d = by_id.get(src), by_id.get(dst)
        if s is None or d is None:
            continue
        if s.kind == "Alarm" and rel == "raisedOn":
            alarms[s.uid].equipment = d.uid
            continue
        order = orders.get(s.uid)
        if order is None:
            continue
        surface = str(json.loads(eattrs or "{}").get("surface") or d.name or d.uid)
        if rel == "maintains" and d.kind in _EQUIPMENT_KINDS:
            if order.equipment is None or d.kind == "EquipmentUnit":
                order.equipment = d.uid
        elif rel == "maintains" and d.kind == "Component":
            order.components[d.uid] = surface
        elif rel in slots:
            getattr(order, slots[rel])[d.uid] = surface
    for order in orders.values():  # part numbers written in the note (更换件：加热管（SP-9034）, SP9173)
        for digits in PART_NUMBER.findall(order.text):
            order.parts.setdefault(f"part:SP-{digits}", f"SP-{digits}")

    type_words: dict[str, str] = {}
    for eq in equipment.values():
        if not eq.type:
            continue
        type_words[norm(eq.type)] = eq.type
        for s in eq.surfaces:
            bare = _NUMBER_MARK.sub("", s).strip()
            if len(bare) >= 2 and not re.fullmatch(r"[a-z]+-?", bare):
                type_words.setdefault(bare, eq.type)
    _lexicon_types(type_words)
    technicians = {o.technician for o in orders.values() if o.technician}
    symptoms = {c for o in orders.values() for c in o.symptoms}
    return KB(equipment, orders, sorted(alarms.values(), key=lambda a: a.raised_at or datetime.min),
              named, dict(supplier_lots), technicians, type_words, symptoms, _vocabulary(orders, type_words))


_LEARNED = (("components", "Component"), ("symptoms", "Symptom"), ("causes", "Cause"))


def _vocabulary(orders: dict[str, Order], type_words: dict[str, str]) -> dict[str, tuple[str, str]]:
    """Words the notes were found to use for parts, symptoms and causes (切刀, 切不断, 阀杆), so a question can
    name them even where the lexicon does not; a word read under several labels keeps its most frequent one."""
    from zhuisu.nlp.lexicon import not_entities

    never = not_entities()
    seen: dict[str, Counter[tuple[str, str]]] = defaultdict(Counter)
    for o in orders.values():
        for attr, label in _LEARNED:
            if label == "Symptom" and o.type != "corrective":
                continue  # a preventive note's "symptoms" are mostly checklist words
            for concept, surface in getattr(o, attr).items():
                w = norm(surface)
                if len(w) >= 2 and not re.search(r"\d", w) and w not in type_words and w not in never:
                    seen[w][(label, concept)] += 1
    return {w: c.most_common(1)[0][0] for w, c in seen.items()}


def _lexicon_types(type_words: dict[str, str]) -> None:
    """Synonyms of the equipment types in the ontology's vocabulary (压机, 油压机 → the store's 压装机)."""
    from zhuisu.nlp.lexicon import concepts

    for concept in concepts():
        if concept.label != "Equipment":
            continue
        forms = [norm(s) for s in concept.surfaces]
        target = next((type_words[f] for f in forms if f in type_words), None)
        if target is None:
            continue
        for f in forms:
            type_words.setdefault(f, target)
