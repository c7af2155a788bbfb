"""``zhuisu nlp``: extract maintenance events from JSONL notes, and score them against a gold file.

spaCy and the model load inside the commands, so ``zhuisu --help`` stays fast.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from zhuisu.errors import BadInput, ZhuisuError

app = typer.Typer(help="中文维修文本抽取 Chinese maintenance-note extraction", no_args_is_help=True,
                  add_completion=False, pretty_exceptions_enable=False)


def _fail(exc: ZhuisuError) -> None:
    typer.echo(f"错误 error [{exc.code}] {exc}", err=True)
    raise typer.Exit(2 if isinstance(exc, BadInput) else 1)


def read_notes(path: Path) -> Iterator[tuple[Any, str, Any]]:
    """``(id, text, note_date)`` per line: ``{"id", "text"}`` or BDCI ``{"ID", "text"}`` records."""
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise BadInput(f"cannot read input: {exc.strerror}", where=str(path)) from None
    with handle:
        try:
            for n, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise BadInput(f"not JSON ({exc.msg}); each line must be {{\"id\": ..., \"text\": ...}}",
                                   where=f"{path}:{n}") from None
                if not isinstance(rec, dict) or not isinstance(rec.get("text"), str):
                    raise BadInput("a record needs a string field \"text\"", where=f"{path}:{n}")
                yield rec.get("id", rec.get("ID", n)), rec["text"], rec.get("note_date") or rec.get("reported_at")
        except UnicodeDecodeError:
            raise BadInput("not UTF-8 text", where=str(path)) from None


@app.command()
def extract(
    in_path: Annotated[Path, typer.Argument(metavar="IN.jsonl", help="每行一条 {\"id\", \"text\"} 或 BDCI 记录")],
    out_path: Annotated[Path, typer.Argument(metavar="OUT.jsonl", help="输出 output")],
    format: Annotated[str, typer.Option("--format", help="zhuisu (默认) 或 bdci2022")] = "zhuisu",
    rules_only: Annotated[bool, typer.Option("--rules-only", help="不用训练模型 dictionary and rules only")] = False,
) -> None:
    """抽取 extract maintenance events from notes (one JSON object per line)."""
    try:
        if format not in ("zhuisu", "bdci2022"):
            raise BadInput(f"unknown format {format!r}; choose zhuisu or bdci2022", where="--format")
        notes = list(read_notes(in_path))
        from zhuisu.nlp import bdci
        from zhuisu.nlp.events import extract_many
        from zhuisu.nlp.pipeline import build_pipeline

        nlp = build_pipeline(model=not rules_only)
        dates = [_date(d) for _, _, d in notes]
        events = extract_many([t for _, t, _ in notes], note_dates=dates, nlp=nlp)
        try:
            with out_path.open("w", encoding="utf-8") as out:
                for (id_, _t, _d), event in zip(notes, events, strict=True):
                    rec = bdci.to_record(id_, event) if format == "bdci2022" else event.to_record(id_)
                    out.write(json.dumps(rec, ensure_ascii=False) + "\n")
        except OSError as exc:
            raise BadInput(f"cannot write output: {exc.strerror}", where=str(out_path)) from None
        typer.echo(f"已抽取 extracted {len(events)} notes → {out_path}", err=True)
    except ZhuisuError as exc:
        _fail(exc)


@app.command("eval")
def evaluate(
    gold_paths: Annotated[list[Path], typer.Argument(
        metavar="GOLD.jsonl…",
        help="金标准 gold files (project or BDCI schema, or annotation markup .txt), scored together")],
    rules_only: Annotated[bool, typer.Option("--rules-only", help="不用训练模型 dictionary and rules only")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="JSON 输出")] = False,
    half: Annotated[str, typer.Option("--half", help="all (默认), even (开发 dev: 0th, 2nd … note) 或 odd (测试 test)")]
    = "all",
    model: Annotated[Path | None, typer.Option("--model", help="另一个训练模型 a trained model directory instead of "
                                                                 "the shipped one")] = None,
) -> None:
    """评测 entity and relation precision, recall and F1 against gold files (their notes pooled)."""
    try:
        from zhuisu.nlp import bdci
        from zhuisu.nlp.evaluate import read_gold, score
        from zhuisu.nlp.events import extract_many
        from zhuisu.nlp.pipeline import build_pipeline

        if half not in ("all", "even", "odd"):
            raise BadInput(f"unknown half {half!r}; choose all, even or odd", where="--half")
        gold = [rec for path in gold_paths for rec in read_gold(path)]
        if half != "all":
            gold = gold[(half == "odd"):: 2]
        nlp = build_pipeline(model=False if rules_only else (model or True))
        events = extract_many([g["text"] for g in gold], nlp=nlp)
        if gold and "spo_list" in gold[0]:
            result: dict[str, Any] = bdci.score(gold, [bdci.to_record(g.get("ID"), e) for g, e in zip(gold, events,
                                                                                                   strict=True)])
        else:
            result = score(gold, [e.to_record() for e in events]).as_dict()
    except ZhuisuError as exc:
        _fail(exc)
        return
    if as_json:
        sys.stdout.write(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
        return
    rows = [(k, v) for k, v in result.items() if isinstance(v, dict) and "f1" in v]
    rows += [(f"  {k}", v) for k, v in result.get("by_label", {}).items()]
    rows += [(f"  {k}", v) for k, v in result.get("by_relation", {}).items()]
    typer.echo(f"{'':28} {'P':>7} {'R':>7} {'F1':>7}")
    for name, v in rows:
        typer.echo(f"{name:28} {v['p']:7.3f} {v['r']:7.3f} {v['f1']:7.3f}")


def _date(value: Any) -> Any:
    from datetime import datetime

    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None
