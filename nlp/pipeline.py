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


def blank() -> Language:
    """``spacy.blank("zh")`` with the zhuisu jieba tokenizer (no download, no pkuseg)."""
    import spacy

    import zhuisu.nlp.components  # noqa: F401  (registers the factories)
    import zhuisu.nlp.tokenizer  # noqa: F401

    return spacy.blank("zh", config=TOKENIZER)


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
