"""Terminal rendering of RCA, similar units and containment (the JSON forms of docs/rca.md) for people."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from zhuisu.rca.export import STATUS

_VERDICT = {"significant": "[bold red]显著[/]", "explained": "已解释", "inconclusive": "[yellow]不确定[/]",
            "not significant": "[dim]不显著[/]"}


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def print_rca(console: Console, result: dict[str, Any], *, limit: int = 15) -> None:
    """Scope, ranked candidates and the evidence of the significant ones."""
    scope = result["population"]
    console.print(f"[bold]根因分析 root-cause analysis[/] {escape(str(scope['defect_code'] or '清单 listed items'))}: "
                  f"{scope['defects']}/{scope['items']} 不良 defective ({_pct(scope['rate'])}), "
                  f"{escape(str(scope['since'] or '')[:10])} — {escape(str(scope['until'] or '')[:10])}, "
                  f"{result['tested']} 项检验 hypotheses tested")
    if scope.get("sampled_from"):
        console.print(f"对照为随机抽样 controls are a random sample of {scope['sampled_from']:,} items (case-control)")
    table = Table(show_lines=False, header_style="bold")
    table.add_column("#")
    table.add_column("因素 factor", min_width=30, ratio=1)
    for column in ("暴露 n", "不良 k", "有/无", "提升", "q", "结论"):
        table.add_column(column, no_wrap=True)
    for c in result["candidates"][:limit]:
        lift = "∞" if c["lift"] is None else f"{c['lift']:.1f}"
        members = f"\n[dim]同组 with {escape('、'.join(c['members'][1:]))}[/]" if len(c["members"]) > 1 else ""
        why = f"\n[dim]由 {escape(c['explained_by'])} 解释[/]" if c.get("explained_by") else ""
        label = escape(c["description"].split("|")[0].strip())
        table.add_row(str(c["rank"]), f"{label}\n[dim]{escape(c['uid'])}[/]{members}{why}",
                      str(c["exposed"]), str(c["defective"]), f"{_pct(c['rate_with'])} / {_pct(c['rate_without'])}",
                      lift, f"{c['q_value']:.2g}", _VERDICT.get(c["verdict"], c["verdict"]))
    console.print(table)
    console.print("[dim]暴露 n exposed items · 不良 k defective among them · "
                  "有/无 defect rate with/without the factor · 提升 lift · q Benjamini–Hochberg · "
                  "结论 显著 significant / 已解释 explained by a stronger factor / "
                  "不确定 inconclusive / 不显著 not significant[/]")
    if not result["significant"]:
        console.print(f"没有显著因素 nothing significant at q < {result['alpha']:g}")
    for c in result["candidates"]:
        ev = c.get("evidence")
        if not ev:
            continue
        console.print(f"\n[bold]证据 evidence #{c['rank']}[/] {escape(c['description'])}")
        for p in ev["paths"][:2]:
            console.print("  " + escape(" ← ".join(n["uid"] for n in p["nodes"])))
        for m in ev["maintenance"][:4]:
            console.print(f"  维修 {escape(m['uid'])} {escape(str(m.get('finished_at') or ''))} "
                          f"{escape(str(m.get('text') or ''))}")
        for a in ev["alarms"][:4]:
            console.print(f"  报警 {escape(a['uid'])} {escape(str(a.get('code')))} {escape(str(a.get('raised_at')))} "
                          f"{escape(str(a.get('message') or ''))}")
        for r in ev["readings"][:4]:
            flag = " [bold red]超差[/]" if r["out_of_spec"] else ""
            console.print(f"  读数 {escape(r['item'])} {escape(str(r['name']))}={r['value']}{escape(r['unit'] or '')}"
                          f" [{r['lsl']}–{r['usl']}]{flag}")


def print_similar(console: Console, result: dict[str, Any]) -> None:
    console.print(f"[bold]相似产品 similar to[/] {escape(result['root'])} "
                  f"({len(result['factors'])} 个因素 factors, ±{result['window_hours']:g} h)")
    table = Table(header_style="bold")
    for column in ("uid", "得分 score", "时间 time", "缺陷 defects", "共享 shared"):
        table.add_column(column)
    for u in result["units"]:
        table.add_row(escape(u["uid"]), f"{u['score']:g}", escape(str(u["time"] or "")[:16]),
                      escape(",".join(u["defects"])), escape("、".join(u["shared"][:6])
                                                              + (" …" if len(u["shared"]) > 6 else "")))
    console.print(table)


def print_containment(console: Console, result: dict[str, Any], *, limit: int = 20) -> None:
    totals = result["totals"]
    window = ""
    if result["since"] or result["until"]:
        window = f" {escape(str(result['since'] or '…')[:16])} — {escape(str(result['until'] or '…')[:16])}"
    console.print(f"[bold]围堵 containment[/] {escape(result['root'])}{window}: {totals['items']} 件 items, "
                  f"{totals['shipments']} 批发货 shipments, {len(totals['customers'])} 家客户 customers")
    for status, slot in totals["by_status"].items():
        quantity = "; ".join(f"{q:g} {u}".strip() for u, q in slot["quantity"].items())
        console.print(f"  {STATUS.get(status, status)}: {slot['items']} ({escape(quantity)})")
    if result["shipments"]:
        table = Table(header_style="bold")
        for column in ("发货单 shipment", "时间 time", "客户 customer", "件数 items", "数量 quantity"):
            table.add_column(column)
        for s in result["shipments"][:limit]:
            table.add_row(escape(s["uid"]), escape(str(s["time"] or "")[:16]),
                          escape(f"{s['customer_name'] or ''} ({s['customer'] or '—'})"), str(s["items"]),
                          f"{s['quantity']:g}" if s["quantity"] is not None else "")
        console.print(table)
