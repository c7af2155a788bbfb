"""The ``zhuisu`` command line: a thin layer over the library; errors print as one line, never a traceback."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from zhuisu.errors import BadInput, ZhuisuError
from zhuisu.graph.neo4j.cli import app as neo4j_app
from zhuisu.nlp.cli import app as nlp_app

app = typer.Typer(
    help="追溯 zhuisu — 制造业知识图谱追溯 knowledge-graph traceability for manufacturing plants.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
samples_app = typer.Typer(help="示例工厂 sample plants", no_args_is_help=True)
app.add_typer(samples_app, name="samples")
app.add_typer(neo4j_app, name="neo4j")
app.add_typer(nlp_app, name="nlp")

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

F = TypeVar("F", bound=Callable[..., Any])


def friendly(func: F) -> F:
    """Print a ZhuisuError as one line on stderr and exit non-zero."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ZhuisuError as exc:
            err.print(f"[bold red]错误 error[/] [{exc.code}] {exc}", markup=True)
            raise typer.Exit(2 if isinstance(exc, BadInput) else 1) from None

    return wrapper  # type: ignore[return-value]


def _when(value: str | None, field: str) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise BadInput(f"时间格式错误 bad time {value!r}; use ISO 8601 such as 2023-11-03 or 2023-11-03T08:00",
                       where=field) from None


@contextmanager
def _graph(db: str | None) -> Iterator[Any]:
    from zhuisu.graph.backend import open_backend
    from zhuisu.graph.store import Store

    with open_backend(Store(db)) as graph:
        yield graph


DbOption = Annotated[str | None, typer.Option("--db", help="存储 URL (default: ZHUISU_DB_URL or ./zhuisu.db)")]


@app.command()
@friendly
def ingest(
    path: Annotated[Path, typer.Argument(help="文件或文件夹 file or folder")],
    format: Annotated[
        str | None, typer.Option("--format", "-f", help="adapter: csv, epcis-json, epcis-xml, b2mml")
    ] = None,
    mapping: Annotated[Path | None, typer.Option(help="列映射文件 TOML mapping for foreign exports")] = None,
    nlp: Annotated[bool, typer.Option("--nlp/--no-nlp", help="抽取维修记录 read new maintenance notes")] = True,
    db: DbOption = None,
) -> None:
    """导入数据 ingest a folder of tables, EPCIS or B2MML documents; each file commits atomically."""
    from zhuisu.graph.store import Store
    from zhuisu.ingest import plan

    store = Store(db)
    options = {"mapping": mapping} if mapping else {}
    totals = {"batches": 0, "skipped": 0, "nodes": 0, "edges": 0}
    first = store.last_batch() + 1
    with _progress() as bar:
        task = bar.add_task("导入 ingest", total=None)
        try:
            for batch in plan(path, format, **options):
                bar.update(task, description=f"导入 {batch.source.split('/')[-1]}")
                result = store.ingest(batch)
                totals["batches"] += 1
                totals["skipped"] += result.skipped
                totals["nodes"] += result.nodes_added
                totals["edges"] += result.edges_added
                bar.advance(task)
        except ZhuisuError as exc:
            exc.message += f" — 此前已提交 {totals['batches']} 批 batches committed before it are kept"
            raise
    out.print(
        f"已导入 ingested {totals['batches']} 批 batches ({totals['skipped']} 已存在 unchanged): "
        f"+{totals['nodes']} 节点 nodes, +{totals['edges']} 关系 edges → {store.url}"
    )
    if nlp and totals["batches"] > totals["skipped"]:
        from zhuisu.nlp.enrich import enrich

        result = store.ingest(enrich(store, since_batch=first - 1))
        if result.edges_added:
            out.print(f"维修记录抽取 maintenance notes read: +{result.nodes_added} 节点 nodes, "
                      f"+{result.edges_added} 关系 edges")


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=err, transient=True, disable=not err.is_terminal,
    )


@app.command()
@friendly
def trace(
    uid: Annotated[str, typer.Argument(help="uid 或别名 uid or alias, e.g. unit:SN-M2311-00042")],
    forward: Annotated[bool, typer.Option("--forward", help="正向追踪 (去向/围堵) forward containment")] = False,
    depth: Annotated[int | None, typer.Option(help="最大层数 max material hops")] = None,
    since: Annotated[str | None, typer.Option("--from", help="起始时间 from (ISO 8601)")] = None,
    until: Annotated[str | None, typer.Option("--to", help="截止时间 to (ISO 8601)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON 输出 (docs/cli.md)")] = False,
    db: DbOption = None,
) -> None:
    """追溯 backward trace of a unit or lot (or --forward: where it went)."""
    with _graph(db) as graph:
        result = graph.trace(
            uid, direction="forward" if forward else "backward", depth=depth,
            since=_when(since, "--from"), until=_when(until, "--to"),
        ).to_dict()
    if as_json:
        _print_json(result)
    else:
        from zhuisu.render import print_trace

        print_trace(out, result)


@app.command()
@friendly
def paths(
    source: Annotated[str, typer.Argument(help="起点 uid")],
    target: Annotated[str, typer.Argument(help="终点 uid")],
    k: Annotated[int, typer.Option("--k", help="路径条数 number of paths")] = 1,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    db: DbOption = None,
) -> None:
    """关联路径 shortest paths between two nodes."""
    with _graph(db) as graph:
        result = graph.k_paths(source, target, k=k).to_dict()
    if as_json:
        _print_json(result)
    else:
        from zhuisu.render import print_paths

        print_paths(out, result)


@samples_app.command("make")
@friendly
def samples_make(
    plant: Annotated[str, typer.Argument(help="motor 或 dairy")],
    out_dir: Annotated[Path, typer.Option("--out", help="输出文件夹 output folder")],
    units: Annotated[int, typer.Option(help="规模 units (motor) or finished lots (dairy)")] = 2000,
    seed: Annotated[int, typer.Option(help="随机种子 seed")] = 1,
    no_fault: Annotated[bool, typer.Option("--no-fault", help="无注入根因 null plant")] = False,
    scenario: Annotated[str | None, typer.Option(help="注入的根因场景 injected scenario")] = None,
) -> None:
    """生成示例工厂 generate a sample plant (tables, EPCIS, maintenance notes, truth.json)."""
    from zhuisu.samples import SCENARIOS, generate

    if plant not in SCENARIOS:
        raise BadInput(f"未知工厂 unknown plant {plant!r}; choose {', '.join(SCENARIOS)}", where="PLANT")
    if scenario is not None and scenario not in SCENARIOS[plant]:
        raise BadInput(f"未知场景 unknown scenario {scenario!r}; choose {', '.join(SCENARIOS[plant])}",
                       where="--scenario")
    truth = generate(plant, units=units, seed=seed, out=out_dir, fault=not no_fault, scenario=scenario)
    causes = ", ".join(c["uid"] for c in truth["causes"]) or "无 none"
    out.print(f"已生成 {plant} 工厂 → {out_dir} (场景 scenario {truth['scenario']}, 根因 causes: {causes})")


@app.command()
@friendly
def demo(db: DbOption = None) -> None:
    """演示 build the embedded store from the motor sample and show a trace and a containment."""
    from zhuisu.samples.demo import run

    run(out, db)


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def main() -> None:
    """Entry point of the ``zhuisu`` script."""
    app()


if __name__ == "__main__":
    main()
