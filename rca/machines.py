"""Machine states as hypotheses: a machine between two of its maintenance orders (a drift after a repair),
and soon after one of its alarms. Counted from each machine's operations in time order with prefix sums, so
that thousands of windows cost one pass; items that reach one machine through two operations (a blend of two
batches of one pasteurizer) are counted once."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from zhuisu.ingest.records import epoch_ms
from zhuisu.rca.arrays import codes, distinct
from zhuisu.rca.topology import Floats, Ints, Topology

if TYPE_CHECKING:
    from zhuisu.rca.factors import Hypotheses

HOUR = 3_600_000.0
DAY = 24 * HOUR
MAX_WINDOW = 45 * DAY  # longest stretch between two maintenance orders tested as one machine state
ALARM_BEFORE = 8 * HOUR  # an alarm counts for operations up to one shift after it…
ALARM_AFTER = 0.25 * HOUR  # …and for the operation that raised it


def near(alarms: Floats, t: Floats) -> npt.NDArray[np.bool_]:
    """Operations at times ``t`` that an alarm precedes by at most ``ALARM_BEFORE`` (or follows by ``ALARM_AFTER``)."""
    if not len(alarms):
        return np.zeros(len(t), dtype=bool)
    first = np.searchsorted(alarms, t - ALARM_BEFORE)
    return (first < len(alarms)) & (alarms[np.minimum(first, len(alarms) - 1)] <= t + ALARM_AFTER)


def machine_states(hyps: Hypotheses, topo: Topology, ops: Ints, op_rows: Ints, inverse: Ints, machines: Ints,
                    bad: np.ndarray) -> None:
    """A machine between two of its maintenance orders (or from one to the end of the data), and soon after one
    of its alarms: counted from the machine's operations in time order."""
    engine = topo.engine
    per_op = np.bincount(inverse, minlength=len(ops))  # population rows below each operation
    bad_op = np.bincount(inverse[bad[op_rows]], minlength=len(ops))
    has = (machines >= 0) & ~np.isnan(topo.time[ops])
    if not has.any():
        return
    # rows reached twice through one machine (a blend of two batches of the same pasteurizer) count once
    twice = _repeats(op_rows, machines[inverse], topo.time[ops][inverse], bad)
    uniq = distinct(machines[has])
    pos, orders, edge = topo.sources_of(uniq, "maintains")
    mo_machine, mo_t = uniq[pos], engine.edge_t[edge]
    apos, alarms, aedge = topo.sources_of(uniq, "raisedOn")
    al_machine, al_t = uniq[apos], engine.edge_t[aedge]
    records = engine.store.nodes_by_id(engine.node_ids(np.concatenate([orders, alarms])).tolist())
    finished = np.array([_ms(records[i].attrs.get("finished_at")) for i in engine.node_ids(orders).tolist()])
    mo_t = np.where(np.isnan(finished), mo_t, np.fmax(finished, mo_t)) if len(orders) else mo_t
    codes = np.array([str(records[i].attrs.get("code") or "") for i in engine.node_ids(alarms).tolist()], dtype=object)
    end = float(np.nanmax(topo.time[ops])) + 1
    for m in uniq.tolist():
        mine = np.flatnonzero((machines == m) & has)
        order = np.argsort(topo.time[ops[mine]], kind="stable")
        mine = mine[order]
        t = topo.time[ops[mine]]
        cum_n = np.concatenate([[0], np.cumsum(per_op[mine])])
        cum_k = np.concatenate([[0], np.cumsum(bad_op[mine])])
        dups = twice.get(m, (np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0)))
        at = np.flatnonzero(mo_machine == m)
        events = sorted(zip(mo_t[at].tolist(), orders[at].tolist(), strict=True))
        spans, details = [], []
        for i, (a, order_a) in enumerate(events):
            ends = [(b, o) for b, o in events[i + 1:] if b - a <= MAX_WINDOW] + [(min(end, a + MAX_WINDOW), -1)]
            for b, order_b in ends:
                spans.append((a, b))
                details.append({"orders": [order_a] + ([order_b] if order_b >= 0 else [])})
        if spans:
            lo = np.searchsorted(t, [s[0] for s in spans])
            hi = np.searchsorted(t, [s[1] for s in spans])
            n = cum_n[hi] - cum_n[lo] - _overlap(dups, spans, bad, False)
            k = cum_k[hi] - cum_k[lo] - _overlap(dups, spans, bad, True)
            keep = np.flatnonzero(hi > lo)
            hyps.add("window", np.full(len(keep), m), n[keep], k[keep],
                     others=[details[j]["orders"][0] for j in keep.tolist()],
                     windows=[spans[j] for j in keep.tolist()], details=[details[j] for j in keep.tolist()],
                     variant="window")
        at = np.flatnonzero(al_machine == m)
        for code in sorted(set(codes[at].tolist())):
            mine_code = at[codes[at] == code]
            close = near(np.sort(al_t[mine_code]), t)
            if not close.any():
                continue
            times = np.sort(al_t[mine_code])
            n = int(per_op[mine][close].sum()) - _near_repeats(dups, times, bad, False)
            k = int(bad_op[mine][close].sum()) - _near_repeats(dups, times, bad, True)
            hyps.add("alarm", [m], np.array([n]), np.array([k]), variant="alarm",
                     details=[{"code": code, "alarms": alarms[mine_code].tolist(),
                               "times": np.sort(al_t[mine_code]).tolist()}])


def _repeats(op_rows: Ints, machine: Ints, time: Floats, bad: np.ndarray) -> dict[int, tuple[Ints, Floats, Floats]]:
    """Rows that reach a machine through more than one operation (a blend of two batches pasteurised on the
    same machine), so that counts by operation can count them once: per machine, ``(row, earlier time, later
    time)`` of each pair of consecutive such operations."""
    if not len(op_rows):
        return {}
    order = np.lexsort((machine, op_rows))  # a row's operations on one machine side by side
    r, m = op_rows[order], machine[order]
    same = (r[1:] == r[:-1]) & (m[1:] == m[:-1]) & (m[1:] >= 0)
    involved = np.zeros(len(op_rows), dtype=bool)
    involved[order[1:][same]] = True
    involved[order[:-1][same]] = True
    at = np.flatnonzero(involved & ~np.isnan(time))
    if not len(at):
        return {}
    at = at[np.lexsort((time[at], op_rows[at], machine[at]))]
    r, m, t = op_rows[at], machine[at], time[at]
    follow = (r[1:] == r[:-1]) & (m[1:] == m[:-1])
    out: dict[int, tuple[Ints, Floats, Floats]] = {}
    first, second = np.flatnonzero(follow), np.flatnonzero(follow) + 1
    for key in distinct(m[first]).tolist():
        sel = m[first] == key
        out[key] = (r[first][sel], t[first][sel], t[second][sel])
    return out


def _overlap(dups: tuple[Ints, Floats, Floats], spans: list[tuple[float, float]], bad: np.ndarray,
             defective_only: bool) -> Ints:
    """Per span: rows counted twice, i.e. consecutive operations of one row that both fall in it."""
    rows, t1, t2 = dups
    if defective_only:
        keep = bad[rows]
        t1, t2 = t1[keep], t2[keep]
    if not len(t1):
        return np.zeros(len(spans), dtype=np.int64)
    a = np.array([s[0] for s in spans])[:, None]
    b = np.array([s[1] for s in spans])[:, None]
    return ((t1[None, :] >= a) & (t2[None, :] < b)).sum(axis=1)


def _near_repeats(dups: tuple[Ints, Floats, Floats], alarms: Floats, bad: np.ndarray, defective_only: bool) -> int:
    """Rows counted more than once among the operations near alarms (exact: counted per row)."""
    rows, t1, t2 = dups
    if not len(rows):
        return 0
    r = np.concatenate([rows, rows])
    t = np.concatenate([t1, t2])
    close = near(alarms, t)
    # each distinct (row, time) once: consecutive pairs share their middle operation
    key = np.unique(np.stack([r[close], t[close]]), axis=1) if close.any() else np.zeros((2, 0))
    if defective_only:
        key = key[:, bad[key[0].astype(np.int64)]]
    if not key.shape[1]:
        return 0
    per_row = np.bincount(codes(key[0].astype(np.int64))[1])
    return int((per_row - 1).clip(min=0).sum())


def _ms(value: Any) -> float:
    if not isinstance(value, str):
        return np.nan
    try:
        return float(epoch_ms(datetime.fromisoformat(value)) or np.nan)
    except ValueError:
        return np.nan
