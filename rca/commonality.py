"""Commonality root-cause analysis: which upstream factors the defective items share more than chance allows.

Every hypothesis of exposure (``factors``) gets a one-sided Fisher exact test against the population, and
all tested hypotheses together get Benjamini–Hochberg q-values. The significant ones are then ranked by a
greedy explain-away:

* each round takes the strongest test among what is left, with the items of earlier candidates set aside;
* a factor nested in it that explains it takes its place (a lot rather than its supplier);
* factors that explain each other (near-identical exposure, or only their overlap carries the excess) join
  it as one candidate, named by ``naming``;
* what no longer shows an excess once earlier candidates' items are set aside is *explained* by them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from zhuisu.rca.arrays import member
from zhuisu.rca.factors import Hypotheses, extract
from zhuisu.rca.naming import ASSOCIATION, IN_HOUSE, Namer, jaccard
from zhuisu.rca.population import Population
from zhuisu.rca.stats import Guards, benjamini_hochberg, fisher_greater, g_statistic
from zhuisu.rca.topology import Ints, Topology

MAX_RANKS = 12
VARIANTS = 3  # strongest hypotheses per entity taken into the explain-away
CONFOUNDED = 0.5  # Jaccard overlap above which two factors explaining each other are one candidate
UNTESTABLE, EXPLAINED, INDEPENDENT = "untestable", "explained", "independent"


@dataclass(slots=True)
class Tests:
    """The tests of all hypotheses over one population."""

    hyps: Hypotheses
    n: Ints  # exposed items
    k: Ints  # exposed defective items
    p: np.ndarray
    q: np.ndarray
    g: np.ndarray
    tested: np.ndarray  # passed the exposure guard (the BH family)
    total: int
    defects: int


@dataclass(slots=True)
class Ranked:
    """A candidate of the explain-away: the hypotheses it stands for and its verdict."""

    lead: int  # the hypothesis that won the round (its test is the candidate's)
    primary: int  # the hypothesis that names the candidate
    members: list[int]  # one hypothesis per entity of the group, primary first
    verdict: str  # significant | explained
    explained_by: int = -1  # for explained ones: the lead of the candidate sharing most items


def run_tests(topo: Topology, pop: Population, guards: Guards) -> Tests:
    """Exposure counts, Fisher p-values and BH q-values of every hypothesis."""
    hyps = extract(topo, pop, least=guards.min_exposed)
    total, defects = pop.size, pop.defects
    n, k = hyps.counts()
    tested = (n >= guards.min_exposed) & (total - n >= guards.min_exposed)
    p, q = np.ones(len(hyps)), np.ones(len(hyps))
    if tested.any() and defects:
        p[tested] = fisher_greater(n[tested], k[tested], total, defects)
        q[tested] = benjamini_hochberg(p[tested])
    return Tests(hyps, n, k, p, q, g_statistic(n, k, total, defects), tested, total, defects)


class _Ranking:
    """One explain-away over the significant hypotheses."""

    def __init__(self, topo: Topology, pop: Population, tests: Tests, guards: Guards) -> None:
        self.tests, self.guards, self.defective = tests, guards, pop.defective
        self.namer = Namer(topo, tests.hyps)
        pool = np.flatnonzero(tests.tested & (tests.q < guards.alpha) & (tests.k >= guards.min_defects))
        self.pool = _strongest(tests, pool)
        self.rows = {h: tests.hyps.rows_of(h) for h in self.pool}
        self.entity = {h: tests.hyps.entity[h] for h in self.pool}
        self.removed = np.zeros(pop.size, dtype=bool)
        self._relations: dict[tuple[int, int], tuple[str, str]] = {}

    def run(self) -> list[Ranked]:
        out: list[Ranked] = []
        explained: list[Ranked] = []
        remaining = list(self.pool)
        while remaining and len(out) < MAX_RANKS:
            p, g, alive = self._conditional(remaining)
            explained += [Ranked(h, h, [h], "explained") for h, a in zip(remaining, alive, strict=True) if not a]
            remaining = [h for h, a in zip(remaining, alive, strict=True) if a]
            if not remaining:
                break
            best = min(range(len(remaining)), key=lambda i: (p[alive][i], -g[alive][i]))
            lead = self._specific(remaining[best], remaining)
            group = self._group(lead, remaining)
            primary = self._primary(group)
            members = [primary] + [h for h in group if h != primary]
            out.append(Ranked(lead, primary, members, "significant"))
            taken = {self.entity[h] for h in group}
            remaining = [h for h in remaining if self.entity[h] not in taken]
            self.removed[self.rows[lead]] = True
            self._relations = {}
        explained += [Ranked(h, h, [h], "explained") for h in remaining]
        for r in explained:
            r.explained_by = self._explainer(out, r.lead)
        taken = {self.entity[m] for r in out for m in r.members}
        return out + self._one_per_entity(explained, taken)

    def _conditional(self, hs: list[int]) -> tuple[np.ndarray, np.ndarray, list[bool]]:
        """Tests of the hypotheses with earlier candidates' items set aside; which still pass the guards."""
        keep = ~self.removed
        total, defects = int(keep.sum()), int(self.defective[keep].sum())
        n = np.array([int(keep[self.rows[h]].sum()) for h in hs], dtype=np.int64)
        k = np.array([int(self.defective[self.rows[h][keep[self.rows[h]]]].sum()) for h in hs], dtype=np.int64)
        p = fisher_greater(n, k, total, defects) if defects else np.ones(len(hs))
        guards = self.guards
        alive = (n >= guards.min_exposed) & (k >= guards.min_defects) & (p < guards.alpha)
        return p, g_statistic(n, k, total, defects), alive.tolist()

    def condition(self, a: int, b: int) -> str:
        """What is left of A once B's items (and earlier candidates') are set aside: too little to test,
        no excess (B explains A), or an excess of its own."""
        return self.relations(b, [a])[a][1]

    def relations(self, lead: int, hs: list[int]) -> dict[int, tuple[str, str]]:
        """Per hypothesis H: (what is left of the lead without H's items, what is left of H without the lead's),
        tested all at once and remembered until the next candidate's items are set aside."""
        todo = [h for h in hs if (lead, h) not in self._relations]
        if todo:
            keep = ~self.removed
            total, defects = int(keep.sum()), int(self.defective[keep].sum())
            lead_rows = self.rows[lead][keep[self.rows[lead]]]
            lead_bad = self.defective[lead_rows]
            rows = [self.rows[h][keep[self.rows[h]]] for h in todo]
            shared = [member(lead_rows, r) for r in rows]  # lead items also in H
            n_ab = np.array([len(lead_rows) - int(c.sum()) for c in shared])  # lead without H
            k_ab = np.array([int(lead_bad[~c].sum()) for c in shared])
            n_ba = np.array([len(r) - int(c.sum()) for r, c in zip(rows, shared, strict=True)])  # H without lead
            k_ba = np.array([int(self.defective[r].sum()) - int(lead_bad[c].sum()) for r, c in
                             zip(rows, shared, strict=True)])
            h_n = np.array([len(r) for r in rows])
            h_k = np.array([int(self.defective[r].sum()) for r in rows])
            ab = self._verdicts(n_ab, k_ab, total - h_n, defects - h_k)
            ba = self._verdicts(n_ba, k_ba, np.full(len(todo), total - len(lead_rows)),
                                np.full(len(todo), defects - int(lead_bad.sum())))
            for h, x, y in zip(todo, ab, ba, strict=True):
                self._relations[lead, h] = (x, y)
        return {h: self._relations[lead, h] for h in hs}

    def _verdicts(self, n: np.ndarray, k: np.ndarray, total: np.ndarray, defects: np.ndarray) -> list[str]:
        guards = self.guards
        p = np.ones(len(n))
        testable = (n >= guards.min_exposed) & (total - n >= guards.min_exposed)
        enough = testable & (k >= guards.min_defects) & (defects > 0)
        if enough.any():
            p[enough] = fisher_greater(n[enough], k[enough], total[enough], defects[enough])
        return [UNTESTABLE if not t else EXPLAINED if not e or q >= guards.alpha else INDEPENDENT
                for t, e, q in zip(testable.tolist(), enough.tolist(), p.tolist(), strict=True)]

    def _specific(self, lead: int, remaining: list[int]) -> int:
        """The lead, or a factor nested in it that explains it and names it at least as well."""
        for _ in range(8):
            versus = lead if self.tests.hyps.family[lead] == "parameter" else -1
            others = [h for h in remaining if self.entity[h] != self.entity[lead]
                      and self.namer.priority(h, versus) <= self.namer.priority(lead)]
            relation = self.relations(lead, others)
            better = [h for h in others if relation[h] == (EXPLAINED, UNTESTABLE)]
            if not better:
                break
            lead = min(better, key=lambda h: (self.tests.p[h], -self.tests.g[h]))
        return lead

    def _group(self, lead: int, remaining: list[int]) -> list[int]:
        """The lead and one hypothesis of each other entity it cannot be told apart from."""
        group = {self.entity[lead]: lead}
        others = [h for h in remaining if self.entity[h] != self.entity[lead]]
        relation = self.relations(lead, others)
        for h in others:
            if self.entity[h] in group:
                continue
            ab, ba = relation[h]
            if INDEPENDENT in (ab, ba):
                continue
            # near-identical, or one holds the other (or they overlap) and nothing outside carries an excess
            if ab == ba == UNTESTABLE or jaccard(self.rows[lead], self.rows[h]) >= CONFOUNDED:
                group[self.entity[h]] = h
        return list(group.values())

    def _primary(self, group: list[int]) -> int:
        """The member that names a group (``naming``): by kind, except that among associations a member
        nested in another whose remaining items have a significantly lower rate is the more specific."""
        versus = next((h for h in group if self.tests.hyps.family[h] == "parameter"), -1)
        rank = {h: self.namer.priority(h, versus) for h in group}
        usable = [h for h in group if rank[h] < IN_HOUSE] or group
        ordered = sorted(usable, key=lambda h: (rank[h], len(self.rows[h]), self.tests.p[h]))
        best = ordered[0]
        low, high = ASSOCIATION
        for h in ordered[1:]:
            if low <= rank[best] <= high and low <= rank[h] <= high and self._narrower(h, best):
                best = h
        return best

    def _narrower(self, a: int, b: int) -> bool:
        """Whether A lies within B and B's other items have a significantly lower defect rate than A's."""
        if self.condition(a, b) != UNTESTABLE:
            return False
        inside = np.zeros(len(self.removed), dtype=bool)
        inside[self.rows[a]] = True
        rows_b = self.rows[b]
        rest = rows_b[~inside[rows_b] & ~self.removed[rows_b]]
        rows_a = self.rows[a][~self.removed[self.rows[a]]]
        if len(rest) < self.guards.min_exposed:
            return False
        k_a, k_rest = int(self.defective[rows_a].sum()), int(self.defective[rest].sum())
        p = fisher_greater(np.array([len(rows_a)]), np.array([k_a]), len(rows_a) + len(rest), k_a + k_rest)[0]
        return bool(p < self.guards.alpha)

    def _explainer(self, out: list[Ranked], h: int) -> int:
        """The ranked candidate sharing most items with ``h`` (-1 if none)."""
        best, overlap = -1, 0
        for r in out:
            common = int(member(self.rows[h], self.rows[r.lead]).sum())
            if common > overlap:
                best, overlap = r.lead, common
        return best

    def _one_per_entity(self, explained: list[Ranked], taken: set[int]) -> list[Ranked]:
        out, seen = [], set(taken)
        for r in sorted(explained, key=lambda r: (self.tests.p[r.lead], -self.tests.g[r.lead])):
            if self.entity[r.lead] not in seen:
                seen.add(self.entity[r.lead])
                out.append(r)
        return out


def _strongest(tests: Tests, pool: Ints) -> list[int]:
    """At most ``VARIANTS`` hypotheses per entity, the strongest."""
    by_entity: dict[int, list[int]] = {}
    for h in sorted(pool.tolist(), key=lambda h: (tests.p[h], -tests.g[h])):
        chosen = by_entity.setdefault(tests.hyps.entity[h], [])
        if len(chosen) < VARIANTS:
            chosen.append(h)
    return sorted(h for hs in by_entity.values() for h in hs)


def rank(topo: Topology, pop: Population, tests: Tests, guards: Guards) -> list[Ranked]:
    """Significant candidates in rank order, then the significant hypotheses they explain (one per entity)."""
    return _Ranking(topo, pop, tests, guards).run()
