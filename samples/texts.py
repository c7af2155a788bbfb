"""Chinese free text as people write it: maintenance notes, customer complaints, ways of naming a machine."""

from __future__ import annotations

import zlib

import numpy as np

from zhuisu.samples.catalog import Failure, MachineType
from zhuisu.samples.common import pick

CN_DIGITS = "零一二三四五六七八九十"
SHIFT_WORDS = ("夜班", "早班", "中班")

CORRECTIVE = (
    "{eq}{comp}{sym}，检查发现{cause}，{act}后试机正常，停机{h}小时",
    "{shift}反映{eq}{sym}，查{comp}{cause}，已{act}（备件号{sp}），恢复生产",
    "{shift}反映{eq}{alarm}报警，{comp}{sym}，复位后再次报警，交班",
    "{eq} {comp}{sym}。原因：{cause}。处理：{act}，试运行30min无异常。",
    "巡检发现{eq}{comp}{sym}，{act}，继续观察",
    "{eq}{sym}，操作工停机报修。电工检查{comp}，{cause}，{act}，{h}h后恢复",
    "{eq}{comp}{sym}，更换{part}1个（{sp}），OK",
    "{eq}：{sym}，怀疑{cause}，暂时{temp}，待备件{sp}到货后更换{part}",
    "{eq}{comp}{sym}，调整后仍有，已联系厂家售后，明天跟进",
    "{eq} {alarm}报警 {comp}{sym} {act} 试机ok",
    "{eq}{comp}{cause}导致{sym}，{act}，{reading}",
    "{shift}{eq}频繁{sym}，拆检{comp}发现{cause}，{act}，停机约{h}小时",
    "接{shift}班长电话，{eq}{sym}。到现场确认{comp}{cause}，{act}。",
    "{eq}{sym}（{reading}），{act}，观察一个班次无异常",
    "{eq} {comp} {sym}，{cause}，{act}，用时{m}分钟",
    "处理{eq}{sym}问题：{cause}，{act}",
    "{eq}{comp}{sym}，{act}，{reading}，交{shift}继续观察",
    "{eq}开机{sym}，{comp}{cause}。{act}，更换件：{part}（{sp}）",
    "{eq}{sym}，检查{comp}未见异常，重启PLC后恢复，原因待查",
    "{eq}{comp}{sym}，{cause}，{act}。备注：同类问题本月第{nth}次，建议列入点检",
    "{eq}报{alarm}，现场{reading}，{comp}{cause}，{act}，{h}小时",
    "{eq}{comp}{sym}，{act}后好转，{shift}再确认",
)
PREVENTIVE = (
    "{eq}月度保养：{items}，无异常",
    "按计划对{eq}进行一级保养，{items}，设备状态良好",
    "{eq}周保养完成：{items}",
    "{eq}二级保养，更换{part}（{sp}），{items}",
    "PM：{eq} {items} OK",
    "{eq}季度保养，{items}，发现{comp}轻微{sym}，已处理",
    "{eq}例行保养 {items}，{reading}",
)
CALIBRATION = (
    "{eq}{inst}校准，标准值{ref}{u}，实测{meas}{u}，偏差{dev}%，合格",
    "{eq}{inst}年度校验，合格，已贴合格标签",
    "{eq}{inst}校准：偏差{abs}{u}，已修正至允差内",
    "计量室对{eq}{inst}进行周期校准，示值误差{dev}%，结论：合格",
)
DRIFT_FIXED = (
    "{eq}{param}{dir}（约{delta}{u}），{inst}重新标定后恢复正常",
    "发现{eq}{param}持续{dir}，检查{comp}，{act}，{param}恢复至{target}{u}左右",
    "质量部反馈{eq}{param}{dir}，设备科到场复核{inst}，偏差约{delta}{u}，重新校准后合格",
)
TEMPORARY = ("降速运行", "改手动模式生产", "加强点检", "降低节拍生产", "用备用机顶班")
# Misspellings seen in real CMMS exports (wrong homophones typed with pinyin input).
TYPOS = {
    "更换": "更还",
    "密封圈": "密风圈",
    "传感器": "传感起",
    "正常": "正长",
    "报警": "抱警",
    "检查": "检察",
    "调整": "条整",
    "异响": "异向",
    "压装机": "压装几",
    "恢复": "回复",
}

COMPLAINTS = {
    "E-NOISE": (
        "客户反馈电机运行有异响，序列号{item}",
        "装机试运行时电机啸叫，要求分析原因（{item}）",
        "终端用户投诉设备噪音大，拆检确认为电机异响，序列号 {item}",
        "电机运行约{n}小时后出现“咔咔”声，{item}",
    ),
    "E-VIB": (
        "整机振动大，更换电机后正常，怀疑电机振动超标（{item}）",
        "来料检验振动值{v}mm/s，超出协议要求，序列号 {item}",
        "电机运行时机座明显抖动，序列号{item}",
    ),
    "E-INSUL": (
        "电机通电后漏电保护器跳闸，测绝缘电阻偏低（{item}）",
        "客户耐压测试击穿，序列号{item}",
        "潮湿环境运行{n}小时后绝缘下降，电机烧毁（{item}）",
    ),
    "D-MICRO": (
        "消费者投诉产品胀包、有酸味，批号{item}",
        "门店反映同批次多盒胀袋，已下架，批号{item}",
        "市场监管抽检菌落总数不合格，批号{item}",
        "未到保质期即变质结块，批号{item}",
    ),
    "D-FAT": (
        "抽检脂肪含量低于产品标签标示值，批号{item}",
        "客户反映口感偏淡、奶味不足，要求复检批号{item}",
        "第三方检测脂肪{f}g/100g，低于标准要求，批号{item}",
    ),
}


def part_code(part: str) -> str:
    """The spare-part number of a part name (stable across runs)."""
    return f"SP-{zlib.crc32(part.encode()) % 9000 + 1000:04d}"


def machine_refs(number: int, kind: MachineType, equipment_id: str) -> tuple[str, ...]:
    """The ways people name one machine: ``2号压装机``, ``#2压机``, ``二号压装机``, ``PRESS-02``…"""
    cn = CN_DIGITS[number] if number <= 10 else str(number)
    return (
        f"{number}号{kind.name}",
        f"#{number}{kind.short}",
        f"{cn}号{kind.name}",
        f"{number}#{kind.short}",
        equipment_id,
        f"{kind.short}{number}",
    )


def _number(rng: np.random.Generator, low: float, high: float, decimals: int) -> str:
    value = rng.uniform(low, high)
    return f"{value:.{decimals}f}" if decimals else str(int(round(value)))


def _typo(rng: np.random.Generator, text: str) -> str:
    if rng.random() >= 0.08:
        return text
    found = [w for w in TYPOS if w in text]
    return text.replace(found[0], TYPOS[found[0]], 1) if found else text


def _fields(rng: np.random.Generator, kind: MachineType, refs: tuple[str, ...], failure: Failure) -> dict[str, str]:
    reading = kind.readings[int(rng.integers(len(kind.readings)))]
    alarm = kind.alarms[int(rng.integers(len(kind.alarms)))]
    part = failure.part or failure.component
    code = part_code(part)
    # Causes and actions listed pairwise (same length) go together: 导辊磨损 → 更换导辊.
    k = int(rng.integers(len(failure.causes)))
    act = failure.actions[k] if len(failure.actions) == len(failure.causes) else pick(rng, failure.actions)
    return {
        "eq": pick(rng, refs),
        "comp": failure.component,
        "sym": pick(rng, failure.symptoms),
        "cause": failure.causes[k],
        "act": act,
        "part": part,
        "sp": pick(rng, (code, code.replace("-", ""))),
        "h": _number(rng, 0.5, 6, 1),
        "m": _number(rng, 15, 90, 0),
        "shift": pick(rng, SHIFT_WORDS),
        "alarm": alarm[0],
        "temp": pick(rng, TEMPORARY),
        "reading": reading.text.format(v=_number(rng, reading.low, reading.high, reading.decimals)),
        "nth": str(int(rng.integers(2, 5))),
        "items": "、".join(rng.choice(kind.upkeep, size=int(rng.integers(2, 5)), replace=False).tolist()),
    }


def _fill(rng: np.random.Generator, templates: tuple[str, ...], fields: dict[str, str], replaced: bool) -> str:
    # A note names a spare part only when the action really fitted one.
    usable = templates if replaced else tuple(t for t in templates if "{sp}" not in t and "{part}" not in t)
    return _typo(rng, pick(rng, usable).format(**fields))


def corrective_note(rng: np.random.Generator, kind: MachineType, refs: tuple[str, ...], failure: Failure) -> str:
    """A repair note for ``failure`` on the machine named by ``refs``."""
    fields = _fields(rng, kind, refs, failure)
    return _fill(rng, CORRECTIVE, fields, bool(failure.part) and "更换" in fields["act"])


def preventive_note(rng: np.random.Generator, kind: MachineType, refs: tuple[str, ...]) -> str:
    """A planned-maintenance note."""
    failure = kind.failures[int(rng.integers(len(kind.failures)))]
    return _fill(rng, PREVENTIVE, _fields(rng, kind, refs, failure), bool(failure.part))


def calibration_note(rng: np.random.Generator, kind: MachineType, refs: tuple[str, ...]) -> str:
    """A routine calibration note with the reference and the measured value."""
    inst, unit, ref = kind.calibrated[int(rng.integers(len(kind.calibrated)))]
    dev = rng.uniform(-0.8, 0.8)
    return pick(rng, CALIBRATION).format(
        eq=pick(rng, refs),
        inst=inst,
        u=unit,
        ref=f"{ref:g}",
        meas=f"{ref * (1 + dev / 100):.2f}",
        dev=f"{dev:.2f}",
        abs=f"{abs(ref * dev / 100):.2f}",
    )


def drift_fixed_note(
    rng: np.random.Generator,
    kind: MachineType,
    refs: tuple[str, ...],
    failure: Failure,
    param: str,
    unit: str,
    target: float,
    delta: float,
) -> str:
    """The calibration that ends a drift: what was off, by how much, and what was done."""
    inst = kind.calibrated[0][0] if kind.calibrated else failure.component
    return pick(rng, DRIFT_FIXED).format(
        eq=pick(rng, refs),
        param=param,
        dir="偏高" if delta > 0 else "偏低",
        delta=f"{abs(delta):.1f}",
        u=unit,
        inst=inst,
        comp=failure.component,
        act=pick(rng, failure.actions),
        target=f"{target:g}",
    )


def complaint_text(rng: np.random.Generator, code: str, item: str) -> str:
    """A customer's complaint about ``item`` showing defect ``code``."""
    return pick(rng, COMPLAINTS[code]).format(
        item=item,
        n=int(rng.integers(20, 800)),
        v=f"{rng.uniform(3.0, 7.5):.1f}",
        f=f"{rng.uniform(2.6, 3.0):.2f}",
    )
