"""Per-intent handlers over the store's records and the graph engine, each returning an answer with citations."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from zhuisu.assistant.intents import INTENTS
from zhuisu.assistant.kb import KB, Order
from zhuisu.assistant.search import BM25, tokens
from zhuisu.assistant.slots import ACTIVITY, Slots, concept_surfaces

if TYPE_CHECKING:
    from zhuisu.graph.engine import Engine
    from zhuisu.graph.store import Store


@dataclass(slots=True)
class Citation:
    """Where a fact came from: a record (maintenance order, alarm, lot…) or a graph path."""

    id: str  # the record's uid
    kind: str
    text: str | None = None
    path: list[str] | None = None  # uids from the asked-about item to this record, for graph facts

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "kind": self.kind}
        if self.text is not None:
            out["text"] = self.text
        if self.path is not None:
            out["path"] = self.path
        return out


@dataclass
class Answer:
    """A concise Chinese answer, its evidence, and a structured payload for the API and web."""

    question: str
    answer: str
    intent: str | None
    citations: list[Citation] = field(default_factory=list)
    refused: bool = False
    clarify: list[str] = field(default_factory=list)  # candidates to choose from, when the question is ambiguous
    data: dict[str, Any] = field(default_factory=dict)
    slots: dict[str, Any] = field(default_factory=dict)
    ms: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"answer": self.answer, "intent": self.intent, "citations": [c.to_dict() for c in self.citations],
                "refused": self.refused, "clarify": self.clarify, "data": self.data, "slots": self.slots,
                "question": self.question, "ms": round(self.ms, 2)}


HELP = "我可以回答：" + "；".join(INTENTS.values()) + "。"


def refuse(question: str, reason: str, *, intent: str | None = None, clarify: list[str] | None = None) -> Answer:
    """A polite 无法回答 that says why and what zhuisu can answer."""
    text = f"抱歉，无法回答：{reason}" + ("" if clarify else "\n" + HELP)
    return Answer(question, text, intent, refused=True, clarify=clarify or [])


@dataclass
class Context:
    """What a handler may use."""

    question: str
    slots: Slots
    kb: KB
    store: Store
    engine: Engine | None
    focus: dict[str, Any]  # what the answer was about, for the next turn (equipment, item, lot)


def _when(t: datetime | None) -> str:
    return t.strftime("%Y-%m-%d %H:%M") if t else "时间不详"


def _day(t: datetime | None) -> str:
    return t.strftime("%Y-%m-%d") if t else "日期不详"


def _span(kb: KB) -> str:
    """When the maintenance records run, for an answer whose window found nothing."""
    times = [o.reported_at for o in kb.orders.values() if o.reported_at]
    return f"维修记录的时间范围是 {_day(min(times))}～{_day(max(times))}。" if times else "还没有维修记录。"


def _cite(o: Order) -> Citation:
    return Citation(o.uid, "MaintenanceOrder", o.text)


def _eq_name(kb: KB, uid: str | None) -> str:
    if uid is None:
        return "未知设备"
    eq = kb.equipment.get(uid)
    return f"{eq.name}（{uid.partition(':')[2]}）" if eq else uid


def _machines(ctx: Context) -> set[str] | None:
    """The machines a question is about: named ones, else every machine of a named type, else None (all)."""
    s = ctx.slots
    if s.equipment:
        return set(s.equipment)
    if s.equipment_type:
        return {e.uid for e in ctx.kb.equipment.values() if e.type == s.equipment_type}
    return None


def _window_text(s: Slots) -> str:
    return f"{s.window.label}（{_day(s.window.since)}～{_day(s.window.until)}前）" if s.window else ""


def _clause(text: str, surface: str) -> str:
    for part in re.split(r"[，。；;,、]", text):
        if surface and surface.lower() in part.lower():
            return part.strip()
    return text[:30]


# ── orders matched by what the question names ──────────────────────────────────
def _surfaces(kb: KB, concept: str, asked: str | None = None) -> set[str]:
    """How a concept may be written: the lexicon's forms, the notes' own words, and the question's."""
    out = concept_surfaces().get(concept, set()) | kb.surfaces_of(concept) | ({asked.lower()} if asked else set())
    return {s for s in out if len(s) >= 2}


_HELD = {"symptom": "symptoms", "cause": "causes", "action": "actions", "component": "components", "part": "parts"}


def _mentions(order: Order, concept: str, surfaces: set[str]) -> bool:
    """The note was found to say ``concept`` (an enrichment edge) or uses one of its ``surfaces``."""
    held = getattr(order, _HELD.get(concept.partition(":")[0], ""), None) or {}
    return concept in held or any(s in order.norm for s in surfaces)


def _action_done(order: Order, concept: str, objects: set[str] = frozenset()) -> bool:  # type: ignore[assignment]
    """The note did the action (a surface not part of a machine or tool name: 拧紧机 is no 拧紧) — to one of
    ``objects`` in the same clause when given (更换切刀, not 更换双氧水、检查切刀)."""
    for s in concept_surfaces().get(concept, set()) | {concept.partition(":")[2]}:
        for m in re.finditer(re.escape(s), order.norm):
            if re.match(r"机|枪|ng|扭矩|力|套筒", order.norm[m.end():]):
                continue
            clause = re.split(r"[，。；;,、]", order.norm[m.end():], maxsplit=1)[0]
            if not objects or any(o in clause for o in objects):
                return True
    return False


_FILLER = re.compile(r"一般|通常|经常|老是|总是|情况|时候|记录|设备|机器|机台|这台|那台|上回|一下|请问|现在|目前|"
                     r"之前|以前|最近|哪台|哪个|哪些|什么|怎么|多少|几次|有没有|是不是|师傅|出现|发生|遇到|碰到|"
                     r"处理|维修|修理|负责|解决")  # question words and generic verbs, never what a note is about


@cache
def _cue_words() -> re.Pattern[str]:
    from zhuisu.assistant.intents import CUES

    return re.compile("|".join(re.escape(c) for c in sorted({c for cs in CUES.values() for c in cs}, key=len,
                                                            reverse=True)))


def literal_words(ctx: Context) -> list[str]:
    """Words of the question nothing else read (拆洗, 漏奶): the notes that use them are the ones asked about."""
    from zhuisu.assistant.search import _STOP

    rest = _cue_words().sub(" ", ctx.slots.rest)
    if ctx.slots.window:
        rest = rest.replace(ctx.slots.window.label, " ")
    rest = _FILLER.sub(" ", rest)
    for word in ACTIVITY:
        rest = rest.replace(word, " ")
    runs = re.split(r"[\s\W\d" + re.escape("".join(_STOP)) + r"]+", rest)
    return [r for r in runs if len(r) >= 2 and not r.isascii()]


def matching_orders(ctx: Context, labels: tuple[str, ...], *, machines: bool = True) -> list[Order]:
    """Orders of the question's machines and window that mention every named concept of ``labels``; where some
    notes use the question's very words (零点漂移 rather than its synonym 读数不准), those."""
    s, kb = ctx.slots, ctx.kb
    orders = kb.orders_of(_machines(ctx) if machines else None,
                          s.window.since if s.window else None, s.window.until if s.window else None)
    objects = {w for label in ("Component", "SparePart") for c, asked in s.of(label).items()
               for w in _surfaces(kb, c, asked)}
    for label in labels:
        named = dict(s.of(label))
        if not named:
            continue
        if label == "Action":
            if "action:维修" in named:  # 维修 names a repair, whatever the note calls it
                orders = [o for o in orders if o.type == "corrective"]
                del named["action:维修"]
            orders = [o for o in orders if all(_action_done(o, c, objects) for c in named)]
            continue
        forms = {c: _surfaces(kb, c, asked) for c, asked in named.items()}
        orders = [o for o in orders if any(_mentions(o, c, forms[c]) for c in named)]
        exact = [o for o in orders if any(len(a) >= 2 and a.lower() in o.norm for a in named.values())]
        orders = exact or orders
    if "Action" in labels:
        for word in s.activity:
            orders = [o for o in orders if o.type == ACTIVITY[word] or word in o.norm]
    words = literal_words(ctx)
    narrowed = [o for o in orders if all(w in o.norm for w in words)]
    return narrowed if words and narrowed else orders


def _search(ctx: Context, k: int = 3) -> list[tuple[Order, float]]:
    """Notes most like the question (BM25); of the machines and parts it names, when it names some."""
    index, docs = _bm25(ctx.kb)
    query = tokens(_strip_cues(ctx.slots.text))
    out = []
    for hit in index.top(query, k=max(k, 50), min_score=1.0):
        if any(not t.startswith("#") for t in hit.terms):  # a word or concept in common, not bigrams alone
            out.append((docs[hit.doc], hit.score))
    scoped = [(o, sc) for o, sc in out if _in_scope(ctx, o)]
    return (scoped or out)[:k]


def _in_scope(ctx: Context, order: Order) -> bool:
    machines = _machines(ctx)
    parts = ctx.slots.of("Component")
    return (machines is None or order.equipment in machines) and (
        not parts or any(_mentions(order, c, _surfaces(ctx.kb, c, asked)) for c, asked in parts.items()))


_bm25_cache: dict[int, tuple[BM25, list[Order]]] = {}


def _bm25(kb: KB) -> tuple[BM25, list[Order]]:
    got = _bm25_cache.get(id(kb))
    if got is None:
        docs = sorted(kb.orders.values(), key=lambda o: o.id)
        got = (BM25([tokens(o.norm) for o in docs]), docs)
        _bm25_cache.clear()
        _bm25_cache[id(kb)] = got
    return got


def _strip_cues(text: str) -> str:
    from zhuisu.assistant.intents import CUES

    for cues in CUES.values():
        for cue in sorted(cues, key=len, reverse=True):
            if len(cue) >= 2:
                text = text.replace(cue, " ")
    return text


# ── handlers ───────────────────────────────────────────────────────────────────
def fault_history(ctx: Context) -> Answer:
    s, kb = ctx.slots, ctx.kb
    machines = _machines(ctx)
    if machines is None and s.window is not None:  # 昨天哪些设备出了故障: every machine, in that window
        machines = {o.equipment for o in kb.orders.values() if o.equipment} | {
            a.equipment for a in kb.alarms if a.equipment}
    if machines is None:
        return refuse(ctx.question, "请说明是哪台设备（如：3号压装机、#2烘箱、PRESS-02）。", intent="fault_history")
    everything = bool(re.search(r"保养|维保|维修记录|工单|全部|所有", s.text))
    orders = kb.orders_of(machines, s.window.since if s.window else None, s.window.until if s.window else None)
    faults = [o for o in orders if everything or o.type == "corrective"]
    alarms = [a for a in kb.alarms if a.equipment in machines
              and (s.window is None or (a.raised_at and s.window.since <= a.raised_at < s.window.until))]
    who = ("、".join(_eq_name(kb, u) for u in sorted(machines)) if len(machines) <= 3
           else f"{len(machines)}台{s.equipment_type or '设备'}")
    scope = _window_text(s) or "记录中"
    lines = [f"{who}{scope}共有{len(faults)}条{'维修' if everything else '故障维修'}记录"
             + (f"、{len(alarms)}次报警" if alarms else "") + "："]
    for o in faults[:10]:
        lines.append(f"- {_when(o.reported_at)} {o.id}（{_eq_name(kb, o.equipment)}）：{o.text}"
                     + (f"（{o.technician}，停机{o.downtime_h:g}小时）" if o.downtime_h is not None else ""))
    if alarms:
        top = Counter(f"{a.code} {a.message}" for a in alarms).most_common(3)
        lines.append("报警最多：" + "；".join(f"{m}（{n}次）" for m, n in top))
    ctx.focus.update(equipment=sorted(machines) if len(machines) == 1 else [], orders=[o.uid for o in faults])
    cites = [_cite(o) for o in faults] + [Citation(a.uid, "Alarm", f"{a.code} {a.message}") for a in alarms[:20]]
    if not faults and not alarms:
        cites = [Citation(u, "Equipment", kb.equipment[u].name) for u in sorted(machines)]
    return Answer(ctx.question, "\n".join(lines), "fault_history", cites,
                  data={"equipment": sorted(machines), "orders": [o.uid for o in faults],
                        "alarms": len(alarms)})


def _symptom_orders(ctx: Context) -> tuple[list[Order], str]:
    """Orders about the question's symptom on the part it names (and machine, type); the symptom on the
    machine's other parts when the part has none (said so); like cases found by BM25 when no symptom is named.
    A part named without a machine that has no such record is no evidence of anything: nothing is returned."""
    s = ctx.slots
    if s.of("Symptom") or s.of("Cause"):
        orders = matching_orders(ctx, ("Symptom", "Cause", "Component"))
        if orders or (s.of("Component") and not (s.equipment or s.equipment_type)):
            return orders, "concept"
        orders = matching_orders(ctx, ("Symptom", "Cause"))
        if not orders and (s.equipment or s.equipment_type):
            orders = matching_orders(ctx, ("Symptom", "Cause"), machines=False)
        if orders:
            return orders, "symptom" if s.of("Component") else "concept"
    if s.of("Component") and literal_words(ctx):  # 均质机漏奶: a part and words the lexicon lacks
        orders = [o for o in matching_orders(ctx, ("Component",)) if o.type == "corrective"]
        if orders and all(all(w in o.norm for w in literal_words(ctx)) for o in orders):
            return orders, "concept"
    return [o for o, _ in _search(ctx)], "search"


def _widened(ctx: Context, how: str) -> str:
    """A line saying the records found are about the symptom on other parts, when the question named a part."""
    if how != "symptom":
        return ""
    parts = "、".join(c.partition(":")[2] for c in ctx.slots.of("Component"))
    return f"（记录中没有{parts}出现这个现象的维修，下面是其他部件的同类记录）"


def _said(words: Iterable[str]) -> str:
    """The question's words for what it asks about, none repeated inside another (压力波动, not 压力波动、波动)."""
    ws = list(dict.fromkeys(words))
    return "、".join(w for w in ws if not any(w != o and w in o for o in ws)) or "这个现象"


def _none_found(ctx: Context, intent: str, then: str) -> Answer:
    parts = "、".join(ctx.slots.of("Component").values())
    what = _said([*ctx.slots.of("Symptom").values(), *ctx.slots.of("Cause").values()])
    lead = f"记录中没有{parts}出现“{what}”的维修" if parts else "没有找到与这个现象相关的维修记录"
    return refuse(ctx.question, f"{lead}，{then}", intent=intent)


def fix(ctx: Context) -> Answer:
    orders, how = _symptom_orders(ctx)
    if not orders:
        return _none_found(ctx, "fix", "无法给出有依据的处理方法。")
    what = _said(ctx.slots.of("Symptom").values())
    ranked: Counter[str] = Counter()
    examples: dict[str, list[tuple[Order, str]]] = defaultdict(list)
    for o in orders:
        for concept, surface in o.actions.items():
            if not _action_done(o, concept):
                continue
            if o.resolved:
                ranked[concept] += 1
            else:
                ranked.setdefault(concept, 0)
            examples[concept].append((o, _clause(o.text, surface)))
    lines = [f"关于“{what}”，找到{len(orders)}条相关维修记录" + ("（按相似度检索）" if how == "search" else "")
             + _widened(ctx, how) + "，处理措施按解决次数排序："]
    actions = []
    for concept, n in sorted(ranked.items(), key=lambda kv: (-kv[1], -len(examples[kv[0]]), kv[0])):
        ex = examples[concept][:2]
        actions.append({"action": concept, "resolved": n, "orders": [o.uid for o, _ in examples[concept]]})
        lines.append(f"- {concept.partition(':')[2]}：解决{n}次，例：" + "；".join(f"{o.id}「{c}」" for o, c in ex))
    if not actions:
        lines.append("- 记录中没有写明处理措施，相关记录：" + "；".join(f"{o.id}「{o.text}」" for o in orders[:3]))
    ctx.focus.update(orders=[o.uid for o in orders], equipment=[orders[0].equipment] if orders[0].equipment else [])
    return Answer(ctx.question, "\n".join(lines), "fix", [_cite(o) for o in orders],
                  data={"actions": actions, "orders": [o.uid for o in orders], "matched_by": how})


def causes(ctx: Context) -> Answer:
    from zhuisu.assistant.notes import causes as causes_in

    orders, how = _symptom_orders(ctx)
    if not orders:
        return _none_found(ctx, "causes", "无法判断原因。")
    symptom = {w for c, asked in [*ctx.slots.of("Symptom").items(), *ctx.slots.of("Cause").items()]
               for w in _surfaces(ctx.kb, c, asked)} | set(literal_words(ctx))
    ranked: Counter[str] = Counter()
    where: dict[str, list[str]] = defaultdict(list)
    for o in orders:
        for cause in causes_in(o, symptom, ctx.kb):
            cause = next((c for c in ranked if _same(c, cause)), cause)  # 传感起 is 传感器 misspelt
            ranked[cause] += 1
            where[cause].append(o.id)
    what = _said(ctx.slots.of("Symptom").values())
    scope = f"{ctx.slots.equipment_type}上" if ctx.slots.equipment_type else ""
    searched = ("（按相似度检索）" if how == "search" else "") + _widened(ctx, how)
    lines = [f"{scope}“{what}”的相关记录{len(orders)}条{searched}，记录中的原因："]
    for cause, n in ranked.most_common(5):
        lines.append(f"- {cause}（{n}次：{'、'.join(where[cause][:3])}）")
    if not ranked:
        lines.append("- 记录未写明原因：" + "；".join(f"{o.id}「{o.text}」" for o in orders[:3]))
    ctx.focus.update(orders=[o.uid for o in orders])
    return Answer(ctx.question, "\n".join(lines), "causes", [_cite(o) for o in orders],
                  data={"causes": [{"cause": c, "count": n, "orders": where[c]} for c, n in ranked.most_common()],
                        "orders": [o.uid for o in orders], "matched_by": how})


def _same(a: str, b: str) -> bool:
    from zhuisu.assistant.slots import edit_distance

    a, b = a.removesuffix("（疑似）"), b.removesuffix("（疑似）")
    return a == b or (min(len(a), len(b)) >= 4 and edit_distance(a, b, limit=1) <= 1)


_REPLACED = re.compile(r"(?:更换|换了|换掉|换新|替换)(?:件[:：])?\s*([^，。；,;、（(：:]+)")


def parts(ctx: Context) -> Answer:
    kb = ctx.kb
    orders = matching_orders(ctx, ("Symptom", "Component"))
    used = [o for o in orders if o.parts or _REPLACED.search(o.text)]
    if not used:
        what = "、".join(_eq_name(kb, u) for u in ctx.slots.equipment) or "这些记录"
        if not orders and _machines(ctx) is None and not ctx.slots.of("Symptom") and not ctx.slots.of("Component"):
            return refuse(ctx.question, "请说明设备或维修内容（如：3号绕线机换过哪些备件？）。", intent="parts")
        return refuse(ctx.question, f"{what}没有使用或更换备件的维修记录。", intent="parts")
    lines, items = ["用过的备件/更换件："], []
    for o in used:
        names = [m.group(1).strip() for m in _REPLACED.finditer(o.text)]
        numbers = sorted(p.partition(":")[2] for p in o.parts)
        items.append({"order": o.uid, "parts": numbers, "replaced": names})
        lines.append(f"- {_day(o.reported_at)} {o.id}（{_eq_name(kb, o.equipment)}）：" +
                     "、".join(names or ["—"]) + (f"，备件号 {'、'.join(numbers)}" if numbers else ""))
    ctx.focus.update(orders=[o.uid for o in used], equipment=[used[0].equipment] if used[0].equipment else [])
    return Answer(ctx.question, "\n".join(lines), "parts", [_cite(o) for o in used],
                  data={"items": items, "parts": sorted({p for i in items for p in i["parts"]})})


def last_done(ctx: Context) -> Answer:
    kb, s = ctx.kb, ctx.slots
    orders = matching_orders(ctx, ("Action", "Component", "SparePart", "Symptom"))
    if re.search(r"故障|坏|出问题|修", s.text) and not s.activity:
        orders = [o for o in orders if o.type == "corrective"]
    if not orders:
        what = "".join([*s.of("Action").values(), *s.of("Component").values(), *s.of("Symptom").values()])
        return refuse(ctx.question, f"没有找到{what or '这项工作'}的维修记录。", intent="last_done")
    o = orders[0]
    by = o.technician or "维修人员不详"
    text = (f"最近一次是 {_when(o.reported_at)}，工单 {o.id}（{_eq_name(kb, o.equipment)}，{by}）："
            f"{o.text}")
    if len(orders) > 1:
        text += f"\n此前还有{len(orders) - 1}次：" + "、".join(f"{_day(x.reported_at)} {x.id}" for x in orders[1:4])
    ctx.focus.update(orders=[x.uid for x in orders], equipment=[o.equipment] if o.equipment else [])
    return Answer(ctx.question, text, "last_done", [_cite(x) for x in orders[:4]],
                  data={"order": o.uid, "time": o.reported_at.isoformat() if o.reported_at else None,
                        "technician": o.technician, "equipment": o.equipment})


def who(ctx: Context) -> Answer:
    kb, s = ctx.kb, ctx.slots
    if _machines(ctx) is None and not (s.of("Symptom") or s.of("Component") or s.of("Action") or s.window):
        return refuse(ctx.question, "请说明是哪台设备或哪次维修（如：2号绕线机上次是谁修的？）。", intent="who")
    orders = matching_orders(ctx, ("Symptom", "Component", "Action"))
    if re.search(r"修|维修|处理|故障", s.text) and not s.activity:
        orders = [o for o in orders if o.type == "corrective"] or orders
    if not orders:
        return refuse(ctx.question, "没有找到相应的维修记录。", intent="who")
    if re.search(r"都有|哪些人|都是谁|几个人|最多", s.text):
        counts = Counter(o.technician for o in orders if o.technician)
        text = "维修人员：" + "、".join(f"{n}（{c}次）" for n, c in counts.most_common())
        data = {"technicians": dict(counts.most_common())}
    else:
        o = orders[0]
        text = f"最近一次是{o.technician}，{_when(o.reported_at)}，工单 {o.id}（{_eq_name(kb, o.equipment)}）：{o.text}"
        data = {"technician": o.technician, "order": o.uid}
        orders = [o]
    ctx.focus.update(orders=[o.uid for o in orders], equipment=[orders[0].equipment] if orders[0].equipment else [])
    return Answer(ctx.question, text, "who", [_cite(o) for o in orders[:10]], data=data)


def downtime(ctx: Context) -> Answer:
    kb, s = ctx.kb, ctx.slots
    machines = _machines(ctx)
    orders = [o for o in kb.orders_of(machines, s.window.since if s.window else None,
                                      s.window.until if s.window else None) if o.downtime_h]
    if not orders:
        return refuse(ctx.question, f"{_window_text(s) or ''}没有停机记录。{_span(kb) if s.window else ''}",
                      intent="downtime")
    per: dict[str, float] = defaultdict(float)
    by: dict[str, list[Order]] = defaultdict(list)
    for o in orders:
        key = o.equipment or "未知设备"
        per[key] += o.downtime_h or 0.0
        by[key].append(o)
    shortest = bool(re.search(r"最短|最少", s.text))
    ranking = sorted(per.items(), key=lambda kv: (kv[1], kv[0]) if shortest else (-kv[1], kv[0]))
    scope = _window_text(s) or "全部记录中"
    if s.equipment and len(s.equipment) == 1:
        uid = s.equipment[0]
        total = round(per.get(uid, 0.0), 2)
        text = f"{_eq_name(kb, uid)}{scope}停机共{total:g}小时（{len(by[uid])}次维修）"
        cited = by[uid]
    else:
        top_n = s.top or 1
        head = ranking[:top_n]
        text = f"{scope}停机时间{'最短' if shortest else '最长'}的是" + "、".join(
            f"{_eq_name(kb, u)}：{round(h, 2):g}小时（{len(by[u])}次）" for u, h in head)
        text += "\n排名：" + "；".join(f"{kb.equipment[u].name if u in kb.equipment else u} {round(h, 2):g}h"
                                     for u, h in ranking[:8])
        cited = [o for u, _ in head for o in by[u]]
    ctx.focus.update(equipment=[ranking[0][0]] if not s.equipment else list(s.equipment),
                     orders=[o.uid for o in cited])
    return Answer(ctx.question, text, "downtime", [_cite(o) for o in cited],
                  data={"ranking": [{"equipment": u, "hours": round(h, 2), "orders": len(by[u])} for u, h in ranking],
                        "window": s.window.to_dict() if s.window else None})


def similar(ctx: Context) -> Answer:
    hits = _search(ctx, k=3)
    if not hits:
        return refuse(ctx.question, "没有找到相似的历史维修案例。", intent="similar")
    lines = ["相似的历史案例："]
    for o, score in hits:
        lines.append(f"- {o.id}（{_day(o.reported_at)}，{_eq_name(ctx.kb, o.equipment)}，{o.technician}，"
                     f"相似度{score:.1f}）：{o.text}")
    ctx.focus.update(orders=[o.uid for o, _ in hits], equipment=[hits[0][0].equipment] if hits[0][0].equipment else [])
    return Answer(ctx.question, "\n".join(lines), "similar", [_cite(o) for o, _ in hits],
                  data={"cases": [{"order": o.uid, "score": round(sc, 3)} for o, sc in hits]})
