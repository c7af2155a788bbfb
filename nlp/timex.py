"""Time expressions of maintenance notes resolved against the note's date ("昨天夜班", "11月3日", "14:30")."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

_SHIFTS = {"夜班": (time(20, 0), time(8, 0)), "晚班": (time(16, 0), time(24 - 1, 59)),
           "中班": (time(16, 0), time(23, 59)), "白班": (time(8, 0), time(20, 0)),
           "早班": (time(8, 0), time(16, 0)), "凌晨": (time(0, 0), time(6, 0)), "上午": (time(8, 0), time(12, 0)),
           "下午": (time(12, 0), time(18, 0)), "晚上": (time(18, 0), time(23, 59)), "早上": (time(6, 0), time(9, 0)),
           "中午": (time(11, 0), time(13, 0)), "夜里": (time(0, 0), time(6, 0))}
_DAYS = {"大前天": -3, "前天": -2, "昨天": -1, "昨日": -1, "昨晚": -1, "今天": 0, "今日": 0, "今早": 0, "今晚": 0,
         "明天": 1}
_WEEKDAY = "一二三四五六日"
_DATE = re.compile(r"(?:(\d{4})\s*[-/年.]\s*)?(\d{1,2})\s*[-/月.]\s*(\d{1,2})")
_CLOCK = re.compile(r"(\d{1,2})[:：](\d{2})|(\d{1,2})点(?:(半)|(\d{1,2})分)?")
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(小时|个小时|h|H|分钟|min|天|秒|s)")
_UNIT_HOURS = {"小时": 1.0, "个小时": 1.0, "h": 1.0, "H": 1.0, "分钟": 1 / 60, "min": 1 / 60, "天": 24.0,
               "秒": 1 / 3600, "s": 1 / 3600}


def resolve(surface: str, note_date: date | datetime | None) -> tuple[datetime | None, datetime | None]:
    """``(start, end)`` of a time expression, or ``(None, None)`` when it needs a note date it lacks."""
    base = note_date.date() if isinstance(note_date, datetime) else note_date
    day: date | None = None
    m = _DATE.search(surface)
    if m:
        year = int(m.group(1)) if m.group(1) else (base.year if base else None)
        if year is None:
            return None, None
        try:
            day = date(year, int(m.group(2)), int(m.group(3)))
        except ValueError:
            return None, None
        if base is not None and not m.group(1) and day > base + timedelta(days=31):
            day = day.replace(year=year - 1)  # "12月30日" written in January means last year
    elif base is not None:
        day = base
        for word, delta in _DAYS.items():
            if surface.startswith(word):
                day = base + timedelta(days=delta)
                break
        wk = re.search(r"(上周|本周|周)([一二三四五六日天])", surface)
        if wk:
            target = _WEEKDAY.index(wk.group(2).replace("天", "日"))
            monday = base - timedelta(days=base.weekday())
            if wk.group(1) == "上周":
                monday -= timedelta(days=7)
            day = monday + timedelta(days=target)
            if wk.group(1) == "周" and day > base:
                day -= timedelta(days=7)
    if day is None:
        return None, None
    clock = _CLOCK.search(surface)
    if clock:
        hour = int(clock.group(1) or clock.group(3))
        minute = int(clock.group(2) or (30 if clock.group(4) else clock.group(5) or 0))
        if hour < 24 and minute < 60:
            if "下午" in surface or "晚" in surface and hour < 12:
                hour = min(hour + 12, 23)
            at = datetime.combine(day, time(hour, minute))
            return at, at
    for word, (t0, t1) in _SHIFTS.items():
        if word in surface:
            start = datetime.combine(day, t0)
            end = datetime.combine(day + timedelta(days=1) if t1 < t0 else day, t1)
            return start, end
    return datetime.combine(day, time(0, 0)), datetime.combine(day, time(23, 59, 59))


def hours(surface: str) -> float | None:
    """A duration in hours ("2.5小时" → 2.5, "40分钟" → 0.667), if the text is one."""
    m = _DURATION.fullmatch(surface.strip())
    if not m:
        return None
    return round(float(m.group(1)) * _UNIT_HOURS[m.group(2)], 4)
