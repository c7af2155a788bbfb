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
from zhuisu.rca.cli import register as register_rca

app = typer.Typer(
    help="追溯 zhuisu — 制造业知识图谱追溯 knowledge-graph traceability for manufacturing plants.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
samples_app = typer.Typer(help="示例工厂 sample plants", no_args_is_help=True)
app.add_typer(samples_app, name="samples")
apikey_app = typer.Typer(help="API 密钥 API keys (docs/api.md)", no_args_is_help=True)
app.add_typer(apikey_app, name="apikey")
connect_app = typer.Typer(help="实时连接器 live connectors: SQL pull, MQTT (docs/api.md)", no_args_is_help=True)
app.add_typer(connect_app, name="connect")
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


register_rca(app, friendly=friendly)


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


@app.command()
@friendly
def ask(
    question: Annotated[str, typer.Argument(help="中文问题 a question, e.g. 3号压装机最近有哪些故障？")],
    session: Annotated[str | None, typer.Option("--session", help="会话 ID: follow-ups resolve against it")] = None,
    today: Annotated[str | None, typer.Option(help="把这天当作今天 date that 上个月/昨天 are read against")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print answer, intent, citations, refused as JSON")] = False,
    db: DbOption = None,
) -> None:
    """维修助手 answer a maintenance or traceability question from the records, with citations (docs/assistant.md)."""
    from zhuisu.assistant import ask as ask_question
    from zhuisu.graph.store import Store

    day = _when(today, "--today")
    store = Store(db)
    try:
        result = ask_question(question, store=store, session=session, today=day.date() if day else None)
    finally:
        store.close()
    if as_json:
        _print_json(result.to_dict())
        return
    out.print(result.answer, markup=False)
    for c in result.citations[:10]:
        out.print(f"  [{c.id}] " + ("→".join(c.path) if c.path else (c.text or "")), markup=False)


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


@app.command()
@friendly
def serve(
    host: Annotated[str | None, typer.Option(help="监听地址 address (default: ZHUISU_API_HOST, 127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option(help="端口 port (default: ZHUISU_API_PORT, 8000)")] = None,
    sql: Annotated[list[Path] | None, typer.Option(
        "--sql", help="SQL 拉取映射文件 SQL pull mapping file (repeatable; default: ZHUISU_SQL_MAPPINGS)")] = None,
    mqtt: Annotated[str | None, typer.Option(help="MQTT 服务器 broker, e.g. mqtt://127.0.0.1:1883 "
                                             "(default: ZHUISU_MQTT_URL)")] = None,
    db: DbOption = None,
) -> None:
    """启动服务 serve the quality workbench (/), the REST API (/api/v1, /epcis, /docs) and the live connectors."""
    from zhuisu import config
    from zhuisu.api.server import serve as run

    mappings = sql or [Path(p.strip()) for p in config.get("sql_mappings").split(",") if p.strip()]
    broker = mqtt if mqtt is not None else (config.get("mqtt_url") or None)
    try:
        bind_port = port if port is not None else int(config.get("api_port"))
    except ValueError:
        raise BadInput(f"端口无效 ZHUISU_API_PORT must be a number, not {config.get('api_port')!r}") from None
    base = f"http://{host or config.get('api_host')}:{bind_port}"
    err.print(f"质量工作台 workbench → {base}/ · API → {base}/docs")
    run(host=host or config.get("api_host"), port=bind_port, db=db, sql=mappings, mqtt=broker)


@apikey_app.command("create")
@friendly
def apikey_create(
    name: Annotated[str, typer.Option("--name", help="名称 who or what uses the key")],
    scope: Annotated[list[str], typer.Option("--scope", help="权限 read, ingest or admin (repeatable)")],
    db: DbOption = None,
) -> None:
    """新建 API 密钥 create an API key; the key alone is printed on the last line, once."""
    from zhuisu.api.auth import keys
    from zhuisu.graph.store import Store

    record, secret = keys.create(Store(db), name=name, scopes=scope)
    out.print(f"已创建 created API key {record.id} ({record.name}), scopes {', '.join(record.scopes)}; "
              "它只显示这一次 it is shown only this once:")
    sys.stdout.write(secret + "\n")


@apikey_app.command("list")
@friendly
def apikey_list(
    as_json: Annotated[bool, typer.Option("--json", help="JSON 输出")] = False,
    db: DbOption = None,
) -> None:
    """列出 API 密钥 list API keys (never their secrets)."""
    from zhuisu.api.auth import keys
    from zhuisu.graph.store import Store

    found = keys.list_keys(Store(db))
    if as_json:
        _print_json([{"id": k.id, "name": k.name, "scopes": list(k.scopes), "created_at": k.created_at.isoformat(),
                      "revoked_at": k.revoked_at.isoformat() if k.revoked_at else None} for k in found])
        return
    for k in found:
        status = f"已吊销 revoked {k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else "有效 active"
        out.print(f"{k.id}  {','.join(k.scopes):<18} {status:<28} {k.created_at:%Y-%m-%d %H:%M}  {k.name}")
    if not found:
        out.print("没有密钥 no keys yet: zhuisu apikey create --name NAME --scope ingest")


@apikey_app.command("revoke")
@friendly
def apikey_revoke(
    key_id: Annotated[str, typer.Argument(help="密钥编号 the key's id (or the whole key)")],
    db: DbOption = None,
) -> None:
    """吊销 API 密钥 revoke an API key; it stops working at once."""
    from zhuisu.api.auth import keys
    from zhuisu.graph.store import Store

    record = keys.revoke(Store(db), key_id=key_id)
    out.print(f"已吊销 revoked API key {record.id} ({record.name})")


@connect_app.command("sql")
@friendly
def connect_sql(
    mapping: Annotated[Path, typer.Argument(help="映射文件 SQL pull mapping file (TOML, docs/api.md)")],
    url: Annotated[str | None, typer.Option(help="源数据库 source database URL (overrides the mapping's url)")] = None,
    interval: Annotated[float | None, typer.Option(help="轮询间隔秒 seconds between polls")] = None,
    once: Annotated[bool, typer.Option("--once", help="只拉取一次 poll once and exit")] = False,
    db: DbOption = None,
) -> None:
    """SQL 拉取 pull new rows from an MES/ERP database by watermark, until interrupted."""
    from zhuisu.graph.store import Store
    from zhuisu.ingest.connectors.sql import SqlConnector

    connector = SqlConnector(Store(db), mapping, url=url, interval=interval)
    if once:
        got = connector.poll()
        out.print(f"已拉取 pulled {got} 行 rows ({connector.stats.rejected} 跳过 skipped)")
        return
    _run_connector(connector)


@connect_app.command("mqtt")
@friendly
def connect_mqtt(
    url: Annotated[str | None, typer.Option(help="MQTT 服务器 broker (default: ZHUISU_MQTT_URL or "
                                            "mqtt://127.0.0.1:1883)")] = None,
    prefix: Annotated[str | None, typer.Option(help="主题前缀 topic prefix (default: ZHUISU_MQTT_TOPIC_PREFIX)")
                      ] = None,
    client_id: Annotated[str | None, typer.Option(help="客户端 ID; fixed: the broker keeps messages meanwhile")] = None,
    seconds: Annotated[float | None, typer.Option(help="运行秒数 stop after this many seconds")] = None,
    db: DbOption = None,
) -> None:
    """MQTT 订阅 subscribe to equipment alarms and telemetry (PREFIX/{site}/{equipment}/alarm|telemetry)."""
    from zhuisu import config
    from zhuisu.graph.store import Store
    from zhuisu.ingest.connectors.mqtt import MqttConnector

    connector = MqttConnector(Store(db), url=url or config.get("mqtt_url") or "mqtt://127.0.0.1:1883",
                              prefix=prefix or config.get("mqtt_topic_prefix"),
                              client_id=client_id if client_id is not None else config.get("mqtt_client_id"))
    _run_connector(connector, seconds)


def _run_connector(connector: Any, seconds: float | None = None) -> None:
    """Run a connector in the foreground until Ctrl-C (or ``seconds``), then print its counters."""
    import logging
    import time

    logging.basicConfig(level="INFO", format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    connector.start()
    err.print(f"{connector.name} 运行中 running; Ctrl-C 停止 to stop")
    try:
        end = time.monotonic() + seconds if seconds is not None else None
        while end is None or time.monotonic() < end:
            time.sleep(0.2 if end is not None else 1.0)
    except KeyboardInterrupt:
        pass
    finally:
        connector.stop()
    out.print(json.dumps(connector.status(), ensure_ascii=False, default=str))


@app.command()
@friendly
def bench(
    units: Annotated[int, typer.Option(help="规模 bench-plant units (≈26 edges each; 780000: ≈20M edges)")] = 10_000,
    seed: Annotated[int, typer.Option(help="随机种子 seed")] = 1,
    queries: Annotated[int, typer.Option(help="backward traces timed")] = 200,
    forward: Annotated[int, typer.Option(help="forward traces from supplier lots timed")] = 10,
    paths: Annotated[int, typer.Option(help="shortest paths timed")] = 100,
    peer: Annotated[list[str] | None, typer.Option(help="peers: sqlite, postgresql, networkx, ladybug")] = None,
    db: Annotated[str | None, typer.Option(help="reuse this SQLite store instead of generating one")] = None,
    pg_url: Annotated[str, typer.Option(help="PostgreSQL server for the peer")] = "postgresql://postgres@127.0.0.1:5432/test",
    rca_units: Annotated[int, typer.Option(help="RCA timed over this many units downstream of a lot (0: skip)")] = 200,
    as_json: Annotated[bool, typer.Option("--json", help="print the figures as one JSON object")] = False,
) -> None:
    """性能基准 benchmark zhuisu against SQL WITH RECURSIVE, networkx and LadybugDB (docs/benchmarks.md)."""
    from zhuisu.graph import benchmark

    report = benchmark.run(units, seed=seed, queries=queries, forward_queries=forward, path_queries=paths,
                           peers=tuple(peer or benchmark.PEERS), pg_url=pg_url, db=db, rca_units=rca_units,
                           log=lambda line: err.print(line))
    if as_json:
        _print_json(benchmark.summary(report))
    else:
        out.print(json.dumps(report, ensure_ascii=False, indent=2))


_EXPORTERS = {  # format → (module, writer), imported only when used
    "turtle": ("zhuisu.graph.rdf_export", "write_turtle"),
    "jsonld": ("zhuisu.graph.rdf_export", "write_jsonld"),
    "epcis": ("zhuisu.graph.epcis_export", "write_epcis"),
}


@app.command("export")
@friendly
def export_graph(
    fmt: Annotated[str, typer.Argument(metavar="FORMAT", help="turtle, jsonld 或 epcis (docs/export.md)")],
    out_file: Annotated[Path, typer.Option("--out", "-o", help="输出文件 output file")],
    trace_ref: Annotated[str | None, typer.Option("--trace", help="只导出追溯到的节点 only what a trace of UID reaches")
                         ] = None,
    forward: Annotated[bool, typer.Option("--forward", help="正向追溯 forward trace (with --trace)")] = False,
    check: Annotated[bool, typer.Option("--validate", help="校验写出的文件 check it: SHACL, or EPCIS schema")] = False,
    db: DbOption = None,
) -> None:
    """导出 export the graph, or a trace, as Turtle or JSON-LD (RDF) or as an EPCIS 2.0 document."""
    import importlib

    from zhuisu.graph.backend import open_backend
    from zhuisu.graph.store import Store

    if fmt not in _EXPORTERS:
        raise BadInput(f"未知的导出格式 unknown export format {fmt!r}; choose {', '.join(_EXPORTERS)}", where="FORMAT")
    if forward and trace_ref is None:
        raise BadInput("--forward 需要 --trace UID / --forward needs --trace UID", where="--forward")
    if not out_file.parent.is_dir():
        raise BadInput(f"输出文件夹不存在 no such folder {str(out_file.parent)!r}", where="--out")
    if out_file.is_dir():
        raise BadInput(f"{str(out_file)!r} 是文件夹 is a folder; give a file name", where="--out")
    store = Store(db)
    uids = None
    if trace_ref is not None:
        with open_backend(store) as graph:
            uids = graph.trace(trace_ref, direction="forward" if forward else "backward").uids
    writer = getattr(importlib.import_module(_EXPORTERS[fmt][0]), _EXPORTERS[fmt][1])
    partial = out_file.with_name(f".{out_file.name}.part")  # renamed into place: never a half-written file
    try:
        with partial.open("w", encoding="utf-8") as stream:
            result = writer(store, stream, uids=uids)
        partial.replace(out_file)
    except OSError as exc:
        raise ZhuisuError(f"无法写入 cannot write {str(out_file)!r}: {exc.strerror}", where="--out") from None
    finally:
        partial.unlink(missing_ok=True)
    if fmt == "epcis":
        out.print(f"已导出 exported {result.events} 事件 events ({result.transformations} TransformationEvent, "
                  f"{result.aggregations} AggregationEvent) → {out_file}")
        if result.untimed:
            err.print(f"注意 note: {result.untimed} 条无时间的物料关系未导出 material edges without a time left out")
        if result.uoms:
            err.print(f"注意 note: 单位无 UN/CEFACT 代码，数量未写单位 units without a Rec 20 code: "
                      f"{', '.join(sorted(result.uoms))}")
    else:
        out.print(f"已导出 exported {result.nodes} 节点 nodes, {result.triples} 三元组 triples → {out_file}")
    if check:
        _check_export(fmt, out_file)


def _check_export(fmt: str, path: Path) -> None:
    if fmt == "epcis":
        from zhuisu.ingest import epcis_json

        (batch,) = epcis_json.read(path)  # the reader checks the schema first, and says what is wrong in one line
        out.print(f"校验 check: 符合 EPCIS 2.0 schema / valid; 读回 reads back as {len(batch.edges)} 关系 edges")
        return
    from rdflib import Graph

    from zhuisu.ontology.shacl import validate

    report = validate(Graph().parse(path, format="json-ld" if fmt == "jsonld" else "turtle"))
    if not report.conforms:
        raise ZhuisuError(f"导出不符合本体约束 export does not conform: {len(report.violations)} violations, "
                          f"e.g. {report.violations[0]}", where=str(path))
    out.print(f"校验 check: {report}")



def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def main() -> None:
    """Entry point of the ``zhuisu`` script."""
    app()


if __name__ == "__main__":
    main()
