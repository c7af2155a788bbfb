"""Time and number words in a question: Chinese numerals, windows such as 上个月 / 最近一周 / 11月3日, top-N."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from zhuisu.nlp.normalize import zh_number

NUM = r"(?:\d{1,3}|[零〇一二两三四五六七八九十百]{1,4})"


@dataclass(slots=True)
class Window:
    """A half-open time window ``[since, until)`` and the words that named it."""

    since: datetime
    until: datetime
    label: str

    def to_dict(self) -> dict[str, Any]:
        return {"since": self.since.isoformat(), "until": self.until.isoformat(), "label": self.label}


def _day(d: date) -> datetime:
    return datetime(d.year, d.month, d.day)


def _month_start(d: date, back: int = 0) -> date:
    y, m = d.year, d.month - back
    while m <= 0:
        y, m = y - 1, m + 12
    return date(y, m, 1)


def time_window(text: str, today: date) -> Window | None:
    """The window a time expression names, relative to ``today`` (上个月, 最近一周, 昨天, 11月, 11月3日…)."""
    t = text.replace(" ", "")
    tomorrow = _day(today + timedelta(days=1))
    m = re.search(rf"(?:最近|近|过去|这|前)({NUM}|半|几)?个?(天|日|周|星期|礼拜|月)", t)
    if m and not re.search(r"上个?月|本月|这个月|上周|本周|这周", t):
        n = 3 if m.group(1) == "几" else (0.5 if m.group(1) == "半" else zh_number(m.group(1) or "一") or 1)
        days = {"天": 1, "日": 1, "周": 7, "星期": 7, "礼拜": 7, "月": 30}[m.group(2)] * n
        return Window(_day(today) - timedelta(days=int(days) - 1), tomorrow, m.group(0))
    words = [("大前天", -3, 1), ("前天", -2, 1), ("昨天", -1, 1), ("昨日", -1, 1), ("昨晚", -1, 1), ("今天", 0, 1),
             ("今日", 0, 1)]
    for word, delta, span in words:
        if word in t:
            start = _day(today + timedelta(days=delta))
            return Window(start, start + timedelta(days=span), word)
    if re.search(r"上上个?月", t):
        return Window(_day(_month_start(today, 2)), _day(_month_start(today, 1)), "上上个月")
    if re.search(r"上个?月|上一个月", t):
        return Window(_day(_month_start(today, 1)), _day(_month_start(today)), "上个月")
    if re.search(r"本月|这个?月|当月", t):
        return Window(_day(_month_start(today)), tomorrow, "本月")
    monday = today - timedelta(days=today.weekday())
    if re.search(r"上周|上个?星期|上个?礼拜", t):
        return Window(_day(monday - timedelta(days=7)), _day(monday), "上周")
    if re.search(r"本周|这周|这个?星期|这个?礼拜", t):
        return Window(_day(monday), tomorrow, "本周")
    if "去年" in t:
        return Window(datetime(today.year - 1, 1, 1), datetime(today.year, 1, 1), "去年")
    if "今年" in t:
        return Window(datetime(today.year, 1, 1), tomorrow, "今年")
    m = re.search(rf"(?:(\d{{4}})年)?({NUM})月(?:({NUM})[日号])?", t)
    if m:
        month = zh_number(m.group(2))
        year = int(m.group(1)) if m.group(1) else today.year
        if month is None or not 1 <= month <= 12:
            return None
        if not m.group(1) and date(year, month, 1) > today:
            year -= 1
        if m.group(3):
            d = zh_number(m.group(3))
            try:
                start = datetime(year, month, d or 0)
            except ValueError:
                return None
            return Window(start, start + timedelta(days=1), m.group(0))
        end = datetime(year + (month == 12), month % 12 + 1, 1)
        return Window(datetime(year, month, 1), end, m.group(0))
    return None


def top_n(text: str) -> int | None:
    m = re.search(rf"(?:前|top\s*|最[长多高久]的?)\s*({NUM})\s*(?:台|个|名|位|次|项|条)?", text)
    if m:
        n = zh_number(m.group(1))
        return n if n and n < 100 else None
    return None


# ── materials, people, concepts ────────────────────────────────────────────────
