"""A binary snapshot of the engine's arrays for fast start-up: numpy files, memory-mapped when read.

A snapshot names the store batch it holds and that batch's idempotency key, so it is used only for the
store it came from; whatever the store committed after it is applied by an ordinary ``refresh``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import sqlalchemy as sa

from zhuisu.graph.csr import Csr
from zhuisu.graph.schema import ingest_log
from zhuisu.graph.uids import UidTable

if TYPE_CHECKING:
    from zhuisu.graph.engine import Engine
    from zhuisu.graph.store import Store

FORMAT = 2  # 2: int32 ids and offsets
_COLUMNS = ("node_kind", "_id_of_ix", "_own", "_own_n", "_out", "_out_known", "_out_n", "_ix_of_id",
            "edge_id", "edge_src", "edge_dst", "edge_rel", "edge_t", "edge_qty", "edge_uom")


def folder_for(store: Store) -> Path:
    """Next to a SQLite file; in the user's cache for a server database."""
    url = store.engine.url
    if store.dialect == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database + ".snapshot")
    digest = hashlib.sha1(str(url).encode()).hexdigest()[:16]
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "zhuisu" / "snapshots" / digest


def _key_of(store: Store, batch: int) -> str | None:
    with store.engine.connect() as conn:
        return conn.execute(sa.select(ingest_log.c.key).where(ingest_log.c.id == batch)).scalar()


def write(engine: Engine, folder: Path) -> None:
    """Save the engine's arrays (after ``refresh``), replacing any snapshot in ``folder``."""
    engine.adjacency("mat_out")  # merged adjacency lists, no tail
    if engine.num_slots > engine._csr_upto:
        engine._build_csr()
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    n, m = engine.num_nodes, engine.num_slots
    for name in _COLUMNS:
        array = getattr(engine, name)
        size = len(array) if name == "_ix_of_id" else (m if name.startswith("edge_") else n)
        np.save(tmp / f"{name}.npy", array[:size])
    by_index, order = engine.uids.arrays()
    np.save(tmp / "uids.npy", by_index)
    np.save(tmp / "uid_order.npy", order)
    for name, c in engine._csr.items():
        np.save(tmp / f"{name}.offsets.npy", c.offsets)
        np.save(tmp / f"{name}.edge.npy", c.edge)
        if c.nbr is not None:
            np.save(tmp / f"{name}.nbr.npy", c.nbr)
    meta = {"format": FORMAT, "batch": engine.batch, "key": _key_of(engine.store, engine.batch),
            "kinds": engine.kinds, "relations": engine.relations, "uoms": engine.uoms,
            "nodes": n, "slots": m, "live": engine.num_edges, "max_edge_id": engine._max_edge_id,
            "holes": engine._holes}
    (tmp / "meta.json").write_text(json.dumps(meta, ensure_ascii=False))
    shutil.rmtree(folder, ignore_errors=True)
    tmp.rename(folder)


def read(store: Store, folder: Path) -> Engine | None:
    """The engine saved in ``folder`` if it belongs to ``store`` (not yet refreshed), else None."""
    from zhuisu.graph.engine import Engine

    try:
        meta = json.loads((folder / "meta.json").read_text())
    except (OSError, ValueError):
        return None
    engine = Engine(store)
    if (meta.get("format") != FORMAT or tuple(meta["kinds"]) != engine.kinds
            or tuple(meta["relations"]) != engine.relations or meta["batch"] > store.last_batch()
            or meta["key"] != _key_of(store, meta["batch"])):
        return None

    def load(name: str) -> Any:
        # copy-on-write: pages are shared with the file until a refresh writes to them
        return np.asarray(np.load(folder / f"{name}.npy", mmap_mode="c"))  # plain ndarray: no memmap wrapping per op

    for name in _COLUMNS:
        setattr(engine, name, load(name))
    engine._uids = UidTable(load("uids"), load("uid_order"))
    engine._csr = {name: Csr(load(f"{name}.offsets"), load(f"{name}.edge"),
                             load(f"{name}.nbr") if (folder / f"{name}.nbr.npy").exists() else None)
                   for name in ("mat_out", "mat_in", "all_out", "all_in")}
    engine.uoms = list(meta["uoms"])
    engine._uom_code = {u: i for i, u in enumerate(engine.uoms)}
    engine._num_nodes, engine._slots, engine._live = meta["nodes"], meta["slots"], meta["live"]
    engine._csr_upto, engine._max_edge_id, engine._holes = meta["slots"], meta["max_edge_id"], meta["holes"]
    engine.batch = meta["batch"]
    return engine
