"""Relations between the mentions of one note, from clause structure and cue words.

Works on plain ``(start, end, label, negated)`` tuples so it can be tested without spaCy.
"""

from __future__ import annotations

import re

from zhuisu.nlp.patterns import clause_spans

Ent = tuple[int, int, str, bool]
Rel = tuple[int, int, str]

_OWNER_GAP = re.compile(r"^(?:的|之|上的?|内的?|侧的?|第?[0-9一二三四五六七八九十]+[号个段轴点]?的?|可能)?$")
_CAUSE_CUE = re.compile(r"(导致|造成|引起|引发|致使|使得)")
_TOOL_GAP = re.compile(r"^(?:用|使用|采用|经)?$")
_AND = re.compile(r"^(?:或|或者|和|及|以及|、|与)$")
_MEDIUM = re.compile(r"(?:油|液|水|剂|媒|空气)$")
_RESET = re.compile(r"^(?:复位|重启|重新启动|断电重启|上电复位|重新上电|reset)$", re.IGNORECASE)
_WITH = re.compile(r"(?:用|使用|采用)\s*$")  # 用酒精擦拭: what the action is done with is not what it works on
_SENTENCE = re.compile(r"[。；;!！?？\n①②③④⑤⑥⑦⑧⑨⑩]")
_PRODUCT = re.compile(r"产品|工件|制品")  # 液压油, 冷却液, 冷媒: working media are nobody's part
HEADS = ("Attribute", "Component")


def assemble(text: str, ents: list[Ent]) -> list[Rel]:
    """``(head, tail, relation)`` over indexes into ``ents`` (which are sorted by start)."""
    if not ents:
        return []
    clauses = clause_spans(text)
    clause_of = []
    c = 0
    for start, *_rest in ents:
        while c + 1 < len(clauses) and start >= clauses[c + 1][0]:
            c += 1
        clause_of.append(c)
    by_clause: dict[int, list[int]] = {}
    for j, cl in enumerate(clause_of):
        by_clause.setdefault(cl, []).append(j)
    rels: list[Rel] = []
    first_equipment = next((i for i, e in enumerate(ents) if e[2] == "Equipment"), None)
    stated: set[int] = set()  # quantities that have their state
    for i, (start, _end, label, neg) in enumerate(ents):
        prev = ents[i - 1] if i else None
        same = by_clause[clause_of[i]]
        if label == "Symptom":
            # 振动大跳停: a quantity that has its state already is not what the next state is of
            heads = [j for j in same if j < i and ents[j][2] in HEADS and j not in stated]
            if not heads:
                heads = [j for j in same if j < i and ents[j][2] == "Equipment"]
            owner_gap = text[ents[heads[-1]][1] if heads else clauses[clause_of[i]][0] : start]
            if _PRODUCT.search(owner_gap):
                continue  # 产品飞边: a defect of the product, no fault of the machine
            if heads:
                rels.append((heads[-1], i, "has-fault"))
                if ents[heads[-1]][2] == "Attribute":
                    stated.add(heads[-1])
                k = heads[-1]  # 水嘴或滤网堵塞, 轴承、齿轮损坏: the state of every part in the list
                while k > 0 and ents[k][2] == "Component" and ents[k - 1][2] == "Component" \
                        and clause_of[k - 1] == clause_of[k] and _AND.match(text[ents[k - 1][1] : ents[k][0]]):
                    k -= 1
                    rels.append((k, i, "has-fault"))
            elif not any(ents[j][2] in (*HEADS, "Equipment") for j in same) and first_equipment is not None \
                    and first_equipment < i and neg:  # 点检6号注塑机，未发现异常
                rels.append((first_equipment, i, "has-fault"))
        elif label in ("Component", "Equipment") and prev is not None and prev[2] in ("Equipment", "Component") \
                and not (label == "Equipment" and prev[2] == "Component") and _OWNER_GAP.match(text[prev[1] : start]) \
                and not _MEDIUM.search(text[start:_end]):
            rels.append((i, i - 1, "part-of"))
        elif label == "Action" and not neg:
            after = [j for j in same if j > i]
            target = next((j for j in after if ents[j][2] in ("Component", "Equipment")
                           and not any(ents[k][2] == "Action" for k in range(i + 1, j))), None)
            targets = [] if target is None else [target]
            while target is not None and target + 1 < len(ents) and ents[target + 1][2] == "Component" \
                    and _AND.match(text[ents[target][1] : ents[target + 1][0]]):
                target += 1  # 更换加热丝及固态继电器: each part of the list
                targets.append(target)
            if target is None and _RESET.match(text[start:_end]) and not (  # PLC复位: what it names
                    prev is not None and prev[2] in ("Component", "Equipment") and prev[1] == start):
                targets = _faulted(text, clauses, rels, ents, clause_of)
            if not targets:
                before = [j for j in range(i) if ents[j][2] in ("Component", "Equipment")
                          and not _WITH.search(text[max(0, ents[j][0] - 2) : ents[j][0]])]
                # ③2#编织机无异常，加油保养: within its own sentence or list item when that names something
                opening = max((m.end() for m in _SENTENCE.finditer(text, 0, start)), default=0)
                own = [j for j in before if ents[j][0] >= opening]
                before = own or before
                comps = [j for j in before if ents[j][2] == "Component"]
                targets = [comps[-1]] if comps else before[-1:]
            rels.extend((i, j, "action-on") for j in targets)
            for j in after:
                if ents[j][2] == "SparePart":
                    rels.append((i, j, "replaced-part"))
            nxt = by_clause.get(clause_of[i] + 1, [])
            if nxt and all(ents[j][2] == "SparePart" for j in nxt) and not any(ents[j][2] == "SparePart"
                                                                                for j in after):
                rels.extend((i, j, "replaced-part") for j in nxt)  # 更换油分芯，备件SP-1107
        elif label == "Tool":
            after = [j for j in same if j > i and ents[j][2] in ("Attribute", "Component")]
            # 兆欧表摇电机绝缘偏低: the tool measured the quantity, not the part that has it
            target = next((j for j in after if ents[j][2] == "Attribute"), after[0] if after else None)
            if target is None:
                target = next((j for j in reversed(same) if j < i and ents[j][2] in ("Attribute", "Component",
                                                                                    "Equipment")), None)
            if target is None:  # 主轴振动大，测振仪测得7.1mm/s: what the previous clause reported on
                target = next((j for j in reversed(by_clause.get(clause_of[i] - 1, []))
                               if ents[j][2] in ("Attribute", "Component")), None)
            if target is not None:
                rels.append((target, i, "detected-with"))
    rels.extend(_causes(text, ents, clause_of))
    return sorted(set(rels))


def _faulted(text: str, clauses: list[tuple[int, int]], rels: list[Rel], ents: list[Ent], clause_of: list[int]
             ) -> list[int]:
    """The parts or machines a reset is for: those of the first fault raised as an alarm (报, 报警 or a code in
    its clause: 变频器报OC过流), else of the first fault (all of them, for a state shared by a list), else the
    note's first machine."""
    faults = [(t, h) for h, t, label in rels if label == "has-fault" and ents[h][2] in ("Component", "Equipment")]
    if not faults:
        return next(([j] for j, e in enumerate(ents) if e[2] == "Equipment"), [])
    def alarmed(t: int) -> bool:
        a, b = clauses[clause_of[t]]
        return "报" in text[a:b] or any(e[2] == "FaultCode" and clause_of[k] == clause_of[t]
                                       for k, e in enumerate(ents))

    first = min((t for t, _h in faults if alarmed(t)), default=min(t for t, _h in faults))
    return sorted(h for t, h in faults if t == first)


def _causes(text: str, ents: list[Ent], clause_of: list[int]) -> list[Rel]:
    out: list[Rel] = []
    symptoms = [i for i, e in enumerate(ents) if e[2] == "Symptom" and not e[3]]
    if not symptoms:
        return out
    linked: set[int] = set()
    for i, (_start, end, label, neg) in enumerate(ents):  # "A 导致 B": B caused by A
        if label not in ("Symptom", "Cause") or neg:
            continue
        nxt = next((j for j in symptoms if j > i), None)
        if nxt is not None and _CAUSE_CUE.search(text[end : ents[nxt][0]]) and clause_of[nxt] <= clause_of[i] + 1:
            out.append((nxt, i, "caused-by"))
            linked.add(i)
    effect = symptoms[0]
    seen_clauses = {clause_of[effect]}
    acted = set()
    for i, e in enumerate(ents):
        if e[2] == "Action":
            acted.add(clause_of[i])
    for i, (_start, _end, label, neg) in enumerate(ents):
        if i in linked or neg or i == effect:
            continue
        if label == "Cause":
            out.append((effect, i, "caused-by"))
        elif label == "Symptom" and clause_of[i] not in seen_clauses and i > effect:
            seen_clauses.add(clause_of[i])
            if any(ents[j][2] == "Action" and clause_of[j] == clause_of[i] and j < i for j in range(i)):
                continue
            if clause_of[i] in acted and any(ents[j][2] == "Action" and clause_of[j] < clause_of[i]
                                             for j in range(len(ents))):
                continue
            out.append((effect, i, "caused-by"))
            effect = i  # 液位低，补水泵不启动，液位开关失效: each finding explains the one before it
    return out
