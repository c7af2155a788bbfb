"""Injected root causes: the factor that goes wrong, how it shows, and the truth about it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from zhuisu.samples.catalog import Failure
from zhuisu.samples.common import DAY, Links
from zhuisu.samples.model import Plant
from zhuisu.samples.roster import SHIFTS
from zhuisu.samples.texts import drift_fixed_note

SCENARIOS = ("bad_supplier_lot", "drift_after_maintenance", "param_window", "operator_shift")
DEFECT_NAMES = {
    "E-NOISE": "异响",
    "E-INSUL": "绝缘不良",
    "E-VIB": "振动超标",
    "D-MICRO": "微生物超标",
    "D-FAT": "脂肪含量偏低",
}


@dataclass(frozen=True, slots=True)
class Lever:
    """One way a scenario can strike: the factor (material, step or parameter) and the defect it causes."""

    scenario: str
    factor: str
    defect: str
    story: str
    param: str = ""
    shift: float = 0.0  # how far the parameter moves, in its unit


@dataclass(frozen=True, slots=True)
class ForcedOrder:
    """A maintenance order a scenario needs: the repair that starts a drift, or the calibration ending it."""

    machine: int
    time: int
    failure: Failure
    note: str = ""  # written text for the closing calibration; a repair gets a generated note


@dataclass(slots=True)
class Injection:
    """What was injected: per-target exposure (0–1), the truth's causes, the maintenance orders implied."""

    scenario: str
    defect: str
    strength: float
    exposure: np.ndarray
    causes: list[dict[str, str]] = field(default_factory=list)
    orders: list[ForcedOrder] = field(default_factory=list)

    def truth(self, plant: Plant, seed: int, order_ids: Sequence[str]) -> dict[str, object]:
        """The truth file's content; repair order ids fill the descriptions' ``{mo}`` slots."""
        causes = [
            {**c, "description": c["description"].format(mo=order_ids[0] if order_ids else "")} for c in self.causes
        ]
        return {
            "scenario": self.scenario,
            "seed": seed,
            "plant": plant.name,
            "units": plant.targets,
            "defect_code": self.defect,
            "causes": causes,
        }


def inject(
    rng: np.random.Generator,
    plant: Plant,
    levers: Sequence[Lever],
    scenario: str | None,
    strength: tuple[float, float] = (0.15, 0.40),
) -> Injection:
    """Apply one scenario to ``plant`` (``None``: a null plant with no cause) and say what was done.

    ``strength`` bounds the extra defect probability of a fully exposed target.
    """
    pool = [lv for lv in levers if lv.scenario == (scenario or lv.scenario)]
    lever = pool[int(rng.integers(len(pool)))]
    extra = float(rng.uniform(*strength))
    if scenario is None:
        return Injection("null", lever.defect, 0.0, np.zeros(plant.targets))
    act = {
        "bad_supplier_lot": _bad_lot,
        "drift_after_maintenance": _drift,
        "param_window": _window,
        "operator_shift": _operator,
    }[scenario]
    return act(rng, plant, lever, extra)


def spread(links: Links, weight: np.ndarray, targets: int) -> np.ndarray:
    """Per-target exposure: the largest weight among the operations or lots that went into each target."""
    out = np.zeros(targets)
    np.maximum.at(out, links[0], weight[links[1]])
    return out


def _when(t: float) -> str:
    return str(np.datetime64(int(t), "s").astype("datetime64[m]")).replace("T", " ")


def _bad_lot(rng: np.random.Generator, plant: Plant, lever: Lever, strength: float) -> Injection:
    lots = plant.lots[lever.factor]
    used = np.bincount(lots.links[1], minlength=len(lots.ids))
    order = np.argsort(lots.first_use, kind="stable")
    # A lot from the middle of the run that reached at least as many targets as a typical lot.
    middle = order[len(order) // 4 : max(3 * len(order) // 4, len(order) // 4 + 1)]
    typical = [int(k) for k in middle if used[k] > 0 and used[k] >= np.median(used[middle])]
    k = typical[int(rng.integers(len(typical)))]
    exposure = spread(lots.links, (np.arange(len(lots.ids)) == k).astype(float), plant.targets)
    supplier = plant.suppliers[lots.supplier[k]]
    text = (
        f"{supplier.name}（{plant.supplier_ids[lots.supplier[k]]}）供应的{lots.name}批次 {lots.ids[k]}"
        f"（供方批号 {lots.supplier_lots[k]}）{lever.story}，"
        f"使用该批次的产品{DEFECT_NAMES[lever.defect]}率升高"
    )
    cause = {"uid": f"lot:{lots.ids[k]}", "kind": "MaterialLot", "description": text}
    return Injection(lever.scenario, lever.defect, strength, exposure, [cause])


def _drift(rng: np.random.Generator, plant: Plant, lever: Lever, strength: float) -> Injection:
    step, param, cal = plant.steps[lever.factor], plant.params[lever.param], plant.calendar
    machines = np.unique(step.equipment)
    m = int(machines[int(rng.integers(len(machines)))])
    machine = plant.machines[m]
    span = cal.end - cal.start
    t0 = int(cal.start + rng.uniform(0.25, 0.55) * span) // 60 * 60
    # Routine calibration would catch a drift within a month, whatever the plant's span.
    t1 = min(int(t0 + min(rng.uniform(0.2, 0.35) * span, 30 * DAY)) // 60 * 60, cal.end)
    ramp = np.clip((step.start - t0) / max(DAY, 0.1 * (t1 - t0)), 0, 1)
    weight = np.where((step.equipment == m) & (step.start >= t0) & (step.start < t1), ramp, 0.0)
    param.values = np.round(param.values + lever.shift * weight, param.decimals)
    assert machine.kind is not None
    sensors = [f for f in machine.kind.failures if f.sensor]
    failure = sensors[int(rng.integers(len(sensors)))]
    note = drift_fixed_note(rng, machine.kind, machine.refs, failure, param.name, param.unit, param.target, lever.shift)
    orders = [ForcedOrder(m, t0, failure)] + ([ForcedOrder(m, t1, failure, note)] if t1 < cal.end else [])
    until = f"至 {_when(t1)} 重新校准前" if t1 < cal.end else "此后"
    text = (
        f"{machine.name}（{machine.id}）于 {_when(t0)} 维修（{{mo}}，{failure.component}）后{param.name}"
        f"逐渐{'偏高' if lever.shift > 0 else '偏低'}，{until}该设备{step.label}的产品"
        f"{DEFECT_NAMES[lever.defect]}率升高"
    )
    cause = {"uid": f"equipment:{machine.id}", "kind": "Equipment", "description": text}
    exposure = spread(step.links, weight, plant.targets)
    return Injection(lever.scenario, lever.defect, strength, exposure, [cause], orders)


def _window(rng: np.random.Generator, plant: Plant, lever: Lever, strength: float) -> Injection:
    param, cal = plant.params[lever.factor], plant.calendar
    step = plant.steps[param.step]
    span = cal.end - cal.start
    # Long enough to span every shift, short enough that nobody would overlook it for weeks.
    length = max(1.5 * DAY, min(rng.uniform(0.06, 0.10) * span, 10 * DAY))
    a = int(cal.start + rng.uniform(0.15, 0.85) * (span - length)) // 60 * 60
    b = int(a + length) // 60 * 60
    weight = ((step.start >= a) & (step.start < b)).astype(float)
    param.values = np.round(param.values + lever.shift * weight, param.decimals)
    text = (
        f"{param.name}（{param.id}）在 {_when(a)} 至 {_when(b)} 期间{'偏高' if lever.shift > 0 else '偏低'}"
        f"超出规格（{lever.story}），该时段{step.label}的产品{DEFECT_NAMES[lever.defect]}率升高"
    )
    cause = {"uid": f"param:{param.id}", "kind": "ProcessParameter", "description": text}
    return Injection(lever.scenario, lever.defect, strength, spread(step.links, weight, plant.targets), [cause])


def _operator(rng: np.random.Generator, plant: Plant, lever: Lever, strength: float) -> Injection:
    step, cal, crew = plant.steps[lever.factor], plant.calendar, plant.crew
    slots = cal.slot[cal.instance(step.start)]
    # Pick among the (operator, shift) pairs that handled a fair share of the output, so the effect can show.
    handled = np.bincount(
        step.operator * 3 + slots,
        np.bincount(step.links[1], minlength=len(step.start)),
        minlength=len(crew.ids) * 3,
    )
    members = crew.members[step.role].ravel()
    pairs = [(int(x), s) for x in members for s in range(3)]
    most = max(handled[x * 3 + s] for x, s in pairs)
    pairs = [(x, s) for x, s in pairs if handled[x * 3 + s] >= 0.5 * most]
    x, slot = pairs[int(rng.integers(len(pairs)))]
    weight = ((step.operator == x) & (slots == slot)).astype(float)
    shift = SHIFTS[slot][1]
    text = (
        f"操作工{crew.names[x]}（{crew.ids[x]}）上{shift}做{step.label}时{lever.story}，"
        f"其{shift}经手的产品{DEFECT_NAMES[lever.defect]}率升高"
    )
    cause = {"uid": f"operator:{crew.ids[x]}", "kind": "Operator", "description": text}
    return Injection(lever.scenario, lever.defect, strength, spread(step.links, weight, plant.targets), [cause])


def draw_defects(
    u: np.ndarray, exposure: np.ndarray, strength: float, base: Mapping[str, float], target: str
) -> np.ndarray:
    """Latent defect code per target ('' for none) from one uniform draw each.

    The injected code takes the bottom of [0, 1) and the other codes fixed slices at the top, so a plant
    with a cause has exactly the null plant's defects plus the injected ones.
    """
    codes = np.full(len(u), "", dtype=object)
    top = 1.0
    for code, rate in base.items():
        if code != target:
            codes[(u >= top - rate) & (u < top)] = code
            top -= rate
    codes[u < base[target] + strength * exposure] = target
    return codes
