"""Slots of a question: machines (every naming form, typos too), concepts, identifiers, time windows, numbers."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from zhuisu.assistant.kb import KB, norm
from zhuisu.assistant.when import NUM, Window, time_window, top_n, zh_number
from zhuisu.graph.schema import aliases, nodes
from zhuisu.nlp import lexicon as lexmod

if TYPE_CHECKING:
    from zhuisu.graph.store import Store

_ID = re.compile(r"(?<![a-z0-9])([a-z]{0,6}-?[a-z]{0,3}-?\d{3,}(?:[a-z]{1,3}\d+)?(?:-[a-z]{0,3}\d+)*)(?![a-z0-9])")
_PRONOUN = re.compile(r"它|这台|那台|该设备|这个设备|那个设备|这批|那批|该批|这个批次|同一台|这台机|那台机|他们|上面")

# materials as technicians say them (磁铁 for 磁钢) — domain words, not answers
_MATERIAL_SYNONYMS = {"磁铁": "磁钢", "磁体": "磁钢", "外壳": "机壳", "壳体": "机壳", "铜线": "漆包线",
                      "电磁线": "漆包线", "绝缘漆": "绝缘漆", "浸漆": "绝缘漆", "油漆": "绝缘漆", "漆": "绝缘漆",
                      "轴承": "轴承", "机座": "机壳"}


@dataclass
class Slots:
    """What a question mentions, each resolved against the store."""

    text: str  # the normalised question
    equipment: list[str] = field(default_factory=list)  # uids of machines named
    equipment_type: str | None = None  # a type named without a number (压装机)
    candidates: list[str] = field(default_factory=list)  # machines an ambiguous mention may mean
    unknown_equipment: list[str] = field(default_factory=list)  # numbered mentions of no machine (5号压装机)
    concepts: dict[str, dict[str, str]] = field(default_factory=dict)  # label → concept uid → surface
    items: list[tuple[str, str]] = field(default_factory=list)  # (uid, kind) of units, lots, orders…
    unknown_ids: list[str] = field(default_factory=list)  # identifiers that name nothing in the store
    ambiguous_ids: dict[str, list[str]] = field(default_factory=dict)
    materials: list[str] = field(default_factory=list)  # material uids named by a word (磁钢)
    material_words: list[str] = field(default_factory=list)
    people: list[str] = field(default_factory=list)
    window: Window | None = None
    top: int | None = None
    pronoun: bool = False
    corrected: list[tuple[str, str]] = field(default_factory=list)  # (what was written, what it was read as)
    activity: list[str] = field(default_factory=list)  # 保养, 校准…: the kind of work asked about
    rest: str = ""  # the question with identifiers, machines and concepts blanked: words nothing else read
    supplier_word: bool = False  # a word suppliers' names end with (牧场, 糖业): asking who supplied

    def of(self, label: str) -> dict[str, str]:
        return self.concepts.get(label, {})

    def to_dict(self) -> dict[str, Any]:
        return {"equipment": self.equipment, "equipment_type": self.equipment_type, "candidates": self.candidates,
                "concepts": {k: sorted(v) for k, v in self.concepts.items() if v},
                "items": [u for u, _ in self.items], "materials": self.materials, "people": self.people,
                "window": self.window.to_dict() if self.window else None, "top": self.top,
                "activity": self.activity, "corrected": [list(c) for c in self.corrected]}


def extract(question: str, kb: KB, store: Store, today: date) -> Slots:
    """All slots of ``question``; ``today`` anchors relative time expressions."""
    text = norm(question)
    slots = Slots(text=text)
    masked = _identifiers(text, slots, kb, store)
    masked = _equipment(masked, slots, kb)
    slots.window = time_window(text, today)
    slots.top = top_n(text)
    slots.pronoun = bool(_PRONOUN.search(text))
    _materials(masked, slots, kb)
    _people(text, slots, kb)
    slots.rest = _concepts(masked, slots, kb)
    slots.activity = [w for w in ACTIVITY if w in text]
    slots.supplier_word = any(w in text for w in _supplier_words(kb))
    return slots


ACTIVITY = {"保养": "preventive", "维保": "preventive", "点检": "preventive", "校准": "calibration",
            "标定": "calibration", "校验": "calibration"}  # words naming a kind of order


def mask_equipment(text: str, kb: KB) -> str:
    """``text`` (normalised) with every machine mention blanked out."""
    return _match_equipment(text, Slots(text=text), kb, _index(kb))


_supplier_cache: dict[int, frozenset[str]] = {}


def _supplier_words(kb: KB) -> frozenset[str]:
    """What suppliers' names end with (生态牧场 → 牧场, 糖业有限公司 → 糖业): 哪个牧场 asks for a supplier."""
    got = _supplier_cache.get(id(kb))
    if got is None:
        words = set()
        for n in kb.named.values():
            if n.kind == "Supplier":
                core = re.sub(r"(?:股份)?有限(?:责任)?公司$|公司$|专业合作社$", "", norm(n.name))
                if len(core) >= 4:
                    words.add(core[-2:])
        got = frozenset(words)
        _supplier_cache.clear()
        _supplier_cache[id(kb)] = got
    return got


# ── identifiers ────────────────────────────────────────────────────────────────
def _identifiers(text: str, slots: Slots, kb: KB, store: Store) -> str:
    """Units, lots, orders, shipments… named by their codes; returns the text with them blanked out."""
    tokens = [m for m in _ID.finditer(text)]
    if not tokens:
        return text
    prefixes = sorted({k.prefix for k in store.ontology.kinds.values() if k.prefix and k.prefix != "equipment"})
    wanted: dict[str, str] = {}
    for m in tokens:
        token = m.group(1).upper()
        for p in prefixes:
            wanted[f"{p}:{token}"] = token
    with store.engine.connect() as conn:
        found = conn.execute(sa.select(nodes.c.uid, nodes.c.kind).where(nodes.c.uid.in_(list(wanted)))).all()
        by_alias = conn.execute(sa.select(aliases.c.alias, nodes.c.uid, nodes.c.kind)
                                .join(nodes, aliases.c.node == nodes.c.id)
                                .where(aliases.c.alias.in_([m.group(1).upper() for m in tokens]))).all()
    hits: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for uid, kind in found:
        hits[wanted[uid]].append((uid, kind))
    for alias, uid, kind in by_alias:
        hits[alias].append((uid, kind))
    out = text
    for m in tokens:
        token = m.group(1).upper()
        if any(eq.uid.partition(":")[2].lower() == m.group(1) for eq in kb.equipment.values()):
            continue  # a machine code (PRESS-02): the equipment matcher reads it
        found_here = hits.get(token) or [(u, "MaterialLot") for u in kb.supplier_lots.get(m.group(1), [])]
        if len(found_here) == 1 and found_here[0][1] in _CONCEPT_KINDS:  # PT100: a part the notes name
            label = _CONCEPT_KINDS[found_here[0][1]]
            slots.concepts.setdefault(label, {})[found_here[0][0]] = m.group(1)
        if len(found_here) == 1:
            slots.items.append(found_here[0])
        elif found_here:
            slots.ambiguous_ids[token] = sorted(u for u, _ in found_here)
        else:
            slots.unknown_ids.append(token)
        out = out[: m.start()] + " " * (m.end() - m.start()) + out[m.end():]
    return out


_CONCEPT_KINDS = {"SparePart": "SparePart", "Component": "Component"}


# ── equipment ──────────────────────────────────────────────────────────────────
@dataclass
class _EquipmentIndex:
    surfaces: list[tuple[str, str]]  # (surface, uid), longest first
    by_type_number: dict[tuple[str, int], str]
    by_number: dict[int, list[str]]
    type_pattern: re.Pattern[str]
    numbered: list[re.Pattern[str]]


_indexes: dict[int, _EquipmentIndex] = {}


def _index(kb: KB) -> _EquipmentIndex:
    idx = _indexes.get(id(kb))
    if idx is not None:
        return idx
    surfaces = sorted(((s, eq.uid) for eq in kb.equipment.values() for s in eq.surfaces if len(s) >= 2),
                      key=lambda p: -len(p[0]))
    by_tn: dict[tuple[str, int], str] = {}
    by_number: dict[int, list[str]] = defaultdict(list)
    for eq in kb.equipment.values():
        if eq.type and eq.number is not None:
            by_tn[(eq.type, eq.number)] = eq.uid
            by_number[eq.number].append(eq.uid)
        code = eq.uid.partition(":")[2].lower()
        m = re.match(r"([a-z]+)-?\d+$", code)
        if m and eq.type:
            kb.type_words.setdefault(m.group(1), eq.type)  # "press 2", "wind3"
    words = "|".join(re.escape(w) for w in sorted(kb.type_words, key=len, reverse=True)) or "(?!)"
    tp = re.compile(f"(?:{words})")
    numbered = [
        re.compile(rf"(?:第\s*)?(?P<n>{NUM})\s*(?:号|#)\s*(?:的\s*)?(?P<w>{words})"),
        re.compile(rf"#\s*(?P<n>\d{{1,3}})\s*(?P<w>{words})"),
        re.compile(rf"(?P<n>\d{{1,3}})\s*(?P<w>{words})"),
        re.compile(rf"(?P<w>{words})\s*(?:[-_#]|no\.?)?\s*(?P<n>\d{{1,3}}|[一二三四五六七八九十]{{1,2}}(?=号))\s*号?"),
    ]
    idx = _EquipmentIndex(surfaces, by_tn, dict(by_number), tp, numbered)
    _indexes.clear()
    _indexes[id(kb)] = idx
    return idx


def _equipment(text: str, slots: Slots, kb: KB) -> str:
    idx = _index(kb)
    out = _match_equipment(text, slots, kb, idx)
    if not slots.equipment and not slots.equipment_type:
        fixed = _fuzzy_equipment(out, kb, idx, slots)
        if fixed is not None:
            out = _match_equipment(fixed, slots, kb, idx)
    if not slots.equipment:
        m = re.search(rf"(?P<n>{NUM})\s*(?:号|#)\s*(?:机|设备|机台|线)", out)
        if m and (n := zh_number(m.group("n"))) is not None and n in idx.by_number:
            slots.candidates = sorted(idx.by_number[n])
    return out


def _match_equipment(text: str, slots: Slots, kb: KB, idx: _EquipmentIndex) -> str:
    out = text
    for surface, named in idx.surfaces:  # exact names, codes and aliases
        pos = out.find(surface)
        if pos >= 0 and not _inside_word(out, pos, len(surface)):
            if named not in slots.equipment:
                slots.equipment.append(named)
            out = out[:pos] + " " * len(surface) + out[pos + len(surface):]
    for pattern in idx.numbered:
        for m in list(pattern.finditer(out)):
            n = zh_number(m.group("n"))
            kind: str | None = kb.type_words.get(m.group("w"))
            uid = idx.by_type_number.get((kind, n)) if kind is not None and n is not None else None
            if uid is None and kind is not None and n is not None:
                slots.unknown_equipment.append(m.group(0).strip())
                slots.candidates = sorted(u for (k, _), u in idx.by_type_number.items() if k == kind)
            if uid is not None:
                if uid not in slots.equipment:
                    slots.equipment.append(uid)
                out = out[: m.start()] + " " * (m.end() - m.start()) + out[m.end():]
    if not slots.equipment:
        bare = idx.type_pattern.search(out)
        if bare:
            slots.equipment_type = kb.type_words[bare.group(0)]
            out = out[: bare.start()] + " " * (bare.end() - bare.start()) + out[bare.end():]
    return out


def _inside_word(text: str, pos: int, n: int) -> bool:
    """A code such as ``wind-01`` inside a longer latin token is not a mention."""
    before = text[pos - 1] if pos > 0 else " "
    after = text[pos + n] if pos + n < len(text) else " "
    return (before.isascii() and before.isalnum() and text[pos].isascii()) or (
        after.isascii() and after.isdigit() and text[pos + n - 1].isdigit())


def _fuzzy_equipment(text: str, kb: KB, idx: _EquipmentIndex, slots: Slots) -> str | None:
    """The question with one misspelt machine name or type word (饶线机, 压装鸡) put right, if there is one."""
    lex = lexmod.base()
    best: tuple[int, int, int, str] | None = None  # (distance, -len, start, replacement)
    candidates = {s for s, _ in idx.surfaces if len(s) >= 4} | {w for w in kb.type_words if len(w) >= 3}
    best_window = ""
    for word in candidates:
        n = len(word)
        chars = set(word)
        for size in (n - 1, n, n + 1):
            for start in range(0, max(0, len(text) - size) + 1):
                window = text[start : start + size]
                if not window or window.strip() != window or len(set(window) & chars) < n - 1:
                    continue
                if lex.lookup(window) is not None:
                    continue
                d = edit_distance(window, word, limit=1)
                if d == 1 and (best is None or (d, -n, start) < best[:3]):
                    best = (d, -n, start, word)
                    best_window = window
    if best is None:
        return None
    start, word = best[2], best[3]
    if word in kb.type_words and not _has_number_near(text, start, len(best_window)):
        return None  # a bare type word one letter off is too weak a signal (压装力 is not 压装机)
    slots.corrected.append((best_window, word))
    return text[:start] + word + text[start + len(best_window):]


def _has_number_near(text: str, start: int, n: int) -> bool:
    before, after = text[max(0, start - 3): start], text[start + n: start + n + 3]
    return bool(re.search(rf"{NUM}\s*[号#]?\s*$", before) or re.match(r"\s*[-#]?\s*\d", after))


def edit_distance(a: str, b: str, limit: int = 2) -> int:
    """Levenshtein distance, cut off at ``limit + 1``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
        if min(cur) > limit:
            return limit + 1
        prev = cur
    return prev[-1]


_SAME_CHAR = str.maketrans({"奶": "乳"})  # 奶粉 is 乳粉, 牛奶 is 牛乳
_CATEGORY_WORDS = {"包装": "packaging", "包材": "packaging"}  # a material's category, named by its kind


def _head(name: str) -> str:
    plain = re.sub(r"\(.*?\)|（.*?）", " ", norm(name))  # 白砂糖（一级） → 白砂糖
    return plain.split()[0].translate(_SAME_CHAR) if plain.strip() else ""


@cache
def _material_words(kb_id: int, names: tuple[tuple[str, str], ...]) -> dict[str, list[str]]:
    words: dict[str, list[str]] = defaultdict(list)
    for uid, name in names:
        head = _head(name)
        for n in range(2, len(head) + 1):
            words[head[-n:]].append(uid)
    return dict(words)


def _materials(text: str, slots: Slots, kb: KB) -> None:
    mats = [n for n in kb.named.values() if n.kind == "Material"]
    words = _material_words(id(kb), tuple(sorted((n.uid, n.name) for n in mats)))
    t = text.translate(_SAME_CHAR)
    for pass_words in (words, _MATERIAL_SYNONYMS):  # the materials' own words first: 漆包线 is not 漆
        for word in sorted(pass_words, key=len, reverse=True):
            if word not in t:
                continue
            canon = word if pass_words is words else _MATERIAL_SYNONYMS[word]
            for uid in words.get(canon, []):
                if uid not in slots.materials:
                    slots.materials.append(uid)
            if canon in words:
                slots.material_words.append(word)
            t = t.replace(word, " ")
    for word, category in _CATEGORY_WORDS.items():
        if word in t:
            slots.materials += [n.uid for n in mats if n.attrs.get("category") == category]
            slots.material_words.append(word)
    if slots.materials:
        return
    for n in mats:  # 白糖 for 白砂糖, 生奶 for 生牛乳: the name's first and last character, in order
        head = _head(n.name)
        if len(head) < 3:
            continue
        for m in re.finditer(re.escape(head[0]) + r"[^\s的]{0,3}?" + re.escape(head[-1]), t):
            if _subsequence(m.group(0), head):
                slots.materials.append(n.uid)
                slots.material_words.append(m.group(0))
                break
    last = defaultdict(list)
    for n in mats:
        last[_head(n.name)[-1:]].append(n)
    if not slots.materials:  # 用的糖: a last character only one material's name ends with
        for m in re.finditer(r"的(.)", t):
            if len(last.get(m.group(1), [])) == 1:
                slots.materials.append(last[m.group(1)][0].uid)
                slots.material_words.append(m.group(1))


def _subsequence(short: str, long: str) -> bool:
    it = iter(long)
    return all(c in it for c in short)


def _people(text: str, slots: Slots, kb: KB) -> None:
    names = kb.technicians | {n.name for n in kb.named.values() if n.kind == "Operator"}
    slots.people = sorted(n for n in names if n and len(n) >= 2 and norm(n) in text)


@cache
def concept_surfaces() -> dict[str, set[str]]:
    """Every surface form (normalised) of each lexicon concept: 异响 ← 噪音大, 有杂音…"""
    out: dict[str, set[str]] = defaultdict(set)
    for key, entry in lexmod.base().entries.items():
        if not entry.contextual:
            out[entry.concept].add(norm(key))
    return dict(out)


_GENERIC = {"symptom:故障", "symptom:异常", "symptom:问题", "symptom:报警", "action:处理"}  # say nothing specific


def _concepts(text: str, slots: Slots, kb: KB) -> str:
    """Concepts named in ``text``, longest match first over the lexicon and the words this plant's notes use
    (切不断 is one symptom, not 不断); returns the text with what was read blanked out."""
    lex = lexmod.base()
    learned = learned_words(kb)
    rest = list(text)
    i = 0
    last_attribute: tuple[str, int, int] | None = None  # (attribute, start, end) for 温度 + 偏低 → 温度偏低
    while i < len(text):
        entry = lex.longest(text, i) if not text[i].isspace() else None
        word = learned.longest(text, i) if not text[i].isspace() else None
        if word is not None and (entry is None or len(word[0]) >= len(entry.surface)):
            surface, label, concept = word
            if label == "Symptom" and last_attribute and i - last_attribute[2] <= 1:
                surface = text[last_attribute[1] : i + len(surface)]  # 灌装量 + 不准: the notes' 灌装量不准
            slots.concepts.setdefault(label, {}).setdefault(concept, surface)
            rest[i : i + len(word[0])] = " " * len(word[0])
            last_attribute = None
            i += len(word[0])
            continue
        if entry is None:
            i += 1
            continue
        surface = text[i : i + len(entry.surface)]
        if entry.label == "Attribute":
            last_attribute = (entry.concept.partition(":")[2], i, i + len(surface))
        elif entry.label == "Symptom" and last_attribute and i - last_attribute[2] <= 1:
            composite = f"symptom:{last_attribute[0]}{entry.concept.partition(':')[2]}"
            if composite in kb.symptoms or not entry.contextual:
                slots.concepts.setdefault("Symptom", {})[composite] = last_attribute[0] + surface
            if composite in kb.symptoms:
                rest[i : i + len(surface)] = " " * len(surface)
                i += len(surface)
                continue
        tool_name = entry.label == "Action" and re.match(r"机|枪|ng|扭矩|套筒", text[i + len(surface):])
        # 拧紧枪 names a tool, not the action 拧紧
        if entry.label == "Equipment" and entry.concept.startswith("equipment-type:"):
            # a kind of machine this plant does not have: a part of one where the notes name it (均质机 in a
            # pasteuriser), else nothing the records know (空压机)
            if any(surface in o.norm for o in kb.orders.values()):
                slots.concepts.setdefault("Component", {}).setdefault(f"component:{surface}", surface)
            else:
                slots.unknown_equipment.append(surface)
        elif not entry.contextual and not tool_name and entry.concept not in _GENERIC:
            slots.concepts.setdefault(entry.label, {}).setdefault(entry.concept, surface)
        if not entry.contextual:
            rest[i : i + len(surface)] = " " * len(surface)
        i += len(entry.surface)
    unread = "".join(rest)
    if "Action" not in slots.concepts and re.search(r"换(?!班|算|成|向|人|季)", unread):
        slots.concepts["Action"] = {"action:更换": "换"}  # 上次换切刀: the bare verb
    return unread


@dataclass
class _Learned:
    words: dict[str, tuple[str, str]]
    lengths: dict[str, list[int]]

    def longest(self, text: str, start: int) -> tuple[str, str, str] | None:
        for n in self.lengths.get(text[start], ()):
            hit = self.words.get(text[start : start + n])
            if hit is not None:
                return text[start : start + n], hit[0], hit[1]
        return None


_learned_cache: dict[int, _Learned] = {}


def learned_words(kb: KB) -> _Learned:
    """Longest-match lookup over the words this plant's notes use (``KB.vocabulary``)."""
    got = _learned_cache.get(id(kb))
    if got is None:
        from zhuisu.assistant.intents import CUES

        cues = {c for words in CUES.values() for c in words}
        words = {w: v for w, v in kb.vocabulary.items()  # a note's 本月 or 处理 is never what a question asks about
                 if w not in cues and time_window(w, date(2000, 6, 15)) is None and w not in ACTIVITY}
        lengths: dict[str, set[int]] = defaultdict(set)
        for w in words:
            lengths[w[0]].add(len(w))
        got = _Learned(words, {c: sorted(n, reverse=True) for c, n in lengths.items()})
        _learned_cache.clear()
        _learned_cache[id(kb)] = got
    return got
