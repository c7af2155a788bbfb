"""The plant as the fault injector and the record writers see it: machines, steps, parameters, lots."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from zhuisu.samples.catalog import MachineType
from zhuisu.samples.common import Links
from zhuisu.samples.names import Company
from zhuisu.samples.roster import Calendar, Crew
from zhuisu.samples.texts import machine_refs


@dataclass(frozen=True, slots=True)
class Machine:
    """A node of the equipment hierarchy; units (``kind`` set) run operations and get alarms and repairs."""

    id: str
    name: str
    level: str
    parent: str
    kind: MachineType | None = None
    number: int = 0

    @property
    def refs(self) -> tuple[str, ...]:
        return machine_refs(self.number, self.kind, self.id) if self.kind else (self.name,)

    @property
    def aliases(self) -> str:
        return ";".join(self.refs[:4]) if self.kind else ""


def units_of(prefix: str, count: int, kind: MachineType, parent: str) -> list[Machine]:
    """``count`` numbered machines ``PREFIX-01``… of one kind under ``parent``."""
    return [
        Machine(f"{prefix}-{n:02d}", f"{n}号{kind.name}", "EquipmentUnit", parent, kind, n) for n in range(1, count + 1)
    ]


@dataclass(slots=True)
class Step:
    """One process step: an operation per row, and which targets (units or finished lots) it went into."""

    name: str
    label: str
    role: str
    start: np.ndarray
    equipment: np.ndarray  # index into Plant.machines
    station: np.ndarray  # station number within the role, for the roster
    operator: np.ndarray = field(default_factory=lambda: np.empty(0, dtype="int64"))
    links: Links = field(default_factory=lambda: (np.empty(0, dtype="int64"), np.empty(0, dtype="int64")))


@dataclass(slots=True)
class Param:
    """A measured process parameter of a step, with its spec and one value per operation of the step."""

    id: str
    name: str
    unit: str
    target: float
    lsl: float
    usl: float
    sd: float
    step: str
    workcenter: str
    alarms: tuple[str, str] = ("", "")  # alarm codes raised below lsl / above usl
    decimals: int = 2
    values: np.ndarray = field(default_factory=lambda: np.empty(0))

    def draw(self, rng: np.random.Generator, equipment: np.ndarray) -> None:
        """Normal values around the target, a small offset per machine, and rare outliers (real noise)."""
        offsets = rng.normal(0, self.sd * 0.4, int(equipment.max()) + 1)
        values = self.target + offsets[equipment] + rng.normal(0, self.sd, len(equipment))
        outlier = rng.random(len(equipment)) < 0.002
        self.values = np.round(values + outlier * rng.normal(0, 4 * self.sd, len(equipment)), self.decimals)


@dataclass(slots=True)
class LotSet:
    """Purchased lots of one material, used first-in-first-out, and the targets each lot went into."""

    material: str
    name: str
    uom: str
    supplier: np.ndarray  # index into Plant.suppliers, per lot
    size: np.ndarray
    first_use: np.ndarray
    links: Links = field(default_factory=lambda: (np.empty(0, dtype="int64"), np.empty(0, dtype="int64")))
    prefix: str = "CG"  # lot id prefix; lots of one prefix share a running number
    daily: bool = False  # number per day (``SR231103-012``) rather than per month (``CG2311-0007``)
    check: tuple[str, str, float, float] = (
        "来料检验",
        "",
        0.0,
        0.0,
    )  # incoming inspection: type, unit, range
    received: np.ndarray = field(default_factory=lambda: np.empty(0, dtype="int64"))
    ids: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=object))
    supplier_lots: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=object))


@dataclass(slots=True)
class Plant:
    """Everything the fault injector and the shared writers need to know about one generated plant."""

    name: str
    targets: int
    calendar: Calendar
    crew: Crew
    machines: list[Machine]
    suppliers: list[Company]
    supplier_ids: list[str]
    steps: dict[str, Step] = field(default_factory=dict)
    params: dict[str, Param] = field(default_factory=dict)
    lots: dict[str, LotSet] = field(default_factory=dict)

    def numbered(self, prefix: str, count: int) -> np.ndarray:
        """Indices into ``machines`` of the numbered machines ``PREFIX-01`` … ``PREFIX-{count}``."""
        index = {m.id: i for i, m in enumerate(self.machines)}
        return np.array([index[f"{prefix}-{j + 1:02d}"] for j in range(count)])
