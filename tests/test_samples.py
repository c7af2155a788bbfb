"""Sample plants: the formats.md contract, integrity, EPCIS validity, determinism, injected effects."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import networkx as nx
import pandas as pd
import pytest
from jsonschema import Draft7Validator

import zhuisu
from zhuisu.errors import BadInput
from zhuisu.samples import SCENARIOS, generate

ROOT = Path(zhuisu.__file__).resolve().parent
SCHEMA = ROOT.parent / "shared" / "standards" / "epcis" / "EPCIS-JSON-Schema.json"
SIZES = {"motor": 1500, "dairy": 360}
SEED = 11
SHIFT_NAMES = {"早班": "day", "中班": "mid", "夜班": "night"}
ID_COLUMN = {
    "suppliers": "supplier_id",
    "customers": "customer_id",
    "materials": "material_id",
    "products": "product_id",
    "equipment": "equipment_id",
    "tools": "tool_id",
    "operators": "operator_id",
    "shifts": "shift_id",
    "parameters": "parameter_id",
    "purchase_orders": "po_id",
    "lots": "lot_id",
    "work_orders": "work_order_id",
    "units": "serial",
    "operations": "operation_id",
    "inspections": "inspection_id",
    "shipments": "shipment_id",
    "complaints": "complaint_id",
    "alarms": "alarm_id",
    "maintenance": "order_id",
}
REFERENCES = [
    ("equipment", "parent_id", "equipment"),
    ("tools", "equipment_id", "equipment"),
    ("parameters", "equipment_id", "equipment"),
    ("purchase_orders", "supplier_id", "suppliers"),
    ("lots", "material_id", "materials"),
    ("lots", "supplier_id", "suppliers"),
    ("lots", "po_id", "purchase_orders"),
    ("work_orders", "product_id", "products"),
    ("work_orders", "line_id", "equipment"),
    ("units", "product_id", "products"),
    ("units", "work_order_id", "work_orders"),
    ("operations", "equipment_id", "equipment"),
    ("operations", "operator_id", "operators"),
    ("operations", "shift_id", "shifts"),
    ("operations", "tool_id", "tools"),
    ("operations", "work_order_id", "work_orders"),
    ("consumption", "operation_id", "operations"),
    ("production", "operation_id", "operations"),
    ("measurements", "operation_id", "operations"),
    ("measurements", "parameter_id", "parameters"),
    ("inspections", "operator_id", "operators"),
    ("shipments", "customer_id", "customers"),
    ("shipment_items", "shipment_id", "shipments"),
    ("complaints", "customer_id", "customers"),
    ("alarms", "equipment_id", "equipment"),
    ("maintenance", "equipment_id", "equipment"),
]
KIND_TABLE = {"lot": "lots", "unit": "units", "operation": "operations"}
UID_TABLE = {
    "lot": "lots",
    "equipment": "equipment",
    "param": "parameters",
    "operator": "operators",
    "supplier": "suppliers",
    "shift": "shifts",
}


def contract() -> dict[str, tuple[list[str], list[str]]]:
    """Table → (all columns, required columns), read from docs/formats.md itself."""
    text = (ROOT / "docs" / "formats.md").read_text(encoding="utf-8")
    section = text.split("## Canonical folder")[1].split("## Mapping files")[0]
    tables = {}
    for line in section.splitlines():
        cells = line.split("|")
        if len(cells) > 3 and cells[1].strip().startswith("`"):
            columns = re.findall(r"`([a-z_]+)`(\*?)", re.sub(r"\([^)]*\)", "", cells[2]))
            tables[cells[1].strip().strip("`")] = (
                [c for c, _ in columns],
                [c for c, star in columns if star],
            )
    return tables


def load(folder: Path) -> dict[str, pd.DataFrame]:
    return {p.stem: pd.read_csv(p, dtype=str, keep_default_na=False) for p in sorted(folder.glob("*.csv"))}


def epcis_documents(folder: Path) -> list[dict]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted((folder / "epcis").glob("*.jsonld"))]


def digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def plants(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Path]:
    """One small plant per (plant, scenario), plus a null plant of each kind."""
    made = {}
    for plant, scenarios in SCENARIOS.items():
        for scenario in (*scenarios, "null"):
            out = tmp_path_factory.mktemp(f"{plant}-{scenario}")
            generate(
                plant,
                SIZES[plant],
                SEED,
                out,
                fault=scenario != "null",
                scenario=None if scenario == "null" else scenario,
            )
            made[plant, scenario] = out
    return made


def test_scenarios_cover_the_brief() -> None:
    for plant in ("motor", "dairy"):
        assert {"bad_supplier_lot", "drift_after_maintenance", "param_window", "operator_shift"} <= set(
            SCENARIOS[plant]
        )


def test_tables_and_columns_follow_the_contract(plants: dict[tuple[str, str], Path]) -> None:
    tables = contract()
    for (plant, _), folder in plants.items():
        data = load(folder)
        expected = set(tables) - ({"units"} if plant == "dairy" else set())
        assert set(data) == expected, plant
        for name, frame in data.items():
            columns, required = tables[name]
            assert list(frame.columns) == columns, name
            for column in required:
                assert (frame[column] != "").all(), f"{plant} {name}.{column} has empty required values"
            if name in ID_COLUMN:
                assert frame[ID_COLUMN[name]].is_unique, f"{plant} {name} ids repeat"
            for column in [c for c in columns if c.endswith("_at") or c in ("planned_start", "ordered_at")]:
                values = frame[column][frame[column] != ""]
                pd.to_datetime(values, format="ISO8601")


def test_every_reference_resolves(plants: dict[tuple[str, str], Path]) -> None:
    for folder in plants.values():
        data = load(folder)
        ids = {name: set(frame[ID_COLUMN[name]]) for name, frame in data.items() if name in ID_COLUMN}
        for table, column, target in REFERENCES:
            if table not in data:
                continue
            values = set(data[table][column]) - {""}
            assert values <= ids[target], f"{table}.{column}: {sorted(values - ids[target])[:5]}"
        pallets = {
            e["parentID"]
            for d in epcis_documents(folder)
            for e in d["epcisBody"]["eventList"]
            if e["type"] == "AggregationEvent"
        }
        for table, id_col, kind_col in (
            ("consumption", "input_id", "input_kind"),
            ("production", "output_id", "output_kind"),
            ("inspections", "target_id", "target_kind"),
            ("shipment_items", "item_id", "item_kind"),
            ("complaints", "item_id", "item_kind"),
        ):
            for kind, group in data[table].groupby(kind_col):
                known = (
                    {"urn:epc:id:sscc:" + f"{s[1:8]}.{s[0]}{s[8:17]}" for s in group[id_col]} <= pallets
                    if kind == "lu"
                    else set(group[id_col]) <= ids[KIND_TABLE[kind]]
                )
                assert known, f"{table}.{id_col} of kind {kind} does not resolve"


def test_genealogy_is_a_dag(plants: dict[tuple[str, str], Path]) -> None:
    for folder in plants.values():
        data = load(folder)
        graph = genealogy(data)
        assert nx.is_directed_acyclic_graph(graph)
        both = data["consumption"].merge(
            data["production"], left_on=["operation_id", "input_id"], right_on=["operation_id", "output_id"]
        )
        assert both.empty, "an operation consumes what it produces"


def test_epcis_documents_validate_and_name_the_units(plants: dict[tuple[str, str], Path]) -> None:
    validator = Draft7Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))
    for (plant, _), folder in plants.items():
        documents = epcis_documents(folder)
        assert documents
        for document in documents:
            errors = list(validator.iter_errors(document))
            assert not errors, errors[0].message
            assert document["@context"] == ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"]
            assert len(document["epcisBody"]["eventList"]) <= 10_000
        # SGTINs (motor) and LGTINs (dairy) must name the units and lots of the tables, GTIN and all.
        table = load(folder)["units" if plant == "motor" else "lots"]
        gtin = dict(zip(table[table.columns[0]], table["gtin"], strict=True))
        for document in documents:
            for event in document["epcisBody"]["eventList"]:
                epcs = event.get("childEPCs", []) + [q["epcClass"] for q in event.get("quantityList", [])]
                for epc in epcs:
                    prefix, ref, local = epc.split(":")[-1].split(".", 2)
                    body = ref[0] + prefix + ref[1:]
                    assert gtin[local] == body + check_digit(body), epc


def check_digit(body: str) -> str:
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return str((10 - total % 10) % 10)


def test_truth_names_existing_nodes(plants: dict[tuple[str, str], Path]) -> None:
    for (plant, scenario), folder in plants.items():
        truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
        assert set(truth) == {"scenario", "seed", "plant", "units", "defect_code", "causes"}
        assert (truth["plant"], truth["scenario"], truth["seed"], truth["units"]) == (
            plant,
            scenario,
            SEED,
            SIZES[plant],
        )
        assert truth["defect_code"]
        assert (truth["causes"] == []) == (scenario == "null")
        data = load(folder)
        for cause in truth["causes"]:
            prefix, local = cause["uid"].split(":", 1)
            assert local in set(data[UID_TABLE[prefix]][ID_COLUMN[UID_TABLE[prefix]]]), cause
            assert cause["kind"] and cause["description"] and "{mo}" not in cause["description"]


@pytest.mark.parametrize("plant", ["motor", "dairy"])
def test_injected_effect_is_measurable(plants: dict[tuple[str, str], Path], plant: str) -> None:
    for scenario in SCENARIOS[plant]:
        folder = plants[plant, scenario]
        truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
        data = load(folder)
        targets, bad = defective(data, truth["defect_code"])
        exposed = exposure(data, genealogy(data), targets, truth["causes"][0]) & targets
        rest = targets - exposed
        inside, outside = len(bad & exposed) / len(exposed), len(bad & rest) / len(rest)
        assert len(bad & exposed) >= 5 and inside >= 4 * outside, (scenario, len(exposed), inside, outside)


@pytest.mark.parametrize("plant", ["motor", "dairy"])
def test_null_plant_has_only_the_baseline(plants: dict[tuple[str, str], Path], plant: str) -> None:
    data = load(plants[plant, "null"])
    truth = json.loads((plants[plant, "null"] / "truth.json").read_text(encoding="utf-8"))
    targets, bad = defective(data, truth["defect_code"])
    assert 0.003 <= len(bad) / len(targets) <= 0.03
    graph = genealogy(data)
    ops = data["operations"]
    factors = [{"uid": f"operator:{o}", "description": ""} for o in ops["operator_id"].unique()]
    factors += [{"uid": f"equipment:{e}", "description": ""} for e in ops["equipment_id"].unique()]
    factors += [
        {"uid": f"lot:{lot}", "description": ""}
        for lot in data["purchase_orders"].merge(data["lots"], on="po_id")["lot_id"]
    ]
    for factor in factors:
        exposed = exposure(data, graph, targets, factor) & targets
        if len(exposed) >= len(targets) // 20 and len(targets - exposed) > 0:
            inside, outside = (
                len(bad & exposed) / len(exposed),
                len(bad & (targets - exposed)) / len(targets - exposed),
            )
            assert not (len(bad & exposed) >= 5 and inside >= 4 * outside), factor


def test_same_seed_same_bytes_other_seed_other_plant(plants: dict[tuple[str, str], Path], tmp_path: Path) -> None:
    generate("motor", SIZES["motor"], SEED, tmp_path / "again", scenario="operator_shift")
    assert digest(tmp_path / "again") == digest(plants["motor", "operator_shift"])
    truth = generate("motor", SIZES["motor"], SEED + 1, tmp_path / "other")
    assert truth["scenario"] in SCENARIOS["motor"]
    assert generate("motor", SIZES["motor"], SEED + 1, tmp_path / "third")["scenario"] == truth["scenario"]
    assert digest(tmp_path / "other") != digest(plants["motor", truth["scenario"]])
    assert (tmp_path / "other" / "units.csv").read_bytes() != (tmp_path / "again" / "units.csv").read_bytes()


def test_committed_datasets_are_reproducible(tmp_path: Path) -> None:
    for plant, units, scenario in (("motor", 2000, "bad_supplier_lot"), ("dairy", 300, None)):
        committed = ROOT / "samples" / "data" / plant
        truth = json.loads((committed / "truth.json").read_text(encoding="utf-8"))
        assert truth["seed"] == 1 and truth["units"] == units
        generate(plant, units, 1, tmp_path / plant, scenario=scenario)
        assert digest(tmp_path / plant) == digest(committed)
        assert sum(p.stat().st_size for p in committed.rglob("*") if p.is_file()) < 3_000_000


@pytest.mark.parametrize(
    "bad",
    [
        {"plant": "steel"},
        {"units": 10},
        {"seed": -1},
        {"scenario": "meteor"},
        {"fault": False, "scenario": "param_window"},
    ],
)
def test_bad_requests_are_refused(tmp_path: Path, bad: dict) -> None:
    args = {"plant": "motor", "units": 500, "seed": 1, "out": tmp_path, **bad}
    with pytest.raises(BadInput):
        generate(**args)


# ── helpers that read a plant the way an analyst would: from its tables only ───────────────────────────


def genealogy(data: dict[str, pd.DataFrame]) -> nx.DiGraph:
    """Material flow: input → operation → output."""
    graph = nx.DiGraph()
    graph.add_edges_from(zip(data["consumption"]["input_id"], data["consumption"]["operation_id"], strict=True))
    graph.add_edges_from(zip(data["production"]["operation_id"], data["production"]["output_id"], strict=True))
    return graph


def defective(data: dict[str, pd.DataFrame], code: str) -> tuple[set[str], set[str]]:
    """The targets (serial units, or finished lots) and those found or reported with ``code``."""
    if "units" in data:
        products = set(data["products"]["product_id"][data["products"]["gtin"] != ""])
        targets = set(data["units"]["serial"][data["units"]["product_id"].isin(products)])
    else:
        targets = set(data["lots"]["lot_id"][data["lots"]["material_id"].isin(data["products"]["product_id"])])
    insp, comp = data["inspections"], data["complaints"]
    bad = set(insp["target_id"][(insp["result"] == "fail") & (insp["defect_code"] == code)])
    bad |= set(comp["item_id"][comp["defect_code"] == code])
    return targets, bad & targets


def exposure(data: dict[str, pd.DataFrame], graph: nx.DiGraph, targets: set[str], cause: dict) -> set[str]:
    """Targets downstream of the cause's evidence: the lot, or the operations the cause touched."""
    prefix, local = cause["uid"].split(":", 1)
    ops = data["operations"]
    if prefix == "lot":
        return nx.descendants(graph, local)
    if prefix == "equipment":
        chosen = ops["equipment_id"] == local
        repair = re.search(r"MO\d{4}-\d{4}", cause["description"])
        if repair:
            orders = data["maintenance"].set_index("order_id")
            chosen &= ops["started_at"] >= orders.loc[repair.group(0), "finished_at"]
    elif prefix == "param":
        spec = data["parameters"].set_index("parameter_id").loc[local]
        m = data["measurements"][data["measurements"]["parameter_id"] == local]
        value = m["value"].astype(float)
        out = m["operation_id"][(value < float(spec["lsl"])) | (value > float(spec["usl"]))]
        chosen = ops["operation_id"].isin(out)
    else:
        chosen = ops["operator_id"] == local
        shift = next((SHIFT_NAMES[w] for w in SHIFT_NAMES if w in cause["description"]), None)
        if shift:
            chosen &= ops["shift_id"] == shift
    reached: set[str] = set()
    for op in ops["operation_id"][chosen]:
        reached |= nx.descendants(graph, op)
    return reached
