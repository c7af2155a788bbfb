"""The assistant's evaluation set: questions over the motor sample, each checked against facts that this test
computes itself from the sample's CSV (and EPCIS) files with pandas — never from the assistant's own output."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest

import zhuisu
from zhuisu.assistant import Session, ask

MOTOR = Path(zhuisu.__file__).parent / "samples" / "data" / "motor"
QUESTIONS = Path(__file__).parent / "data" / "assistant" / "questions.jsonl"
TODAY = date(2023, 12, 1)  # the sample plant's month is November 2023


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    from zhuisu.graph.store import Store
    from zhuisu.ingest import plan
    from zhuisu.nlp.enrich import enrich

    st = Store(tmp_path_factory.mktemp("assistant") / "motor.db")
    for batch in plan(MOTOR):
        st.ingest(batch)
    st.ingest(enrich(st))
    yield st
    st.close()


class Facts:
    """Independent expectations from the CSV files."""

    def __init__(self) -> None:
        self.mo = pd.read_csv(MOTOR / "maintenance.csv", parse_dates=["reported_at"])
        self.lots = pd.read_csv(MOTOR / "lots.csv")
        self.units = pd.read_csv(MOTOR / "units.csv")
        prod = pd.read_csv(MOTOR / "production.csv")
        cons = pd.read_csv(MOTOR / "consumption.csv")
        self.made_by = prod.groupby("output_id")["operation_id"].apply(list).to_dict()
        self.inputs = cons.groupby("operation_id")["input_id"].apply(list).to_dict()
        self.used_in = cons.groupby("input_id")["operation_id"].apply(list).to_dict()
        self.outputs = prod.groupby("operation_id")["output_id"].apply(list).to_dict()
        self.material = {**dict(zip(self.lots.lot_id, self.lots.material_id, strict=True)),
                         **dict(zip(self.units.serial, self.units.product_id, strict=True))}
        bought = self.lots.dropna(subset=["supplier_id"])
        self.supplier = dict(zip(bought.lot_id, bought.supplier_id, strict=True))
        items = pd.read_csv(MOTOR / "shipment_items.csv", dtype={"item_id": str})
        ships = pd.read_csv(MOTOR / "shipments.csv")
        self.customer_of_shipment = dict(zip(ships.shipment_id, ships.customer_id, strict=True))
        self.shipment_of = dict(zip(items.item_id.astype(str), items.shipment_id, strict=True))
        self.parent = {}  # unit → logistic unit (SSCC), from the EPCIS aggregation events
        for doc in (MOTOR / "epcis").glob("*.jsonld"):
            for ev in json.loads(doc.read_text(encoding="utf-8"))["epcisBody"]["eventList"]:
                if ev["type"] == "AggregationEvent":
                    company, serial = ev["parentID"].rsplit(":", 1)[1].split(".")
                    sscc17 = serial[0] + company + serial[1:]  # extension digit, company prefix, serial
                    for child in ev.get("childEPCs", []):
                        self.parent[child.rsplit(".", 1)[1]] = sscc17
        self.lu_ids = {k[:-1]: k for k in items.item_id}  # SSCC without its check digit → SSCC

    def orders(self, equipment=None, window=None, order_type=None, keywords=()):
        df = self.mo
        if equipment:
            df = df[df.equipment_id == equipment]
        if window:
            df = df[(df.reported_at >= window[0]) & (df.reported_at < window[1])]
        if order_type:
            df = df[df.type == order_type]
        for kw in keywords:
            df = df[df.text.str.contains(kw, case=False, regex=False)]
        return df

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
        for unit in seen:
            sscc = self.parent.get(unit)
            lu = self.lu_ids.get(sscc) if sscc else None
            if lu and lu in self.shipment_of:
                out.add("customer:" + self.customer_of_shipment[self.shipment_of[lu]])
        return out


@pytest.fixture(scope="module")
def facts():
    return Facts()


def _ids(answer, kind="MaintenanceOrder"):
    return {c.id.partition(":")[2] for c in answer.citations if c.kind == kind}


def check(answer, spec, facts: Facts) -> str | None:
    """None when the answer is right, else what is wrong."""
    t = spec["type"]
    if t == "refuse":
        return None if answer.refused else "should refuse"
    if t == "clarify":
        if not answer.refused or not answer.clarify:
            return "should ask which one"
        missing = set(spec["candidates"]) - set(answer.clarify)
        return f"candidates missing {missing}" if missing else None
    if answer.refused and t not in ("parts", "last", "downtime"):
        return "refused: " + answer.answer[:60]
    if t == "faults":
        exp = set(facts.orders(spec["equipment"], spec["window"], None if spec["all"] else "corrective").order_id)
        return None if _ids(answer) == exp else f"orders {sorted(_ids(answer))} != {sorted(exp)}"
    if t == "fix":
        allowed = set(facts.orders(keywords=()).order_id[facts.mo.text.apply(
            lambda s: any(k.lower() in s.lower() for k in spec["keywords"]))])
        got = _ids(answer)
        if not got or not got <= allowed:
            return f"orders {sorted(got)} not within {sorted(allowed)}"
        top = answer.data["actions"][0]["action"].partition(":")[2] if answer.data.get("actions") else None
        return None if top in spec["actions_any"] else f"top action {top}"
    if t == "causes":
        allowed = set(facts.mo[facts.mo.text.apply(lambda s: any(k.lower() in s.lower() for k in spec["keywords"]))]
                      .order_id)
        got = _ids(answer)
        if not got or not got <= allowed:
            return f"orders {sorted(got)} not within {sorted(allowed)}"
        return None if any(c in answer.answer for c in spec["causes_any"]) else "cause not named"
    if t == "parts":
        df = facts.orders(spec["equipment"], keywords=spec["keywords"] or ())
        df = df[df.text.str.contains("更换|SP-")]
        if df.empty:
            return None if answer.refused else "should say no parts"
        if answer.refused:
            return "refused"
        exp_parts = {p for text in df.text for p in re.findall(r"SP-\d+", text)}
        if _ids(answer) != set(df.order_id):
            return f"orders {sorted(_ids(answer))} != {sorted(df.order_id)}"
        return None if set(answer.data["parts"]) == exp_parts else f"parts {answer.data['parts']}"
    if t == "last":
        df = facts.orders(spec["equipment"], order_type=spec["order_type"], keywords=spec["keywords"])
        if df.empty:
            return None if answer.refused else "should say no record"
        exp = df.sort_values("reported_at").iloc[-1].order_id
        return None if answer.data.get("order") == f"mo:{exp}" else f"order {answer.data.get('order')} != {exp}"
    if t == "who":
        df = facts.orders(spec["equipment"], order_type=spec["order_type"], keywords=spec["keywords"])
        exp = df.sort_values("reported_at").iloc[-1].technician
        return None if answer.data.get("technician") == exp else f"{answer.data.get('technician')} != {exp}"
    if t == "downtime":
        df = facts.orders(spec["equipment"], spec["window"])
        if spec["eq_type"]:
            eq = pd.read_csv(MOTOR / "equipment.csv")
            df = df[df.equipment_id.isin(eq[eq.type == spec["eq_type"]].equipment_id)]
        if df.empty:
            return None if answer.refused else "should say no downtime"
        sums = df.groupby("equipment_id").downtime_h.sum().round(2)
        ranked = sums.sort_values(ascending=spec["shortest"], kind="stable")
        got = [(r["equipment"].partition(":")[2], r["hours"]) for r in answer.data["ranking"]]
        n = spec["top"]
        exp = [(k, float(v)) for k, v in ranked.items()][:n]
        if spec["equipment"]:
            exp = [(spec["equipment"], float(sums[spec["equipment"]]))]
            return None if f"{exp[0][1]:g}小时" in answer.answer else f"total not {exp[0][1]}"
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
        exp = {"material:" + facts.material[x] if x in facts.lots.lot_id.values else "product:" + facts.material[x]
               for x in facts.upstream(spec["item"])}
        return None if set(answer.data["materials"]) == exp else f"{answer.data['materials']} != {sorted(exp)}"
    if t in ("where_went", "where_went_of"):
        item = spec["item"] if t == "where_went" else next(
            x for x in facts.upstream(spec["unit"]) if facts.material.get(x) == spec["material"])
        exp = facts.customers(item)
        return None if set(answer.data["customers"]) == exp else f"{answer.data['customers']} != {sorted(exp)}"
    if t == "similar":
        got = [c.id.partition(":")[2] for c in answer.citations]
        return None if got and got[0] in spec["top_any"] else f"top {got[:3]}"
    raise AssertionError(f"unknown check {t}")


def _cases():
    return [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_evaluation_set(store, facts):
    cases = _cases()
    assert len(cases) >= 150
    sessions: dict[str, Session] = defaultdict(lambda: None)  # type: ignore[arg-type, return-value]
    wrong, refusals, refusals_ok = [], 0, 0
    for case in cases:
        sid = case.get("session")
        if sid and sessions[sid] is None:
            sessions[sid] = Session(sid)
        answer = ask(case["q"], store=store, today=TODAY, session=sessions[sid] if sid else None)
        assert "error" not in answer.data, (case["q"], answer.data)
        problem = check(answer, case["check"], facts)
        if case["intent"] and not answer.refused and answer.intent != case["intent"]:
            problem = f"intent {answer.intent} != {case['intent']}"
        if case["check"]["type"] == "refuse":
            refusals += 1
            refusals_ok += problem is None
        if problem:
            wrong.append(f"{case['q']!r}: {problem}")
    accuracy = 1 - len(wrong) / len(cases)
    print(f"\nassistant accuracy {accuracy:.1%} ({len(cases) - len(wrong)}/{len(cases)}), "
          f"refusals {refusals_ok}/{refusals}")
    for w in wrong:
        print("  ✗", w)
    assert refusals >= 20 and refusals_ok == refusals, wrong
    assert accuracy >= 0.9, "\n".join(wrong)


def test_every_answer_cites_and_every_refusal_explains(store):
    for case in _cases():
        answer = ask(case["q"], store=store, today=TODAY)
        if answer.refused:
            assert "无法回答" in answer.answer
        else:
            assert answer.citations, case["q"]
        json.dumps(answer.to_dict(), ensure_ascii=False)  # the payload the API and web present


def test_dates_are_read_against_today(store):
    a = ask("上个月哪台设备停机时间最长", store=store, today=date(2023, 12, 15))
    assert a.data["window"]["since"].startswith("2023-11-01")
    b = ask("上个月哪台设备停机时间最长", store=store, today=date(2024, 2, 1))
    assert b.refused  # January 2024 has no records
    assert datetime.fromisoformat(a.data["window"]["until"]) == datetime(2023, 12, 1)
