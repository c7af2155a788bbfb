"""Pipeline components, registered under versioned names with what they require and assign."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable
from functools import lru_cache

import numpy
from spacy.attrs import ENT_IOB, ENT_TYPE, TAG
from spacy.language import Language
from spacy.tokens import Doc, Span

from zhuisu.nlp import lexicon as lexmod
from zhuisu.nlp.patterns import ALARM_WORDS, FORM, scan
from zhuisu.nlp.relations import assemble
from zhuisu.nlp.tokenizer import MATCHES, doc_text, doc_words, token_bounds

SCORED = ("Equipment", "Component", "Symptom", "Attribute", "Cause", "Action", "SparePart", "FaultCode",
          "Parameter", "Tool")
NEGATION_CUES = ("未发现", "未见", "没有", "无明显", "未", "无", "没", "不见", "并无", "排除", "不是")
UNCERTAIN_CUES = ("怀疑", "可能", "疑似", "估计", "初步判断", "初判", "大概", "或许", "不排除", "待查", "待确认",
                  "不确定", "是否", "?", "？")
UNCERTAIN_AFTER = ("待查", "待确认", "?", "？")

INFO = "zhuisu.info"  # doc.user_data: (start_char, end_char) → (concept, source, negated, uncertain)
RULES = "zhuisu.rules"  # doc.user_data: rule matches as (start token, end token, label, concept, source)
NER = "zhuisu.ner"  # doc.user_data: model spans as (start token, end token, label)
ENTS = "zhuisu.ents"  # doc.user_data: doc.ents as (start token, end token, label, start char, end char)
_ENT_ATTRS = [ENT_IOB, ENT_TYPE]


def _info(span: Span) -> tuple[str, str, bool, bool]:
    return span.doc.user_data.get(INFO, {}).get((span.start_char, span.end_char), ("", "", False, False))


for _i, _name in enumerate(("concept", "source", "negated", "uncertain")):
    if not Span.has_extension(_name):
        Span.set_extension(_name, getter=lambda span, i=_i: _info(span)[i])
if not Doc.has_extension("relations"):
    Doc.set_extension("relations", default=[])  # (head ent index, tail ent index, label)

Tri = tuple[int, int, str]
_NONE = ("", "", False, False)


def _lexicon(nlp: Language) -> lexmod.Lexicon:
    return getattr(nlp.tokenizer, "lexicon", None) or lexmod.base()


def _set_ents(doc: Doc, spans: list[tuple[int, int, str, str, str]], bounds: tuple[list[int], list[int]]
              ) -> None:
    """``doc.ents`` from non-overlapping token spans, set through one array (no Span objects); the spans
    with their character offsets go to ``doc.user_data[ENTS]`` for the components that follow. A work-order
    form's frame (``FORM``: field labels, order numbers) only held its tokens against the model: no mention."""
    spans = [span for span in spans if span[2] != FORM]
    n = len(doc)
    iob, types = [2] * n, [0] * n  # 2: outside, 3: begin, 1: inside
    strings = doc.vocab.strings
    for s, e, label, _c, _src in spans:
        iob[s] = 3
        iob[s + 1 : e] = [1] * (e - s - 1)
        types[s:e] = [strings.add(label)] * (e - s)
    if n:
        doc.from_array(_ENT_ATTRS, numpy.array([iob, types], dtype="uint64").T)
    starts, ends = bounds
    ents = [(s, e, label, starts[s], ends[e - 1]) for s, e, label, _c, _src in spans]
    doc.user_data[ENTS] = ents
    doc.user_data[INFO] = {(ent[3], ent[4]): (c, src, False, False)
                           for ent, (_s, _e, _l, c, src) in zip(ents, spans, strict=True)}


def entities(doc: Doc) -> list[tuple[int, int, str, int, int]]:
    """``(start token, end token, label, start char, end char)`` of the entities: as the zhuisu ruler or
    decoder set them (cheap), else read from ``doc.ents``."""
    ents = doc.user_data.get(ENTS)
    if ents is None:
        ents = [(e.start, e.end, e.label_, e.start_char, e.end_char) for e in doc.ents]
    return ents


class EntityRuler:
    """Rule entities (lexicon, store master data, regex) into ``doc.ents``; the matches stay in user_data.

    With ``set_ents=False`` (a decoder follows and sets the entities) only the matches are kept, which saves
    building Span objects twice per note."""

    def __init__(self, nlp: Language, set_ents: bool = True) -> None:
        self.nlp = nlp
        self.set_ents = set_ents

    def __call__(self, doc: Doc) -> Doc:
        matches = doc.user_data.get(MATCHES)
        if matches is None:  # a Doc built by hand or by another tokenizer
            from zhuisu.nlp.normalize import fold

            matches = [(m.start, m.end, m.label, m.concept, m.source)
                       for m in scan(fold(doc.text), _lexicon(self.nlp))]
        bounds = token_bounds(doc)
        first = {c: i for i, c in enumerate(bounds[0])}
        last = {c: i + 1 for i, c in enumerate(bounds[1])}
        rules = []
        widened = False
        for start, end, label, concept, source in matches:
            s, e = first.get(start), last.get(end)
            if s is None or e is None:  # not on token bounds (a Doc from another tokenizer): widen to them
                span = doc.char_span(start, end, alignment_mode="expand")
                if span is None:
                    continue
                s, e, widened = span.start, span.end, True
            rules.append((s, e, label, concept, source))
        if widened:  # the matches themselves never overlap and come by start
            rules = _non_overlapping(rules)
        doc.user_data[RULES] = rules
        if self.set_ents:
            _set_ents(doc, rules, bounds)
        return doc


class BioDecoder:
    """Entities from the trained tagger's BIO tags, merged with the rule entities.

    Rule entities from the store, regexes and multi-character lexicon terms win; the model fills the gaps
    with components and fault states the dictionary has never seen, and joins adjacent terms into one
    name where it reads them as one ("油缸" + "密封" → "油缸密封").
    """

    def __init__(self, nlp: Language, tagger: str = "ner_tagger") -> None:
        self.nlp = nlp
        self.tagger = tagger

    def __call__(self, doc: Doc) -> Doc:
        strings = doc.vocab.strings
        tags = [strings[h] for h in doc.to_array(TAG).tolist()] if len(doc) else []
        predicted = list(_bio_spans(tags))
        doc.user_data[NER] = predicted
        rules = doc.user_data.get(RULES)
        if rules is None:
            rules = [(e.start, e.end, e.label_, e._.concept, e._.source) for e in doc.ents]
        _set_ents(doc, _merge(doc_words(doc), rules, predicted), token_bounds(doc))
        return doc


def _bio_spans(tags: list[str]) -> Iterable[Tri]:
    start, label = None, ""
    for i, tag in enumerate(tags):
        if tag.startswith("B-") or (tag.startswith("I-") and (start is None or tag[2:] != label)):
            if start is not None:
                yield start, i, label
            start, label = i, tag[2:]
        elif not tag.startswith("I-"):
            if start is not None:
                yield start, i, label
            start, label = None, ""
    if start is not None:
        yield start, len(tags), label


_MERGEABLE = ("Component", "Attribute", "Symptom")
_ORDINAL = re.compile(r"^第?[0-9一二三四五六七八九十]+[号个段根节点]?$")  # 第5, 3根: a position or count, not a name
_MODEL_LABELS = ("Component", "Symptom", "Attribute", "Cause", "Action", "Tool", "Equipment")


def _strong(rule: tuple[int, int, str, str, str], words: list[str]) -> bool:
    s, e, _label, _c, source = rule
    return source in ("store", "regex") or (source == "lexicon" and (e - s > 1 or len(words[s]) >= 2))


def _is_punct(word: str) -> bool:
    return not any(ch.isalnum() for ch in word)


def _covers(words: list[str], span: Tri, rules: list[tuple[int, int, str, str, str]]) -> bool:
    """A model span the model reads as one name over rule terms: adjacent terms joined (液位 + 开关, 主轴 +
    冷却机) or a component extended by words the dictionary lacks (位移 + 传感器, 编码器 + 线). Two dictionary
    components are never joined (one-character heads aside: 温控 + 阀): the part and its owner stay two
    mentions (电磁阀 + 线圈, part-of).

    The joined terms must fit the span's label: a component may hold components (and attribute or
    equipment words used as modifiers, 模温 + 机); a symptom only symptoms (电流 + 偏大 stays an attribute and
    its state); an attribute only attributes. A rule term cut by the span's edge vetoes it.
    """
    s, e, label = span
    if label not in _MERGEABLE:
        return False
    inside = [r for r in rules if s <= r[0] and r[1] <= e]
    if any(r[0] < e and s < r[1] and not (s <= r[0] and r[1] <= e) for r in rules):
        return False
    if not inside or (len(inside) == 1 and inside[0][0] == s and inside[0][1] == e):
        return False
    allowed = _JOINABLE[label]
    if any(r[2] not in allowed or (r[2] == "Equipment" and r[4] != "lexicon") for r in inside):
        return False
    if label == "Component" and sum(r[2] in ("Component", "Equipment") and len("".join(words[r[0] : r[1]])) >= 2
                                    for r in inside) > 1:
        return False  # two dictionary parts (or a machine and its part) stay two mentions with part-of
        # between them (电磁阀 + 线圈, 输送线 + 电机)
    if label == "Component" and inside[-1][2] == "Attribute" and inside[-1][1] == e and \
            any(r[2] == "Component" for r in inside[:-1]):
        return False  # a part before a quantity stays part + quantity (电机 + 绝缘, 主轴 + 温度)
    covered = {i for r in inside for i in range(r[0], r[1])}
    extra = [i for i in range(s, e) if i not in covered]
    if not extra:
        return label == "Component" or inside[-1][2] == label
    # a name extended by words the dictionary lacks: only a component, by a short modifier before it
    # (位移 + 传感器, 回 + 水泵) or a one-character head after it (编码器 + 线, 碟簧 + 组)
    if label != "Component" or inside[-1][2] != "Component":
        return False
    stop = lexmod.not_entities()
    added = [words[i] for i in extra]
    if any(not _is_cjk(w) or w in stop or w in _VERBISH for w in added):
        return False
    before = [i for i in extra if i < inside[0][0]]
    after = [i for i in extra if i >= inside[-1][1]]
    if len(before) + len(after) != len(extra) or (after and before):
        return False
    if after:
        return len(after) == 1 and added[-1] in _PART_HEADS
    return len(before) == 1 and len(added[0]) <= 2


def _is_cjk(word: str) -> bool:
    return all("\u4e00" <= ch <= "\u9fff" for ch in word)


_PART_HEADS = frozenset("线条组卡板块座套片芯头盘杆管环轮架盖罩")
_VERBISH = frozenset(("插拔", "拆", "拆下", "换", "装", "安装", "拆卸", "测", "测得", "用", "把", "将", "被", "对",
                      "给", "和", "与", "及", "的", "有", "无", "在", "至", "到", "从", "报", "第"))


_JOINABLE = {"Component": ("Component", "Attribute", "Equipment"), "Symptom": ("Symptom",),
             "Attribute": ("Attribute",)}


def _merge(words: list[str], rules: list[tuple[int, int, str, str, str]], predicted: list[Tri]
           ) -> list[tuple[int, int, str, str, str]]:
    """Rule and model entities over the tokens ``words``, without overlaps."""
    stop = lexmod.not_entities()
    predicted = [p for p in (_trim(words, q, stop) for q in predicted if q[2] in _MODEL_LABELS)
                 if len(text := "".join(words[p[0] : p[1]]).strip()) >= 2 and text not in stop
                 and not _ORDINAL.match(text)]
    exact = {(r[0], r[1]) for r in rules}  # a span one rule term fills, or one token, joins nothing
    merged = [(s, e, label, "", "model") for s, e, label in predicted
              if e - s > 1 and (s, e) not in exact and _covers(words, (s, e, label), rules)]
    inside = {r for m in merged for r in rules if m[0] <= r[0] and r[1] <= m[1]}
    chosen = [*merged, *(r for r in rules if r not in inside and _strong(r, words))]
    taken = bytearray(len(words) + 1)
    for s, e, *_ in chosen:
        taken[s:e] = b"\x01" * (e - s)
    for s, e, label in predicted:
        if taken.find(1, s, e) < 0:
            chosen.append((s, e, label, "", "model"))
            taken[s:e] = b"\x01" * (e - s)
    for r in rules:  # weak rule spans (one-character states) only where the model said nothing
        if r not in inside and taken.find(1, r[0], r[1]) < 0:
            chosen.append(r)
            taken[r[0] : r[1]] = b"\x01" * (r[1] - r[0])
    spans = _compounds(words, _generic_heads(words, sorted(chosen)))
    return _measured(words, _rementions(words, _alarms(words, spans)))


def _rementions(words: list[str], spans: list[tuple[int, int, str, str, str]]
                ) -> list[tuple[int, int, str, str, str]]:
    """A part an action names again by the end of its name (更换驱动器 after 主轴驱动器, 清理电极 after 点火电极)
    is a re-mention, not a mention of its own: the action finds the full name before it. (Only right after
    the action: dropping every such re-mention lowered the BDCI cross-validated scores, which count faults
    reported on the short name.)"""
    names: set[str] = set()
    out: list[tuple[int, int, str, str, str]] = []
    for span in spans:
        if span[2] == "Component":
            text = "".join(words[span[0] : span[1]])
            if len(text) >= 2 and out and out[-1][2] == "Action" and out[-1][1] == span[0] and \
                    any(len(n) > len(text) and n.endswith(text) for n in names):
                continue
            names.add(text)
        out.append(span)
    return out


def _alarms(words: list[str], spans: list[tuple[int, int, str, str, str]]) -> list[tuple[int, int, str, str, str]]:
    """报警 right after a fault state is the alarm that state raised (超温 + 报警): no second symptom."""
    out: list[tuple[int, int, str, str, str]] = []
    for span in spans:
        if span[2] == "Symptom" and span[1] - span[0] == 1 and words[span[0]] in ALARM_WORDS and out \
                and out[-1][2] == "Symptom" and out[-1][1] == span[0]:
            continue
        out.append(span)
    return out


# states that are also measured quantities: before their value they are the quantity (振动 4.6mm/s)
_MEASURED = frozenset(("振动", "震动", "跳动", "噪音", "噪声", "温升", "抖动"))
_VALUE_LINK = frozenset(("", "值", "为", "值为", "达", "达到", "约", "只有", "仅", "在", "降到", "升到", "到", ":",
                         "："))


def _measured(words: list[str], spans: list[tuple[int, int, str, str, str]]) -> list[tuple[int, int, str, str, str]]:
    """A state word that names a measured quantity, written right before its value, is the quantity
    (测振动4.6mm/s → Attribute 振动 + Parameter), as the gold set's convention B reads it."""
    out = list(spans)
    for k, (s, e, label, _concept, source) in enumerate(spans[:-1]):
        nxt = spans[k + 1]
        if label == "Symptom" and "".join(words[s:e]).strip() in _MEASURED and nxt[2] == "Parameter" \
                and "".join(words[e : nxt[0]]).strip() in _VALUE_LINK:
            out[k] = (s, e, "Attribute", "", source)
    return out


# nouns that name a part only together with what they belong to: 油缸 + 密封, 顶升 + 机构, 刹车 + 总成
_GENERIC_HEADS = frozenset(("密封", "总成", "组件", "机构", "装置", "部件", "单元", "组", "座", "套"))
_ONE_CHAR_PARTS = frozenset("阀泵管缸轴轮条板片芯座罩机")  # 门封 + 条, 排风 + 机


def _generic_heads(words: list[str], spans: list[tuple[int, int, str, str, str]]
                   ) -> list[tuple[int, int, str, str, str]]:
    """A generic head or a one-character part right after a component or attribute joins it into one
    component (柱塞 + 密封, 排湿 + 管, 冷却液 + 泵)."""
    out: list[tuple[int, int, str, str, str]] = []
    starts = {sp[0]: sp for sp in spans}
    skip: set[int] = set()
    for span in spans:
        if span[0] in skip:
            continue
        s, e, label = span[:3]
        if label in ("Component", "Attribute") and e < len(words):
            nxt = starts.get(e)
            head = words[e]
            if nxt is not None and (nxt[2] == "Component" or nxt[1] == e + 1) and \
                    "".join(words[nxt[0] : nxt[1]]) in _GENERIC_HEADS:
                span = (s, nxt[1], "Component", "", "model")
                skip.add(e)
            elif (head in _ONE_CHAR_PARTS or head in _GENERIC_HEADS) and (
                    nxt is None or (nxt[1] == e + 1 and nxt[2] == "Component")):
                span = (s, e + 1, "Component", "", "model")
                skip.add(e)
        out.append(span)
    return out


# a working medium before a part names what the part serves (液压油 + 滤芯, 冷却水 + 管): one name; a
# drive after a part names the part's own drive (风扇 + 电机, 主轴 + 驱动器): one name, as BDCI writes them
_MEDIUM = re.compile(r"(?:油|液|水|剂|媒)$")
_DRIVE_HEADS = frozenset(("电机", "马达", "电动机", "驱动器"))
# an auxiliary machine named by what it serves is one name (料斗 + 干燥机, 主轴 + 冷却机)
_SERVING_HEADS = frozenset(("干燥机", "冷却机", "冷干机", "除湿机", "吸料机", "模温机", "冷水机"))


@lru_cache(maxsize=4096)
def _equipment_word(word: str) -> bool:
    entry = lexmod.base().lookup(word)
    return entry is not None and entry.label == "Equipment"


def _compounds(words: list[str], spans: list[tuple[int, int, str, str, str]]
               ) -> list[tuple[int, int, str, str, str]]:
    """Names the dictionary reads as two words joined into one component: a medium before a part
    (液压油 + 滤芯) and a part before its drive (风扇 + 电机). (A modifier the dictionary lacks, 位移 + 传感器,
    is the model's to join: a rule joining every such word lowered the BDCI cross-validated scores.)"""
    if not spans:
        return spans
    out: list[tuple[int, int, str, str, str]] = []
    for span in spans:
        s, e, label = span[:3]
        if label == "Component" and e - s > 1 and words[e - 1] in ("测试", "试验"):
            span = (s, e, "Attribute", "", "model")  # a test read as a characteristic (耐压 + 测试 NG)
        elif label == "Component":
            last = out[-1] if out else None
            if last is not None and last[1] == s and last[2] == "Component" and (
                    _MEDIUM.search(words[last[1] - 1])
                    or ("".join(words[s:e]) in _DRIVE_HEADS and not _equipment_word("".join(words[last[0]:s])))
                    or "".join(words[s:e]) in _SERVING_HEADS):
                out[-1] = (last[0], e, "Component", "", "model")
                continue
        out.append(span)
    return out


def _trim(words: list[str], span: Tri, stop: frozenset[str]) -> Tri:
    """A model span without the filler words at its edges (磨损严重 → 磨损, 后解除 → 解除), a number's marker
    (号电机 of 2号电机 → 电机) and an action's aspect particle (换了 → 换)."""
    s, e, label = span
    while e - s > 1 and (words[e - 1] in stop or _is_punct(words[e - 1])
                         or (label == "Action" and words[e - 1] == "了")):
        e -= 1
    while e - s > 1 and (words[s] in stop or _is_punct(words[s]) or words[s] in ("号", "#")):
        s += 1
    return s, e, label


def _non_overlapping(spans: list[tuple[int, int, str, str, str]]) -> list[tuple[int, int, str, str, str]]:
    out, taken = [], set()
    for sp in sorted(spans, key=lambda x: (x[0] - x[1], x[0])):
        if not taken.intersection(range(sp[0], sp[1])):
            out.append(sp)
            taken.update(range(sp[0], sp[1]))
    return sorted(out)


class Qualifiers:
    """Negation ("未发现异常") and uncertainty ("怀疑", "可能", "待查") of symptoms, causes and components."""

    def __call__(self, doc: Doc) -> Doc:
        text = doc_text(doc)
        info = doc.user_data.setdefault(INFO, {})
        breaks = None
        for _s, _e, label, start, end in entities(doc):
            if label not in ("Symptom", "Cause", "Component", "Attribute"):
                continue
            if breaks is None:
                breaks = [m.end() for m in _QUALIFIER_BREAK.finditer(text)]
            clause_start = breaks[bisect_right(breaks, start) - 1] if breaks and breaks[0] <= start else 0
            before = text[clause_start:start]
            negated = False
            if label in ("Symptom", "Cause"):
                tail = before[-4:]
                negated = not _NEGATION_CHARS.isdisjoint(tail) and \
                    any(tail.endswith(c) or (c in tail and len(c) >= 2) for c in NEGATION_CUES) and \
                    not any(tail.endswith(x) for x in ("无法", "未能"))
            after = text[end : end + 4]
            uncertain = (not _UNCERTAIN_FIRST.isdisjoint(before) and any(c in before for c in UNCERTAIN_CUES)) or \
                (not _UNCERTAIN_AFTER_FIRST.isdisjoint(after)
                 and any(after.startswith(c) or after[2:].startswith(c) for c in UNCERTAIN_AFTER))
            key = (start, end)
            concept, source, _n, _u = info.get(key, _NONE)
            info[key] = (concept, source, negated, uncertain)
        return doc


_QUALIFIER_BREAK = re.compile(r"[,，。;；!！\n]")  # a qualifier reaches back to the last of these
_NEGATION_CHARS = frozenset("".join(NEGATION_CUES))  # no cue without one of its characters
_UNCERTAIN_FIRST = frozenset(c[0] for c in UNCERTAIN_CUES)
_UNCERTAIN_AFTER_FIRST = frozenset(c[0] for c in UNCERTAIN_AFTER)


class Relations:
    """Typed relations between the entities of a note: has-fault, part-of, caused-by, action-on,
    replaced-part, detected-with (rules over clause structure and cue words)."""

    def __call__(self, doc: Doc) -> Doc:
        info = doc.user_data.get(INFO, {})
        doc._.relations = assemble(doc_text(doc), [(start, end, label, info.get((start, end), _NONE)[2])
                                                   for _s, _e, label, start, end in entities(doc)])
        return doc


@Language.factory("zhuisu_entity_ruler_v1", requires=["doc.text"], assigns=["doc.ents"],
                  default_config={"set_ents": True})
def make_entity_ruler(nlp: Language, name: str, set_ents: bool) -> EntityRuler:
    return EntityRuler(nlp, set_ents)


@Language.factory("zhuisu_bio_decoder_v1", requires=["token.tag", "doc.ents"], assigns=["doc.ents"],
                  default_config={"tagger": "ner_tagger"})
def make_bio_decoder(nlp: Language, name: str, tagger: str) -> BioDecoder:
    return BioDecoder(nlp, tagger)


@Language.factory("zhuisu_qualifiers_v1", requires=["doc.ents"], assigns=["span._.negated", "span._.uncertain"])
def make_qualifiers(nlp: Language, name: str) -> Qualifiers:
    return Qualifiers()


@Language.factory("zhuisu_relations_v1", requires=["doc.ents", "span._.negated"], assigns=["doc._.relations"])
def make_relations(nlp: Language, name: str) -> Relations:
    return Relations()


