"""Rule matches over folded text: numbered equipment, codes, values with units, times, and dictionary terms.

``scan`` is run once per note by the tokenizer (its matches become whole tokens) and read back by the
entity ruler; both sides see the same spans, so rule entities always align with tokens.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import NamedTuple

from zhuisu.nlp.lexicon import Entry, Lexicon, not_entities

CLAUSE_BREAK = re.compile(r"[,，。;；!！?？\n]")
_NUM_ZH = "一二三四五六七八九十两"
UNITS = sorted(
    """MPa kPa Pa bar psi kN N·m N.m Nm N ℃ °C 度 mm/s mm μm um nm cm m/s m/min m A mA V kV kW W MΩ kΩ Ω mΩ Hz kHz
    μF uF nF pF mT Gs ppm dB mH MΩ·cm kWh MWh Torr mTorr sccm slm pcs
    g/ml g/mL g/cm³ g/cm3 g/L mg/L mg/m³ mg/m3 mW/cm² W/cm² m³/h m3/h m³/min m3/min L/min L/h t/h kg/h Nm³/h
    rpm r/min L ml mL g kg t mS/cm μS/cm % 小时 个小时 h H 分钟 min 天 秒 s 转 升 公斤 千克 毫米 伏 安""".split(),
    key=len, reverse=True,
)
TIME_UNITS = {"小时", "个小时", "h", "H", "分钟", "min", "天", "秒", "s"}
_DIGITS = r"\d+(?:\.\d+)?(?:[eE][-+]?\d{1,2})?"
NUMBER = rf"[±+\-]?{_DIGITS}"  # 2.5, -5, 5.2E-7
OTHER_END = rf"(?:\s*(?:[~～\-]|±)\s*{_DIGITS})?"  # of a range or tolerance: 18~25, 23±0.1
_VALUE = rf"(?<![A-Za-z0-9.\-]){NUMBER}{OTHER_END}"
# a one-character unit that starts a word is no unit (15安全气囊, 2转向机)
PARAM = re.compile(_VALUE + r"\s*(?:" + "|".join(re.escape(u) for u in UNITS) + r")(?![A-Za-z])"
                   r"(?<!安(?=[全装]))(?<!转(?=[向速动子换盘矩角]))")
CODE = re.compile(r"(?<![A-Za-z0-9\-])(?:[A-Za-z]{1,6}[-._]?\s?\d{1,6}"
                  r"|[A-Za-z]{1,6}(?:-[A-Za-z]{1,4})?-[A-Za-z]{0,3}\d{1,6})"  # E-204, SRVO-065, SP-GH-0316
                  r"(?![A-Za-z0-9.]|轴)")
# an axis is named by its letter or number (X轴, J3轴, 第4轴, 六轴), not by the bare 轴
AXIS = re.compile(r"(?:(?<![A-Za-z0-9.])(?:第\s*)?(?:\d{1,2}|J\s*\d)|(?:第\s*)?[一二三四五六七八九十]"
                  r"|(?<![A-Za-z])[XYZABCUVWxyzabc])\s*轴(?![承套])")
CODE_AFTER_ALARM = re.compile(r"(?:(?<=报)|(?<=代码)|(?<=故障码))\s*(?:\d{3,5}|[A-Z]{2,4})(?![A-Za-z0-9])")
TIME = re.compile(
    r"(?:\d{4}\s*[-/年.]\s*)?\d{1,2}\s*[-/月.]\s*\d{1,2}\s*[日号]?(?:\s*\d{1,2}[:：]\d{2})?"
    r"|(?:大前天|前天|昨天|昨日|昨晚|今天|今日|今早|今晚|明天|上周[一二三四五六日天]?|本周[一二三四五六日天]?|周[一二三四五六日天])"
    r"(?:夜班|白班|中班|早班|晚班|凌晨|上午|下午|晚上|早上|中午|夜里)?"
    r"|(?:夜班|白班|中班|早班|晚班|凌晨)"
    r"|\d{1,2}[:：]\d{2}|\d{1,2}点(?:半|\d{1,2}分)?(?![火亮燃击检动])"  # 1点火系统 is item 1, 点火系统
)
# the frame of a work-order form: its field labels (故障现象：… 原因分析：… 处理措施：… 停机时长：…), each opening a
# clause, and its order number (工单号WO-231103); one token each, no mention
FORM = "Form"
FIELD = re.compile(
    r"(?<![\u4e00-\u9fffA-Za-z0-9])(?:"
    r"(?:故障|问题|异常)?(?:现象|描述|部位|类型|等级|代码|信息)|故障原因|原因分析|根本原因|根因|原因|分析|"
    r"(?:处理|维修|解决|临时|纠正|预防|改善|整改|改进)?(?:措施|方法|方案|过程|内容|结果|情况)|处理|结论|建议|备注|"
    r"(?:停机|停线|维修|处理)(?:时长|时间|用时)|耗时|用时|"
    r"设备(?:名称|编号|型号)?|机台|工位|位置|区域|产线|线体|报警(?:代码|信息|内容)|"
    r"(?:更换|使用|所用)?备件|维修人(?:员)?|报修人|责任人|确认人|验收人|报修时间|完成时间|日期|时间|班次|工单号?|单号)"
    r"(?=\s*[:：])"
)
PART_NUMBER = re.compile(r"(?:(?<=备件号)|(?<=物料号)|(?<=料号)|(?<=物料编码)|(?<=备件编码)|(?<=物料编号))"
                         r"\s*[:：]?\s*(\d{5,12})(?![\d.])")  # 物料号10023871: a spare part by its number
ORDER_CUES = re.compile(r"(?:工单|单号|订单|通知单|工作票)\s*(?:号|编号)?\s*[:：]?\s*$")
SPARE_CUES = ("备件", "料号", "型号", "物料号", "备品", "更换", "换")
ALARM_WORDS = ("报警", "告警")
ALARM_CUES = ("报警", "报", "代码", "故障码", "错误", "alarm", "err")


class Match(NamedTuple):
    """A rule match: character span, label, concept uid and where it came from (a named tuple: a note makes
    dozens of candidates)."""

    start: int
    end: int
    label: str
    concept: str
    source: str  # "lexicon", "store", "regex"


_NUM = rf"(?:\d{{1,3}}|[{_NUM_ZH}]{{1,3}})"
# a machine's number written before its name: 2号, #2, 二号, No.2, 2A and #1B (unit 2, side A); never out of a
# clock time (14:30 + 6号)
_NUMBER = (rf"(?:(?<!\d)(?<!\d[:：.]){_NUM}\s*[号#]|#\s*\d{{1,3}}[A-Da-d]?|(?<![A-Za-z])(?i:no)\.?\s*\d{{1,3}}"
           r"|(?<![\dA-Za-z.])\d{1,2}[A-Da-d])\s*")
# what may stand right before a machine-type word and belong to its name (each ends where the word starts)
_NUMBERED = re.compile(_NUMBER + "$")
_TONNAGE = re.compile(r"(?<![\d.])\d{2,4}\s*[Tt吨]\s*$")  # 800T压力机: a press by its tonnage
_TAG = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{1,6}[-_]?\d{1,4}\s*$")  # SMT-03贴片机: an asset tag and its type
# a modifier naming a kind of machine, numbered or opening a clause: 2号定子压装机, 5号弧焊机器人, 转子压装机
_MODIFIED = re.compile(rf"(?:{_NUMBER}|(?<![^，。；;,:：\s]))(?P<mod>[\u4e00-\u9fff]{{1,4}})$")
# and what may follow it: CNC-05, 压装机 3 (not a quantity or another numbered thing)
_NUMBER_AFTER = re.compile(r"\s*[-_#]?\s*\d{1,3}(?![\d.])(?!\s*(?:号|#|" + "|".join(map(re.escape, UNITS)) + r"))")
_LINE = re.compile(rf"(?:{_NUM}|[A-Z])\s*号?\s*线(?!路|缆|圈|束|体|性|速)")  # 1号线, A线
_NOT_MODIFIERS = frozenset(("Symptom", "Action", "Cause", "Attribute", "Tool", "Equipment", "Time"))


def _modifier(mod: str, lex: Lexicon, stop: frozenset[str]) -> bool:
    """Whether ``mod`` can name a kind of machine (定子, 弧焊, 无菌): no number, line, step, state or action."""
    if re.search(r"[号线#第]", mod) or TIME.search(mod) or mod in stop \
            or any(mod[a:b] in stop for a in range(len(mod) - 1) for b in range(a + 2, len(mod) + 1)):
        return False
    return not any(e.label in _NOT_MODIFIERS for _i, e in lex.terms(mod))


def _typed_tag(tag: str, lex: Lexicon) -> bool:
    """A tag that starts with a machine type (AHU-07, CNC-05) names the machine already: AHU-07 + 风机 are two."""
    entry = lex.entries.get(re.match(r"[A-Za-z]+", tag).group().lower())  # type: ignore[union-attr]
    return entry is not None and entry.label == "Equipment"


def _equipment(text: str, terms: list[tuple[int, Entry]], lex: Lexicon) -> Iterable[tuple[int, int]]:
    """Spans of machines named by a dictionary type word and what belongs to the name around it (its number,
    tonnage, asset tag or modifier), found from the type words the dictionary scan already located."""
    for m in _LINE.finditer(text):
        yield m.span()
    for i, entry in terms:
        if entry.label != "Equipment" or entry.linked:
            continue
        j = i + len(entry.surface)
        window = max(0, i - 10)
        for rx in (_NUMBERED, _TONNAGE, _TAG):
            if (m := rx.search(text, window, i)) is not None and not (rx is _TAG and _typed_tag(m.group(), lex)):
                yield m.start(), j
        if (m := _MODIFIED.search(text, window, i)) is not None and _modifier(m.group("mod"), lex, not_entities()):
            yield m.start(), j
        if (m := _NUMBER_AFTER.match(text, j)) is not None:
            yield i, m.end()


_MACHINE_HEADS = "机线泵窑槽梯柜床炉塔站罐桩"  # the last character of a numbered machine's name: 冷干机, 给水泵, 3#炉
_PART_HEADS = ("电机", "主机")  # a motor is a part even when numbered (2#电机)


def _numbered_units(text: str, terms: list[tuple[int, Entry]]) -> Iterable[tuple[int, int]]:
    """A numbered auxiliary unit is a machine of its own (2#冷干机, 3号配电柜, 5#补水泵), though unnumbered after
    a machine it is that machine's part (注塑机 + 模温机)."""
    for i, entry in terms:
        if entry.label == "Component" and entry.surface.endswith(tuple(_MACHINE_HEADS)) \
                and not entry.surface.endswith(_PART_HEADS) \
                and (m := _NUMBERED.search(text, max(0, i - 6), i)) is not None:
            yield m.start(), i + len(entry.surface)


# a numbered name the dictionary lacks, ending in a machine's head (3#炉, 2号冷却水泵, 1号中和槽, #2机组)
_NUMBERED_NAME = re.compile(rf"{_NUMBER}(?P<name>[\u4e00-\u9fff]{{0,4}}?[{_MACHINE_HEADS}](?:组)?)")


def _numbered_names(text: str, terms: list[tuple[int, Entry]], lex: Lexicon) -> Iterable[tuple[int, int]]:
    """Machines named by a number and a word the dictionary lacks, ending in a machine's head character; never
    a part (2号电机), a dictionary word, nor a piece of a longer dictionary word (2号机 of 2号机械手)."""
    for m in _NUMBERED_NAME.finditer(text):
        b = m.end("name")
        name = m.group("name")
        if lex.entries.get(name.lower()) is not None or name.endswith(_PART_HEADS):
            continue
        # a dictionary word across its end (机械手 of 2号机械手) wins, unless cutting there leaves a word (炉 + 温度)
        if any(i < b < i + len(e.surface) for i, e in terms) and not any(i == b for i, _e in terms):
            continue
        yield m.start(), b


def scan(text: str, lex: Lexicon) -> list[Match]:
    """Non-overlapping rule matches in ``text`` (folded): store names and regexes longest first, then the
    dictionary terms that cover the most of what is left."""
    low = text.lower()
    cands: list[tuple[int, int, int, Match]] = []  # (-length, rank, start, match)

    def add(start: int, end: int, label: str, concept: str, source: str, rank: int) -> None:
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if end > start:
            cands.append((-(end - start), rank, start, Match(start, end, label, concept, source)))

    found = lex.terms(low)
    if _colon(text):
        for m in FIELD.finditer(text):
            add(m.start(), m.end(), FORM, "", "regex", 0)
    if "号" in text or "码" in text:  # every part-number cue has one of them
        for m in PART_NUMBER.finditer(text):
            add(m.start(1), m.end(1), "SparePart", "", "regex", 2)
    for start, end in _equipment(text, found, lex):
        add(start, end, "Equipment", "", "regex", 1)
    for start, end in _numbered_units(text, found):
        add(start, end, "Equipment", "", "regex", 1)
    if "号" in text or "#" in text:
        for start, end in _numbered_names(text, found, lex):
            add(start, end, "Equipment", "", "regex", 1)
    for m in PARAM.finditer(text):
        add(m.start(), m.end(), "Parameter", "", "regex", 2)
    for m in TIME.finditer(text):
        add(m.start(), m.end(), "Time", "", "regex", 3)
    for m in CODE.finditer(text):
        add(m.start(), m.end(), _code_label(low, m.start(), m.group()), "", "regex", 4)
    for m in AXIS.finditer(text):
        add(m.start(), m.end(), "Component", "", "regex", 4)
    for m in CODE_AFTER_ALARM.finditer(text):
        add(m.start(), m.end(), "FaultCode", "", "regex", 4)
    n = len(low)
    terms: list[tuple[int, Entry]] = []
    for i, entry in found:
        if entry.linked:  # store names, taken whole like the regexes
            add(i, i + len(entry.surface), entry.label, entry.concept, "store", 0)
        else:
            terms.append((i, entry))
    cands.sort(key=lambda c: (c[0], c[1], c[2]))
    taken = bytearray(n + 1)
    chosen: list[Match] = []
    for _, _, _, m in cands:  # longest first
        if taken.find(1, m.start, m.end) >= 0:
            continue
        chosen.append(m)
        taken[m.start : m.end] = b"\x01" * (m.end - m.start)
    chosen.extend(_dictionary_terms(terms, n, taken))
    chosen.sort(key=lambda m: m.start)
    return _contextual(chosen, low, lex)


def _dictionary_terms(terms: list[tuple[int, Entry]], n: int, taken: bytearray) -> list[Match]:
    """Dictionary terms (``(start, entry)`` by start) in the text left free, chosen to cover the most
    characters with the fewest terms: "清洗液位计" is 清洗 + 液位计, where longest-first would read 清洗液 + 位计.
    Ties go to longer terms, then to the earlier ones (更换 + 油分芯, not 更 + 换油 + 分芯).

    The choice is made apart in each run of overlapping terms (the score adds up over runs)."""
    out: list[Match] = []
    run: list[tuple[int, Entry, int]] = []
    reach = -1
    for i, e in terms:
        end = i + len(e.surface)
        if taken.find(1, i, end) >= 0:
            continue
        if run and i >= reach:
            out.extend(_cover(run))
            run = []
        run.append((i, e, end))
        reach = max(reach, end) if len(run) > 1 else end
    if run:
        out.extend(_cover(run))
    return out


def _cover(run: list[tuple[int, Entry, int]]) -> list[Match]:
    """The best cover of one run of overlapping terms ``(start, entry, end)``, by start."""
    if len(run) == 1:
        i, e, end = run[0]
        return [Match(i, end, e.label, e.concept, "lexicon")]
    first = run[0][0]
    n = max(end for _i, _e, end in run)
    by_start: dict[int, list[tuple[Entry, int]]] = {}
    for i, e, end in run:
        by_start.setdefault(i, []).append((e, end))
    # best[pos]: (characters covered, -terms, sum of squared term lengths, -sum of term starts) over the run
    # up to pos
    best: list[tuple[int, int, int, int]] = [(0, 0, 0, 0)] * (n + 1)
    back: list[Entry | None] = [None] * (n + 1)  # the term ending at pos on the best path, None for a free char
    for i in range(first, n):
        if best[i] > best[i + 1]:
            best[i + 1], back[i + 1] = best[i], None
        for entry, end in by_start.get(i, ()):
            b = best[i]
            score = (b[0] + end - i, b[1] - 1, b[2] + (end - i) ** 2, b[3] - i)
            if score > best[end]:
                best[end], back[end] = score, entry
    out: list[Match] = []
    pos = n
    while pos > first:
        entry = back[pos]
        if entry is None:
            pos -= 1
            continue
        out.append(Match(pos - len(entry.surface), pos, entry.label, entry.concept, "lexicon"))
        pos -= len(entry.surface)
    out.reverse()
    return out


_ACTED_ON = frozenset(("Component", "Equipment", "SparePart", "Attribute"))
_ACTION_PARTICLES = frozenset("了掉好完新后上到至回成")  # 换了, 换掉, 调到, 调回: a one-character action ends there


def _contextual(matches: list[Match], low: str, lex: Lexicon) -> list[Match]:
    """Drop short state words ("高", "低") not right after an attribute or component, "停机" before a duration;
    an unnumbered equipment type right after equipment is a component of it ("冷却塔风机")."""
    out: list[Match] = []
    for k, m in enumerate(matches):
        nxt = matches[k + 1] if k + 1 < len(matches) else None
        if m.label == "Symptom" and low[m.start : m.end] in ("停机", "停线", "停车") and nxt is not None \
                and nxt.label == "Parameter" and nxt.start - m.end <= 1:
            continue
        if m.label == "Symptom" and low[m.start : m.end] in ALARM_WORDS and out and out[-1].label == "Symptom" \
                and out[-1].end == m.start:
            continue  # 超温 + 报警: the alarm a state raised is that state, not a second symptom
        if m.label == "Equipment" and m.source == "lexicon" and out and out[-1].label == "Equipment" \
                and out[-1].end == m.start:
            m = Match(m.start, m.end, "Component", "component:" + m.concept.partition(":")[2], m.source)
        if m.label == "Action" and m.source == "lexicon" and low[max(0, m.start - 2) : m.start] == "重新" \
                and (not out or out[-1].end <= m.start - 2):
            m = Match(m.start - 2, m.end, m.label, m.concept, m.source)  # 重新校准, 重新插紧: one action
        if m.label == "Attribute" and m.source == "lexicon" and low[m.end : m.end + 1] == "仪" \
                and (nxt is None or nxt.start > m.end):
            m = Match(m.start, m.end + 1, "Tool", "", m.source)  # 电导率 + 仪: the instrument measuring it
        if m.label == "Tool" and nxt is not None and nxt.start == m.end and nxt.label == "Symptom":
            m = Match(m.start, m.end, "Component", "component:" + m.concept.partition(":")[2], m.source)
        if m.source == "lexicon":
            entry = lex.entries.get(low[m.start : m.end])
            if entry is not None and entry.contextual and entry.label == "Action":
                if not (nxt is not None and nxt.start == m.end and nxt.label in _ACTED_ON) \
                        and low[m.end : m.end + 1] not in _ACTION_PARTICLES:
                    continue
            elif entry is not None and entry.contextual:
                prev = out[-1] if out else None
                if prev is None or prev.end != m.start or prev.label not in ("Attribute", "Component"):
                    continue
        out.append(m)
    return out


def _code_label(low: str, start: int, code: str) -> str:
    """A work order's number after its cue (工单号WO-231103, part of the form); a spare part after a spare-part
    cue; the machine's asset tag when it opens a clause, or follows only a
    time (NXT-2贴装偏移, 今早OP50主轴超温), and no 报警 follows; else a fault code."""
    if code.lower().startswith(("sp-", "sp_")):
        return "SparePart"
    window = low[max(0, start - 12) : start]
    if ORDER_CUES.search(window):
        return FORM
    opening = re.split(r"[:：]", CLAUSE_BREAK.split(low[:start])[-1])[-1].strip()
    rest = low[start + len(code):].lstrip()
    if (not opening or TIME.fullmatch(opening) or TIME.fullmatch(opening.removesuffix("接班"))) \
            and rest[:1] >= "\u4e00" and not rest.startswith(ALARM_WORDS) and not any(c in window for c in ALARM_CUES):
        return "Equipment"
    before = CLAUSE_BREAK.split(window)[-1]
    alarm = max((before.rfind(c) for c in ALARM_CUES), default=-1)
    spare = max((before.rfind(c) for c in SPARE_CUES), default=-1)
    return "SparePart" if spare > alarm else "FaultCode"


def clause_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of the clauses of a note (split at commas, full stops, semicolons, newlines and
    before the field labels of a form)."""
    spans, start = [], 0
    for m in (_CLAUSE_OR_FIELD if _colon(text) else CLAUSE_BREAK).finditer(text):
        if m.start() > start or m.end() > m.start():
            spans.append((start, m.start()))
        start = m.end()
    spans.append((start, len(text)))
    return spans


_CLAUSE_OR_FIELD = re.compile(f"{CLAUSE_BREAK.pattern}|(?={FIELD.pattern})")


def _colon(text: str) -> bool:
    """Whether a form's field label can be in ``text`` (each is followed by a colon; most notes have none)."""
    return ":" in text or "：" in text
