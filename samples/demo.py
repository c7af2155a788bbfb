"""``zhuisu demo``: build the store from the motor sample, then do what a quality engineer would: find the
defect found most often, rank its causes, trace one defective unit back and contain the top cause.

Nothing is read from the sample's answer key (``truth.json``): the cause shown is the one RCA finds.
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from zhuisu.graph.engine import Engine
from zhuisu.graph.store import Store
from zhuisu.graph.trace import trace
from zhuisu.ingest import plan
from zhuisu.nlp.enrich import enrich
from zhuisu.rca.analysis import rca
from zhuisu.rca.containment import contain
from zhuisu.rca.population import defect_items
from zhuisu.rca.render import print_containment, print_rca
from zhuisu.render import print_trace

MOTOR = Path(__file__).with_name("data") / "motor"


def most_found_defect(engine: Engine) -> tuple[str, int] | None:
    """The defect code found on the most items (failed inspections and complaints), with that count."""
    codes = [uid.removeprefix("defect:") for uid in engine.uids.starting_with("defect:", 10_000)]
    counted = [(len(defect_items(engine, code)), code) for code in codes]
    if not counted:
        return None
    count, code = max(counted)
    return code, count


def run(console: Console, db: str | None = None) -> None:
    """Ingest the sample (idempotent) and read its notes; then RCA, a backward trace, a containment of the top cause."""
    store = Store(db)
    console.print(f"[bold]1. 导入示例电机厂 ingest the sample motor plant[/] {MOTOR} → {store.url}")
    first = store.last_batch() + 1
    added = sum(store.ingest(batch).edges_added for batch in plan(MOTOR))
    read = store.ingest(enrich(store, since_batch=first - 1)).edges_added  # what `zhuisu ingest` does with notes
    counts = store.counts()
    console.print(f"   {counts['nodes']} 节点 nodes, {counts['edges']} 关系 edges (+{added} new, "
                  f"+{read} 读自维修记录 from maintenance notes)")
    engine = Engine.load(store)
    found = most_found_defect(engine)
    if found is None:
        console.print("示例数据中没有不良记录 no defect found in the sample")
        return
    code, count = found
    console.print(f"\n[bold]2. 最常见的缺陷 {code}（{count} 件）的根因分析 root causes of the most frequent defect[/]")
    result = rca(engine, defect_code=code, limit=5)
    print_rca(console, result.to_dict(), limit=5)
    if not result.significant:
        return
    top = result.significant[0]
    exposed = top.evidence.defective if top.evidence else ()
    if exposed:
        console.print("\n[bold]3. 反向追溯一件暴露于该因素的不良品 backward trace of a defective item it reached[/]")
        print_trace(console, trace(engine, exposed[0]).to_dict(), limit=12)
    console.print(f"\n[bold]4. 围堵首要因素 contain the top cause[/] {top.uid}")
    print_containment(console, contain(engine, top.uid).to_dict(), limit=12)
    unit = exposed[0] if exposed else top.uid
    console.print(
        "\n[bold]继续 go on[/]: "
        f"zhuisu report --defect-code {code} --out 8d/ · zhuisu contain {top.uid} --out contain.xlsx · "
        f"zhuisu paths {unit} {top.uid} --k 3 · zhuisu ask \"2号压装机最近有什么故障？\" · zhuisu serve"
    )
