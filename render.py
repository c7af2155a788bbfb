"""Terminal rendering of query results (the JSON forms of docs/cli.md) for people."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from rich.console import Console
from rich.markup import escape

from zhuisu.ontology import load

_ITEM_KINDS = ("SerialUnit", "MaterialLot", "LogisticUnit")


def _label(kind: str) -> str:
    onto = load()
    return onto.kinds[kind].label_zh if kind in onto.kinds else kind


def _ref(item: dict[str, Any]) -> str:
    name = item.get("name")
    return escape(f"{name}({item['uid'].split(':', 1)[1]})" if name else item["uid"])


def _refs(items: list[dict[str, Any]]) -> str:
    return "、".join(_ref(i) for i in items)


def _param(p: dict[str, Any]) -> str:
    value = p.get("value")
    shown = f"{value:g}" if isinstance(value, int | float) else "?"
    limits = f" [{p['lsl']:g}–{p['usl']:g}]" if isinstance(p.get("lsl"), int | float) and isinstance(
        p.get("usl"), int | float) else ""
    flag = " [bold red]超差 out of spec[/]" if p.get("out_of_spec") else ""
    return f"{escape(p.get('name') or p['uid'])}={shown}{escape(p.get('unit') or '')}{limits}{flag}"


def _inspection(i: dict[str, Any]) -> str:
    text = "[red]不合格 fail[/]" if i["result"] == "fail" else "合格 pass"
    if i.get("defect_code"):
        text += " " + escape(i["defect_code"])
    return text + (f" {i['time'][:10]}" if i.get("time") else "")


def _amount(node: dict[str, Any]) -> str:
    received = node.get("received")
    return f" ×{received:g}{escape(node.get('uom') or '')}" if isinstance(received, int | float) else ""


def _item(node: dict[str, Any]) -> str:
    material = node.get("material")
    what = f" {escape(material['name'] or material['uid'])}" if material else ""
    inspections = "；".join(_inspection(i) for i in node.get("inspections", []))
    return f"{_ref(node)}{what}{_amount(node)}" + (f"  检验 {inspections}" if inspections else "")


def print_trace(console: Console, trace: dict[str, Any], *, limit: int = 40) -> None:
    """A trace as a summary, then (backward) each step with its context, or (forward) where the material went."""
    backward = trace["direction"] == "backward"
    stats = trace["stats"]
    title = "反向追溯 backward trace" if backward else "正向追踪 forward trace"
    console.print(f"[bold]{title}[/] {escape(trace['root'])}: {stats['nodes']} 节点 nodes, "
                  f"{stats['steps']} 工序 steps, {stats['ms']:.1f} ms")
    kinds = Counter(n["kind"] for n in trace["nodes"])
    console.print("  " + " · ".join(f"{_label(k)} {c}" for k, c in kinds.most_common()))
    nodes = {n["uid"]: n for n in trace["nodes"]}
    if backward:
        root = nodes.get(trace["root"])
        if root:
            console.print(f"  {_label(root['kind'])} {_item(root)}")
        for step in trace["steps"][:limit]:
            _print_step(console, step, nodes)
        if len(trace["steps"]) > limit:
            console.print(f"  … 另有 {len(trace['steps']) - limit} 个工序 more steps (--json)")
        suppliers = [n for n in trace["nodes"] if n["kind"] == "Supplier"]
        if suppliers:
            console.print("  供应商 suppliers: " + "、".join(_ref(s) + _amount(s) for s in suppliers))
        return
    by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for n in trace["nodes"][1:]:
        by_kind[n["kind"]].append(n)
    for kind in ("Customer", "Shipment", "LogisticUnit", "SerialUnit", "MaterialLot"):
        items = by_kind.get(kind, [])
        if items:
            shown = "、".join(_ref(n) + _amount(n) for n in items[:limit])
            more = f" … (+{len(items) - limit})" if len(items) > limit else ""
            console.print(f"  {_label(kind)} {len(items)}: {shown}{more}")
    failed = [n for n in by_kind.get("SerialUnit", []) + by_kind.get("MaterialLot", [])
              if any(i["result"] == "fail" for i in n.get("inspections", []))]
    if failed:
        console.print(f"  [red]已检出不合格 failed inspections {len(failed)}[/]: "
                      + "、".join(_ref(n) for n in failed[:limit]))


def _print_step(console: Console, step: dict[str, Any], nodes: dict[str, dict[str, Any]]) -> None:
    time = (step.get("time") or "")[:16].replace("T", " ")
    console.print(f"  [bold]L{step['level']} {escape(step.get('step') or '')}[/] {escape(step['operation'])} {time}")
    context = [(label, _refs(step[key])) for label, key in
               (("设备", "equipment"), ("操作员", "operators"), ("班次", "shifts"), ("工装", "tools"),
                ("工单", "work_orders")) if step[key]]
    if context:
        console.print("      " + " · ".join(f"{label} {text}" for label, text in context))
    if step["parameters"]:
        console.print("      参数 " + "；".join(_param(p) for p in step["parameters"]))
    if step["inspections"]:
        console.print("      检验 " + "；".join(_inspection(i) for i in step["inspections"]))
    inputs = [nodes[u] for u in step["inputs"] if u in nodes and nodes[u]["kind"] in _ITEMS_OR_SUPPLY]
    if inputs:
        console.print("      投入 " + "；".join(_item(n) for n in inputs))


_ITEMS_OR_SUPPLY = (*_ITEM_KINDS, "Supplier")


def print_paths(console: Console, result: dict[str, Any]) -> None:
    """Each path as a chain of named nodes and relations."""
    if not result["paths"]:
        console.print(f"{escape(result['source'])} 与 {escape(result['target'])} 之间没有路径 no path")
        return
    onto = load()
    for i, path in enumerate(result["paths"], 1):
        parts = [_ref(path["nodes"][0])]
        for edge, node in zip(path["edges"], path["nodes"][1:], strict=True):
            rel = onto.relations[edge["rel"]].label_zh if edge["rel"] in onto.relations else edge["rel"]
            arrow = "→" if edge["src"] != node["uid"] else "←"
            parts.append(f" {arrow}{rel}{arrow} {_ref(node)}")
        console.print(f"{i}. (长度 length {path['length']}) " + "".join(parts))
