"""Who is compared with whom: the defect set (by defect code, or a list of units, lots, complaints or
inspections) and the population it is measured against (by default: the same products over the same period)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from zhuisu.errors import BadInput, NotFound
from zhuisu.graph.engine import Engine
from zhuisu.graph.reach import walk
from zhuisu.ingest.records import epoch_ms, from_epoch_ms
from zhuisu.rca.arrays import distinct, member
from zhuisu.rca.topology import ITEMS, Bools, Floats, Ints, Topology, topology


@dataclass(slots=True)
class Population:
    """The items compared: ``targets`` (node indices, ascending), their times and which are defective."""

    targets: Ints
    time: Floats  # epoch ms of production, NaN unknown
    defective: Bools
    products: tuple[int, ...]  # the Product or Material nodes the targets are instances of
    since: float | None  # epoch ms bounds actually applied (None: open)
    until: float | None
    listed: int  # defective items named or found, before the population filter
    code: str | None = None
    sampled_from: int | None = None  # items in the population when its controls are a random sample of them

    @property
    def size(self) -> int:
        return len(self.targets)

    @property
    def defects(self) -> int:
        return int(self.defective.sum())


def defect_items(engine: Engine, code: str) -> Ints:
    """Items found with defect ``code``: targets of failed inspections and of complaints that name it."""
    topo = topology(engine)
    ref = code if code.startswith("defect:") else f"defect:{code}"
    try:
        defect = engine.index(ref)
    except NotFound:
        starting = getattr(engine.uids, "starting_with", None)
        uids = starting("defect:", 200) if starting else [u for u in engine.uids if u.startswith("defect:")]
        known = sorted(u.removeprefix("defect:") for u in uids)
        raise NotFound(f"未知缺陷代码 unknown defect code {code!r}; known: {', '.join(known) or 'none'}") from None
    _, finders, _ = topo.sources_of(np.array([defect], dtype=np.int64), "foundDefect")
    return _items_of(topo, distinct(finders))


def resolve_items(engine: Engine, refs: Iterable[str]) -> Ints:
    """Items named directly (units, lots) or through a complaint or inspection about them."""
    topo = topology(engine)
    wanted = sorted({r.strip() for r in refs if r.strip()})
    found_at = _lookup(engine, wanted)
    nodes = distinct(found_at)
    if not len(nodes):
        raise BadInput("没有给出产品 no units, lots, complaints or inspections given")
    items = topo.is_kind(*ITEMS)[nodes]
    found = [nodes[items]]
    if (~items).any():
        found.append(_items_of(topo, nodes[~items]))
    return distinct(np.concatenate(found))


def _lookup(engine: Engine, refs: list[str]) -> Ints:
    """Node indices of uids, in one pass where the engine offers it; aliases through the store."""
    many = getattr(engine.uids, "get_many", None)
    at = many(refs) if many is not None else np.full(len(refs), -1, dtype=np.int64)
    for i in np.flatnonzero(at < 0).tolist():  # aliases (GS1 URNs…) and uids the fast path does not know
        at[i] = engine.index(refs[i])
    return np.asarray(at, dtype=np.int64)


def _items_of(topo: Topology, finders: Ints) -> Ints:
    """Items that inspections or complaints are about (an inspected operation stands for what it made, a
    shipment complained about for what it carried)."""
    targets = distinct(np.concatenate([topo.context_of(finders, rel)[1] for rel in ("inspects", "complaintAbout")]))
    out = [targets[topo.is_kind(*ITEMS)[targets]]]
    ops = targets[topo.is_kind("Operation")[targets]]
    if len(ops):
        out.append(topo.down.items[topo.down.gather(ops)[1]].astype(np.int64))
    shipments = targets[topo.is_kind("Shipment")[targets]]
    if len(shipments):
        out.append(topo.up.items[topo.up.gather(shipments)[1]].astype(np.int64))
    items = distinct(np.concatenate(out))
    return items[topo.is_kind(*ITEMS)[items]]


DAY = 86_400_000


def _day_start(ms: float) -> float:
    """Epoch ms of the plant-local midnight that starts the day of ``ms``."""
    local = from_epoch_ms(int(ms))
    assert local is not None
    return float(epoch_ms(local.replace(hour=0, minute=0, second=0, microsecond=0)) or ms)


def population(engine: Engine, defective: Ints, *, since: datetime | None = None, until: datetime | None = None,
               code: str | None = None) -> Population:
    """The items of the defective items' products made in the period (default: the defects' own span)."""
    topo = topology(engine)
    if not len(defective):
        raise NotFound(f"没有不良品 no defective items found{f' for {code}' if code else ''}; nothing to analyse")
    pos, product, _ = topo.context_of(defective, "instanceOf")
    products = distinct(product)
    if len(products):
        targets = distinct(np.concatenate([topo.sources_of(products, "instanceOf")[1], defective]))
    else:  # items without a product: compare them with every item of their own kind
        targets = np.flatnonzero(member(topo.kind, distinct(topo.kind[defective])))
    time = topo.time[targets]
    lo = epoch_ms(since) if since is not None else None
    hi = epoch_ms(until) if until is not None else None
    d_time = topo.time[defective]
    if lo is None and hi is None and np.isfinite(d_time).any():  # the defects' own span, in whole days
        lo, hi = _day_start(float(np.nanmin(d_time))), _day_start(float(np.nanmax(d_time))) + DAY - 1
    keep = np.ones(len(targets), dtype=bool)
    if lo is not None:
        keep &= time >= lo
    if hi is not None:
        keep &= time <= hi
    targets, time = targets[keep], time[keep]
    bad = member(targets, defective)
    pop = Population(targets, time, bad, tuple(products.tolist()), None if lo is None else float(lo),
                     None if hi is None else float(hi), len(defective), code)
    return _case_control(engine, pop)


PAIRS = 10_000_000  # (item, upstream node) pairs the exposure pass may hold: about 0.5 GB of working arrays
CONTROLS_PER_DEFECT = 10  # a sample keeps at least this many good items per defective one, where there are
_PROBES = 64  # items whose backward walk estimates the population's upstream size


def _case_control(engine: Engine, pop: Population, seed: int = 0) -> Population:
    """The population itself, or every defective item with a random sample of the others when their upstream
    closures together would pass ``PAIRS`` (deep lot mixing: thousands of upstream nodes per item).

    A case-control sample keeps the exposure tests valid: the Fisher test conditions on how many items are
    defective and how many exposed, and the sample was drawn by defect status alone. Counts and rates are then
    of the sample, which the result says (``sampled_from``). The sample is seeded: the same data, the same
    answer.
    """
    if not pop.size:
        return pop
    rng = np.random.default_rng(seed)
    probes = rng.choice(pop.size, min(_PROBES, pop.size), replace=False)
    upstream = float(np.mean([len(walk(engine, int(t), forward=False).nodes) for t in pop.targets[probes]]))
    if upstream * pop.size <= PAIRS:
        return pop
    controls = np.flatnonzero(~pop.defective)
    room = max(int(PAIRS / upstream) - pop.defects, CONTROLS_PER_DEFECT * pop.defects)
    if room >= len(controls):
        return pop
    keep = np.sort(np.concatenate([np.flatnonzero(pop.defective), rng.choice(controls, room, replace=False)]))
    return Population(pop.targets[keep], pop.time[keep], pop.defective[keep], pop.products, pop.since, pop.until,
                      pop.listed, pop.code, sampled_from=pop.size)


def defect_codes(topo: Topology, items: Ints) -> dict[int, set[str]]:
    """Defect codes that inspections or complaints found on each of the items."""
    items = np.asarray(items, dtype=np.int64)
    out: dict[int, set[str]] = {}
    for rel in ("inspects", "complaintAbout"):
        pos, finder, _ = topo.sources_of(items, rel)
        fpos, defect, _ = topo.context_of(finder, "foundDefect")
        for p, d in zip(pos[fpos].tolist(), defect.tolist(), strict=True):
            out.setdefault(int(items[p]), set()).add(topo.engine.uid(d).partition(":")[2])
    return out


def inspected(topo: Topology, items: Ints) -> set[int]:
    """Those of the items that an inspection looked at."""
    items = np.asarray(items, dtype=np.int64)
    pos, _, _ = topo.sources_of(items, "inspects")
    return set(items[pos].tolist())
