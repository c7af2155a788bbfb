"""Which factor names a group of factors the data cannot tell apart.

When two factors explain each other (nested or always together), statistics has said all it can; the
candidate is then named after the most specific, most actionable member:

1. a machine in a state delimited by its maintenance orders, or a machine's own parameter excursion
   (other machines ran normally meanwhile: a drift after a repair);
2. a process-parameter excursion (a measured abnormality, more direct than any association);
3. a bought lot (more specific than its supplier);
4. an operator, 5. a tool, 6. a supplier, 7. a work order, 8. a shift (they say when or by whom) — among
   these associations, one nested in another whose remaining items show a significantly lower defect rate
   is the more specific and names the group, whatever its kind;
9. a machine not tied to its own state (an alarm, an excursion the other machines shared);
10. a lot or unit made in the plant (it carries whatever happened at its own making).

A machine is blamed for a parameter excursion only when the other machines measuring that parameter stayed
normal over the excursion's span (or, if none ran, when one of its maintenance windows delimits it);
otherwise the excursion is the process's.
"""

from __future__ import annotations

import numpy as np

from zhuisu.rca.arrays import member
from zhuisu.rca.factors import Hypotheses
from zhuisu.rca.topology import Ints, Topology

PRIORITY = {"window": 0.0, "equipment_parameter": 0.0, "equipment": 0.0, "parameter": 1.0, "lot": 2.0,
            "operator_shift": 3.0, "operator": 3.0, "tool": 4.0, "supplier": 5.0, "work_order": 6.0,
            "shift": 7.0}
ASSOCIATION = (2.0, 7.0)  # kinds known only by association; among them a confirmed narrower one names the group
UNALIGNED = 7.5  # a machine hypothesis not tied to the machine itself (an alarm, a shared excursion)
IN_HOUSE = 8.0
MACHINE = ("window", "equipment_parameter", "equipment", "alarm")
ALIGNED = 0.5  # Jaccard overlap with one of the machine's maintenance windows that ties items to it
NEAR = 72 * 3_600_000.0  # how far (ms) to look for the other machines' nearest readings
NORMAL = 0.2  # share of the other machines' readings that may be flagged while one machine drifts


def jaccard(a: Ints, b: Ints) -> float:
    """Overlap of two ascending row sets: shared over either."""
    common = int(member(a, b).sum())
    return common / max(len(a) + len(b) - common, 1)


class Namer:
    """Priorities of hypotheses over one test run (answers are cached)."""

    def __init__(self, topo: Topology, hyps: Hypotheses) -> None:
        self.topo, self.hyps = topo, hyps
        self.windows: dict[int, list[int]] = {}
        for h, family in enumerate(hyps.family):
            if family == "window":
                self.windows.setdefault(hyps.entity[h], []).append(h)
        self._aligned: dict[int, bool] = {}
        self._specific: dict[tuple[int, int, str], bool | None] = {}

    def priority(self, h: int, versus: int = -1) -> float:
        """Lower names a group better; ``versus``: a parameter hypothesis in the same group, if any."""
        hyps = self.hyps
        family = hyps.family[h]
        if family == "lot":
            return PRIORITY["lot"] if self.topo.purchased[hyps.entity[h]] else IN_HOUSE
        if family == "alarm":  # an alarm marks an excursion or a breakdown; it names neither
            return UNALIGNED
        if family in MACHINE:
            if versus >= 0 and hyps.family[versus] == "parameter":
                param, variant = hyps.entity[versus], hyps.variant[versus]
            elif family == "equipment_parameter":
                param, variant = hyps.other[h], hyps.variant[h]
            else:
                param, variant = -1, ""
            specific = self.machine_specific(hyps.entity[h], param, variant) if param >= 0 else None
            if specific is False or (specific is None and family != "window" and not self.aligned(h)):
                return UNALIGNED
        return PRIORITY.get(family, 9.0)

    def aligned(self, h: int) -> bool:
        """Whether a machine hypothesis's items coincide with one of the machine's maintenance windows."""
        if h not in self._aligned:
            rows = self.hyps.rows_of(h)
            best = 0.0
            source = self.hyps.source
            times = source.pop.time[rows] if source is not None and len(rows) else np.zeros(0)
            times = times[~np.isnan(times)]
            for w in self.windows.get(self.hyps.entity[h], ()):
                window = self.hyps.window[w]
                if len(times) and window is not None and (window[1] < times.min() or window[0] > times.max()):
                    continue  # windows that end before the items were made, or start after, cannot match
                best = max(best, jaccard(rows, self.hyps.rows_of(w)))
            self._aligned[h] = best >= ALIGNED
        return self._aligned[h]

    def machine_specific(self, machine: int, param: int, variant: str) -> bool | None:
        """Whether a machine's excursion of a parameter is its own: the other machines' readings over its span
        (and the nearest one either side) stayed normal (True), showed it too (False), or there were none."""
        key = (machine, param, variant)
        if key in self._specific:
            return self._specific[key]
        table = self.topo.reading_table()
        flagged = table.variant(variant)
        same = table.param == param
        times = table.time[same & flagged & (table.machine == machine)]
        times = times[~np.isnan(times)]
        answer: bool | None = False  # no excursion on this machine at all: it is not the machine's
        if len(times):
            answer = None
            lo, hi = float(times.min()), float(times.max())
            other = np.flatnonzero(same & (table.machine != machine) & ~np.isnan(table.time))
            t = table.time[other]
            inside = (t >= lo) & (t <= hi)
            before = np.flatnonzero((t < lo) & (t >= lo - NEAR))
            after = np.flatnonzero((t > hi) & (t <= hi + NEAR))
            if len(before):
                inside[before[np.argmax(t[before])]] = True
            if len(after):
                inside[after[np.argmin(t[after])]] = True
            count = int(inside.sum())
            share = float(flagged[other[inside]].mean()) if count else 0.0
            if share > NORMAL:
                answer = False
            elif count >= 3:
                answer = True
        self._specific[key] = answer
        return answer
