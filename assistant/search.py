"""BM25 over maintenance notes: jieba words, lexicon concepts (so 噪音大 finds 异响) and character bigrams (typos)."""

from __future__ import annotations

import io
import logging
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from zhuisu.nlp import lexicon as lexmod

_STOP = set("的了是在和与及或把被有没也都就还又再很太吗呢吧啊呀么什么怎么如何为什么哪些哪个这个那个一个请问一下")
_PUNCT = re.compile(r"[\s，。、；：！？,.;:!?()（）\[\]【】\"'“”‘’/\\·~\-_#]+")


@cache
def _jieba() -> Any:
    import jieba

    jieba.setLogLevel(logging.WARNING)
    tok = jieba.Tokenizer()
    tok.initialize()
    tok.load_userdict(io.StringIO(lexmod.base().jieba_userdict()))
    return tok


def tokens(text: str) -> list[str]:
    """Index terms of a (normalised) text: words, the concepts they name, and character bigrams."""
    lex = lexmod.base()
    out: list[str] = []
    for word in _jieba().cut(text, HMM=False):
        w = word.strip().lower()
        if not w or _PUNCT.fullmatch(w) or w in _STOP:
            continue
        out.append(w)
        entry = lex.lookup(w)
        if entry is not None and not entry.contextual:
            out.append(entry.concept)
    i = 0
    while i < len(text):  # concepts of multi-word surfaces jieba split apart
        entry = lex.longest(text, i) if not text[i].isspace() else None
        if entry is not None and not entry.contextual and len(entry.surface) >= 2:
            out.append(entry.concept)
            i += len(entry.surface)
        else:
            i += 1
    compact = _PUNCT.sub("", text)
    out.extend("#" + compact[i : i + 2] for i in range(len(compact) - 1)
               if not (set(compact[i : i + 2]) & _STOP) and not compact[i : i + 2].isdigit())
    return out


@dataclass(frozen=True, slots=True)
class Hit:
    doc: int
    score: float
    terms: tuple[str, ...]  # the query terms the document matched


class BM25:
    """Okapi BM25 (k1, b) over pre-tokenised documents; bigram terms weigh ``bigram_weight``."""

    def __init__(self, docs: Sequence[Sequence[str]], *, k1: float = 1.5, b: float = 0.75,
                 bigram_weight: float = 0.3) -> None:
        self.k1, self.b, self.bigram_weight = k1, b, bigram_weight
        self.tf = [Counter(d) for d in docs]
        self.len = [len(d) for d in docs]
        self.avg = (sum(self.len) / len(docs)) if docs else 0.0
        df: Counter[str] = Counter()
        for tf in self.tf:
            df.update(tf.keys())
        n = len(docs)
        self.idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}

    def score(self, query: Sequence[str], doc: int) -> tuple[float, tuple[str, ...]]:
        tf, total, hit = self.tf[doc], 0.0, []
        norm = self.k1 * (1 - self.b + self.b * self.len[doc] / self.avg) if self.avg else self.k1
        for term in dict.fromkeys(query):
            f = tf.get(term)
            if not f:
                continue
            weight = self.bigram_weight if term.startswith("#") else 1.0
            total += weight * self.idf[term] * f * (self.k1 + 1) / (f + norm)
            hit.append(term)
        return total, tuple(hit)

    def top(self, query: Sequence[str], k: int = 5, min_score: float = 0.0) -> list[Hit]:
        """The ``k`` best documents scoring above ``min_score``, best first (ties by document order)."""
        scored = [Hit(i, *self.score(query, i)) for i in range(len(self.tf))]
        scored = [h for h in scored if h.score > min_score]
        scored.sort(key=lambda h: (-h.score, h.doc))
        return scored[:k]
