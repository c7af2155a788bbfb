"""``zhuisu neo4j``: sync the store into Neo4j, or write ``neo4j-admin`` import files."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

app = typer.Typer(help="Neo4j 图数据库: 同步 sync, 批量导入文件 bulk-import files", no_args_is_help=True)

F = TypeVar("F", bound=Callable[..., Any])

DbOption = Annotated[str | None, typer.Option("--db", help="存储 URL (default: ZHUISU_DB_URL)")]
UriOption = Annotated[str | None, typer.Option("--uri", help="bolt://HOST:7687 (ZHUISU_NEO4J_URI)")]
UserOption = Annotated[str | None, typer.Option("--user", help="用户 (ZHUISU_NEO4J_USER)")]
PasswordOption = Annotated[str | None, typer.Option("--password", help="密码 (ZHUISU_NEO4J_PASSWORD)")]
DatabaseOption = Annotated[str | None, typer.Option("--database", help="数据库 (ZHUISU_NEO4J_DATABASE)")]
FullOption = Annotated[bool, typer.Option("--full", help="全量重写 rewrite everything")]
SinceOption = Annotated[int | None, typer.Option(
    "--since-batch", help="已导入至批次 N: batches up to N are in Neo4j (from export-csv)")]


def _friendly(func: F) -> F:
    """The main CLI's one-line error printing, looked up when a command runs (it mounts this app)."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from zhuisu.cli import friendly

        return friendly(func)(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


@app.command()
@_friendly
def sync(uri: UriOption = None, user: UserOption = None, password: PasswordOption = None,
         database: DatabaseOption = None, full: FullOption = False, since_batch: SinceOption = None,
         db: DbOption = None) -> None:
    """同步 write what changed in the store since the last sync into Neo4j (resumes a broken sync)."""
    from zhuisu.cli import err, out
    from zhuisu.graph.neo4j.connect import Target
    from zhuisu.graph.neo4j.sync import SyncResult, sync_to
    from zhuisu.graph.store import Store

    target = Target.from_settings(uri, user, password, database)

    def report(r: SyncResult) -> None:
        err.print(f"  … {r.nodes} 节点 nodes, {r.edges} 关系 edges, {r.retracted} 撤回 retracted")

    result = sync_to(Store(db), target, full=full, since=since_batch,
                     on_chunk=report if err.is_terminal else None)
    resumed = " (续传 resumed)" if result.resumed else ""
    out.print(f"已同步 synced{resumed} → {result.target}: {result.nodes} 节点 nodes, "
              f"{result.edges} 关系 edges, {result.retracted} 撤回 retracted; 至批次 batch {result.synced}")


@app.command("export-csv")
@_friendly
def export_csv(
    directory: Annotated[Path, typer.Argument(help="输出文件夹 output folder")],
    database: Annotated[str, typer.Option("--database", help="导入的数据库 target database")] = "neo4j",
    db: DbOption = None,
) -> None:
    """导出 write neo4j-admin import files (one per kind and relationship type) and print the command."""
    from zhuisu.cli import out
    from zhuisu.graph.neo4j.bulk import export_csv as run
    from zhuisu.graph.store import Store

    export = run(Store(db), directory)
    out.print(f"已导出 exported {export.nodes} 节点 nodes ({len(export.node_files)} files), "
              f"{export.relationships} 关系 relationships ({len(export.relationship_files)} files) "
              f"→ {directory}, 至批次 batch {export.batch}")
    out.print("导入 import (with Neo4j stopped, into a database that does not exist yet):")
    out.print(export.command(database), markup=False)
    out.print("然后 then create the constraints and continue incrementally:")
    out.print(f"zhuisu neo4j sync --uri bolt://HOST:7687 --database {database} --since-batch {export.batch}",
              markup=False)
