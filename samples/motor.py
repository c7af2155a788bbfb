"""The motor assembly plant: raw lots → 绕线 → 浸漆 → 压装 → 总装 → EOL测试 → pallets → customers."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np

from zhuisu.samples import motor_master as mm
from zhuisu.samples.common import (
    DAY,
    HOUR,
    Links,
    Uses,
    allocate,
    compose,
    lot_sizes,
    period_ids,
    sequence,
    stream,
    yymm,
)
from zhuisu.samples.faults import draw_defects, inject
from zhuisu.samples.model import LotSet, Plant, Step
from zhuisu.samples.motor_logistics import write_logistics
from zhuisu.samples.motor_records import write_master_tables, write_stators, write_units
from zhuisu.samples.records import name_lots, write_master, write_purchases
from zhuisu.samples.roster import Calendar, Crew
from zhuisu.samples.tables import CsvFolder
from zhuisu.samples.upkeep import write_upkeep

DETECTED = 0.9  # share of defective units the EOL test catches; the rest reach customers


@dataclass(slots=True)
class Units:
    """Per-unit arrays in assembly order; rotor ``i`` (pressed earlier) goes into unit ``i``."""

    w_assy: np.ndarray  # working-time offset of each assembly
    press_start: np.ndarray
    assy_start: np.ndarray
    eol_at: np.ndarray
    press_station: np.ndarray
    assy_station: np.ndarray
    eol_station: np.ndarray
    product: np.ndarray
    wo: np.ndarray
    serial: tuple[np.ndarray, np.ndarray]  # (yymm, running number) of the motor's serial
    rotor: tuple[np.ndarray, np.ndarray]  # (yymm, running number) of the rotor's serial
    stator: np.ndarray = field(default_factory=lambda: np.empty(0, dtype="int64"))


@dataclass(slots=True)
class Stators:
    """Stator lots: each is wound on one winder, then varnished in one oven, then used by ``size`` units."""

    size: int
    wind_start: np.ndarray
    wind_end: np.ndarray
    varn_start: np.ndarray
    varn_end: np.ndarray
    winder: np.ndarray
    oven: np.ndarray
    wire: np.ndarray  # kg of wire per lot
    varnish: np.ndarray  # litres of varnish per lot
    wound_ids: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=object))
    varnished_ids: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=object))


def generate_motor(units: int, seed: int, out: Path, scenario: str | None) -> dict[str, object]:
    """Generate a motor plant of ``units`` serial units into ``out`` and return its truth."""
    rng = partial(stream, seed, "motor")  # one independent stream per purpose
    cal = Calendar(int(np.clip(np.ceil(units / 2400), 30, 420)), off_weekdays=(6,))
    crew = Crew(rng("crew"), cal, mm.ROLES, floaters=4, inspectors=2)
    suppliers, by_material, customers = mm.parties(rng("parties"))
    plant = Plant(
        "motor",
        units,
        cal,
        crew,
        mm.machines(),
        suppliers,
        [f"SUP-{i + 1:02d}" for i in range(len(suppliers))],
        params=mm.params(),
    )
    u = _schedule(rng("schedule"), cal, units)
    st = _stators(rng("stators"), plant, u)
    uses = _purchases(rng("purchases"), plant, u, st, by_material)
    _steps(plant, u, st)
    name_lots(rng("lot-names"), plant)
    draws = rng("params")
    for param in plant.params.values():
        param.draw(draws, plant.steps[param.step].equipment)
    injection = inject(rng("fault"), plant, mm.LEVERS, scenario)
    codes = draw_defects(
        rng("defects").random(units), injection.exposure, injection.strength, mm.BASE_RATES, injection.defect
    )
    caught = (codes != "") & (rng("eol").random(units) < DETECTED)
    folder = CsvFolder(out)
    write_master(plant, customers, folder)
    write_master_tables(folder)
    write_purchases(rng("purchase-records"), plant, folder)
    write_stators(plant, st, uses, folder)
    write_units(rng("unit-records"), plant, u, st, uses, codes, caught, folder)
    write_logistics(rng("logistics"), plant, u, codes, caught, customers, folder)
    order_ids = write_upkeep(rng("upkeep"), plant, injection.orders, folder)
    return injection.truth(plant, seed, order_ids)


def _schedule(rng: np.random.Generator, cal: Calendar, n: int) -> Units:
    # One assembly per takt over the working time; rotors wait in a buffer for up to three hours.
    w_assy = (np.arange(n) + rng.uniform(0.05, 0.95, n)) * (cal.work_seconds / n)
    assy_start = cal.clock(w_assy)
    press_start = cal.clock(w_assy - rng.uniform(0.3, 3.0, n) * HOUR)
    eol_at = cal.clock(w_assy + rng.uniform(0.1, 0.6, n) * HOUR)
    product, wo = _work_orders(rng, cal, assy_start)
    serial_period, rotor_period = yymm(assy_start), yymm(press_start)
    return Units(
        w_assy,
        press_start,
        assy_start,
        eol_at,
        rng.integers(4, size=n),
        rng.integers(4, size=n),
        rng.integers(2, size=n),
        product,
        wo,
        (serial_period, sequence(serial_period, assy_start)),
        (rotor_period, sequence(rotor_period, press_start)),
    )


def _work_orders(rng: np.random.Generator, cal: Calendar, assy_start: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each day runs one or two models, one work order each: (product index, work order index) per unit."""
    shares = np.array([p[4] for p in mm.PRODUCTS])
    day = (assy_start - cal.start) // DAY
    days = int(day.max()) + 1
    first, second = rng.choice(len(shares), days, p=shares), rng.choice(len(shares), days, p=shares)
    split = np.where((rng.random(days) < 0.5) & (first != second), rng.uniform(0.3, 0.7, days), 1.0)
    count = np.bincount(day, minlength=days)
    position = np.arange(len(day)) - (np.cumsum(count) - count)[day]
    part = (position / np.maximum(count[day], 1) >= split[day]).astype("int64")
    product = np.where(part == 0, first[day], second[day])
    return product, np.unique(day * 2 + part, return_inverse=True)[1]


def _stators(rng: np.random.Generator, plant: Plant, u: Units) -> Stators:
    n, cal = plant.targets, plant.calendar
    size = int(np.clip(round(n / 40), 40, 400))
    count = -(-n // size)
    u.stator = np.arange(n) // size
    # Work backwards from each lot's first use: varnished 2–16 h before, baked ~3.5 h, wound before that.
    varn_end = u.w_assy[::size] - rng.uniform(2, 16, count) * HOUR
    varn_start = varn_end - rng.uniform(3.2, 3.8, count) * HOUR
    wind_end = varn_start - rng.uniform(0.5, 6, count) * HOUR
    wind_start = wind_end - size * rng.uniform(30, 42, count)
    st = Stators(
        size,
        cal.clock(wind_start),
        cal.clock(wind_end),
        cal.clock(varn_start),
        cal.clock(varn_end),
        rng.integers(3, size=count),
        rng.integers(2, size=count),
        np.round(size * mm.WIRE[4] * rng.uniform(0.98, 1.02, count), 1),
        np.round(size * mm.VARNISH[4] * rng.uniform(0.95, 1.05, count), 1),
    )
    st.wound_ids, st.varnished_ids = period_ids("ST", st.wind_end, 4), period_ids("VS", st.varn_end, 4)
    return st


def _purchases(
    rng: np.random.Generator, plant: Plant, u: Units, st: Stators, by_material: dict[str, np.ndarray]
) -> Uses:
    """Lots of each raw material, used first-in-first-out in the order their consumers run."""
    n = plant.targets
    mean_units = float(np.clip(n / 12, 150, 3000))
    press_order = np.argsort(u.press_start, kind="stable")
    unit_to_stator: Links = (np.arange(n), u.stator)
    uses: Uses = {}
    for material, order, when, demand, mean, step in (
        (mm.BEARING, press_order, u.press_start, np.full(n, mm.BEARING[4]), mean_units * 2, 100.0),
        (mm.MAGNET, press_order, u.press_start, np.full(n, mm.MAGNET[4]), mean_units * 8, 200.0),
        (mm.HOUSING, np.arange(n), u.assy_start, np.full(n, mm.HOUSING[4]), mean_units, 50.0),
        (
            mm.WIRE,
            np.argsort(st.wind_start, kind="stable"),
            st.wind_start,
            st.wire,
            float(np.clip(n / 10, 200, 3000)) * mm.WIRE[4],
            25.0,
        ),
        (
            mm.VARNISH,
            np.argsort(st.varn_start, kind="stable"),
            st.varn_start,
            st.varnish,
            float(np.clip(n / 8, 250, 4000)) * mm.VARNISH[4],
            5.0,
        ),
    ):
        sizes = lot_sizes(rng, float(demand.sum()), mean, step)
        consumer, lot, qty = allocate(demand[order], sizes)
        consumer = order[consumer]
        keep = np.argsort(consumer, kind="stable")
        uses[material[0]] = (consumer[keep], lot[keep], np.round(qty[keep], 3))
        first_use = np.full(len(sizes), np.iinfo("int64").max)
        np.minimum.at(first_use, lot, when[consumer])
        links: Links = (consumer, lot)
        if material in (mm.WIRE, mm.VARNISH):
            links = compose(unit_to_stator, links)
        suppliers = by_material[material[0]]
        share = rng.dirichlet(np.full(len(suppliers), 3.0))
        plant.lots[material[0]] = LotSet(
            material[0],
            material[1],
            material[3],
            suppliers[rng.choice(len(suppliers), len(sizes), p=share)],
            sizes,
            first_use,
            links,
        )
    return uses


def _steps(plant: Plant, u: Units, st: Stators) -> None:
    """The four process steps as the fault injector sees them, with the operator at each operation."""
    n, cal, crew = plant.targets, plant.calendar, plant.crew
    identity: Links = (np.arange(n), np.arange(n))
    per_lot: Links = (np.arange(n), u.stator)
    for step in (
        Step(
            "press",
            "压装",
            "press",
            u.press_start,
            plant.numbered("PRESS", 4)[u.press_station],
            u.press_station,
            links=identity,
        ),
        Step(
            "assy",
            "总装",
            "assy",
            u.assy_start,
            plant.numbered("ASSY", 4)[u.assy_station],
            u.assy_station,
            links=identity,
        ),
        Step(
            "wind",
            "绕线",
            "wind",
            st.wind_start,
            plant.numbered("WIND", 3)[st.winder],
            st.winder,
            links=per_lot,
        ),
        Step(
            "varnish",
            "浸漆",
            "varnish",
            st.varn_start,
            plant.numbered("OVEN", 2)[st.oven],
            st.oven,
            links=per_lot,
        ),
    ):
        step.operator = crew.operator(step.role, step.station, cal.instance(step.start))
        plant.steps[step.name] = step
