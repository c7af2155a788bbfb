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
from zhuisu.nlp.patterns import scan

MATCHES = "zhuisu.matches"  # doc.user_data key: the rule matches the tokenizer found
TEXT = "zhuisu.text"  # doc.user_data key: the note's text (spaCy's Doc.text joins every token on each call)
WORDS = "zhuisu.words"  # doc.user_data key: the token texts (reading them from Token objects is not free)
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
        parts: list[tuple[int, int, bool]] = []  # (start, end, is a rule match) in text order
        pos = 0
        for m in matches:
            if m.start > pos:
                parts.append((pos, m.start, False))
            parts.append((m.start, m.end, True))
            pos = m.end
        if pos < len(text):
            parts.append((pos, len(text), False))
        # one jieba call for all the gaps, joined by NUL (folding turned every control character into a
        # space, so NUL is not in the text; jieba cuts there as at any symbol): one piece list per gap
        gaps = "\0".join(folded[a:b] for a, b, rule in parts if not rule)
        pieces = iter(_jieba(self.lexicon).cut(gaps, HMM=False)) if gaps else iter(())
        words: list[str] = []
        norms: list[str] = []
        for a, b, rule in parts:
            if rule:
                words.append(text[a:b])
                norms.append(folded[a:b].lower())
                continue
            pos = a
            while pos < b:
                piece = next(pieces, "\0")
                if piece == "\0" or len(piece) > b - pos:  # never seen; keep the offsets right regardless
                    piece = folded[pos:b]
                words.append(text[pos : pos + len(piece)])
                norms.append(piece.lower())
                pos += len(piece)
            next(pieces, None)  # the NUL after the gap
        doc = Doc(self.vocab, words=words, spaces=[False] * len(words))
        if folded != text:  # else every norm is the lexeme's lower form already
            for i, (word, norm) in enumerate(zip(words, norms, strict=True)):
                if norm != word.lower():  # a lexeme's lower form is str.lower() of its text
                    doc[i].norm_ = norm
        doc.user_data[MATCHES] = [(m.start, m.end, m.label, m.concept, m.source) for m in matches]
        doc.user_data[TEXT] = text
        doc.user_data[WORDS] = words
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


def doc_words(doc: Doc) -> list[str]:
    """The token texts, from the tokenizer when it saved them (cheap), else read from the tokens."""
    words = doc.user_data.get(WORDS)
    return words if isinstance(words, list) and len(words) == len(doc) else [t.text for t in doc]


def token_bounds(doc: Doc) -> tuple[list[int], list[int]]:
    """Each token's start and end character offsets."""
    words = doc.user_data.get(WORDS)
    if isinstance(words, list) and len(words) == len(doc) and isinstance(doc.user_data.get(TEXT), str):
        starts, pos = [], 0  # this tokenizer's tokens are contiguous: no spaces between them
        for w in words:
            starts.append(pos)
            pos += len(w)
        return starts, [*starts[1:], pos]
    starts = [t.idx for t in doc]
    return starts, [s + len(t) for s, t in zip(starts, doc, strict=True)]


@registry.tokenizers("zhuisu.jieba_tokenizer.v1")
def create_tokenizer() -> Callable[[Any], ZhuisuTokenizer]:
    """The tokenizer factory named in the pipeline config."""

    def make(nlp: Any) -> ZhuisuTokenizer:
        return ZhuisuTokenizer(nlp.vocab)

    return make
