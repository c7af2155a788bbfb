"""Numeric building blocks shared by the sample plants: random streams, FIFO lot allocation, ids, joins."""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np

HOUR = 3600
DAY = 86400

Links = tuple[np.ndarray, np.ndarray]  # (target index, other index) pairs: which target used which op or lot
Uses = dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]  # material → (consumer, lot, quantity) rows


def stream(seed: int, plant: str, name: str) -> np.random.Generator:
    """An independent random stream per (seed, plant, purpose): one purpose never shifts another's."""
    return np.random.default_rng([seed, zlib.crc32(plant.encode()), zlib.crc32(name.encode())])


def pick(rng: np.random.Generator, items: Sequence[str]) -> str:
    """One item of a sequence, drawn from ``rng``."""
    return items[int(rng.integers(len(items)))]


def lot_sizes(rng: np.random.Generator, total: float, mean: float, step: float, spread: float = 0.3) -> np.ndarray:
    """Lot sizes around ``mean`` (multiples of ``step``) whose sum just covers ``total``."""
    count = int(total / (mean * (1 - spread))) + 2
    sizes = np.maximum(np.round(mean * rng.uniform(1 - spread, 1 + spread, count) / step) * step, step)
    return sizes[: int(np.searchsorted(np.cumsum(sizes), total)) + 1]


def allocate(demand: np.ndarray, supply: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split consumers' demands over lots first-in-first-out: (consumer, lot, quantity) rows.

    A consumer whose demand straddles the end of a lot draws from both lots, as on a real line.
    """
    d_end = np.cumsum(demand, dtype=float)
    d_start = d_end - demand
    s_end = np.cumsum(supply, dtype=float)
    s_start = s_end - supply
    first = np.searchsorted(s_end, d_start, side="right")
    last = np.minimum(np.searchsorted(s_end, d_end, side="left"), len(supply) - 1)
    counts = last - first + 1
    consumer = np.repeat(np.arange(len(demand)), counts)
    offsets = np.arange(len(consumer)) - np.repeat(np.cumsum(counts) - counts, counts)
    lot = first[consumer] + offsets
    qty = np.minimum(d_end[consumer], s_end[lot]) - np.maximum(d_start[consumer], s_start[lot])
    keep = qty > 1e-6
    return consumer[keep], lot[keep], qty[keep]


def compose(first: Links, second: Links) -> Links:
    """Chain (target, middle) with (middle, other) links into unique (target, other) links."""
    order = np.argsort(second[0], kind="stable")
    mids, others = second[0][order], second[1][order]
    lo = np.searchsorted(mids, first[1], side="left")
    hi = np.searchsorted(mids, first[1], side="right")
    counts = hi - lo
    target = np.repeat(first[0], counts)
    index = np.repeat(lo, counts) + np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    pairs = np.unique(np.stack([target, others[index]]), axis=1)
    return pairs[0], pairs[1]


def quantity(values: np.ndarray) -> np.ndarray:
    """Quantities as integers when they are whole (``300`` ea, not ``300.0``), else as they are."""
    values = np.asarray(values)
    return values.astype("int64") if len(values) and np.all(values == np.round(values)) else values


def yymm(seconds: np.ndarray) -> np.ndarray:
    """Year-month as an int like 2311 for each epoch-seconds time."""
    months = np.asarray(seconds, dtype="int64").astype("datetime64[s]").astype("datetime64[M]").astype("int64")
    return (1970 + months // 12) % 100 * 100 + months % 12 + 1


def yymmdd(seconds: np.ndarray) -> np.ndarray:
    """Year-month-day as an int like 231103 for each epoch-seconds time."""
    days = np.asarray(seconds, dtype="int64").astype("datetime64[s]").astype("datetime64[D]")
    months = days.astype("datetime64[M]")
    day = (days - months.astype("datetime64[D]")).astype("int64") + 1
    return yymm(seconds) * 100 + day


def sequence(period: np.ndarray, seconds: np.ndarray) -> np.ndarray:
    """1-based running number of each record within its period (month or day), in time order."""
    order = np.lexsort((seconds, period))
    sorted_period = period[order]
    starts = np.r_[0, np.flatnonzero(sorted_period[1:] != sorted_period[:-1]) + 1]
    run = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    seq = np.empty(len(order), dtype="int64")
    seq[order] = run + 1
    return seq


def ids(prefix: str, period: np.ndarray, seq: np.ndarray, width: int, sep: str = "-") -> np.ndarray:
    """Readable ids like ``SN-M2311-00042`` from a period number and a running number."""
    width = max(width, len(str(int(seq.max())))) if len(seq) else width
    return np.array(
        [f"{prefix}{p}{sep}{s:0{width}d}" for p, s in zip(period.tolist(), seq.tolist(), strict=True)],
        dtype=object,
    )


def period_ids(prefix: str, seconds: np.ndarray, width: int, daily: bool = False) -> np.ndarray:
    """Ids numbered per month (``CG2311-0007``) or per day (``SR231103-012``) in time order."""
    period = yymmdd(seconds) if daily else yymm(seconds)
    return ids(prefix, period, sequence(period, seconds), width)
