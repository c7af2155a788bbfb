"""Length-preserving text folding: traditional→simplified, full→half width, control characters → space.

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
