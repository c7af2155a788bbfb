"""Fictitious but realistic Chinese names: people, suppliers, customers and their short forms."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
    "姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = (
    "伟",
    "芳",
    "娜",
    "秀英",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀兰",
    "霞",
    "平",
    "刚",
    "桂英",
    "建华",
    "文",
    "辉",
    "鹏",
    "华",
    "红",
    "玉兰",
    "飞",
    "波",
    "斌",
    "宇",
    "浩",
    "凯",
    "健",
    "俊",
    "帆",
    "旭",
    "宁",
    "龙",
    "林",
    "欢",
    "阳",
    "建国",
    "建军",
    "海燕",
    "晓东",
    "志强",
    "永刚",
    "春梅",
    "国庆",
    "海涛",
    "丽娟",
    "小红",
    "志刚",
    "金凤",
    "德胜",
    "文静",
    "雪梅",
    "宏伟",
    "振华",
    "晓燕",
    "立新",
    "佳琪",
    "子豪",
    "思雨",
    "梓涵",
    "浩然",
    "雨轩",
    "一鸣",
    "嘉怡",
    "博文",
    "天宇",
)
TRADE_NAMES = (
    "恒信",
    "永盛",
    "华达",
    "鑫源",
    "金诚",
    "宏远",
    "中天",
    "瑞丰",
    "天成",
    "汇通",
    "精工",
    "联创",
    "德力",
    "博远",
    "凯达",
    "隆鑫",
    "盛世",
    "金鹏",
    "兴旺",
    "东升",
    "昌泰",
    "新力",
    "海川",
    "万通",
    "永固",
    "顺发",
    "利达",
    "长青",
    "星辰",
    "宇航",
    "金桥",
    "泰和",
    "嘉禾",
    "富强",
    "力拓",
    "安泰",
    "信达",
    "锦程",
    "华瑞",
    "众诚",
)


@dataclass(frozen=True, slots=True)
class Company:
    """A company's registered name and the short names people actually write."""

    name: str
    short: str
    city: str
    region: str

    @property
    def aliases(self) -> str:
        return f"{self.short};{self.city}{self.short}"


def person_names(rng: np.random.Generator, count: int) -> list[str]:
    """``count`` distinct Chinese personal names."""
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < count:
        name = SURNAMES[int(rng.integers(len(SURNAMES)))] + GIVEN[int(rng.integers(len(GIVEN)))]
        if name not in seen:
            seen.add(name)
            names.append(name)
    return names


def companies(
    rng: np.random.Generator,
    places: Sequence[tuple[str, str]],
    trades: Sequence[str],
    count: int,
    used: set[str] | None = None,
) -> list[Company]:
    """``count`` distinct companies, each in one of ``places`` (city, region) with one of the ``trades``.

    ``used`` carries trade names already taken, so that a supplier and a customer never share one.
    """
    used = set() if used is None else used
    result: list[Company] = []
    while len(result) < count:
        trade = TRADE_NAMES[int(rng.integers(len(TRADE_NAMES)))]
        if trade in used:
            continue
        used.add(trade)
        city, region = places[int(rng.integers(len(places)))]
        business = trades[int(rng.integers(len(trades)))]
        short = business
        for word in ("有限公司", "经销部", "制造", "设备", "科技", "材料", "精密", "奶牛养殖专业"):
            short = short.replace(word, "")
        result.append(Company(f"{city}{trade}{business}", trade + short, city, region))
    return result


CUSTOMER_PLACES = (
    ("佛山", "华南"),
    ("东莞", "华南"),
    ("广州", "华南"),
    ("杭州", "华东"),
    ("苏州", "华东"),
    ("温州", "华东"),
    ("青岛", "华东"),
    ("济南", "华东"),
    ("沈阳", "东北"),
    ("长春", "东北"),
    ("成都", "西南"),
    ("重庆", "西南"),
    ("郑州", "华中"),
    ("武汉", "华中"),
    ("长沙", "华中"),
    ("西安", "西北"),
    ("兰州", "西北"),
    ("北京", "华北"),
    ("天津", "华北"),
    ("石家庄", "华北"),
)
