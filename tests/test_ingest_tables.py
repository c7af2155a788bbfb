"""The canonical CSV/Excel folder adapter, end to end into a real SQLite store: every table, idempotence,
Excel = CSV, mapping files onto Chinese exports, chunked reading, and one-line errors that name file, line
and column while the files before the bad one stay committed."""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa

from zhuisu.errors import BadInput
from zhuisu.graph.schema import aliases, edges, ingest_log, nodes
from zhuisu.graph.store import IngestResult, Store
from zhuisu.ingest import get, plan
from zhuisu.ingest import mapping as sources_module
from zhuisu.ingest.records import epoch_ms
from zhuisu.ingest.tables import TABLES, read

DATA = Path(__file__).parent / "data" / "tables"
PLANT = DATA / "plant"  # a whole mini motor plant, one CSV per table
EXPORT = DATA / "export"  # Chinese-headed ERP/MES exports with a mapping.toml
ORDER = [t.name for t in TABLES]
DL_42 = "https://id.gs1.org/01/06901234000016/21/SN-M2311-00042"


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(str(tmp_path / "z.db"))
    yield s
    s.close()


def ingest(store: Store, path: Path, **options: Any) -> list[IngestResult]:
    return [store.ingest(batch) for batch in read(path, **options)]


def graph(store: Store) -> dict[str, Any]:
    """Everything the store materialised, by uid, for comparing two ingests."""
    with store.engine.connect() as conn:
        uid = dict(conn.execute(sa.select(nodes.c.id, nodes.c.uid)).all())
        return {
            "nodes": {r.uid: (r.kind, r.name, json.loads(r.attrs)) for r in conn.execute(sa.select(nodes))},
            "aliases": {(r.alias, uid[r.node]) for r in conn.execute(sa.select(aliases))},
            "edges": {(uid[r["src"]], r["rel"], uid[r["dst"]], r["key"]): (r["t"], r["qty"], r["uom"],
                                                                            json.loads(r["attrs"]))
                      for r in conn.execute(sa.select(edges)).mappings()},
        }


def edges_of(store: Store, rel: str) -> dict[tuple[str, str, str], tuple[Any, ...]]:
    """``(src, dst, key) → (time, quantity, uom, attrs)`` of one relation."""
    return {(s, d, k): v for (s, r, d, k), v in graph(store)["edges"].items() if r == rel}


def sources(store: Store) -> list[str]:
    with store.engine.connect() as conn:
        return list(conn.execute(sa.select(ingest_log.c.source).order_by(ingest_log.c.id)).scalars())


def ms(text: str) -> int | None:
    return epoch_ms(datetime.fromisoformat(text))


def test_every_table_of_the_plant_is_one_batch_in_the_documented_order(store: Store) -> None:
    results = ingest(store, PLANT)
    files = sorted(p.stem for p in PLANT.glob("*.csv"))
    assert sources(store) == [f"csv:{name}.csv" for name in ORDER if name in files]
    assert len(results) == len(files) == 23 and not any(r.skipped for r in results)


def test_master_data_nodes_aliases_and_hierarchy(store: Store) -> None:
    ingest(store, PLANT)
    supplier = store.node("恒磁")  # an alias from the `aliases` column
    assert (supplier.uid, supplier.kind) == ("supplier:SUP-01", "Supplier")
    assert (supplier.name, supplier.attrs) == ("宁波恒磁磁业有限公司", {"country": "中国"})
    kinds = {uid: store.node(uid).kind for uid in
             ("equipment:SITE-NB", "equipment:AREA-ASM", "equipment:LINE-1", "equipment:PRESS-02",
              "equipment:WIND-01")}
    assert kinds == {"equipment:SITE-NB": "Site", "equipment:AREA-ASM": "Area", "equipment:LINE-1": "Line",
                     "equipment:PRESS-02": "EquipmentUnit", "equipment:WIND-01": "EquipmentUnit"}
    assert store.node("#2压机").uid == store.node("2号压机").uid == "equipment:PRESS-02"  # split on ；too
    assert set(edges_of(store, "partOf")) == {
        ("equipment:AREA-ASM", "equipment:SITE-NB", ""), ("equipment:LINE-1", "equipment:AREA-ASM", ""),
        ("equipment:PRESS-02", "equipment:LINE-1", ""), ("equipment:WIND-01", "equipment:LINE-1", ""),
        ("tool:FIX-07", "equipment:PRESS-02", ""),
    }
    param = store.node("param:P-PRESS-F")
    assert (param.kind, param.name, param.attrs) == (
        "ProcessParameter", "压装力", {"unit": "kN", "lsl": 12.0, "usl": 15.0, "target": 13.5})
    assert ("param:P-WIND-T", "equipment:WIND-01", "") in edges_of(store, "parameterOf")
    assert store.node("shift:A").attrs == {"start_time": "08:00", "end_time": "20:00"}
    assert store.node("https://id.gs1.org/01/06901234000016").uid == "product:PRD-M200"  # gtin → alias


def test_lots_units_and_work_orders(store: Store) -> None:
    ingest(store, PLANT)
    lot = store.node("lot:CG2311-0007")
    assert lot.kind == "MaterialLot"
    assert lot.attrs == {"quantity": 1000.0, "uom": "ea", "supplier_lot": "HC-231028-3",
                         "created_at": "2023-11-01T09:30:00"}
    supplies = edges_of(store, "supplies")
    created = ms("2023-11-01T09:30:00")
    assert supplies[("supplier:SUP-01", "lot:CG2311-0007", "")][:3] == (created, 1000.0, "ea")
    assert ("supplier:SUP-02", "lot:ZC2311-0003", "") in supplies
    assert len(supplies) == 2  # the wire lot names no supplier
    assert ("lot:CG2311-0007", "po:PO-2310-001", "") in edges_of(store, "purchasedOn")
    assert ("po:PO-2310-001", "supplier:SUP-01", "") in edges_of(store, "orderedFrom")
    assert store.node("https://id.gs1.org/01/06901234000023/10/ZC2311-0003").uid == "lot:ZC2311-0003"
    unit = store.node(DL_42)  # the unit's gtin makes its Digital Link an alias
    assert unit.uid == "unit:SN-M2311-00042" and unit.kind == "SerialUnit"
    instance_of = edges_of(store, "instanceOf")
    assert ("unit:SN-M2311-00042", "product:PRD-M200", "") in instance_of
    assert ("lot:QX2311-0012", "material:MAT-WIRE", "") in instance_of
    assert ("unit:SN-M2311-00043", "wo:WO-2311-001", "") in edges_of(store, "forWorkOrder")
    assert ("wo:WO-2311-001", "product:PRD-M200", "") in edges_of(store, "forProduct")
    assert store.node("wo:WO-2311-001").attrs == {"quantity": 2.0, "planned_start": "2023-11-03T08:00:00",
                                                  "line_id": "LINE-1"}


def test_operations_consumption_production_and_measurements(store: Store) -> None:
    ingest(store, PLANT)
    op = store.node("op:PF-00043")
    assert (op.kind, op.name) == ("Operation", "压装")
    assert op.attrs == {"step": "压装", "started_at": "2023-11-03T09:10:00"}
    t = ms("2023-11-03T09:00:00")
    for rel, dst in (("performedOn", "equipment:PRESS-02"), ("performedBy", "operator:OP017"),
                     ("duringShift", "shift:A"), ("usedTool", "tool:FIX-07"),
                     ("forWorkOrder", "wo:WO-2311-001")):
        assert edges_of(store, rel)[("op:PF-00042", dst, "")][0] == t
    assert ("op:RX-00042", "tool:FIX-07", "") not in edges_of(store, "usedTool")  # empty tool_id: no edge
    consumed = edges_of(store, "consumedBy")
    assert consumed[("lot:QX2311-0012", "op:RX-00042", "")][:3] == (ms("2023-11-03T08:15:00"), 1.2, "kg")
    assert consumed[("lot:ZC2311-0003", "op:PF-00043", "")][:3] == (ms("2023-11-03T09:10:00"), 2.0, "ea")
    assert len(consumed) == 5
    produced = edges_of(store, "produces")
    assert produced[("op:PF-00042", "unit:SN-M2311-00042", "")][:3] == (ms("2023-11-03T09:04:30"), 1.0, "ea")
    # no ended_at: the operation's start
    assert produced[("op:PF-00043", "unit:SN-M2311-00043", "")][0] == ms("2023-11-03T09:10:00")
    measured = edges_of(store, "measured")
    assert measured[("op:PF-00042", "param:P-PRESS-F", "param:P-PRESS-F")] == (
        ms("2023-11-03T09:02:00"), None, None,
        {"value": 13.2, "lsl": 12.0, "usl": 15.0, "out_of_spec": False})
    assert measured[("op:PF-00043", "param:P-PRESS-F", "param:P-PRESS-F")][3]["out_of_spec"] is True
    assert measured[("op:PF-00043", "param:P-PRESS-F", "param:P-PRESS-F#2")][3]["value"] == 15.6
    assert measured[("op:RX-00042", "param:P-WIND-T", "param:P-WIND-T")] == (  # no measured_at: op start
        ms("2023-11-03T08:15:00"), None, None, {"value": 7.9, "usl": 8.5, "out_of_spec": False})


def test_quality_shipping_and_maintenance(store: Store) -> None:
    ingest(store, PLANT)
    failed = store.node("inspection:EOL-00043")
    assert failed.attrs == {"type": "EOL测试", "result": "fail", "value": 4.6, "unit": "mm/s",
                            "inspected_at": "2023-11-03T10:20:00", "defect_code": "D-NOISE"}
    assert ("inspection:IQC-0007", "lot:CG2311-0007", "") in edges_of(store, "inspects")
    assert edges_of(store, "inspects")[("inspection:EOL-00043", "unit:SN-M2311-00043", "")][0] == ms(
        "2023-11-03T10:20:00")
    defect = store.node("defect:D-NOISE")
    assert (defect.kind, defect.name) == ("Defect", "异响")
    assert set(edges_of(store, "foundDefect")) == {("inspection:EOL-00043", "defect:D-NOISE", ""),
                                                   ("complaint:CP-2312-001", "defect:D-NOISE", "")}
    assert ("inspection:EOL-00042", "operator:OP023", "") in edges_of(store, "performedBy")
    shipped_at = ms("2023-11-05T08:00:00+00:00")  # written with its +08:00 offset
    assert edges_of(store, "shippedTo")[("shipment:SH-2311-001", "customer:CUS-01", "")][0] == shipped_at
    shipped = edges_of(store, "shippedIn")  # one item given by its GS1 Digital Link
    assert shipped[("unit:SN-M2311-00042", "shipment:SH-2311-001", "")][:3] == (shipped_at, 1.0, "ea")
    assert ("unit:SN-M2311-00043", "shipment:SH-2311-001", "") in shipped
    complaint = store.node("complaint:CP-2312-001")
    assert complaint.attrs["text"] == "客户反馈电机运行时有异响，\n高速时更明显"
    assert set(edges_of(store, "complaintAbout")) == {  # given as an SGTIN URN
        ("complaint:CP-2312-001", "unit:SN-M2311-00043", "")}
    assert ("complaint:CP-2312-001", "customer:CUS-01", "") in edges_of(store, "complaintFrom")
    # the GS1 ids met the units through their Digital Link aliases instead of making new nodes
    assert store.node("unit:06901234000016.SN-M2311-00042").uid == "unit:SN-M2311-00042"
    assert store.counts()["nodes"] == 39
    alarm = store.node("alarm:AL-0091")
    assert alarm.attrs["code"] == "E-1203" and alarm.attrs["severity"] == "高"
    assert ("alarm:AL-0091", "equipment:PRESS-02", "") in edges_of(store, "raisedOn")
    order = store.node("mo:MO-2311-015")
    assert order.attrs == {"text": "2号压装机压力传感器读数漂移，校准后恢复正常", "technician": "王强",
                           "downtime_h": 1.5, "type": "calibration", "reported_at": "2023-11-03T09:20:00",
                           "finished_at": "2023-11-03T11:00:00"}
    assert edges_of(store, "maintains")[("mo:MO-2311-015", "equipment:PRESS-02", "")][0] == ms(
        "2023-11-03T09:20:00")


def test_ingesting_again_changes_nothing(store: Store) -> None:
    ingest(store, PLANT)
    before, snapshot = store.counts(), graph(store)
    again = ingest(store, PLANT)
    assert again and all(r.skipped for r in again)
    assert store.counts() == before and graph(store) == snapshot


def test_excel_gives_the_same_graph_as_csv(tmp_path: Path) -> None:
    folder = tmp_path / "xlsx"
    folder.mkdir()
    for csv_file in PLANT.glob("*.csv"):
        frame = pd.read_csv(csv_file, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        frame.to_excel(folder / f"{csv_file.stem}.xlsx", index=False)
    from_csv, from_xlsx = Store(str(tmp_path / "csv.db")), Store(str(tmp_path / "xlsx.db"))
    ingest(from_csv, PLANT)
    ingest(from_xlsx, folder)
    assert graph(from_xlsx) == graph(from_csv)
    assert sources(from_xlsx) == [s.replace(".csv", ".xlsx") for s in sources(from_csv)]
    from_csv.close()
    from_xlsx.close()


def test_a_chinese_export_through_its_mapping_file(store: Store) -> None:
    results = ingest(store, EXPORT)  # the folder's mapping.toml is used by itself
    assert sources(store) == [
        "csv:materials.csv", "csv:物料批次.csv", "csv:operations.csv", "csv:投料记录.csv"]
    assert not any(r.skipped for r in results)
    wire = store.node("lot:QX2311-0012")
    assert wire.attrs == {"quantity": 250.5, "uom": "kg", "created_at": "2023-11-02T00:00:00"}  # 千克 → kg
    assert store.node("lot:CG2311-0007").attrs["uom"] == "ea"
    assert ("lot:QX2311-0012", "material:MAT-WIRE", "") in edges_of(store, "instanceOf")
    assert edges_of(store, "supplies")[("supplier:SUP-03", "lot:QX2311-0012", "")][1:3] == (250.5, "kg")
    # a GBK export with a title line above its header; 操作员 is not mapped and so ignored
    consumed = edges_of(store, "consumedBy")
    assert consumed == {("lot:QX2311-0012", "op:RX-00042", ""): (ms("2023-11-03T08:15:00"), 1.2, "kg", {})}


def test_an_excel_export_with_a_mapping_given_explicitly(tmp_path: Path, store: Store) -> None:
    exports = tmp_path / "exports"
    exports.mkdir()
    with pd.ExcelWriter(exports / "物料批次.xlsx") as book:
        pd.DataFrame({"说明": ["本表由 ERP 导出"]}).to_excel(book, sheet_name="封面", index=False)
        lots = pd.DataFrame({"批次号": ["CG2311-0007", "CG2311-0008"], "物料编码": ["MAT-MAG", "MAT-MAG"],
                             "入库日期": ["2023/11/01", "2023/11/31"]})
        lots.to_excel(book, sheet_name="批次", index=False)
    mapping = tmp_path / "erp.toml"
    mapping.write_text('[tables.lots]\nfile = "物料批次.xlsx"\nsheet = "批次"\n[tables.lots.columns]\n'
                       'lot_id = "批次号"\nmaterial_id = "物料编码"\n'
                       'created_at = { column = "入库日期", format = "%Y/%m/%d" }\n', encoding="utf-8")
    with pytest.raises(BadInput) as caught:
        ingest(store, exports, mapping=mapping)
    # the export's own file, its sheet row (header in row 1) and its column
    assert str(caught.value).startswith(
        "物料批次.xlsx:3: 日期格式错误 bad date in column 入库日期: '2023/11/31'")
    assert store.counts()["batches"] == 0


def test_a_work_order_export_with_its_fields_in_separate_columns(tmp_path: Path, store: Store) -> None:
    """A CMMS export keeps 故障现象, 原因分析 and 处理措施 apart; the mapping writes them as one form, which the NLP
    reads field by field (docs/nlp.md)."""
    exports = tmp_path / "cmms"
    exports.mkdir()
    pd.DataFrame({"工单号": ["WO-1", "WO-2"], "设备编号": ["PRESS-02", "PRESS-02"],
                  "报修时间": ["2023-11-05 08:00", "2023-11-06 09:30"],
                  "故障现象": ["液压泵异响", "压力低"], "原因分析": ["密封圈磨损", ""],
                  "处理措施": ["更换密封圈", "调整溢流阀"]}).to_csv(exports / "维修工单.csv", index=False)
    (exports / "mapping.toml").write_text(
        '[tables.maintenance]\nfile = "维修工单.csv"\n[tables.maintenance.columns]\norder_id = "工单号"\n'
        'equipment_id = "设备编号"\nreported_at = { column = "报修时间", format = "%Y-%m-%d %H:%M" }\n'
        'text = { columns = ["故障现象", "原因分析", "处理措施"] }\n', encoding="utf-8")
    ingest(store, exports)
    assert store.node("mo:WO-1").attrs["text"] == "故障现象：液压泵异响；原因分析：密封圈磨损；处理措施：更换密封圈"
    assert store.node("mo:WO-2").attrs["text"] == "故障现象：压力低；处理措施：调整溢流阀"  # empty cells left out
    from zhuisu.nlp import extract

    event = extract(store.node("mo:WO-1").attrs["text"])
    assert [(m.text, m.label) for m in event.mentions] == [
        ("液压泵", "Component"), ("异响", "Symptom"), ("密封圈", "Component"), ("磨损", "Symptom"),
        ("更换", "Action"), ("密封圈", "Component")]
    (exports / "mapping.toml").write_text(
        '[tables.maintenance]\nfile = "维修工单.csv"\n[tables.maintenance.columns]\norder_id = "工单号"\n'
        'equipment_id = "设备编号"\nreported_at = { column = "报修时间", format = "%Y-%m-%d %H:%M" }\n'
        'text = { columns = ["故障现象", "原因"] }\n', encoding="utf-8")
    with pytest.raises(BadInput, match="missing column '原因' that the mapping names"):
        ingest(store, exports)


BAD_CASES = [
    # (file, line to replace (1-based, header = 1) or None to append, new text, where, words in the message)
    ("lots.csv", 3, "ZC2311-0003,MAT-BRG,500,ea,SUP-02,PO-2310-002,JG-7781,2023-11-01,,extra",
     "lots.csv:3", ["wrong number of fields", "10", "9"]),
    ("lots.csv", 4, "QX2311-0012,MAT-WIRE,250.5", "lots.csv:4", ["wrong number of fields", "3"]),
    ("lots.csv", 1, "lot_id,material_id,quantity,uom,supplier_id,po_id,suplier_lot,created_at,gtin",
     "lots.csv", ["unknown column 'suplier_lot'", "did you mean 'supplier_lot'"]),
    ("lots.csv", 1, "lot_id,quantity,uom,supplier_id,po_id,supplier_lot,created_at,gtin,material",
     "lots.csv", ["unknown column 'material'", "material_id"]),
    ("lots.csv", 3, "ZC2311-0003,,500,ea,SUP-02,PO-2310-002,JG-7781,2023-11-01,", "lots.csv:3",
     ["empty required value", "material_id"]),
    ("lots.csv", 2, "CG2311-0007,MAT-MAG,1000kg,ea,SUP-01,PO-2310-001,HC-231028-3,2023-11-01,", "lots.csv:2",
     ["bad number", "quantity", "'1000kg'"]),
    ("lots.csv", 2, "unit:CG2311-0007,MAT-MAG,1000,ea,SUP-01,,,2023-11-01,", "lots.csv:2",
     ["lot_id", "SerialUnit", "MaterialLot"]),
    ("lots.csv", 4, "QX2311-0012,MAT-WIRE,250.5,kg,,,,2023-11-02,6901234", "lots.csv:4",
     ["bad GTIN", "gtin"]),
    ("operations.csv", 3, "PF-00042,压装,2023/13/45,,PRESS-02,OP017,A,FIX-07,WO-2311-001", "operations.csv:3",
     ["日期格式错误 bad date", "started_at", "'2023/13/45'", "ISO 8601", "2023-11-03T08:15:00"]),
    ("equipment.csv", 4, "LINE-1,一号装配线,Cell,,AREA-ASM,", "equipment.csv:4",
     ["取值无效 unknown value", "'Cell'", "level", "WorkCenter"]),
    ("consumption.csv", 3, "PF-00042,CG2311-0007,batch,8,ea", "consumption.csv:3", ["'batch'", "input_kind"]),
    ("inspections.csv", 3, "EOL-00043,SN-M2311-00043,,EOL测试,NG,D-NOISE,异响,2023-11-03T10:20:00,,,",
     "inspections.csv:3", ["'NG'", "result", "pass, fail"]),
    # the first record spans lines 2–3, so the one after it starts on line 4
    ("complaints.csv", None, "CP-2312-002,CUS-02,SN-M2311-00042,unit,2023-12-32,,", "complaints.csv:4",
     ["bad date", "received_at", "'2023-12-32'"]),
]


@pytest.mark.parametrize(("file", "line", "text", "where", "words"), BAD_CASES,
                         ids=[f"{c[0]}-{c[4][0]}" for c in BAD_CASES])
def test_bad_input_names_file_line_and_column_and_commits_only_the_files_before(
        tmp_path: Path, store: Store, file: str, line: int | None, text: str, where: str,
        words: list[str]) -> None:
    folder = tmp_path / "plant"
    shutil.copytree(PLANT, folder)
    path = folder / file
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    if line is None:
        lines.append(text)
    else:
        lines[line - 1] = text
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(BadInput) as caught:
        ingest(store, folder)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"{where}: ")
    for word in words:
        assert word in message
    table = path.stem
    present = {p.stem for p in folder.glob("*.csv")}
    before = [f"csv:{name}.csv" for name in ORDER[:ORDER.index(table)] if name in present]
    assert sources(store) == before  # the earlier files are committed, nothing of the bad one


def test_unknown_table_file_and_two_files_for_one_table(tmp_path: Path) -> None:
    (tmp_path / "lot.csv").write_text("lot_id,material_id\nX,Y\n", encoding="utf-8")
    with pytest.raises(BadInput, match=r"^lot\.csv: 未知的表 unknown table 'lot'.*did you mean 'lots'"):
        list(read(tmp_path))
    (tmp_path / "lot.csv").rename(tmp_path / "lots.csv")
    pd.DataFrame({"lot_id": ["X"], "material_id": ["Y"]}).to_excel(tmp_path / "lots.xlsx", index=False)
    with pytest.raises(BadInput, match="表重复 both lots.csv and lots.xlsx"):
        list(read(tmp_path))


def test_excel_errors_name_the_sheet_row(tmp_path: Path) -> None:
    pd.DataFrame({"alarm_id": ["A1", "A2", "A3"], "equipment_id": ["PRESS-02"] * 3, "code": ["E1", "", "E3"],
                  "raised_at": ["2023-11-03T09:11:00"] * 3}).to_excel(tmp_path / "alarms.xlsx", index=False)
    with pytest.raises(BadInput, match=r"^alarms\.xlsx:3: 缺少必填值 empty required value in column code"):
        list(read(tmp_path))


def test_mapping_errors_name_the_export_and_the_mapping(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    shutil.copytree(EXPORT, folder)
    export = folder / "物料批次.csv"
    text = export.read_text(encoding="utf-8-sig")
    export.write_text(text.replace("2023/11/1", "2023-11-01"), encoding="utf-8")
    with pytest.raises(BadInput) as caught:
        list(read(folder))
    assert str(caught.value).startswith(
        "物料批次.csv:3: 日期格式错误 bad date in column 入库日期: '2023-11-01'")
    export.write_text("批次号,物料编号\nQX2311-0012,MAT-WIRE\n", encoding="utf-8")
    with pytest.raises(BadInput, match=r"^物料批次.csv: 缺少列 missing column '物料编码'.*'物料编号'"):
        list(read(folder))
    export.write_text(text, encoding="utf-8")
    # a GBK export whose header is on line 2
    rows = "投料记录导出\n工序单号,批次号,投料数量,单位\nRX-00042,QX2311-0012,1.2千克,\n"
    (folder / "投料记录.csv").write_bytes(rows.encode("gbk"))
    with pytest.raises(BadInput, match=r"^投料记录.csv:3: 数值格式错误 bad number in column 投料数量"):
        list(read(folder))
    mapping = folder / "mapping.toml"
    text = mapping.read_text(encoding="utf-8")
    mapping.write_text(text.replace("material_id =", "materal_id ="), encoding="utf-8")
    with pytest.raises(BadInput, match=r"unknown column 'materal_id'.*did you mean 'material_id'"):
        list(read(folder))
    mapping.write_text(text.replace("[tables.lots]", "[tables.lot]"), encoding="utf-8")
    with pytest.raises(BadInput, match=r"^mapping.toml: 未知的表 unknown table 'lot'"):
        list(read(folder))
    mapping.write_text(text.replace('"物料批次.csv"', '"批次.csv"'), encoding="utf-8")
    with pytest.raises(BadInput, match="no export file '批次.csv'"):
        list(read(folder))
    mapping.write_text(text.replace("lot_id = ", "# lot_id = "), encoding="utf-8")
    with pytest.raises(BadInput, match="required column lot_id"):
        list(read(folder))


def test_long_files_are_read_in_chunks_with_true_line_numbers(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sources_module, "CHUNK_ROWS", 2)
    chunked = Store(str(tmp_path / "chunked.db"))
    ingest(chunked, PLANT)
    whole = Store(str(tmp_path / "whole.db"))
    monkeypatch.setattr(sources_module, "CHUNK_ROWS", 200_000)
    ingest(whole, PLANT)
    assert graph(chunked) == graph(whole)
    assert sources(chunked).count("csv:lots.csv") == 2  # three lots in chunks of two
    monkeypatch.setattr(sources_module, "CHUNK_ROWS", 2)
    folder = tmp_path / "alarms"
    folder.mkdir()
    (folder / "alarms.csv").write_text(
        "alarm_id,equipment_id,code,raised_at,message\n"
        'A1,PRESS-02,E1,2023-11-03T09:00:00,"压力\n超限"\n'  # lines 2–3
        "\n"  # line 4, blank
        "A2,PRESS-02,E2,2023-11-03T09:05:00,\n"  # line 5
        "A3,PRESS-02,E3,2023-11-03T25:00:00,\n",  # line 6, in the second chunk
        encoding="utf-8")
    with pytest.raises(BadInput, match=r"^alarms\.csv:6: 日期格式错误 bad date in column raised_at"):
        ingest(chunked, folder)
    assert sources(chunked)[-1] == "csv:alarms.csv"  # the first chunk was committed
    chunked.close()
    whole.close()


def test_gs1_identifiers_in_id_columns(tmp_path: Path) -> None:
    (tmp_path / "units.csv").write_text(
        "serial,product_id,gtin\n"
        "urn:epc:id:sgtin:6901234.000001.SN-9,https://id.gs1.org/01/06901234000016,06901234000016\n",
        encoding="utf-8")
    (batch,) = read(tmp_path)
    unit = "unit:06901234000016.SN-9"
    assert [(e.src, e.rel, e.dst) for e in batch.edges] == [(unit, "instanceOf", "product:06901234000016")]
    aliases = {n.uid: n.aliases for n in batch.nodes if n.aliases}
    assert aliases == {unit: ("https://id.gs1.org/01/06901234000016/21/SN-9",),  # once: the URN's own
                       "product:06901234000016": ("https://id.gs1.org/01/06901234000016",)}


def test_what_is_not_in_the_folder_is_left_out(tmp_path: Path) -> None:
    (tmp_path / "consumption.csv").write_text("operation_id,input_id\nOP-9,ML-1\n", encoding="utf-8")
    (tmp_path / "measurements.csv").write_text("operation_id,parameter_id,value\nOP-9,P-1,3.5\n",
                                               encoding="utf-8")
    consumption, measurements = read(tmp_path)
    assert [(e.src, e.rel, e.dst, e.time) for e in consumption.edges] == [
        ("lot:ML-1", "consumedBy", "op:OP-9", None)]
    assert measurements.edges[0].attrs == {"value": 3.5}  # limits unknown: no out_of_spec flag


def test_registered_as_csv_and_planned_for_table_folders() -> None:
    assert get("csv") is read
    assert [b.source for b in plan(PLANT)] == [b.source for b in read(PLANT)]
