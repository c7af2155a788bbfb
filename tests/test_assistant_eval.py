"""The assistant's evaluation sets, one per sample plant: each question is checked against facts that this test
computes itself from the plant's CSV (and EPCIS) files with pandas — never from the assistant's own output.

- motor: the committed sample (``samples/data/motor``), ``tests/data/assistant/questions.jsonl``;
- dairy: the default generated plant (``zhuisu samples make dairy``: 2,000 finished lots, seed 1), a held-out set
  written against its files, ``tests/data/assistant/dairy_questions.jsonl``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

import zhuisu
from zhuisu.assistant import Session, ask

DATA = Path(__file__).parent / "data" / "assistant"


def _motor(tmp: Path) -> Path:
    return Path(zhuisu.__file__).parent / "samples" / "data" / "motor"


def _dairy(tmp: Path) -> Path:
    from zhuisu.samples import generate

    generate("dairy", 2000, 1, tmp)  # what `zhuisu samples make dairy` writes
    return tmp


@dataclass(frozen=True)
class Plant:
    name: str
    folder: Callable[[Path], Path]
    questions: Path
    today: date  # the day after the plant's records end, so 上个月/最近一周 fall on records


PLANTS = {
    "motor": Plant("motor", _motor, DATA / "questions.jsonl", date(2023, 12, 1)),
    "dairy": Plant("dairy", _dairy, DATA / "dairy_questions.jsonl", date(2024, 4, 16)),
}


class Facts:
    """Independent expectations from a plant's CSV (and EPCIS) files."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.mo = pd.read_csv(folder / "maintenance.csv", parse_dates=["reported_at"])
        self.equipment = pd.read_csv(folder / "equipment.csv")
        self.lots = pd.read_csv(folder / "lots.csv")
        units = pd.read_csv(folder / "units.csv") if (folder / "units.csv").exists() else None
        prod = pd.read_csv(folder / "production.csv")
        cons = pd.read_csv(folder / "consumption.csv")
        self.made_by = prod.groupby("output_id")["operation_id"].apply(list).to_dict()
        self.inputs = cons.groupby("operation_id")["input_id"].apply(list).to_dict()
        self.used_in = cons.groupby("input_id")["operation_id"].apply(list).to_dict()
        self.outputs = prod.groupby("operation_id")["output_id"].apply(list).to_dict()
        self.material = dict(zip(self.lots.lot_id, self.lots.material_id, strict=True))
        self.product = {} if units is None else dict(zip(units.serial, units.product_id, strict=True))
        bought = self.lots.dropna(subset=["supplier_id"])
        self.supplier = dict(zip(bought.lot_id, bought.supplier_id, strict=True))
        items = pd.read_csv(folder / "shipment_items.csv", dtype={"item_id": str})
        ships = pd.read_csv(folder / "shipments.csv")
        self.customer_of_shipment = dict(zip(ships.shipment_id, ships.customer_id, strict=True))
        self.shipments_of = items.groupby("item_id")["shipment_id"].apply(list).to_dict()  # a lot ships in parts
        self.parent = {}  # unit → logistic unit (SSCC), from the EPCIS aggregation events
        for doc in (folder / "epcis").glob("*.jsonld"):
            for ev in json.loads(doc.read_text(encoding="utf-8"))["epcisBody"]["eventList"]:
                if ev["type"] == "AggregationEvent":
                    company, serial = ev["parentID"].rsplit(":", 1)[1].split(".")
                    sscc17 = serial[0] + company + serial[1:]  # extension digit, company prefix, serial
                    for child in ev.get("childEPCs", []):
                        self.parent[child.rsplit(".", 1)[1]] = sscc17
        self.lu_ids = {k[:-1]: k for k in items.item_id}  # SSCC without its check digit → SSCC

    def machines(self, equipment: str | list[str] | None, eq_type: str | None = None) -> list[str] | None:
        if eq_type:
            return list(self.equipment[self.equipment.type == eq_type].equipment_id)
        return [equipment] if isinstance(equipment, str) else equipment

    def orders(self, equipment=None, window=None, order_type=None, keywords=(), eq_type=None):
        df = self.mo
        machines = self.machines(equipment, eq_type)
        if machines:
            df = df[df.equipment_id.isin(machines)]
        if window:
            df = df[(df.reported_at >= window[0]) & (df.reported_at < window[1])]
        if order_type:
            df = df[df.type == order_type]
        for kw in keywords:  # a keyword may list spellings the notes use: "更换|更还"
            df = df[df.text.apply(lambda s, kw=kw: any(k.lower() in s.lower() for k in kw.split("|")))]
        return df

    def mentioning(self, any_of, all_of=()):
        """Orders whose note has one of ``any_of`` and all of ``all_of``."""
        return self.orders(keywords=["|".join(any_of), *all_of])

    def upstream(self, item):
        seen, todo = set(), [item]
        while todo:
            cur = todo.pop()
            for op in self.made_by.get(cur, []):
                for inp in self.inputs.get(op, []):
                    if inp not in seen:
                        seen.add(inp)
                        todo.append(inp)
        return seen

    def customers(self, item):
        seen, todo, out = {item}, [item], set()
        while todo:
            cur = todo.pop()
            for op in self.used_in.get(cur, []):
                for o in self.outputs.get(op, []):
                    if o not in seen:
                        seen.add(o)
                        todo.append(o)
        for x in seen:  # a lot ships itself (dairy); a unit ships on its pallet (motor)
            sscc = self.parent.get(x)
            for shipped in (x, self.lu_ids.get(sscc) if sscc else None):
                for shipment in self.shipments_of.get(shipped, []):
                    out.add("customer:" + self.customer_of_shipment[shipment])
        return out

    def kind_of(self, item):
        return "material:" + self.material[item] if item in self.material else "product:" + self.product[item]


@dataclass
class Loaded:
    plant: Plant
    store: object
    facts: Facts
    cases: list[dict]


@pytest.fixture(scope="module", params=list(PLANTS))
def loaded(request, tmp_path_factory) -> Iterator[Loaded]:
    """One store per plant (ingest + maintenance-note enrichment), built once for every test of this module."""
    from zhuisu.graph.store import Store
    from zhuisu.ingest import plan
    from zhuisu.nlp.enrich import enrich

    plant = PLANTS[request.param]
    tmp = tmp_path_factory.mktemp(f"assistant-{plant.name}")
    folder = plant.folder(tmp / "plant")
    st = Store(tmp / "zhuisu.db")
    for batch in plan(folder):
        st.ingest(batch)
    st.ingest(enrich(st))
    cases = [json.loads(x) for x in plant.questions.read_text(encoding="utf-8").splitlines() if x.strip()]
    yield Loaded(plant, st, Facts(folder), cases)
    st.close()


def _ids(answer, kind="MaintenanceOrder"):
    return {c.id.partition(":")[2] for c in answer.citations if c.kind == kind}


def _part_numbers(text: str) -> set[str]:
    return {"SP-" + n for n in re.findall(r"SP-?(\d+)", text)}


def _cited_within(answer, allowed) -> str | None:
    got = _ids(answer)
    return None if got and got <= set(allowed) else f"orders {sorted(got)} not within {sorted(allowed)}"


def check(answer, spec, facts: Facts) -> str | None:  # noqa: C901 - one branch per kind of check
    """None when the answer is right, else what is wrong."""
    t = spec["type"]
    if t == "refuse":
        return None if answer.refused else "should refuse"
    if t == "clarify":
        if not answer.refused or not answer.clarify:
            return "should ask which one"
        missing = set(spec["candidates"]) - set(answer.clarify)
        return f"candidates missing {missing}" if missing else None
    if t == "faults":
        exp = set(facts.orders(spec["equipment"], spec["window"], None if spec["all"] else "corrective",
                               eq_type=spec.get("eq_type")).order_id)
        if not exp:  # no repair to cite: a refusal, or the machine's alarms only
            return None if answer.refused or not _ids(answer) else "should say no faults"
        return None if _ids(answer) == exp else f"orders {sorted(_ids(answer))} != {sorted(exp)}"
    if answer.refused and t not in ("parts", "last", "downtime"):
        return "refused: " + answer.answer[:60]
    if t == "fix":
        wrong = _cited_within(answer, facts.mentioning(spec["keywords"], spec.get("all_of", ())).order_id)
        if wrong:
            return wrong
        top = answer.data["actions"][0]["action"].partition(":")[2] if answer.data.get("actions") else None
        return None if top in spec["actions_any"] else f"top action {top}"
    if t == "causes":
        allowed = facts.mentioning(spec["keywords"], spec.get("all_of", ()))
        if spec.get("equipment"):
            allowed = allowed[allowed.equipment_id.isin(facts.machines(spec["equipment"]))]
        wrong = _cited_within(answer, allowed.order_id)
        if wrong:
            return wrong
        junk = [j for j in spec.get("not_causes", ()) if j in answer.answer]
        if junk:
            return f"junk cause {junk}"
        return None if any(c in answer.answer for c in spec["causes_any"]) else "cause not named"
    if t == "parts":
        df = facts.orders(spec["equipment"], keywords=spec["keywords"] or ())
        df = df[df.text.str.contains(r"更换|更还|SP-?\d")]  # 更还: a typo the dairy notes carry
        if df.empty:
            return None if answer.refused else "should say no parts"
        if answer.refused:
            return "refused"
        exp_parts = {p for text in df.text for p in _part_numbers(text)}
        if _ids(answer) != set(df.order_id):
            return f"orders {sorted(_ids(answer))} != {sorted(df.order_id)}"
        got_parts = {p for text in answer.data["parts"] for p in _part_numbers(text)}
        return None if got_parts == exp_parts else f"parts {answer.data['parts']} != {sorted(exp_parts)}"
    if t == "last":
        df = facts.orders(spec["equipment"], order_type=spec["order_type"], keywords=spec["keywords"])
        if df.empty:
            return None if answer.refused else "should say no record"
        exp = df.sort_values("reported_at").iloc[-1].order_id
        return None if answer.data.get("order") == f"mo:{exp}" else f"order {answer.data.get('order')} != {exp}"
    if t == "who":
        df = facts.orders(spec["equipment"], order_type=spec["order_type"], keywords=spec["keywords"],
                          eq_type=spec.get("eq_type"))
        exp = df.sort_values("reported_at").iloc[-1].technician
        return None if answer.data.get("technician") == exp else f"{answer.data.get('technician')} != {exp}"
    if t == "downtime":
        df = facts.orders(spec["equipment"], spec["window"], eq_type=spec["eq_type"])
        if df.empty:
            return None if answer.refused else "should say no downtime"
        if answer.refused:
            return "refused: " + answer.answer[:60]
        sums = df.groupby("equipment_id").downtime_h.sum().round(2)
        if spec["equipment"]:
            total = float(sums[spec["equipment"]])
            return None if f"{total:g}小时" in answer.answer else f"total not {total}"
        ranked = sums.sort_values(ascending=spec["shortest"], kind="stable")
        got = [(r["equipment"].partition(":")[2], r["hours"]) for r in answer.data["ranking"]]
        n = spec["top"]
        exp = [(k, float(v)) for k, v in ranked.items()][:n]
        # ties: compare hours, then the set of machines at those hours
        return None if [h for _, h in got[:n]] == [h for _, h in exp] and {k for k, _ in got[:n]} == {
            k for k, _ in exp} else f"ranking {got[:n]} != {exp}"
    if t == "supplier":
        up = facts.upstream(spec["item"]) | {spec["item"]}
        lots = [x for x in up if x in facts.supplier
                and (not spec["materials"] or facts.material[x] in spec["materials"])]
        exp = {"supplier:" + facts.supplier[x] for x in lots}
        return None if set(answer.data["suppliers"]) == exp else f"{answer.data['suppliers']} != {sorted(exp)}"
    if t == "materials":
        exp = {facts.kind_of(x) for x in facts.upstream(spec["item"])}
        return None if set(answer.data["materials"]) == exp else f"{answer.data['materials']} != {sorted(exp)}"
    if t in ("where_went", "where_went_of"):
        item = spec["item"] if t == "where_went" else next(
            x for x in facts.upstream(spec["unit"]) if facts.material.get(x) == spec["material"])
        exp = facts.customers(item)
        return None if set(answer.data["customers"]) == exp else f"{answer.data['customers']} != {sorted(exp)}"
    if t == "similar":
        got = [c.id.partition(":")[2] for c in answer.citations]
        if "top_any" in spec:
            return None if got and got[0] in spec["top_any"] else f"top {got[:3]}"
        top = facts.mentioning(spec["keywords"], spec.get("all_of", ())).order_id  # the first case must match
        return None if got and got[0] in set(top) else f"top {got[:3]} not within {sorted(top)}"
    raise AssertionError(f"unknown check {t}")


def test_evaluation_set(loaded):
    cases = loaded.cases
    assert len(cases) >= (150 if loaded.plant.name == "motor" else 80)
    sessions: dict[str, Session] = {}
    wrong, refusals, refusals_ok = [], 0, 0
    for case in cases:
        sid = case.get("session")
        session = sessions.setdefault(sid, Session(sid)) if sid else None
        answer = ask(case["q"], store=loaded.store, today=loaded.plant.today, session=session)
        assert "error" not in answer.data, (case["q"], answer.data)
        # every answer cites, every refusal explains, and the payload is what the API and web present
        assert ("无法回答" in answer.answer) if answer.refused else bool(answer.citations), case["q"]
        json.dumps(answer.to_dict(), ensure_ascii=False)
        problem = check(answer, case["check"], loaded.facts)
        if case["intent"] and not answer.refused and answer.intent != case["intent"]:
            problem = f"intent {answer.intent} != {case['intent']}"
        if case["check"]["type"] == "refuse":
            refusals += 1
            refusals_ok += problem is None
        if problem:
            wrong.append(f"{case['q']!r}: {problem}")
    accuracy = 1 - len(wrong) / len(cases)
    print(f"\n{loaded.plant.name} assistant accuracy {accuracy:.1%} ({len(cases) - len(wrong)}/{len(cases)}), "
          f"refusals {refusals_ok}/{refusals}")
    for w in wrong:
        print("  ✗", w)
    assert refusals >= 15 and refusals_ok == refusals, wrong
    assert accuracy >= 0.9, "\n".join(wrong)


def test_dates_are_read_against_today(loaded):
    first = loaded.facts.mo.reported_at.min()
    today = (first + pd.offsets.MonthBegin(1)).date() + timedelta(days=14)  # mid-month after the first records
    a = ask("上个月哪台设备停机时间最长", store=loaded.store, today=today)
    month = datetime(first.year, first.month, 1)
    assert datetime.fromisoformat(a.data["window"]["since"]) == month
    assert datetime.fromisoformat(a.data["window"]["until"]) == datetime(today.year, today.month, 1)
    later = ask("上个月哪台设备停机时间最长", store=loaded.store, today=loaded.plant.today + timedelta(days=400))
    assert later.refused  # a month without records
