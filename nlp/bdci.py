"""The BDCI 2022 fault-extraction layout: events → ``spo_list`` records, and its triple and span scores."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from zhuisu.nlp.evaluate import PRF
from zhuisu.nlp.events import MaintenanceEvent

RELATIONS = ("部件故障", "性能故障", "组成", "检测工具")


def to_spo(event: MaintenanceEvent) -> list[dict[str, Any]]:
    """The event's relations in BDCI form (end-exclusive offsets).

    BDCI names the faulty part with its owners written before it (风扇电机 烧毁, 电机接线盒接线螺丝 松动),
    where the project's schema keeps a part and its owner as two mentions with part-of between them: the
    head of a 部件故障 triple takes in the chain of owners that touch it."""
    out = []
    seen = set()
    owner = {rel.head: rel.tail for rel in event.relations if rel.label == "part-of"}
    for rel in event.relations:
        h, t = event.mentions[rel.head], event.mentions[rel.tail]
        if rel.label == "has-fault" and not t.negated:
            name = "性能故障" if h.label == "Attribute" else "部件故障"
            part = _part_of_quantity(event, rel.head) if name == "性能故障" else None
            if part is not None:  # 电机 + 温度过高: BDCI's 部件故障 of the part, the quantity with its state
                t = t._replace(text=event.text[h.start : t.end], start=h.start)
                h, name = _with_owners(event, part, owner), "部件故障"
            elif name == "部件故障":
                t = _with_gap(event, h, t)
                t = _with_object(event, t)
                h = _with_owners(event, rel.head, owner)
        elif rel.label == "part-of" and h.label == "Component":
            name = "组成"
        elif rel.label == "detected-with":
            h, t, name = t, h, "检测工具"
        else:
            continue
        if name in ("部件故障", "性能故障") and (_NOT_A_FAULT_AFTER.match(event.text, t.end)
                                             or _NOT_A_FAULT_BEFORE.search(event.text, 0, h.start)
                                             or _QUESTION.search(event.text, h.end, t.end)):
            continue
        key = (h.start, h.end, t.start, t.end, name)
        if key in seen:
            continue
        seen.add(key)
        out.append({"h": {"name": h.text, "pos": [h.start, h.end]}, "t": {"name": t.text, "pos": [t.start, t.end]},
                    "relation": name})
    return out


def _with_owners(event: MaintenanceEvent, i: int, owner: dict[int, int]) -> Any:
    """Mention ``i`` widened to the left over its owners, components or a machine named by its type, touching
    it or joined by 内/上 (液压泵 + 电机 → 液压泵电机, 输送线 + 电机 → 输送线电机, 膨胀阀内针阀), and over a part
    written before it with an unlabelled word of one or two characters between (驻车 + 制动 + 拉索)."""
    m = event.mentions[i]
    start, seen = m.start, {i}
    j = owner.get(i)
    while j is not None and j not in seen and _owner_word(event.mentions[j]) \
            and event.text[event.mentions[j].end : start] in OWNER_GAPS:
        start, seen = event.mentions[j].start, seen | {j}
        j = owner.get(j)
    while (k := next((n for n in range(len(event.mentions) - 1, -1, -1)
                      if event.mentions[n].end <= start), None)) is not None and k not in seen:
        p = event.mentions[k]
        gap = event.text[p.end : start]
        if p.label != "Component" or not 1 <= len(gap) <= 2 or _GAP_STOP.search(gap):
            break  # 驻车 + 制动 + 拉索: an unlabelled word between two parts is part of the name
        start, seen = p.start, seen | {k}
    if start == m.start:
        return m
    return m._replace(text=event.text[start : m.end], start=start)


def _part_of_quantity(event: MaintenanceEvent, i: int) -> int | None:
    """The part written right before attribute ``i`` (电机 + 温度, 轴承的 + 间隙), if any."""
    if i == 0:
        return None
    p, a = event.mentions[i - 1], event.mentions[i]
    if _owner_word(p) and event.text[p.end : a.start] in PART_GAPS:
        return i - 1
    return None


PART_GAPS = ("", "的")


# A state followed by 正常 (工作正常), 排除 (故障排除), or naming a lamp, code, message (故障灯, 故障码, 故障信息) is
# no fault found; a part right after 检查 is what was checked, not what failed.
_NOT_A_FAULT_AFTER = re.compile(r"正常|排除|原因|情况|信息|信号|灯|码|代码")
_NOT_A_FAULT_BEFORE = re.compile(r"检查$")
_QUESTION = re.compile(r"是否|不是|有关|无关")  # 检查模块是否故障, 确定不是手刹故障, 与 ISU 无关


# Words that separate a part from its state rather than belong to the state (有, 内, 与, 的, 已经, 出现 …).
_GAP_STOP = re.compile(r"[有内与的或和上之已存就及处也均又被等都还在中时后因部里外侧表面出发现得]|[^\u4e00-\u9fff]")


def _with_gap(event: MaintenanceEvent, h: Any, t: Any) -> Any:
    """The fault state widened to the left over the unlabelled words between the part and it: BDCI writes
    the quantity or function with its state (发动机 + 动力下降, 轴承 + 间隙过大, 真空助力器 + 回位不良)."""
    gap = event.text[h.end : t.start]
    if not 2 <= len(gap) <= GAP_MAX or _GAP_STOP.search(gap):
        return t
    if any(h.end <= m.start < t.start for m in event.mentions):
        return t
    return t._replace(text=event.text[h.end : t.end], start=h.end)


GAP_MAX = 4
_MODAL_END = re.compile(r"(?:不能|无法|不|没有|未|不到)$")
_WORD_AFTER = re.compile(r"[\u4e00-\u9fff]{1,4}")


def _with_object(event: MaintenanceEvent, t: Any) -> Any:
    """A state that ends in a negation or modal (不能, 无法, 接触不) widened over the word it governs
    (不能通讯, 接触不牢固), up to the next mention or punctuation."""
    if not _MODAL_END.search(t.text):
        return t
    m = _WORD_AFTER.match(event.text, t.end)
    if m is None:
        return t
    end = min([m.end(), *(x.start for x in event.mentions if t.end <= x.start < m.end())])
    if end == t.end:
        return t
    return t._replace(text=event.text[t.start : end], end=end)
OWNER_GAPS = ("", "内", "上的", "上")


def _owner_word(m: Any) -> bool:
    """A component, or a machine named by its type alone (输送线 + 电机), not a numbered or store machine."""
    return m.label == "Component" or (m.label == "Equipment" and m.source == "lexicon")


def to_record(id: Any, event: MaintenanceEvent) -> dict[str, Any]:
    return {"ID": id, "text": event.text, "spo_list": to_spo(event)}


def score(gold: Iterable[dict[str, Any]], predicted: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """部件故障 triple P/R/F1 (exact spans), all-relation triples, and span P/R/F1 of components and fault states."""
    triples, all_triples, comps, faults = PRF(), PRF(), PRF(), PRF()
    for g, p in zip(gold, predicted, strict=True):
        gt = _triples(g, "部件故障")
        pt = _triples(p, "部件故障")
        triples.add(pt, gt)
        all_triples.add(_triples(p, None), _triples(g, None))
        comps.add({x[0] for x in pt}, {x[0] for x in gt})
        faults.add({x[1] for x in pt}, {x[1] for x in gt})
    return {"部件故障 triples": triples.as_dict(), "all triples": all_triples.as_dict(),
            "component spans": comps.as_dict(), "fault-state spans": faults.as_dict()}


def _triples(rec: dict[str, Any], relation: str | None) -> set[tuple[tuple[int, int], tuple[int, int], str]]:
    return {(tuple(s["h"]["pos"]), tuple(s["t"]["pos"]), s["relation"]) for s in rec.get("spo_list", [])
            if relation is None or s["relation"] == relation}  # type: ignore[misc]
