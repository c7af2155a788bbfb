"""A jieba-based tokenizer for ``spacy.blank("zh")`` that never downloads anything.

Rule matches (lexicon terms, equipment numbers, codes, values with units) become whole tokens; jieba,
a private ``jieba.Tokenizer`` loaded with the generated user dictionary, segments the text between them.
The Doc keeps the original text; each token's ``norm_`` is its folded, lower-cased form.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from typing import Any

from spacy.tokens import Doc
from spacy.util import registry
from spacy.vocab import Vocab

from zhuisu.nlp import lexicon as lexmod
from zhuisu.nlp.normalize import fold
from zhuisu.nlp.patterns import Match, scan

MATCHES = "zhuisu.matches"  # doc.user_data key: the rule matches the tokenizer found
TEXT = "zhuisu.text"  # doc.user_data key: the note's text (spaCy's Doc.text joins every token on each call)
_jieba_cache: dict[int, Any] = {}


def _jieba(lex: lexmod.Lexicon) -> Any:
    """A jieba tokenizer with the lexicon as user dictionary (one per lexicon, never the global one)."""
    key = id(lex)
    tok = _jieba_cache.get(key)
    if tok is None:
        import jieba

        jieba.setLogLevel(logging.WARNING)
        tok = jieba.Tokenizer()
        tok.initialize()
        tok.load_userdict(io.StringIO(lex.jieba_userdict()))
        _jieba_cache.clear()
        _jieba_cache[key] = tok
    return tok


class ZhuisuTokenizer:
    """Rule matches first, jieba between them; ``lexicon`` may be swapped for a store-aware one."""

    def __init__(self, vocab: Vocab, lexicon: lexmod.Lexicon | None = None) -> None:
        self.vocab = vocab
        self.lexicon = lexicon or lexmod.base()

    def __call__(self, text: str) -> Doc:
        folded = fold(text)
        matches = scan(folded, self.lexicon)
        words: list[str] = []
        norms: list[str] = []
        jieba = _jieba(self.lexicon)
        pos = 0
        for m in [*matches, Match(len(text), len(text), "", "", "")]:
            if m.start > pos:
                gap = folded[pos : m.start]
                for piece in jieba.cut(gap, HMM=False):
                    words.append(text[pos : pos + len(piece)])
                    norms.append(piece.lower())
                    pos += len(piece)
            if m.end > m.start:
                words.append(text[m.start : m.end])
                norms.append(folded[m.start : m.end].lower())
                pos = m.end
        doc = Doc(self.vocab, words=words, spaces=[False] * len(words))
        for token, norm in zip(doc, norms, strict=True):
            if norm != token.lower_:
                token.norm_ = norm
        doc.user_data[MATCHES] = [(m.start, m.end, m.label, m.concept, m.source) for m in matches]
        doc.user_data[TEXT] = text
        return doc

    def to_bytes(self, **_: Any) -> bytes:
        return b""

    def from_bytes(self, _data: bytes, **_: Any) -> ZhuisuTokenizer:
        return self

    def to_disk(self, _path: Any, **_: Any) -> None:
        return None

    def from_disk(self, _path: Any, **_: Any) -> ZhuisuTokenizer:
        return self


def doc_text(doc: Doc) -> str:
    """The Doc's text, from the tokenizer when it saved it (cheap), else joined from the tokens."""
    text = doc.user_data.get(TEXT)
    return text if isinstance(text, str) else doc.text


@registry.tokenizers("zhuisu.jieba_tokenizer.v1")
def create_tokenizer() -> Callable[[Any], ZhuisuTokenizer]:
    """The tokenizer factory named in the pipeline config."""

    def make(nlp: Any) -> ZhuisuTokenizer:
        return ZhuisuTokenizer(nlp.vocab)

    return make
