"""Trace questions answered over the graph engine: which supplier, which materials, where a lot went."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from zhuisu.assistant.answer import Answer, Citation, Context, refuse
from zhuisu.graph.results import Trace

_TRACEABLE = ("SerialUnit", "MaterialLot", "LogisticUnit", "Shipment")


def _engine(ctx: Context) -> Any:
    if ctx.engine is None:
        from zhuisu.graph.engine import Engine

        ctx.engine = _engines.get(ctx.store.url) or Engine.load(ctx.store)
        _engines.clear()
        _engines[ctx.store.url] = ctx.engine
    return ctx.engine


_engines: dict[str, Any] = {}


def _item(ctx: Context, intent: str) -> tuple[str, str] | Answer:
    s = ctx.slots
    if s.ambiguous_ids:
        token, uids = next(iter(s.ambiguous_ids.items()))
        names = "、".join(u.partition(":")[2] for u in uids)
        return refuse(ctx.question, f"“{token}”对应多个批次，请问是哪一个？{names}",
                      intent=intent, clarify=uids)
    items = [(u, k) for u, k in s.items if k in _TRACEABLE]
    if not items and s.unknown_ids:
        return refuse(ctx.question, f"找不到编号 {'、'.join(s.unknown_ids)} 的产品或批次，请核对编号。", intent=intent)
    if not items:
        return refuse(ctx.question, "请给出产品序列号或批次号（如：SN-M2311-00042、CG2311-0020）。", intent=intent)
    return items[0]


def _paths(tr: Trace, root: str) -> dict[str, list[str]]:
    """For each node of a trace, the uids from the root to it along the followed edges."""
    forward = tr.direction == "forward"
    parent: dict[str, str] = {}
    for e in tr.edges:
        child, par = (e.dst, e.src) if forward else (e.src, e.dst)
        parent.setdefault(child, par)
    out: dict[str, list[str]] = {}
    for n in tr.nodes:
        path, cur, seen = [n.uid], n.uid, {n.uid}
        while cur != root and cur in parent and parent[cur] not in seen:
            cur = parent[cur]
            seen.add(cur)
            path.append(cur)
        out[n.uid] = path[::-1]
    return out


def _material_lots(tr: Trace, materials: list[str]) -> list[Any]:
    return [n for n in tr.nodes if n.kind in ("MaterialLot", "SerialUnit") and n.level > 0
            and n.material is not None and n.material.uid in materials]


def supplier(ctx: Context) -> Answer:
    from zhuisu.graph.trace import trace

    got = _item(ctx, "supplier")
    if isinstance(got, Answer):
        return got
    uid, _kind = got
    kb = ctx.kb
    tr = trace(_engine(ctx), uid, direction="backward")
    paths = _paths(tr, uid)
    supplies = {e.dst: e.src for e in tr.edges if e.rel == "supplies"}
    lots = [n for n in tr.nodes if n.uid in supplies]
    if ctx.slots.materials:
        named = {n.uid for n in _material_lots(tr, ctx.slots.materials)}
        bought = [n for n in lots if n.uid in named]
        # a material made in-house (奶仓原奶): the suppliers of what went into its lots
        lots = bought or [n for n in lots if named & set(paths.get(n.uid, [])[:-1])]
    if not lots:
        what = "、".join(ctx.slots.material_words) or "外购物料"
        return refuse(ctx.question, f"{uid.partition(':')[2]} 的追溯中没有{what}的供应商记录。", intent="supplier")
    lines, rows, cites = [f"{uid.partition(':')[2]} 的供应商追溯："], [], []
    for n in lots:
        sup = supplies[n.uid]
        sname = kb.named[sup].name if sup in kb.named else sup
        mname = kb.named[n.material.uid].name if n.material and n.material.uid in kb.named else "物料"
        lines.append(f"- {mname}：批次 {n.uid.partition(':')[2]} → 供应商 {sname}（{sup.partition(':')[2]}）")
        rows.append({"lot": n.uid, "material": n.material.uid if n.material else None, "supplier": sup,
                     "supplier_name": sname})
        cites.append(Citation(sup, "Supplier", sname, path=[*paths.get(n.uid, [uid, n.uid]), sup]))
    ctx.focus.update(items=[uid], lots=[r["lot"] for r in rows],
                     lot_materials={r["lot"]: r["material"] for r in rows})
    return Answer(ctx.question, "\n".join(lines), "supplier", cites,
                  data={"item": uid, "suppliers": sorted({r["supplier"] for r in rows}), "lots": rows})


def materials(ctx: Context) -> Answer:
    from zhuisu.graph.trace import trace

    got = _item(ctx, "materials")
    if isinstance(got, Answer):
        return got
    uid, _kind = got
    kb = ctx.kb
    tr = trace(_engine(ctx), uid, direction="backward")
    paths = _paths(tr, uid)
    by_material: dict[str, list[str]] = defaultdict(list)
    for n in tr.nodes:
        if n.level > 0 and n.kind in ("MaterialLot", "SerialUnit") and n.material is not None:
            by_material[n.material.uid].append(n.uid)
    if not by_material:
        return refuse(ctx.question, f"{uid.partition(':')[2]} 没有上游物料记录。", intent="materials")
    lines = [f"{uid.partition(':')[2]} 用到的物料（含上游各级）："]
    cites: list[Citation] = []
    for mat, lots in sorted(by_material.items()):
        name = kb.named[mat].name if mat in kb.named else mat
        lines.append(f"- {name}：" + "、".join(x.partition(":")[2] for x in lots[:5]) +
                     (f" 等{len(lots)}个" if len(lots) > 5 else ""))
        cites.extend(Citation(x, "MaterialLot", name, path=paths.get(x)) for x in lots[:5])
    ctx.focus.update(items=[uid], lots=[x for v in by_material.values() for x in v])
    return Answer(ctx.question, "\n".join(lines), "materials", cites,
                  data={"item": uid, "materials": sorted(by_material),
                        "lots": {m: v for m, v in sorted(by_material.items())}})


def where_went(ctx: Context) -> Answer:
    from zhuisu.graph.trace import trace

    s = ctx.slots
    got = _item(ctx, "where_went")
    if isinstance(got, Answer):
        return got
    uid, kind = got
    engine = _engine(ctx)
    if kind == "SerialUnit" and s.materials:  # "这批磁钢" after asking about a unit: its magnet lot
        lots = _material_lots(trace(engine, uid, direction="backward"), s.materials)
        if not lots:
            return refuse(ctx.question, f"{uid.partition(':')[2]} 没有用到{'、'.join(s.material_words)}。",
                          intent="where_went")
        uid = lots[0].uid
    tr = trace(engine, uid, direction="forward")
    paths = _paths(tr, uid)
    customers = [n for n in tr.nodes if n.kind == "Customer"]
    shipments = [n for n in tr.nodes if n.kind == "Shipment"]
    units = [n for n in tr.nodes if n.kind == "SerialUnit" and n.level > 0]
    if not customers:
        return refuse(ctx.question, f"{uid.partition(':')[2]} 下游没有发货到客户的记录"
                      f"（下游产品{len(units)}件）。", intent="where_went")
    kb = ctx.kb
    lines = [f"{uid.partition(':')[2]} 流向{len(customers)}家客户"
             f"（经{len(shipments)}个发货单，下游产品{len(units)}件）："]
    cites: list[Citation] = []
    for c in customers:
        name = kb.named[c.uid].name if c.uid in kb.named else (c.name or c.uid)
        via = [p for p in paths.get(c.uid, []) if p.startswith("shipment:")]
        lines.append(f"- {name}（{c.uid.partition(':')[2]}）" + (f"，发货单 {via[0].partition(':')[2]}" if via else ""))
        cites.append(Citation(c.uid, "Customer", name, path=paths.get(c.uid)))
    cites.extend(Citation(n.uid, "Shipment", None, path=paths.get(n.uid)) for n in shipments)
    ctx.focus.update(items=[uid])
    return Answer(ctx.question, "\n".join(lines), "where_went", cites,
                  data={"item": uid, "customers": sorted(c.uid for c in customers),
                        "shipments": sorted(n.uid for n in shipments), "units": len(units)})
