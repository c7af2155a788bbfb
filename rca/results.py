"""Typed results of root-cause analysis, similar units and containment; ``to_dict()`` is the JSON form."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from zhuisu.graph.results import Route, iso


def _num(value: float) -> float | None:
    """A float for JSON: rounded, with infinity and NaN as None."""
    return None if not math.isfinite(value) else float(f"{value:.6g}")


@dataclass(slots=True)
class Evidence:
    """Why a candidate is suspected: how defective items reach it, and what its machine logged."""

    defective: tuple[str, ...] = ()  # exposed defective items (a sample)
    paths: tuple[Route, ...] = ()  # defective item → factor
    maintenance: tuple[dict[str, Any], ...] = ()  # orders: uid, type, reported_at, finished_at, text, symptoms…
    alarms: tuple[dict[str, Any], ...] = ()  # uid, code, raised_at, message, severity
    readings: tuple[dict[str, Any], ...] = ()  # item, operation, parameter, value, lsl, usl, out_of_spec, time

    def to_dict(self) -> dict[str, Any]:
        return {"defective": list(self.defective), "paths": [p.to_dict() for p in self.paths],
                "maintenance": list(self.maintenance), "alarms": list(self.alarms), "readings": list(self.readings)}


@dataclass(slots=True)
class Candidate:
    """A suspected factor (or a group of factors that always go together) with its 2×2 table and verdict."""

    rank: int
    uid: str
    kind: str
    name: str | None
    factor: str  # lot, supplier, equipment, tool, operator, shift, work_order, parameter
    variant: str  # how exposure was defined (whole period, between two maintenance orders, out of spec…)
    description: str  # one line in Chinese and English
    members: tuple[str, ...]  # every uid of the group, this one first
    exposed: int  # population items exposed
    defective: int  # of which defective
    rate_with: float
    rate_without: float
    lift: float  # rate_with / rate_without
    share: float  # share of all defective items that were exposed
    p_value: float
    q_value: float
    verdict: str  # significant | explained | inconclusive | not significant
    explained_by: str | None = None
    window: tuple[datetime | None, datetime | None] | None = None
    related: dict[str, str] = field(default_factory=dict)  # e.g. {"shift": "shift:day", "parameter": "param:…"}
    evidence: Evidence | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "rank": self.rank, "uid": self.uid, "kind": self.kind, "name": self.name, "factor": self.factor,
            "variant": self.variant, "description": self.description, "members": list(self.members),
            "exposed": self.exposed, "defective": self.defective, "rate_with": _num(self.rate_with),
            "rate_without": _num(self.rate_without), "lift": _num(self.lift), "share": _num(self.share),
            "p_value": float(f"{self.p_value:.6g}"), "q_value": float(f"{self.q_value:.6g}"),
            "verdict": self.verdict, "explained_by": self.explained_by,
            "window": [iso(self.window[0]), iso(self.window[1])] if self.window else None,
            "related": dict(self.related),
            "evidence": self.evidence.to_dict() if self.evidence else None,
        }


@dataclass(slots=True)
class Scope:
    """The defect set and the population it was compared with."""

    defect_code: str | None
    items: int  # population size
    defects: int  # defective items in the population
    listed: int  # defective items found or named (some may fall outside the population)
    products: tuple[str, ...]
    since: datetime | None
    until: datetime | None
    sampled_from: int | None = None  # population size when ``items`` is a case-control sample of it

    @property
    def rate(self) -> float:
        return self.defects / self.items if self.items else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"defect_code": self.defect_code, "items": self.items, "defects": self.defects,
                "listed": self.listed, "rate": _num(self.rate), "products": list(self.products),
                "since": iso(self.since), "until": iso(self.until), "sampled_from": self.sampled_from}


@dataclass(slots=True)
class RcaResult:
    """Candidates in rank order: significant ones first, then those they explain, then the rest."""

    scope: Scope
    candidates: tuple[Candidate, ...]
    tested: int  # hypotheses tested (the Benjamini–Hochberg family size)
    alpha: float
    ms: float = 0.0

    @property
    def significant(self) -> tuple[Candidate, ...]:
        return tuple(c for c in self.candidates if c.verdict == "significant")

    def to_dict(self) -> dict[str, Any]:
        return {"defect_code": self.scope.defect_code, "population": self.scope.to_dict(),
                "candidates": [c.to_dict() for c in self.candidates], "tested": self.tested,
                "alpha": self.alpha, "significant": len(self.significant), "ms": round(self.ms, 3)}


@dataclass(slots=True)
class SimilarUnit:
    """An item that shares factors with the root item."""

    uid: str
    score: float
    shared: tuple[str, ...]
    time: datetime | None
    defects: tuple[str, ...]  # defect codes found on it

    def to_dict(self) -> dict[str, Any]:
        return {"uid": self.uid, "score": self.score, "shared": list(self.shared), "time": iso(self.time),
                "defects": list(self.defects)}


@dataclass(slots=True)
class Similar:
    """Items ranked by how many of the root item's factors they share."""

    root: str
    factors: tuple[dict[str, Any], ...]  # the root's own factors: uid, kind, how (lot, equipment ±window…)
    units: tuple[SimilarUnit, ...]
    window_hours: float

    def to_dict(self) -> dict[str, Any]:
        return {"root": self.root, "window_hours": self.window_hours, "factors": list(self.factors),
                "units": [u.to_dict() for u in self.units]}


@dataclass(slots=True)
class Affected:
    """An item downstream of the suspect factor."""

    uid: str
    kind: str
    name: str | None
    material: str | None  # uid of its Material or Product
    level: int  # material hops from the nearest seed
    quantity: float | None  # its own amount
    uom: str | None
    status: str  # shipped | in_stock | wip | consumed
    shipments: tuple[str, ...] = ()
    customers: tuple[str, ...] = ()
    defects: tuple[str, ...] = ()
    time: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"uid": self.uid, "kind": self.kind, "name": self.name, "material": self.material,
                "level": self.level, "quantity": self.quantity, "uom": self.uom, "status": self.status,
                "shipments": list(self.shipments), "customers": list(self.customers),
                "defects": list(self.defects), "time": iso(self.time)}


@dataclass(slots=True)
class Shipped:
    """A shipment that carried affected items."""

    uid: str
    time: datetime | None
    customer: str | None
    customer_name: str | None
    items: int
    quantity: float | None

    def to_dict(self) -> dict[str, Any]:
        return {"uid": self.uid, "time": iso(self.time), "customer": self.customer,
                "customer_name": self.customer_name, "items": self.items, "quantity": self.quantity}


@dataclass(slots=True)
class Containment:
    """The forward set of a suspect factor: affected items by status, the shipments and customers reached."""

    root: str
    kind: str
    since: datetime | None
    until: datetime | None
    seeds: int  # nodes the forward walk started from (operations of a machine in the window…)
    items: tuple[Affected, ...]
    shipments: tuple[Shipped, ...]
    ms: float = 0.0

    def totals(self) -> dict[str, Any]:
        """Lots and units by status (items and quantity per uom); containers (pallets) counted apart."""
        by: dict[str, dict[str, Any]] = {}
        containers = 0
        for item in self.items:
            if item.kind == "LogisticUnit":
                containers += 1
                continue
            slot = by.setdefault(item.status, {"items": 0, "quantity": {}})
            slot["items"] += 1
            if item.quantity is not None:
                uom = item.uom or ""
                slot["quantity"][uom] = slot["quantity"].get(uom, 0.0) + item.quantity
        customers = sorted({s.customer for s in self.shipments if s.customer})
        return {"items": sum(v["items"] for v in by.values()), "containers": containers, "by_status": by,
                "shipments": len(self.shipments), "customers": customers}

    def to_dict(self) -> dict[str, Any]:
        return {"root": self.root, "kind": self.kind, "since": iso(self.since), "until": iso(self.until),
                "seeds": self.seeds, "totals": self.totals(), "items": [i.to_dict() for i in self.items],
                "shipments": [s.to_dict() for s in self.shipments], "ms": round(self.ms, 3)}
