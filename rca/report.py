"""The 8D report of a case: problem statement with a trace, containment with customers, ranked causes with
their evidence, and charts of the defect rate by factor and over time; as one self-contained HTML file
(inline SVG, no script or link to fetch) and an Excel workbook."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from jinja2 import Environment, FileSystemLoader, select_autoescape

from zhuisu.graph.engine import Engine
from zhuisu.graph.trace import trace
from zhuisu.ingest.records import from_epoch_ms, plant_zone
from zhuisu.rca import charts
from zhuisu.rca.analysis import analyse
from zhuisu.rca.containment import contain
from zhuisu.rca.export import STATUS, customer_rows, item_rows, write_workbook
from zhuisu.rca.population import Population
from zhuisu.rca.results import Candidate, Containment, RcaResult

TEMPLATES = Path(__file__).with_name("templates")
ITEMS_SHOWN = 50
DAY = 86_400_000


@dataclass(frozen=True, slots=True)
class ReportFiles:
    """What ``report`` wrote."""

    html: Path
    xlsx: Path
    result: RcaResult
    containment: Containment | None


def report(engine: Engine, out: Path, *, defect_code: str | None = None, units: Iterable[str] | None = None,
           since: datetime | None = None, until: datetime | None = None, limit: int = 12) -> ReportFiles:
    """Analyse the case and write ``report.html`` and ``report.xlsx`` into ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    result, pop = analyse(engine, defect_code=defect_code, units=units, since=since, until=until, limit=limit)
    top = result.significant[0] if result.significant else None
    contained = _contain(engine, top) if top else None
    example = _example(top, pop, engine)
    traced = trace(engine, example) if example else None
    context = ReportContext(engine, result, pop, contained, traced).build()
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]))
    html = out / "report.html"
    html.write_text(env.get_template("report.html.j2").render(**context), encoding="utf-8")
    xlsx = write_workbook(out / "report.xlsx", _sheets(result, contained, context))
    return ReportFiles(html, xlsx, result, contained)


def _contain(engine: Engine, top: Candidate) -> Containment:
    """The forward set of the top candidate: a machine or parameter within its window, anything else whole."""
    if top.window and top.factor in ("equipment", "parameter"):
        return contain(engine, top.uid, since=top.window[0], until=top.window[1])
    return contain(engine, top.uid)


def _example(top: Candidate | None, pop: Population, engine: Engine) -> str | None:
    """A defective item to trace: one exposed to the top candidate, else the first defective item."""
    if top and top.evidence and top.evidence.defective:
        return top.evidence.defective[0]
    rows = np.flatnonzero(pop.defective)
    return engine.uid(int(pop.targets[rows[0]])) if len(rows) else None


class ReportContext:
    """What the template and the workbook show, as plain strings and numbers."""

    def __init__(self, engine: Engine, result: RcaResult, pop: Population, contained: Containment | None,
                 traced: Any) -> None:
        self.engine, self.result, self.pop, self.contained, self.traced = engine, result, pop, contained, traced

    def build(self) -> dict[str, Any]:
        result = self.result
        scope = result.scope
        top = result.significant[0] if result.significant else None
        finding = (f"最可能的根因 most likely cause: {top.description}（q = {top.q_value:.2g}）" if top
                   else "没有显著因素 no factor is significant at q < "
                        f"{result.alpha:g}; 扩大期间或补充数据 widen the period or add data")
        title = f"{scope.defect_code or '不良品清单 listed items'} · {self._defect_name()}"
        return {
            "title": title, "generated": datetime.now(plant_zone()).isoformat(timespec="seconds"),
            "store": self.engine.store.url,
            "problem": {"defect": title, "defects": scope.defects, "population": scope.items,
                        "sampled_from": scope.sampled_from,
                        "rate": f"{scope.rate * 100:.2f}%", "listed": scope.listed,
                        "products": "、".join(scope.products), "since": _day(scope.since),
                        "until": _day(scope.until), "tested": result.tested, "alpha": result.alpha,
                        "finding": finding},
            "charts": {"trend": self._trend(top), "factors": self._factor_chart()},
            "trace": self._trace(), "containment": self._containment(top),
            "candidates": [self._row(c) for c in result.candidates],
            "evidence": [self._evidence(c) for c in result.candidates if c.evidence],
        }

    def _defect_name(self) -> str:
        code = self.result.scope.defect_code
        if not code:
            return ""
        try:
            return self.engine.store.node(f"defect:{code.removeprefix('defect:')}").name or ""
        except Exception:  # a defect node without a name is no reason to fail the report
            return ""

    def _trend(self, top: Candidate | None) -> str:
        """Defect rate per day (per week over long periods), the top candidate's window shaded."""
        pop = self.pop
        times = pop.time
        known = ~np.isnan(times)
        if not known.any():
            return ""
        lo, hi = float(times[known].min()), float(times[known].max())
        width = DAY if hi - lo <= 60 * DAY else 7 * DAY
        bucket = ((times[known] - lo) // width).astype(np.int64)
        count = np.bincount(bucket)
        bad = np.bincount(bucket, weights=pop.defective[known].astype(float), minlength=len(count))
        labels = [from_epoch_ms(int(lo + i * width)).strftime("%m-%d") for i in range(len(count))]
        points = [(labels[i], bad[i] / count[i], int(count[i])) for i in range(len(count)) if count[i]]
        shade = None
        if top and top.window and top.window[0] and top.window[1]:
            a = int((top.window[0].timestamp() * 1000 - lo) // width)
            b = int((top.window[1].timestamp() * 1000 - lo) // width)
            kept = [i for i in range(len(count)) if count[i]]
            shade = (int(np.searchsorted(kept, a)), int(np.searchsorted(kept, b)))
        unit = "日" if width == DAY else "周"
        return charts.rate_over_time(points, title=f"不良率趋势（按{unit}）defect rate over time", shade=shade)

    def _factor_chart(self) -> str:
        rows = [(f"#{c.rank} {c.description.split(' | ')[0]}", c.rate_with, c.rate_without)
                for c in self.result.candidates[:8]]
        return charts.rate_bars(rows, title="各因素不良率 defect rate with / without each factor") if rows else ""

    def _trace(self) -> dict[str, Any] | None:
        if self.traced is None:
            return None
        steps = []
        for s in self.traced.steps:
            steps.append({
                "level": s.level, "step": s.step or "", "time": _day(s.time, minutes=True),
                "inputs": "、".join(s.inputs), "equipment": _refs(s.equipment), "operators": _refs(s.operators),
                "shifts": _refs(s.shifts), "tools": _refs(s.tools),
                "parameters": [{"text": f"{p.name or p.uid}={p.value}{p.unit or ''}", "oos": bool(p.out_of_spec)}
                               for p in s.parameters],
            })
        return {"root": self.traced.root, "steps": steps}

    def _containment(self, top: Candidate | None) -> dict[str, Any] | None:
        c = self.contained
        if c is None:
            return None
        totals = c.totals()
        status = [{"label": STATUS.get(k, k), "count": v["items"],
                   "quantity": "; ".join(f"{q:g} {u}".strip() for u, q in v["quantity"].items())}
                  for k, v in totals["by_status"].items()]
        customers = [{"uid": r[0], "name": r[1], "shipments": r[2], "count": r[3], "quantity": f"{r[4]:g}"}
                     for r in customer_rows(c)]
        window = f"{_day(c.since, minutes=True)} — {_day(c.until, minutes=True)}" if c.since or c.until else ""
        items = [dict(zip(("uid", "kind", "name", "material", "level", "quantity", "uom", "status", "shipments",
                           "customers", "defects", "time"), row, strict=True)) for row in item_rows(c)]
        return {"root": c.root, "window": window, "totals": totals, "status": status, "customers": customers,
                "affected": items[:ITEMS_SHOWN]}

    @staticmethod
    def _row(c: Candidate) -> dict[str, Any]:
        return {"rank": c.rank, "uid": c.uid, "description": c.description, "exposed": c.exposed,
                "defective": c.defective, "rates": f"{c.rate_with * 100:.1f}% / {c.rate_without * 100:.1f}%",
                "lift": "∞" if c.lift == float("inf") else f"{c.lift:.1f}", "share": f"{c.share * 100:.0f}%",
                "q": f"{c.q_value:.2g}", "verdict": _VERDICT.get(c.verdict, c.verdict),
                "verdict_class": "significant" if c.verdict == "significant" else "",
                "explained_by": c.explained_by, "members": "、".join(c.members[1:])}

    @staticmethod
    def _evidence(c: Candidate) -> dict[str, Any]:
        ev = c.evidence
        assert ev is not None
        paths = [" ← ".join(n.uid for n in p.nodes) for p in ev.paths]
        maintenance = [{**m, "read": "；".join(f"{k}: {'、'.join(m[k])}" for k in
                                              ("symptoms", "causes", "actions", "parts", "components") if m.get(k))}
                       for m in ev.maintenance]
        return {"rank": c.rank, "description": c.description, "paths": paths, "maintenance": maintenance,
                "alarms": list(ev.alarms), "readings": list(ev.readings), "defective": "、".join(ev.defective)}


_VERDICT = {"significant": "显著 significant", "explained": "已被解释 explained", "inconclusive": "不确定 inconclusive",
            "not significant": "不显著 not significant"}


def _refs(refs: Iterable[Any]) -> str:
    return "、".join(r.name or r.uid for r in refs)


def _day(value: datetime | None, *, minutes: bool = False) -> str:
    if value is None:
        return ""
    return value.strftime("%Y-%m-%d %H:%M" if minutes else "%Y-%m-%d")


def _sheets(result: RcaResult, contained: Containment | None, context: dict[str, Any],
            ) -> list[tuple[str, Any, list[list[Any]]]]:
    problem = context["problem"]
    sheets: list[tuple[str, Any, list[list[Any]]]] = [
        ("问题 Problem", ("项 Item", "值 Value"), [[k, v] for k, v in problem.items()]),
        ("根因 Causes", ("rank", "uid", "kind", "factor", "description", "members", "exposed", "defective",
                         "rate_with", "rate_without", "lift", "share", "p_value", "q_value", "verdict",
                         "explained_by"),
         [[c.rank, c.uid, c.kind, c.factor, c.description, list(c.members), c.exposed, c.defective, c.rate_with,
           c.rate_without, None if c.lift == float("inf") else c.lift, c.share, c.p_value, c.q_value, c.verdict,
           c.explained_by] for c in result.candidates]),
        ("证据 Evidence", ("rank", "type", "detail"), _evidence_rows(result)),
    ]
    if context["trace"]:
        sheets.append(("追溯 Trace", ("level", "step", "time", "inputs", "equipment", "operators", "shifts", "tools",
                                      "parameters"),
                       [[s["level"], s["step"], s["time"], s["inputs"], s["equipment"], s["operators"],
                         s["shifts"], s["tools"], "；".join(p["text"] for p in s["parameters"])]
                        for s in context["trace"]["steps"]]))
    if contained is not None:
        sheets.append(("围堵 Containment", ("uid", "kind", "name", "material", "level", "quantity", "uom", "status",
                                             "shipments", "customers", "defects", "time"), item_rows(contained)))
        sheets.append(("客户 Customers", ("customer", "name", "shipments", "items", "quantity"),
                       customer_rows(contained)))
    return sheets


def _evidence_rows(result: RcaResult) -> list[list[Any]]:
    rows: list[list[Any]] = []
    for c in result.candidates:
        if not c.evidence:
            continue
        rows += [[c.rank, "path", " ← ".join(n.uid for n in p.nodes)] for p in c.evidence.paths]
        rows += [[c.rank, "maintenance", f"{m['uid']} {m.get('finished_at') or ''} {m.get('text') or ''}"]
                 for m in c.evidence.maintenance]
        rows += [[c.rank, "alarm", f"{a['uid']} {a.get('code')} {a.get('raised_at')} {a.get('message')}"]
                 for a in c.evidence.alarms]
        rows += [[c.rank, "reading", f"{r['item']} {r['name']}={r['value']} [{r['lsl']}, {r['usl']}]"]
                 for r in c.evidence.readings]
    return rows
