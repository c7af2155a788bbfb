"""Training corpora: template notes (deterministic by seed), hand-annotated plant notes (``nlp/data/notes``)
and the BDCI 2022 file as weak BIO labels.

Template slots are filled from the lexicon and, to teach the model words the dictionary lacks, from
component and fault names composed of morphemes (进料 + 阀, 张紧 + 轮, 异常 + 发热) that are not in it.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from zhuisu.nlp import lexicon as lexmod
from zhuisu.nlp.markup import read

Ann = tuple[int, int, str]  # start, end, label
NOTES_DIR = Path(__file__).parent / "data" / "notes"

_MODIFIERS = ("进料", "出料", "主", "副", "左", "右", "上", "下", "前", "后", "液压", "气动", "电动", "伺服", "冷却",
              "加热", "传动", "张紧", "定位", "夹紧", "送料", "顶出", "旋转", "升降", "回转", "导向", "驱动", "计量",
              "输送", "分度", "制动", "换向", "进气", "排气", "回油", "供水", "真空", "高压", "低压", "牵引", "压紧")
_HEADS = ("泵", "阀", "缸", "电机", "轴承", "齿轮", "皮带", "链轮", "轴", "轴套", "板", "座", "拉杆", "辊", "轮",
          "盘", "罩", "管", "线路", "头", "支架", "门", "块", "销", "箱", "开关", "模块", "传感器", "电缆", "弹簧",
          "接头", "滤网", "叶片", "触头", "绕组", "线圈", "端子", "保险", "继电器", "电容", "变压器", "风机")
_MODIFIERS2 = tuple(m for m in _MODIFIERS if len(m) == 2) + ("辅助", "备用", "安全", "双手", "零位", "原点", "进口",
                                                              "出口", "防爆", "隔膜", "旁通", "紧急", "定时", "温控")
_MEDIUM = re.compile(r"(?:油|液|水|剂|媒)$")  # 液压油 + 滤芯 is one name (as the decoder reads it)
_DRIVE_HEADS = frozenset(("电机", "马达", "电动机", "驱动器"))  # 风扇 + 电机 is one name
_STATE_HEADS = ("松脱", "开裂", "卡涩", "渗液", "鼓肚", "烧蚀", "放电", "击穿", "发黑", "变色", "起泡", "脱焊", "虚焊",
                "锈死", "弯曲变形", "严重磨损", "工作不良", "动作缓慢", "无输出", "输出不稳", "断股", "脱扣", "拒动",
                "失灵", "异常发热", "不能复位", "响声异常", "无法通讯", "无信号", "打火", "冒烟", "变形", "损坏",
                "故障", "松动", "漏油", "异响", "卡死", "过热", "堵塞", "断裂", "报警", "不工作", "接触不良",
                "密封不严", "关闭不严", "间隙过大", "间隙过小", "偏磨", "脱落", "抖动", "跳闸", "短路", "断路")
_PRODUCT_DEFECTS = ("气泡", "毛刺", "划痕", "色差", "漏封", "缺料", "短射", "烧焦", "熔接痕", "翘曲")
_FILLER = ("", "", "", "检查", "经检查", "巡检发现", "操作工反映", "夜班反映", "白班发现", "现场确认", "开机时",
           "运行中", "生产中", "交接班时", "早上")
_AFTER = ("", "", "，已处理", "，试机正常", "，恢复生产", "，运行正常", "，交班", "，待观察", "，通知厂家",
          "后恢复正常", "后OK", "后正常", "，安排明天处理", "，重新开机", "后再次启动", "，全部合格", "，产品隔离")
_LINK = ("", "", "", "出现", "有", "发生", "频繁", "偶尔", "严重", "表面有", "运行时", "突然")


def _vocab() -> dict[str, Any]:
    lex = lexmod.base()
    out: dict[str, Any] = {}
    for entry in lex.entries.values():
        if not entry.contextual:
            out.setdefault(entry.label, []).append(entry.surface)
    for label in out:
        out[label].sort()
    states = [e.surface for e in lex.entries.values() if e.label == "Symptom" and e.concept in
              ("symptom:偏低", "symptom:偏高", "symptom:波动", "symptom:缓慢", "symptom:失败", "symptom:丢失")]
    out["State"] = sorted(states)
    out["ComponentSet"] = frozenset(out["Component"])
    return out


class _Note:
    def __init__(self) -> None:
        self.text = ""
        self.ents: list[Ann] = []

    def add(self, piece: str, label: str | None = None) -> _Note:
        if label:
            self.ents.append((len(self.text), len(self.text) + len(piece), label))
        self.text += piece
        return self


def _equipment(rng: random.Random, vocab: dict[str, Any]) -> str:
    word = rng.choice(vocab["Equipment"])
    n = rng.randint(1, 16)
    zh = "一二三四五六七八九十"[min(n, 10) - 1]
    return rng.choice((word, f"{n}号{word}", f"{n}#{word}", f"#{n}{word}", f"{zh}号{word}", f"{word.upper()}-{n:02d}"
                       if word.isascii() else f"{n}号{word}"))


def _component(rng: random.Random, vocab: dict[str, Any]) -> list[str]:
    """A component name as its mentions: one name, or a part after its owner (电磁阀 + 线圈) when both are
    dictionary components of two characters or more; a modifier or generic head joins the name (进料阀)."""
    r = rng.random()
    if r < 0.4:
        return [rng.choice(_MODIFIERS) + rng.choice(_HEADS)]
    if r < 0.55:
        owner, head = rng.choice(vocab["Component"]), rng.choice(_HEADS)
        return [owner, head] if len(head) >= 2 and head in vocab["ComponentSet"] and len(owner) >= 2 \
            and not _MEDIUM.search(owner) and head not in _DRIVE_HEADS else [owner + head]
    if r < 0.62:  # a modifier the dictionary lacks before a dictionary part is one name (位移 + 传感器)
        return [rng.choice(_MODIFIERS2) + rng.choice(vocab["Component"])]
    return [rng.choice(vocab["Component"])]


def _add_component(note: _Note, rng: random.Random, vocab: dict[str, Any]) -> None:
    for piece in _component(rng, vocab):
        note.add(piece, "Component")


def _symptom(rng: random.Random, vocab: dict[str, Any]) -> str:
    return rng.choice(_STATE_HEADS) if rng.random() < 0.4 else rng.choice(vocab["Symptom"])


def template_note(rng: random.Random, vocab: dict[str, Any]) -> _Note:
    """One synthetic note."""
    note = _Note()
    note.add(rng.choice(_FILLER))
    if rng.random() < 0.8:
        note.add(_equipment(rng, vocab), "Equipment")
    form = rng.random()
    if form < 0.5:
        _add_component(note, rng, vocab)
        if rng.random() < 0.3:
            _add_component(note, rng, vocab)
        note.add(rng.choice(_LINK))
        note.add(_symptom(rng, vocab), "Symptom")
        if rng.random() < 0.1:
            note.add(rng.choice(("报警", "报警停机")))
    elif form < 0.75:
        if rng.random() < 0.3:  # the owner of an attribute is its own mention: 液压油 + 温度, 主轴 + 转速
            _add_component(note, rng, vocab)
        note.add(rng.choice(vocab["Attribute"]), "Attribute")
        if rng.random() < 0.3:
            note.add(f"{rng.randint(1, 300)}{rng.choice(('℃', 'MPa', 'A', 'V', 'mm', 'bar', 'rpm'))}", "Parameter")
            note.add("，")
        note.add(rng.choice(vocab["State"]), "Symptom")
        if rng.random() < 0.15:  # 油温高报警: the alarm a state raised is no second symptom
            note.add("报警")
    else:
        _add_component(note, rng, vocab)
        note.add(rng.choice(("", "报", "出现")))
        note.add(rng.choice(("报警", "故障", "异常")), "Symptom")
        note.add(rng.choice(("E", "AL", "ALM", "Er.", "F")) + str(rng.randint(1, 9999)), "FaultCode")
    if rng.random() < 0.1:  # a defect of the product
        note.add(rng.choice(("，产品", "，工件", "，产品出现")))
        note.add(rng.choice(_PRODUCT_DEFECTS), "Symptom")
    if rng.random() < 0.6:
        note.add(rng.choice(("，", "，检查发现", "，原因是", "，拆检发现", "，怀疑", "，可能是", "，")))
        r = rng.random()
        if r < 0.3:
            note.add(rng.choice(vocab["Cause"]), "Cause")
        elif r < 0.45:
            note.add(rng.choice(vocab["Attribute"]), "Attribute")
            note.add(rng.choice(vocab["State"]), "Symptom")
        else:
            _add_component(note, rng, vocab)
            note.add(rng.choice(_LINK[:6]))
            note.add(_symptom(rng, vocab), "Symptom")
        if rng.random() < 0.25:  # a third fault clause
            note.add(rng.choice(("，", "，导致", "，同时", "，进一步检查")))
            _add_component(note, rng, vocab)
            note.add(_symptom(rng, vocab), "Symptom")
    if rng.random() < 0.15:
        note.add("，用")
        note.add(rng.choice(vocab["Tool"]), "Tool")
        note.add("测量")
    if rng.random() < 0.75:
        note.add(rng.choice(("，", "，已", "，立即", "，", "，及时", "后")))
        note.add(rng.choice(vocab["Action"]), "Action")
        if rng.random() < 0.8:
            _add_component(note, rng, vocab)
        if rng.random() < 0.25:
            note.add(rng.choice(("（备件号", "，备件", "（")))
            note.add(f"{rng.choice(('SP', 'BJ', 'P'))}-{rng.randint(1, 9999):04d}", "SparePart")
            note.add(rng.choice(("）", "", "）")))
    note.add(rng.choice(_AFTER))
    if rng.random() < 0.2:
        note.add("，停机")
        note.add(f"{rng.choice((0.5, 1, 1.5, 2, 3, 4, 8))}{rng.choice(('小时', 'h'))}", "Parameter")
    return note


def templates(n: int, seed: int = 7) -> Iterator[tuple[str, list[Ann]]]:
    """``n`` synthetic notes with their entity spans, the same for the same seed."""
    rng = random.Random(seed)
    vocab = _vocab()
    for _ in range(n):
        note = template_note(rng, vocab)
        yield note.text, note.ents


def annotated(directory: Path = NOTES_DIR) -> Iterator[tuple[str, str, list[Ann]]]:
    """``(id, text, spans)`` of the hand-annotated training notes (the gold set's markup and conventions,
    written apart from it), ids ``file:n``."""
    for path in sorted(directory.glob("*.txt")):
        for n, note in enumerate(read(path), 1):
            yield f"{path.stem}:{n}", note["text"], [(e["start"], e["end"], e["label"]) for e in note["entities"]]


def bdci(path: Path) -> Iterator[tuple[str, str, list[Ann]]]:
    """``(id, text, spans)`` of BDCI 2022 records: heads of 部件故障/组成 are components, of 性能故障 attributes,
    of 检测工具 tools; tails of the fault relations are symptoms."""
    attributes = {e.surface for e in lexmod.base().entries.values() if e.label == "Attribute"}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        rec: dict[str, Any] = json.loads(line)
        spans: dict[tuple[int, int], str] = {}
        for spo in rec.get("spo_list", []):
            h, t, rel = spo["h"], spo["t"], spo["relation"]
            hl, tl = {"部件故障": ("Component", "Symptom"), "性能故障": ("Attribute", "Symptom"),
                      "组成": ("Component", "Component"), "检测工具": ("Tool", "Component")}[rel]
            if rel == "检测工具" and t["name"] in attributes:
                tl = "Attribute"
            spans.setdefault(tuple(h["pos"]), hl)
            spans.setdefault(tuple(t["pos"]), tl)
        yield str(rec.get("ID", "")), rec["text"], [(s, e, label) for (s, e), label in sorted(spans.items())]
