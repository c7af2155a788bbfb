"""``zhuisu demo``: build the store from the motor sample, then trace a defective unit and contain the cause."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console

from zhuisu.graph.engine import Engine
from zhuisu.graph.store import Store
from zhuisu.graph.trace import trace
from zhuisu.ingest import plan
from zhuisu.render import print_trace

MOTOR = Path(__file__).with_name("data") / "motor"


def run(console: Console, db: str | None = None) -> None:
    """Ingest the sample (idempotent), then show a backward trace and a forward containment."""
    store = Store(db)
    console.print(f"[bold]1. 导入示例电机厂 ingest the sample motor plant[/] {MOTOR} → {store.url}")
    added = sum(store.ingest(batch).edges_added for batch in plan(MOTOR))
    counts = store.counts()
    console.print(f"   {counts['nodes']} 节点 nodes, {counts['edges']} 关系 edges (+{added} new)")
    engine = Engine.load(store)
    truth = json.loads((MOTOR / "truth.json").read_text(encoding="utf-8"))
    cause = truth["causes"][0]["uid"]
    contained = trace(engine, cause, direction="forward")
    defective = [
        n.uid for n in contained.nodes
        if n.kind == "SerialUnit" and any(i.result == "fail" and i.defect_code == truth["defect_code"]
                                          for i in n.inspections)
    ]
    if not defective:
        console.print(f"示例数据中没有 {truth['defect_code']} 不良的产品 no defective unit in the sample")
        return
    unit = defective[0]
    console.print(f"\n[bold]2. 反向追溯一台 {truth['defect_code']} 不良电机 backward trace of a defective unit[/]")
    print_trace(console, trace(engine, unit).to_dict(), limit=12)
    console.print(f"\n[bold]3. 正向围堵可疑批次 forward containment of the suspect lot[/] {cause}")
    print_trace(console, contained.to_dict(), limit=12)
    units = sum(1 for n in contained.nodes if n.kind == "SerialUnit")
    customers = sorted({n.name or n.uid for n in contained.nodes if n.kind == "Customer"})
    console.print(
        f"   该批次流入 {units} 台产品 units, 其中 {len(defective)} 台已检出 {truth['defect_code']}; "
        f"客户 customers: {'、'.join(customers) or '—'}"
    )
    console.print(
        "\n[bold]继续 go on[/]: "
        f"zhuisu trace {unit} --json · zhuisu trace {cause} --forward · "
        f"zhuisu paths {unit} {cause} --k 3 · zhuisu samples make dairy --out dairy/ && zhuisu ingest dairy/"
    )
