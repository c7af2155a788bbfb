"""Length-preserving text folding: traditional→simplified, full→half width, control characters → space;
and Chinese numerals read as numbers (二十三 → 23).

Every mapping is one character to one character, so an offset into the folded text is the same offset
into the original note; mentions are always reported against the original.
"""

from __future__ import annotations

import unicodedata
from functools import cache
from pathlib import Path

T2S = Path(__file__).parent / "data" / "t2s.txt"


@cache
def _table() -> dict[int, str]:
    table: dict[int, str] = {}
    for line in T2S.read_text(encoding="utf-8").splitlines():
        if len(line) == 2 and not line.startswith("#"):
            table[ord(line[0])] = line[1]
    # full-width ASCII, ideographic space, circled numbers, letter-like symbols: NFKC when it stays one char
    for block in (range(0xFF01, 0xFF5F), range(0x2460, 0x24FF), range(0x2100, 0x2150), range(0x3000, 0x3001)):
        for code in block:
            folded = unicodedata.normalize("NFKC", chr(code))
            if len(folded) == 1 and folded != chr(code):
                table[code] = folded
    table[0x3000] = " "
    # ①–⑳, ⑴–⒇, ⒈–⒛, ❶–➓: an item number opens a clause and is no value (②转向主轴 is not "2 rpm")
    for code in (*range(0x2460, 0x249C), *range(0x24EA, 0x2500), *range(0x2776, 0x2794)):
        table[code] = ";"
    for code in (*range(0x00, 0x20), *range(0x7F, 0xA0), 0x200B, 0x200C, 0x200D, 0xFEFF, 0x2028, 0x2029):
        table[code] = " "
    table[ord("℃")] = "℃"  # keep the degree sign NFKC would leave alone anyway
    return table


def fold(text: str) -> str:
    """The folded form of ``text``, of the same length (so offsets carry over unchanged)."""
    return text.translate(_table())


def to_simplified(text: str) -> str:
    """Traditional characters replaced by simplified ones (character by character)."""
    return text.translate({k: v for k, v in _table().items() if k > 0x2E80})


_ZH = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "俩": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
       "九": 9}


def zh_number(text: str) -> int | None:
    """``12``, ``十二``, ``二十三``, ``两`` → int; None when it is not a number."""
    if not text:
        return None
    if text.isdigit():
        return int(text)
    if any(c not in _ZH and c not in "十百" for c in text):
        return None
    total, current = 0, 0
    for c in text:
        if c == "百":
            total += (current or 1) * 100
            current = 0
        elif c == "十":
            total += (current or 1) * 10
            current = 0
        else:
            current = _ZH[c]
    return total + current
