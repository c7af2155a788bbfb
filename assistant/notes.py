"""What a repair note gives as the cause of its symptom, read clause by clause.

The enrichment's ``foundCause`` edges come first. Notes often state the cause without a word the extractor
reads as one, so the note's own structure adds to them: a labelled field (原因：阀杆卡滞), a finding
(检查发现切刀钝, 拆检分流阀发现阀杆卡滞, 怀疑泵轴承损坏 — marked 疑似), a cue (称重传感器受力不均导致读数不准),
or the clause right after the symptom when it names a part in a bad state (…读数不准，称重传感器受力不均，重新标定).
Measurements, remarks (备注：同类问题本月第3次), actions and unknowns (原因待查) are never causes; machine names and
the parts a cause sits in are trimmed off (#1配料罐称重模块称重传感器受力不均 → 称重传感器受力不均).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache

from zhuisu.assistant.kb import KB, PART_NUMBER, Order
from zhuisu.assistant.slots import concept_surfaces, learned_words, mask_equipment
from zhuisu.nlp import lexicon as lexmod
from zhuisu.nlp.patterns import CLAUSE_BREAK, PARAM

_LABELLED = re.compile(r"原因\s*(?:是|为|:|：)\s*(.+)")
_FINDING = re.compile(r"(?:(?:经?检查|拆检\S{0,6}?|到现场|现场)?(?:发现|确认)|查明|查出|怀疑|判断为?|(?<!检)查)\s*(.+)")
_CUE = re.compile(r"(.+?)(?:导致|引起|造成|所致|致使)")
_REMARK = re.compile(r"^(?:备注|停机|用时|试机|试运行|恢复|交班|交.班|观察|跟进|联系|再确认|好转|ok|已|明天|暂时|"
                     r"结论|合格|操作工|电工)|小时|分钟|待查|未见|无异常|正常|第\d|\d次")
_UNKNOWN = re.compile(r"^(?:待查|不明|未知|待确认|不详)")
_MAX = 16  # a cause is a part and its state, not a sentence


def clauses(text: str) -> list[str]:
    return [c.strip() for c in CLAUSE_BREAK.split(text) if c.strip()]


def causes(order: Order, symptom: Iterable[str], kb: KB) -> list[str]:
    """The causes ``order``'s note gives for the symptom written as any of ``symptom`` (normalised surfaces)."""
    if order.type != "corrective":
        return []  # a check-up note's findings are not a diagnosis
    parts = clauses(order.norm)
    marks = [s for s in symptom if len(s) >= 2]
    at = next((i for i, c in enumerate(parts) if any(s in c for s in marks)), 0)
    found: list[str] = []
    for i, clause in enumerate(parts):
        if (m := _LABELLED.search(clause)) and not _UNKNOWN.match(m.group(1)):
            found.append(_trim(m.group(1), kb))
        elif (m := _CUE.search(clause)) and i >= at:
            found.append(_trim(m.group(1), kb))
        elif i > at and (m := _FINDING.search(clause)) and not _REMARK.search(m.group(1)):
            found.append(_trim(m.group(1), kb) + ("（疑似）" if "怀疑" in clause[: m.start(1)] else ""))
        elif i == at + 1 and not _acts(clause) and not _REMARK.search(clause) and _has_state(clause, kb):
            found.append(_trim(clause, kb))
    for concept, surface in order.causes.items():  # the extractor's causes the wording above did not give
        where = next((c for c in parts if surface.lower() in c), "")
        if where and not PARAM.search(where) and not _REMARK.search(where) and not any(
                surface.lower() in f for f in found):
            found.append(concept.partition(":")[2])
    return [c for c in dict.fromkeys(found) if 2 <= len(c.removesuffix("（疑似）")) <= _MAX and not PARAM.search(c)]


@cache
def _action_words() -> re.Pattern[str]:
    words = {s for c, ss in concept_surfaces().items() if c.startswith("action:") for s in ss if len(s) >= 2}
    return re.compile("|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)) or "(?!)")


def _acts(clause: str) -> bool:
    """The clause does something (更换…, 排气后重启, 备件号…) rather than find something."""
    return bool(PART_NUMBER.search(clause) or _action_words().search(clause))


def _mentions(clause: str, kb: KB) -> list[tuple[int, int, str]]:
    """(start, end, label) of the lexicon's and the notes' words in ``clause``, longest first."""
    lex, learned = lexmod.base(), learned_words(kb)
    out, i = [], 0
    while i < len(clause):
        entry, word = lex.longest(clause, i), learned.longest(clause, i)
        if word is not None and (entry is None or len(word[0]) >= len(entry.surface)):
            out.append((i, i + len(word[0]), word[1]))
            i += len(word[0])
        elif entry is not None:
            out.append((i, i + len(entry.surface), entry.label))
            i += len(entry.surface)
        else:
            i += 1
    return out


def _has_state(clause: str, kb: KB) -> bool:
    return any(label in ("Symptom", "Cause") for _s, _e, label in _mentions(clause, kb))


def _trim(text: str, kb: KB) -> str:
    """The cause without the machine it happened on and the assemblies around the part (→ 阀座密封圈磨损)."""
    t = re.sub(r"\s+", "", mask_equipment(text, kb)).strip("：:，, ")
    while True:
        found = _mentions(t, kb)
        if not found or found[0][0] != 0 or found[0][2] != "Component":
            return t
        head, rest = t[: found[0][1]], t[found[0][1]:]
        inner = len(found) > 1 and found[1][0] == found[0][1] and found[1][2] == "Component"
        if len(rest) < 3 or not (inner or rest[:2] == head[:2]):
            return t
        t = rest
