"""Typed query results; ``to_dict()`` gives the stable JSON form that cli, api and web present.

Results are plain slotted dataclasses, to be read and not changed: a large trace builds a few hundred
thousand of them, and frozen ones take three times as long to make.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from zhuisu.graph.engine import no_cycle_collection


def iso(value: datetime | None) -> str | None:
    """ISO 8601 with offset, or None."""
    return value.isoformat() if value is not None else None


@dataclass(slots=True)
class Ref:
    """A node named in a step's context (a machine, an operator, a work order…)."""

    uid: str
    name: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"uid": self.uid, "name": self.name}


@dataclass(slots=True)
class Parameter:
    """A process parameter measured during a step, with its limits."""

    uid: str
    name: str | None
    value: Any
    unit: str | None
    lsl: float | None
    usl: float | None
    out_of_spec: bool | None

    def to_dict(self) -> dict[str, Any]:
        return {"uid": self.uid, "name": self.name, "value": self.value, "unit": self.unit,
                "lsl": self.lsl, "usl": self.usl, "out_of_spec": self.out_of_spec}


@dataclass(slots=True)
class Inspection:
    """An inspection of a step or an item, with its result and the defects it found."""

    uid: str
    target: str
    result: str | None
    defect_code: str | None  # several codes are joined with ","
    time: datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {"uid": self.uid, "target": self.target, "result": self.result,
                "defect_code": self.defect_code, "time": iso(self.time)}


@dataclass(slots=True)
class TraceNode:
    """A node a trace reached, ``level`` material hops from the root.

    ``received``: forward, how much of the root reached this node, in the root's uom (a share of
    the root, with ``uom`` None, where the root's quantity is unknown); backward, how much of this
    lot, unit or supplier went into the root, in its own uom. None for operations (backward), where
    the quantities do not determine it, and on or past a rework loop (a cycle in the material flow).
    The kinds filter may leave out the root; the amounts are computed before it applies.
    """

    uid: str
    kind: str
    name: str | None
    level: int
    received: float | None = None
    uom: str | None = None
    material: Ref | None = None  # the Material or Product a lot or unit is an instance of
    inspections: tuple[Inspection, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"uid": self.uid, "kind": self.kind, "name": self.name, "level": self.level,
                "received": self.received, "uom": self.uom,
                "material": self.material.to_dict() if self.material else None,
                "inspections": [i.to_dict() for i in self.inspections]}


@dataclass(slots=True)
class TraceEdge:
    """A material edge a trace followed."""

    src: str
    dst: str
    rel: str
    time: datetime | None
    quantity: float | None
    uom: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"src": self.src, "dst": self.dst, "rel": self.rel, "time": iso(self.time),
                "quantity": self.quantity, "uom": self.uom}


@dataclass(slots=True)
class Step:
    """An operation a trace reached, with its context attached (not traversed)."""

    operation: str
    step: str | None
    time: datetime | None
    level: int
    inputs: tuple[str, ...] = ()  # every material input of the operation, traced or not
    outputs: tuple[str, ...] = ()
    equipment: tuple[Ref, ...] = ()
    operators: tuple[Ref, ...] = ()
    shifts: tuple[Ref, ...] = ()
    tools: tuple[Ref, ...] = ()
    work_orders: tuple[Ref, ...] = ()
    parameters: tuple[Parameter, ...] = ()
    inspections: tuple[Inspection, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "operation": self.operation, "step": self.step, "time": iso(self.time), "level": self.level,
            "inputs": list(self.inputs), "outputs": list(self.outputs),
            "equipment": [r.to_dict() for r in self.equipment],
            "operators": [r.to_dict() for r in self.operators],
            "shifts": [r.to_dict() for r in self.shifts],
            "tools": [r.to_dict() for r in self.tools],
            "work_orders": [r.to_dict() for r in self.work_orders],
            "parameters": [p.to_dict() for p in self.parameters],
            "inspections": [i.to_dict() for i in self.inspections],
        }


@dataclass(slots=True)
class Trace:
    """A backward or forward trace from one node over material flow."""

    root: str
    direction: str
    depth: int | None
    since: datetime | None
    until: datetime | None
    nodes: tuple[TraceNode, ...]
    edges: tuple[TraceEdge, ...]
    steps: tuple[Step, ...]
    ms: float = 0.0
    _by_uid: dict[str, TraceNode] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._by_uid.update((n.uid, n) for n in self.nodes)

    def node(self, uid: str) -> TraceNode:
        """The reached node with this uid (KeyError if the trace did not reach it)."""
        return self._by_uid[uid]

    def step(self, operation: str) -> Step:
        """The step of this operation uid (KeyError if the trace did not reach it)."""
        found = next((s for s in self.steps if s.operation == operation), None)
        if found is None:
            raise KeyError(operation)
        return found

    @property
    def uids(self) -> set[str]:
        return set(self._by_uid)

    def to_dict(self) -> dict[str, Any]:
        with no_cycle_collection():  # a large trace makes hundreds of thousands of dicts
            return {
                "root": self.root, "direction": self.direction, "depth": self.depth,
                "since": iso(self.since), "until": iso(self.until),
                "nodes": [n.to_dict() for n in self.nodes],
                "edges": [e.to_dict() for e in self.edges],
                "steps": [s.to_dict() for s in self.steps],
                "stats": {"nodes": len(self.nodes), "edges": len(self.edges), "steps": len(self.steps),
                          "ms": round(self.ms, 3)},
            }


@dataclass(slots=True)
class PathNode:
    """A node on a path."""

    uid: str
    kind: str
    name: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"uid": self.uid, "kind": self.kind, "name": self.name}


@dataclass(slots=True)
class PathEdge:
    """An edge on a path, in its stored direction (which may run against the path)."""

    src: str
    dst: str
    rel: str

    def to_dict(self) -> dict[str, Any]:
        return {"src": self.src, "dst": self.dst, "rel": self.rel}


@dataclass(slots=True)
class Route:
    """One path: its nodes in order and the edge joining each pair."""

    nodes: tuple[PathNode, ...]
    edges: tuple[PathEdge, ...]

    @property
    def length(self) -> int:
        return len(self.edges)

    def to_dict(self) -> dict[str, Any]:
        return {"length": self.length, "nodes": [n.to_dict() for n in self.nodes],
                "edges": [e.to_dict() for e in self.edges]}


@dataclass(slots=True)
class Path:
    """The paths found between two nodes, shortest first (empty when they are not connected)."""

    source: str
    target: str
    paths: tuple[Route, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "target": self.target, "paths": [p.to_dict() for p in self.paths]}
