"""The dairy plant: 生乳 → 收奶 → 巴氏杀菌 → 配料 (merging) → 灌装 (splitting) → 经销商."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from zhuisu.samples import dairy_master as dm
from zhuisu.samples.common import HOUR, Links, Uses, allocate, compose, lot_sizes, period_ids, stream
from zhuisu.samples.dairy_records import write_batches, write_distribution, write_master_tables
from zhuisu.samples.faults import draw_defects, inject
from zhuisu.samples.model import LotSet, Plant, Step
from zhuisu.samples.records import name_lots, write_master, write_purchases
from zhuisu.samples.roster import Calendar, Crew
from zhuisu.samples.tables import CsvFolder
from zhuisu.samples.upkeep import write_upkeep

DETECTED = 0.85  # share of defective lots the release tests catch
PACKS_PER_HOUR = 7500.0
PAST_KG_PER_HOUR = 15000.0


@dataclass(slots=True)
class Batches:
    """Blends (配料) and the finished lots filled from them; per-blend arrays are indexed by blend."""

    blend_of: np.ndarray  # per finished lot
    fill_start: np.ndarray
    fill_end: np.ndarray
    filler: np.ndarray
    packs: np.ndarray
    fill_kg: np.ndarray
    product: np.ndarray  # per blend
    mix_start: np.ndarray
    mix_end: np.ndarray
    tank: np.ndarray
    kg: np.ndarray
    milk_kg: np.ndarray
    sugar_kg: np.ndarray
    powder_kg: np.ndarray
    ids: np.ndarray
    finished_ids: np.ndarray
    # Release tests per finished lot: fat within hours, microbiology after ~48 h of culture.
    fat_at: np.ndarray
    micro_at: np.ndarray


@dataclass(slots=True)
class Milk:
    """Pasteurised lots, each made from one silo lot; per-lot arrays, plus which blends drew on which lot."""

    kg: np.ndarray
    past_start: np.ndarray
    past_end: np.ndarray
    pasteurizer: np.ndarray
    rcv_start: np.ndarray
    rcv_end: np.ndarray
    receiver: np.ndarray
    silo_kg: np.ndarray
    draws: tuple[np.ndarray, np.ndarray, np.ndarray]  # (blend, pasteurised lot, kg)
    ids: np.ndarray
    silo_ids: np.ndarray


def generate_dairy(lots: int, seed: int, out: Path, scenario: str | None) -> dict[str, object]:
    """Generate a dairy plant of ``lots`` finished-product lots into ``out`` and return its truth."""
    rng = partial(stream, seed, "dairy")  # one independent stream per purpose
    cal = Calendar(int(np.clip(np.ceil(lots / 12), 21, 730)))
    crew = Crew(rng("crew"), cal, dm.ROLES, floaters=3, inspectors=3)
    suppliers, by_material, customers = dm.parties(rng("parties"))
    plant = Plant(
        "dairy",
        lots,
        cal,
        crew,
        dm.machines(),
        suppliers,
        [f"SUP-{i + 1:02d}" for i in range(len(suppliers))],
        params=dm.params(),
    )
    b = _batches(rng("batches"), cal, lots)
    milk = _milk(rng("milk"), b)
    uses = _purchases(rng("purchases"), plant, b, milk, by_material)
    _steps(plant, b, milk)
    name_lots(rng("lot-names"), plant)
    draws = rng("params")
    for param in plant.params.values():
        param.draw(draws, plant.steps[param.step].equipment)
    # Fewer, bigger targets than the motor plant: a stronger effect keeps a cause visible in a few hundred.
    injection = inject(rng("fault"), plant, dm.LEVERS, scenario, strength=(0.3, 0.55))
    codes = draw_defects(
        rng("defects").random(lots), injection.exposure, injection.strength, dm.BASE_RATES, injection.defect
    )
    caught = (codes != "") & (rng("release").random(lots) < DETECTED)
    folder = CsvFolder(out)
    write_master(plant, customers, folder)
    write_master_tables(folder)
    write_purchases(rng("purchase-records"), plant, folder)
    write_batches(rng("batch-records"), plant, b, milk, uses, codes, caught, folder)
    write_distribution(rng("distribution"), plant, b, codes, caught, customers, folder)
    order_ids = write_upkeep(rng("upkeep"), plant, injection.orders, folder)
    return injection.truth(plant, seed, order_ids)


def _batches(rng: np.random.Generator, cal: Calendar, n: int) -> Batches:
    # Each blend is filled into one to three finished lots on different fillers at the same time.
    per_blend = rng.choice([1, 2, 3], size=n, p=[0.25, 0.5, 0.25])
    count = int(np.searchsorted(np.cumsum(per_blend), n)) + 1
    per_blend = per_blend[:count]
    per_blend[-1] -= int(per_blend.sum()) - n
    blend_of = np.repeat(np.arange(count), per_blend)
    shares = np.array([p[8] for p in dm.PRODUCTS])
    product = rng.choice(len(shares), count, p=shares)
    mix_start = cal.start + (np.arange(count) + rng.uniform(0.1, 0.9, count)) * ((cal.end - cal.start) / count)
    mix_start = mix_start.astype("int64") // 60 * 60
    mix_end = mix_start + (rng.uniform(1, 2, count) * HOUR).astype("int64")
    first_of = np.cumsum(per_blend) - per_blend
    slot = np.arange(n) - first_of[blend_of]
    filler = (rng.integers(4, size=count)[blend_of] + slot) % 4
    fill_start = mix_end[blend_of] + (rng.uniform(0.3, 1, count) * HOUR).astype("int64")[blend_of]
    packs = np.round(rng.uniform(9000, 18000, n), -1)
    fill_end = fill_start + (packs / PACKS_PER_HOUR * HOUR).astype("int64")
    litres = np.array([p[3] for p in dm.PRODUCTS])[product][blend_of]
    fill_kg = np.round(packs * litres * 1.03, 0)
    kg = np.round(np.bincount(blend_of, fill_kg) * 1.01, 0)
    sugar = np.round(kg * np.array([p[4] for p in dm.PRODUCTS])[product], 0)
    powder = np.round(kg * np.array([p[5] for p in dm.PRODUCTS])[product], 0)
    return Batches(
        blend_of,
        fill_start,
        fill_end,
        filler,
        packs,
        fill_kg,
        product,
        mix_start,
        mix_end,
        rng.integers(4, size=count),
        kg,
        kg - sugar - powder,
        sugar,
        powder,
        period_ids("PL", mix_start, 3, daily=True),
        period_ids("CP", fill_start, 3, daily=True),
        fill_end + (rng.uniform(1, 4, n) * HOUR).astype("int64"),
        fill_end + (rng.uniform(44, 52, n) * HOUR).astype("int64"),
    )


def _milk(rng: np.random.Generator, b: Batches) -> Milk:
    # Blends draw pasteurised milk first-in-first-out, so one blend may merge two pasteurised lots.
    sizes = lot_sizes(rng, float(b.milk_kg.sum()), 30000.0, 500.0)
    blend, lot, kg = allocate(b.milk_kg, sizes)
    first_use = np.full(len(sizes), np.iinfo("int64").max)
    np.minimum.at(first_use, lot, b.mix_start[blend])
    past_end = first_use - (rng.uniform(0.5, 3, len(sizes)) * HOUR).astype("int64")
    past_start = past_end - (sizes / PAST_KG_PER_HOUR * HOUR).astype("int64")
    rcv_end = past_start - (rng.uniform(0.5, 4, len(sizes)) * HOUR).astype("int64")
    rcv_start = rcv_end - (rng.uniform(1, 2, len(sizes)) * HOUR).astype("int64")
    return Milk(
        sizes,
        past_start,
        past_end,
        rng.integers(2, size=len(sizes)),
        rcv_start,
        rcv_end,
        rng.integers(2, size=len(sizes)),
        np.round(sizes / 0.998, 0),
        (blend, lot, np.round(kg, 1)),
        period_ids("SJ", past_end, 3, daily=True),
        period_ids("NC", rcv_end, 3, daily=True),
    )


def _purchases(
    rng: np.random.Generator, plant: Plant, b: Batches, milk: Milk, by_material: dict[str, np.ndarray]
) -> Uses:
    """Tanker loads of raw milk into silos, and sugar, milk powder and packaging lots, first-in-first-out."""
    n = plant.targets
    fills: Links = (np.arange(n), np.arange(n))
    to_blend: Links = (np.arange(n), b.blend_of)
    to_past = compose(to_blend, (milk.draws[0], milk.draws[1]))
    sugared, powdered = np.flatnonzero(b.sugar_kg > 0), np.flatnonzero(b.powder_kg > 0)
    packaging = np.round(b.packs * 1.01, 0)
    uses: Uses = {}
    for material, consumers, when, demand, mean, step, via in (
        (dm.RAW_MILK, np.arange(len(milk.kg)), milk.rcv_start, milk.silo_kg, 23000.0, 10.0, to_past),
        (
            dm.SUGAR,
            sugared,
            b.mix_start,
            b.sugar_kg,
            max(12, len(sugared) / 8) * _mean(b.sugar_kg),
            50.0,
            to_blend,
        ),
        (
            dm.POWDER,
            powdered,
            b.mix_start,
            b.powder_kg,
            max(10, len(powdered) / 5) * _mean(b.powder_kg),
            25.0,
            to_blend,
        ),
        (
            dm.PACKAGING,
            np.arange(n),
            b.fill_start,
            packaging,
            max(24, n / 10) * float(packaging.mean()),
            1000.0,
            fills,
        ),
    ):
        if len(consumers) == 0:
            continue
        sizes = lot_sizes(
            rng, float(demand[consumers].sum()), mean, step, spread=0.15 if material is dm.RAW_MILK else 0.3
        )
        pos, lot, qty = allocate(demand[consumers], sizes)
        consumer = consumers[pos]
        uses[material[0]] = (consumer, lot, np.round(qty, 1))
        first_use = np.full(len(sizes), np.iinfo("int64").max)
        np.minimum.at(first_use, lot, when[consumer])
        suppliers = by_material[material[0]]
        share = rng.dirichlet(np.full(len(suppliers), 3.0))
        raw = material is dm.RAW_MILK
        plant.lots[material[0]] = LotSet(
            material[0],
            material[1],
            material[3],
            suppliers[rng.choice(len(suppliers), len(sizes), p=share)],
            sizes,
            first_use,
            compose(via, (consumer, lot)),
            prefix="SR" if raw else "CG",
            daily=raw,
            check=("生乳验收", "g/100g", 2.95, 3.45) if raw else ("来料检验", "", 0.0, 0.0),
        )
    return uses


def _mean(kg: np.ndarray) -> float:
    used = kg[kg > 0]
    return float(used.mean()) if len(used) else 0.0


def _steps(plant: Plant, b: Batches, milk: Milk) -> None:
    """The four process steps as the fault injector sees them, with the operator at each operation."""
    n, cal, crew = plant.targets, plant.calendar, plant.crew
    to_blend: Links = (np.arange(n), b.blend_of)
    to_past = compose(to_blend, (milk.draws[0], milk.draws[1]))
    for step in (
        Step(
            "rcv",
            "收奶",
            "rcv",
            milk.rcv_start,
            plant.numbered("RCV", 2)[milk.receiver],
            milk.receiver,
            links=to_past,
        ),
        Step(
            "past",
            "巴氏杀菌",
            "past",
            milk.past_start,
            plant.numbered("PAST", 2)[milk.pasteurizer],
            milk.pasteurizer,
            links=to_past,
        ),
        Step(
            "mix",
            "配料",
            "mix",
            b.mix_start,
            plant.numbered("TANK", 4)[b.tank],
            b.tank % 2,
            links=to_blend,
        ),
        Step(
            "fill",
            "灌装",
            "fill",
            b.fill_start,
            plant.numbered("FILL", 4)[b.filler],
            b.filler // 2,
            links=(np.arange(n), np.arange(n)),
        ),
    ):
        step.operator = crew.operator(step.role, step.station, cal.instance(step.start))
        plant.steps[step.name] = step
