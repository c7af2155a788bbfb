"""Train the NER tagger (deterministic): ``python -m zhuisu.nlp.train [--out nlp/model] [--cv 5]``.

Data: template notes from ``zhuisu.nlp.corpus``, the hand-annotated plant notes in ``nlp/data/notes`` and the
BDCI 2022 development file (weak BIO labels: tokens in clauses without any annotation count as unknown, not as
"outside"). Never the gold set, never samples/. ``--cv K`` scores the BDCI file by K-fold cross-validation:
each fold is predicted by a model trained without it; ``--notes-cv`` scores the annotated notes file by
file, each by a model trained without that file (a plant of a kind the model has not seen). The model is a
small tok2vec (hash embeddings of norm/prefix/suffix/shape, width 64, a depth-2 maxout window encoder) under
a softmax tagger over BIO labels; about 3.5 MB on disk. The word features are zhuisu's (``pipeline.lex_attrs``:
SUFFIX the head character, SHAPE the dictionary label).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from zhuisu.nlp.corpus import NOTES_DIR, Ann, annotated, bdci, templates
from zhuisu.nlp.patterns import CLAUSE_BREAK
from zhuisu.nlp.pipeline import MODEL_DIR, blank

BDCI_DEV = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "external" / "bdci2022-fault-re-dev.jsonl"
# the tagger's shape; ``--width/--depth/--window/--pieces/--lex-features`` override it for experiments
ARCH = {"width": 64, "depth": 2, "window": 1, "pieces": 3, "rows": (5000, 2000, 2500, 500), "lex_features": True,
        "dropout": 0.15}


def tok2vec_config(arch: dict[str, Any]) -> dict[str, Any]:
    return {
        "@architectures": "spacy.Tok2Vec.v2",
        "embed": {"@architectures": "spacy.MultiHashEmbed.v2", "width": arch["width"],
                  "attrs": ["NORM", "PREFIX", "SUFFIX", "SHAPE"], "rows": list(arch["rows"]),
                  "include_static_vectors": False},
        "encode": {"@architectures": "spacy.MaxoutWindowEncoder.v2", "width": arch["width"], "depth": arch["depth"],
                   "window_size": arch["window"], "maxout_pieces": arch["pieces"]},
    }


def new_pipeline(arch: dict[str, Any]) -> Any:
    """An untrained pipeline of the shape ``arch`` (every key of ``ARCH``)."""
    nlp = blank(lex_features=arch["lex_features"])
    nlp.add_pipe("tok2vec", config={"model": tok2vec_config(arch)})
    nlp.add_pipe("tagger", name="ner_tagger", config={"model": {
        "@architectures": "spacy.Tagger.v2", "nO": None,
        "tok2vec": {"@architectures": "spacy.Tok2VecListener.v1", "width": arch["width"], "upstream": "tok2vec"}}})
    return nlp


def bio_example(nlp: Any, text: str, spans: Sequence[Ann], *, partial: bool) -> Any:
    """An Example whose tags are BIO labels; with ``partial`` only clauses holding a span are labelled."""
    from spacy.training import Example

    doc = nlp.make_doc(text)
    tags = ["O"] * len(doc)
    if partial:
        labelled = [False] * len(doc)
        bounds = [0, *(m.end() for m in CLAUSE_BREAK.finditer(text)), len(text) + 1]
        clauses = list(zip(bounds, bounds[1:], strict=False))
        hot = {k for k, (a, b) in enumerate(clauses) for s, _e, _l in spans if a <= s < b}
        for i, tok in enumerate(doc):
            k = next(k for k, (a, b) in enumerate(clauses) if a <= tok.idx < b)
            labelled[i] = k in hot
        tags = ["O" if ok else "" for ok in labelled]
    for start, end, label in spans:
        span = doc.char_span(start, end)
        if span is None:
            for tok in doc.char_span(start, end, alignment_mode="expand") or []:
                tags[tok.i] = ""
            continue
        tags[span.start] = f"B-{label}"
        for i in range(span.start + 1, span.end):
            tags[i] = f"I-{label}"
    return Example.from_dict(doc, {"tags": tags})


def train(items: list[tuple[str, list[Ann], bool]], *, epochs: int = 12, seed: int = 0, quiet: bool = False,
          arch: dict[str, Any] | None = None) -> Any:
    """Train a fresh pipeline on ``(text, spans, partial)`` items."""
    from spacy.util import fix_random_seed, minibatch

    fix_random_seed(seed)
    arch = {**ARCH, **(arch or {})}
    nlp = new_pipeline(arch)
    examples = [bio_example(nlp, t, s, partial=p) for t, s, p in items]
    optimizer = nlp.initialize(lambda: examples)
    rng = random.Random(seed)
    for epoch in range(epochs):
        rng.shuffle(examples)
        losses: dict[str, float] = {}
        for batch in minibatch(examples, size=32):
            nlp.update(batch, sgd=optimizer, drop=arch["dropout"], losses=losses)
        if not quiet:
            print(f"  epoch {epoch + 1}/{epochs} loss {losses.get('ner_tagger', 0):.1f}", file=sys.stderr, flush=True)
    return nlp


NOTE_WEIGHT = 3  # an annotated plant note counts three times: real text, complete labels, the gold's conventions


def training_items(n_templates: int, bdci_records: Iterable[tuple[str, str, list[Ann]]],
                   notes: Iterable[tuple[str, str, list[Ann]]] = (), seed: int = 7
                   ) -> list[tuple[str, list[Ann], bool]]:
    items: list[tuple[str, list[Ann], bool]] = [(t, s, False) for t, s in templates(n_templates, seed)]
    for _id, text, spans in notes:
        items.extend([(text, spans, False)] * NOTE_WEIGHT)
    for _id, text, spans in bdci_records:
        for piece, offset in _chunks(text):
            local = [(s - offset, e - offset, label) for s, e, label in spans
                     if offset <= s and e <= offset + len(piece)]
            items.append((piece, local, True))
            items.append((piece, local, True))  # real text counts twice
    return items


def _chunks(text: str, size: int = 300) -> Iterable[tuple[str, int]]:
    """Long reports cut at sentence ends into pieces of about ``size`` characters."""
    start = 0
    while start < len(text):
        end = min(len(text), start + size)
        if end < len(text):
            cut = max(text.rfind(c, start, end) for c in "。；;\n")
            end = cut + 1 if cut > start else end
        yield text[start:end], start
        start = end


def cross_validate(path: Path, *, k: int = 5, n_templates: int = 4000, epochs: int = 10,
                   keep: Path | None = None, arch: dict[str, Any] | None = None) -> dict[str, Any]:
    """K-fold cross-validation on the BDCI file: every record is scored by a model that did not see it.

    With ``keep`` the fold models are saved there and reused when present, so a change to the rules
    downstream of the tagger (relations, merging) is re-scored without retraining.
    """
    from zhuisu.nlp import bdci as bdcimod
    from zhuisu.nlp.events import extract_many
    from zhuisu.nlp.pipeline import build_pipeline

    records = list(bdci(path))
    raw = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    order = list(range(len(records)))
    random.Random(13).shuffle(order)
    predicted: dict[int, dict[str, Any]] = {}
    tmp = Path(MODEL_DIR.parent / ".cv-model")
    for fold in range(k):
        test = set(order[fold::k])
        t0 = time.time()
        where = keep / f"fold{fold + 1}-of-{k}" if keep is not None else tmp
        if keep is None or not (where / "config.cfg").exists():
            model = train(training_items(n_templates, [records[i] for i in range(len(records)) if i not in test],
                                         annotated()), epochs=epochs, quiet=True, arch=arch)
            shutil.rmtree(where, ignore_errors=True)
            where.parent.mkdir(parents=True, exist_ok=True)
            model.to_disk(where)
        nlp = build_pipeline(model=where)
        ids = sorted(test)
        events = extract_many([raw[i]["text"] for i in ids], nlp=nlp)
        for i, event in zip(ids, events, strict=True):
            predicted[i] = bdcimod.to_record(raw[i]["ID"], event)
        print(f"fold {fold + 1}/{k}: {len(ids)} records, {time.time() - t0:.0f}s", file=sys.stderr, flush=True)
    shutil.rmtree(tmp, ignore_errors=True)
    return bdcimod.score(raw, [predicted[i] for i in range(len(raw))])


def cross_validate_notes(directory: Path = NOTES_DIR, *, bdci_path: Path = BDCI_DEV, n_templates: int = 4000,
                         epochs: int = 10, keep: Path | None = None, arch: dict[str, Any] | None = None,
                         only: Iterable[str] = ()) -> dict[str, Any]:
    """Leave-one-file-out over the annotated notes: each file (one kind of plant) is scored by a model trained
    on the templates, the BDCI file and the other files; entity and relation scores over all scored notes
    (the files named in ``only``, else every file)."""
    from zhuisu.nlp.evaluate import score
    from zhuisu.nlp.events import extract_many
    from zhuisu.nlp.markup import read
    from zhuisu.nlp.pipeline import build_pipeline

    records = list(bdci(bdci_path)) if bdci_path.exists() else []
    notes = list(annotated(directory))
    gold: list[dict[str, Any]] = []
    predicted: list[dict[str, Any]] = []
    tmp = Path(MODEL_DIR.parent / ".cv-model")
    only = set(only)
    for path in sorted(directory.glob("*.txt")):
        if only and path.stem not in only:
            continue
        t0 = time.time()
        where = keep / f"without-{path.stem}" if keep is not None else tmp
        if keep is None or not (where / "config.cfg").exists():
            rest = [n for n in notes if not n[0].startswith(f"{path.stem}:")]
            model = train(training_items(n_templates, records, rest), epochs=epochs, quiet=True, arch=arch)
            shutil.rmtree(where, ignore_errors=True)
            where.parent.mkdir(parents=True, exist_ok=True)
            model.to_disk(where)
        held = read(path)
        events = extract_many([g["text"] for g in held], nlp=build_pipeline(model=where))
        gold.extend(held)
        predicted.extend(e.to_record() for e in events)
        print(f"{path.stem}: {len(held)} notes, {time.time() - t0:.0f}s", file=sys.stderr, flush=True)
    shutil.rmtree(tmp, ignore_errors=True)
    return score(gold, predicted).as_dict()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=MODEL_DIR)
    parser.add_argument("--bdci", type=Path, default=BDCI_DEV)
    parser.add_argument("--templates", type=int, default=4000)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--cv", type=int, default=0, help="K-fold cross-validation on the BDCI file instead")
    parser.add_argument("--notes-cv", action="store_true",
                        help="score the annotated notes file by file, each by a model trained without it")
    parser.add_argument("--only", default="", help="with --notes-cv: score only these files (comma-separated stems)")
    parser.add_argument("--keep", type=Path, default=None,
                        help="with --cv/--notes-cv: save fold models here, reuse them")
    parser.add_argument("--width", type=int, default=ARCH["width"])
    parser.add_argument("--depth", type=int, default=ARCH["depth"])
    parser.add_argument("--window", type=int, default=ARCH["window"])
    parser.add_argument("--pieces", type=int, default=ARCH["pieces"], help="maxout pieces of the encoder")
    parser.add_argument("--dropout", type=float, default=ARCH["dropout"])
    parser.add_argument("--lex-features", action=argparse.BooleanOptionalAction, default=ARCH["lex_features"],
                        help="zhuisu word features (head character, dictionary label) instead of spaCy's")
    args = parser.parse_args(argv)
    arch = {"width": args.width, "depth": args.depth, "window": args.window, "pieces": args.pieces,
            "dropout": args.dropout, "lex_features": args.lex_features}
    if args.notes_cv:
        result = cross_validate_notes(bdci_path=args.bdci, n_templates=args.templates, epochs=args.epochs,
                                      keep=args.keep, arch=arch, only=filter(None, args.only.split(",")))
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return 0
    if args.cv:
        result = cross_validate(args.bdci, k=args.cv, n_templates=args.templates, epochs=args.epochs, keep=args.keep,
                                arch=arch)
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return 0
    records = list(bdci(args.bdci)) if args.bdci.exists() else []
    if not records:
        print(f"note: {args.bdci} not found; training on templates only", file=sys.stderr)
    t0 = time.time()
    nlp = train(training_items(args.templates, records, annotated()), epochs=args.epochs, arch=arch)
    shutil.rmtree(args.out, ignore_errors=True)
    nlp.to_disk(args.out)
    size = sum(p.stat().st_size for p in args.out.rglob("*") if p.is_file())
    print(f"model → {args.out} ({size / 1e6:.1f} MB, {time.time() - t0:.0f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
