"""``build_pipeline``: the spaCy pipeline for maintenance notes (tokenizer, rules, trained tagger, assembly)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spacy.language import Language

    from zhuisu.graph.store import Store

MODEL_DIR = Path(__file__).parent / "model"
TOKENIZER = {"nlp": {"tokenizer": {"@tokenizers": "zhuisu.jieba_tokenizer.v1"}}}
_cache: dict[str, Language] = {}


def model_available(path: Path = MODEL_DIR) -> bool:
    return (path / "config.cfg").exists()


def blank(*, lex_features: bool = False) -> Language:
    """``spacy.blank("zh")`` with the zhuisu jieba tokenizer (no download, no pkuseg); with ``lex_features``
    the word features the tagger embeds are the zhuisu ones (see ``lex_attrs``), recorded in the config."""
    import spacy

    import zhuisu.nlp.components  # noqa: F401  (registers the factories)
    import zhuisu.nlp.tokenizer  # noqa: F401

    config = {"nlp": {**TOKENIZER["nlp"], "after_creation": {"@callbacks": "zhuisu.lex_attrs.v1"}}} \
        if lex_features else TOKENIZER
    return spacy.blank("zh", config=config)


def _suffix(word: str) -> str:
    from zhuisu.nlp.normalize import fold

    return fold(word)[-1:].lower()


def _shape(word: str) -> str:
    from spacy.lang.lex_attrs import word_shape

    from zhuisu.nlp import lexicon as lexmod
    from zhuisu.nlp.normalize import fold

    key = fold(word).strip().lower()
    entry = lexmod.base().entries.get(key)
    return f"{entry.label}{len(key)}" if entry is not None else word_shape(word)


def lex_attrs(nlp: Language) -> Language:
    """Word features for the tagger: SUFFIX is the last character, the head of a Chinese compound
    (传感 + 器, 溢流 + 阀: a character-level cue for names the dictionary lacks), SHAPE the dictionary's
    label and length of a dictionary word (Component3), else the usual shape."""
    from spacy.attrs import SHAPE, SUFFIX

    nlp.vocab.lex_attr_getters = {**nlp.vocab.lex_attr_getters, SUFFIX: _suffix, SHAPE: _shape}
    return nlp


def _register() -> None:
    from spacy.util import registry

    if "zhuisu.lex_attrs.v1" not in registry.callbacks:
        registry.callbacks.register("zhuisu.lex_attrs.v1", func=lambda: lex_attrs)


_register()


def build_pipeline(store: Store | None = None, *, model: Path | None | bool = True) -> Language:
    """The full pipeline; with a store its master data (equipment names, codes, aliases, parts) joins the
    dictionary. ``model=False`` gives the rules-only pipeline; a path loads another trained model."""
    from zhuisu.nlp import lexicon as lexmod

    path = MODEL_DIR if model is True else (Path(model) if model else None)
    key = f"{path}"
    cacheable = store is None and model in (True, False)
    if cacheable and key in _cache:
        return _cache[key]
    if path is not None and model_available(path):
        import spacy

        import zhuisu.nlp.components  # noqa: F401
        import zhuisu.nlp.tokenizer  # noqa: F401

        nlp = spacy.load(path)
        if "zhuisu_ruler" not in nlp.pipe_names:
            nlp.add_pipe("zhuisu_entity_ruler_v1", name="zhuisu_ruler", first=True, config={"set_ents": False})
        nlp.add_pipe("zhuisu_bio_decoder_v1", name="zhuisu_ner")
    else:
        if path is not None and model is not True:
            from zhuisu.errors import BadInput

            raise BadInput(f"no trained model in {path}; train one with `python -m zhuisu.nlp.train`")
        nlp = blank()
        nlp.add_pipe("zhuisu_entity_ruler_v1", name="zhuisu_ruler")
    nlp.add_pipe("zhuisu_qualifiers_v1", name="zhuisu_qualifiers")
    nlp.add_pipe("zhuisu_relations_v1", name="zhuisu_relations")
    if store is not None:
        nlp.tokenizer.lexicon = lexmod.for_store(store)
    if cacheable:
        _cache[key] = nlp
    return nlp
