"""``rca()``: the defect set and population, the tests, the explain-away, and the typed result with evidence."""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import numpy as np

from zhuisu.errors import BadInput
from zhuisu.graph.engine import Engine
from zhuisu.graph.store import NodeRecord
from zhuisu.ingest.records import from_epoch_ms
from zhuisu.rca.commonality import Ranked, Tests, rank, run_tests
from zhuisu.rca.evidence import gather
from zhuisu.rca.population import Population, defect_items, population, resolve_items
from zhuisu.rca.results import Candidate, RcaResult, Scope
from zhuisu.rca.stats import Guards, rates
from zhuisu.rca.topology import Topology, topology

_VARIANT = {"out_of_spec": ("超差", "out of spec"), "low": ("偏低", "low tail"), "high": ("偏高", "high tail")}
_LABEL = {"lot": ("批次", "lot"), "supplier": ("供应商", "supplier"), "equipment": ("设备", "machine"),
          "window": ("设备", "machine"), "alarm": ("设备", "machine"), "equipment_parameter": ("设备", "machine"),
          "parameter": ("工艺参数", "parameter"), "operator": ("操作工", "operator"),
          "operator_shift": ("操作工", "operator"), "tool": ("工装", "tool"), "work_order": ("工单", "work order"),
          "shift": ("班次", "shift")}
EVIDENCE = 10  # candidates that get evidence beyond the significant ones
FACTOR = {"window": "equipment", "alarm": "equipment", "equipment_parameter": "equipment",
          "operator_shift": "operator"}


def rca(engine: Engine, *, defect_code: str | None = None, units: Iterable[str] | None = None,
        since: datetime | None = None, until: datetime | None = None, guards: Guards | None = None,
        limit: int = 20, evidence: bool = True) -> RcaResult:
    """Rank the upstream factors that the defective items share (by defect code, or a list of units, lots,
    complaints or inspections) against the same products over the same period (or ``since``..``until``)."""
    return analyse(engine, defect_code=defect_code, units=units, since=since, until=until, guards=guards,
                   limit=limit, evidence=evidence)[0]


def analyse(engine: Engine, *, defect_code: str | None = None, units: Iterable[str] | None = None,
            since: datetime | None = None, until: datetime | None = None, guards: Guards | None = None,
            limit: int = 20, evidence: bool = True) -> tuple[RcaResult, Population]:
    """``rca`` and the population it compared (for reports that chart it)."""
    started = time.perf_counter()
    guards = guards or Guards()
    if (defect_code is None) == (units is None):
        raise BadInput("给出缺陷代码或产品清单之一 give a defect code or a list of units, not both or neither")
    defective = defect_items(engine, defect_code) if defect_code else resolve_items(engine, units or ())
    pop = population(engine, defective, since=since, until=until, code=defect_code)
    topo = topology(engine)
    tests = run_tests(topo, pop, guards)
    ranked = rank(topo, pop, tests, guards) if pop.defects else []
    result = _Builder(topo, pop, tests, guards).build(ranked, limit, evidence)
    result.ms = (time.perf_counter() - started) * 1000
    return result, pop


class _Builder:
    """Typed candidates from ranked hypotheses; one store read for every name shown."""

    def __init__(self, topo: Topology, pop: Population, tests: Tests, guards: Guards) -> None:
        self.topo, self.pop, self.tests, self.guards = topo, pop, tests, guards
        self.engine = topo.engine
        self.records: dict[int, NodeRecord] = {}

    def build(self, ranked: list[Ranked], limit: int, evidence: bool) -> RcaResult:
        tests = self.tests
        listed = {tests.hyps.entity[m] for r in ranked for m in r.members}
        significant = sum(r.verdict == "significant" for r in ranked)
        rows = (ranked + self._rest(listed, limit))[:max(limit, significant)]
        self._read_names(rows)
        candidates = tuple(self._candidate(i + 1, r, evidence and (r.verdict == "significant" or i < EVIDENCE))
                           for i, r in enumerate(rows))
        pop = self.pop
        scope = Scope(pop.code, pop.size, pop.defects, pop.listed,
                      tuple(self.engine.uid(p) for p in pop.products), _time(pop.since), _time(pop.until),
                      pop.sampled_from)
        return RcaResult(scope, candidates, int(tests.tested.sum()), self.guards.alpha)

    def _rest(self, listed: set[int], limit: int) -> list[Ranked]:
        """Hypotheses not in the explain-away, strongest per entity: inconclusive (q below ``suggestive``,
        or below alpha with too few defects) or not significant."""
        tests, guards = self.tests, self.guards
        order = np.lexsort((-tests.g, tests.p))
        out, seen = [], set(listed)
        for h in order[tests.tested[order]].tolist():
            entity = tests.hyps.entity[h]
            if entity in seen:
                continue
            seen.add(entity)
            q = tests.q[h]
            verdict = "inconclusive" if q < guards.suggestive else "not significant"
            out.append(Ranked(h, h, [h], verdict))
            if len(out) >= limit:
                break
        return out

    def _read_names(self, rows: list[Ranked]) -> None:
        hyps, nodes = self.tests.hyps, set()
        for r in rows:
            for h in r.members:
                nodes.add(hyps.entity[h])
                if hyps.other[h] >= 0:
                    nodes.add(hyps.other[h])
                nodes.update(hyps.detail[h].get("orders", []))
                if hyps.family[h] == "lot":
                    nodes.update(self._lot_context(hyps.entity[h]))
        ids = self.engine.node_ids(np.array(sorted(nodes), dtype=np.int64)).tolist()
        found = self.engine.store.nodes_by_id(ids)
        self.records = {n: found[i] for n, i in zip(sorted(nodes), ids, strict=True) if i in found}

    def _lot_context(self, lot: int) -> list[int]:
        """A lot's material and, for a bought lot, its supplier."""
        topo = self.topo
        _, material, _ = topo.context_of(np.array([lot], dtype=np.int64), "instanceOf")
        up = topo.up.of(lot)
        return material[:1].tolist() + up[topo.is_kind("Supplier")[up]][:1].tolist()

    def _name(self, node: int) -> str:
        record = self.records.get(node)
        return (record.name if record and record.name else None) or self.engine.uid(node).partition(":")[2]

    def _candidate(self, position: int, r: Ranked, with_evidence: bool) -> Candidate:
        tests, engine, hyps = self.tests, self.engine, self.tests.hyps
        h = r.primary
        with_, without, lift = rates(tests.n[h:h + 1], tests.k[h:h + 1], tests.total, tests.defects)
        entity = hyps.entity[h]
        members = tuple(dict.fromkeys(engine.uid(hyps.entity[m]) for m in r.members))
        window = self._window(h)
        record = self.records.get(entity)
        return Candidate(
            rank=position, uid=engine.uid(entity), kind=engine.kind(entity),
            name=record.name if record else None, factor=FACTOR.get(hyps.family[h], hyps.family[h]),
            variant=hyps.variant[h] if hyps.family[h] not in ("window", "alarm") else hyps.family[h],
            description=self._describe(h), members=members, exposed=int(tests.n[h]),
            defective=int(tests.k[h]), rate_with=float(with_[0]), rate_without=float(without[0]),
            lift=float(lift[0]), share=float(tests.k[h] / tests.defects) if tests.defects else 0.0,
            p_value=float(tests.p[h]), q_value=float(tests.q[h]), verdict=r.verdict,
            explained_by=engine.uid(hyps.entity[r.explained_by]) if r.explained_by >= 0 else None,
            window=(_time(window[0]), _time(window[1])) if window else None, related=self._related(h),
            evidence=gather(self.topo, hyps, h, hyps.rows_of(h), self.pop.targets, self.pop.defective, window)
            if with_evidence else None,
        )

    def _window(self, h: int) -> tuple[float, float] | None:
        """The hypothesis's own window, or the span of the flagged readings that define it."""
        hyps = self.tests.hyps
        if hyps.window[h] is not None:
            return hyps.window[h]
        if hyps.family[h] not in ("parameter", "equipment_parameter"):
            return None
        table = self.topo.reading_table()
        param = hyps.entity[h] if hyps.family[h] == "parameter" else hyps.other[h]
        hit = table.variant(hyps.variant[h]) & (table.param == param)
        if hyps.family[h] == "equipment_parameter":
            hit &= table.machine == hyps.entity[h]
        times = table.time[hit]
        lo = self.pop.since if self.pop.since is not None else -np.inf
        hi = self.pop.until if self.pop.until is not None else np.inf
        times = times[(times >= lo - 7 * 86_400_000) & (times <= hi)]
        return (float(times.min()), float(times.max())) if len(times) else None

    def _related(self, h: int) -> dict[str, Any]:
        hyps, engine = self.tests.hyps, self.engine
        family, other = hyps.family[h], hyps.other[h]
        out: dict[str, Any] = {}
        if other >= 0:
            role = {"operator_shift": "shift", "equipment_parameter": "parameter", "shift": "work_center",
                    "window": "maintenance"}.get(family, "other")
            out[role] = engine.uid(other)
        if family == "window":
            out["maintenance"] = [engine.uid(o) for o in hyps.detail[h].get("orders", [])]
        if family == "alarm":
            out["code"] = hyps.detail[h].get("code")
        return out

    def _describe(self, h: int) -> str:
        """One line: Chinese, `` | ``, English."""
        hyps = self.tests.hyps
        family, entity, other, variant = hyps.family[h], hyps.entity[h], hyps.other[h], hyps.variant[h]
        zh, en = _LABEL[family]
        name = self._name(entity)
        if family == "lot":
            bought = self.topo.purchased[entity]
            zh, en = ("外购批次", "bought lot") if bought else ("自制批次", "in-house lot")
            context = [self._name(n) for n in self._lot_context(entity)]
            if context:
                return f"{zh} {name}（{' · '.join(context)}）| {en} {name}"
        if family == "window":
            orders = [self.engine.uid(o).partition(":")[2] for o in hyps.detail[h].get("orders", [])]
            until = orders[1] if len(orders) > 1 else "此后 onwards"
            return f"设备 {name} 维修 {orders[0]} 后至 {until} | machine {name} after maintenance {orders[0]}"
        if family == "alarm":
            code = hyps.detail[h].get("code")
            return f"设备 {name} 报警 {code} 后 8 小时内加工 | machine {name} within 8 h of alarm {code}"
        if family in ("parameter", "equipment_parameter"):
            vz, ve = _VARIANT[variant]
            param = entity if family == "parameter" else other
            where = f" @ {name}" if family == "equipment_parameter" else ""
            return f"{self._name(param)}{vz}{where} | {self._name(param)} {ve}{where}"
        if family == "operator_shift":
            return f"操作工 {name} @ {self._name(other)} | operator {name} on {self._name(other)} shift"
        if family == "shift" and other >= 0:
            return f"{name} @ {self._name(other)} | {name} shift at {self._name(other)}"
        whole = " 全期 whole period" if family == "equipment" else ""
        return f"{zh} {name}{whole} | {en} {name}"


def _time(ms: float | None) -> datetime | None:
    return from_epoch_ms(int(ms)) if ms is not None and np.isfinite(ms) else None
