"""Terminal rendering of query results (the JSON forms of docs/cli.md) for people."""

from __future__ import annotations

from collections import Counter
from typing import Any

from rich.console import Console
from rich.table import Table

from zhuisu.ontology import load


def _label(kind: str) -> str:
    onto = load()
    return onto.kinds[kind].label_zh if kind in onto.kinds else kind


def _names(items: list[dict[str, Any]]) -> str:
    return "、".join(f"{i.get('name') or i['uid']}" for i in items) or "—"


def _param(p: dict[str, Any]) -> str:
    value = p.get("value")
    text = f"{p.get('name') or p['uid']}={value:g}{p.get('unit') or ''}" if isinstance(value, float) else p["uid"]
    return text + (" [bold red]超差[/]" if p.get("out_of_spec") else "")


def print_trace(console: Console, trace: dict[str, Any], *, limit: int = 40) -> None:
    """A trace as a summary line, the steps with their context, and the reached nodes by kind."""
    direction = "反向追溯 backward" if trace["direction"] == "backward" else "正向追踪 forward"
    stats = trace["stats"]
    console.print(
        f"[bold]{direction}[/] {trace['root']}: {stats['nodes']} 节点 nodes, {stats['steps']} 工序 steps "
        f"({stats['ms']:.1f} ms)"
    )
    kinds = Counter(n["kind"] for n in trace["nodes"])
    console.print("  " + "  ".join(f"{_label(k)} {c}" for k, c in kinds.most_common()))
    steps = Table(title="工序与上下文 steps and their context", show_lines=False)
    for column in ("层", "工序", "时间", "设备", "操作员", "班次", "参数", "检验"):
        steps.add_column(column)
    for step in trace["steps"][:limit]:
        steps.add_row(
            str(step["level"]),
            f"{step.get('step') or ''} {step['operation']}",
            (step.get("time") or "")[:16],
            _names(step["equipment"]),
            _names(step["operators"]),
            _names(step["shifts"]),
            "；".join(_param(p) for p in step["parameters"]) or "—",
            "；".join(f"{i['result']} {i.get('defect_code') or ''}".strip() for i in step["inspections"]) or "—",
        )
    console.print(steps)
    if len(trace["steps"]) > limit:
        console.print(f"  … 另有 {len(trace['steps']) - limit} 个工序 more steps (use --json)")
    shown = [n for n in trace["nodes"] if n["kind"] not in {"Operation"}][:limit]
    nodes = Table(title="涉及对象 reached items")
    for column in ("层", "类型", "uid", "名称", "数量"):
        nodes.add_column(column)
    for n in shown:
        received = n.get("received")
        nodes.add_row(
            str(n["level"]), _label(n["kind"]), n["uid"], n.get("name") or "",
            f"{received:g} {n.get('uom') or ''}" if received is not None else "",
        )
    console.print(nodes)


def print_paths(console: Console, result: dict[str, Any]) -> None:
    """Each path as a chain of named nodes and relations."""
    if not result["paths"]:
        console.print(f"{result['source']} 与 {result['target']} 之间没有路径 no path")
        return
    onto = load()
    for i, path in enumerate(result["paths"], 1):
        parts = [f"{path['nodes'][0].get('name') or path['nodes'][0]['uid']}"]
        for edge, node in zip(path["edges"], path["nodes"][1:], strict=True):
            rel = onto.relations[edge["rel"]].label_zh if edge["rel"] in onto.relations else edge["rel"]
            parts.append(f" ─{rel}─ {node.get('name') or node['uid']}")
        console.print(f"{i}. (长度 {path['length']}) " + "".join(parts))
