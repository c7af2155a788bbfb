"""Crash safety: SIGKILL in the middle of an ingest leaves no partial batch and loses nothing acknowledged."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

import sqlalchemy as sa

from zhuisu.graph.schema import edges, ingest_log
from zhuisu.graph.store import Store

BATCHES = 120

WRITER = textwrap.dedent(
    """
    import sys
    from zhuisu.graph.store import Store
    from zhuisu.ingest.records import Batch, Edge, Node

    store = Store(sys.argv[1])
    for b in range(int(sys.argv[2])):
        lot = f"lot:ML-{b:04d}"
        batch = Batch(
            source=f"crash-test-{b}",
            nodes=[Node(lot, name=f"批次{b}", attrs={"quantity": 4000.0})],
            edges=[Edge(lot, "consumedBy", f"op:OP-{b:04d}-{i:05d}", quantity=1.0) for i in range(2000)],
        )
        result = store.ingest(batch)
        print("ACK", result.key, result.edges_added, flush=True)
    """
)


def run_writer(url: str, kill_after: int | None) -> list[str]:
    """Run the writer; with ``kill_after``, SIGKILL it once that many batches were acknowledged."""
    acked: list[str] = []
    with subprocess.Popen([sys.executable, "-c", WRITER, url, str(BATCHES)], stdout=subprocess.PIPE, text=True) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            acked.append(line.split()[1])
            if kill_after is not None and len(acked) >= kill_after:
                proc.send_signal(signal.SIGKILL)
                break
        proc.wait(timeout=120)
    if kill_after is None:
        assert proc.returncode == 0
    return acked


def check_consistent(url: str) -> int:
    """Every logged batch has exactly the edges it reported; returns the number of batches."""
    store = Store(url)
    with store.engine.connect() as conn:
        logged = {row.id: row.edges for row in conn.execute(sa.select(ingest_log.c.id, ingest_log.c.edges))}
        per_batch = dict(
            conn.execute(sa.select(edges.c.batch, sa.func.count()).group_by(edges.c.batch)).all()
        )
    store.close()
    assert per_batch == {b: n for b, n in logged.items() if n}, "an edge outside its batch, or a partial batch"
    return len(logged)


def test_sigkill_mid_ingest_then_restart(store_url: str) -> None:
    acked = run_writer(store_url, kill_after=15)
    assert len(acked) >= 15
    committed = check_consistent(store_url)
    assert committed >= len(acked)  # a batch may commit just before the kill lands, never the reverse
    store = Store(store_url)
    with store.engine.connect() as conn:
        keys = set(conn.execute(sa.select(ingest_log.c.key)).scalars())
    store.close()
    assert set(acked) <= keys, "an acknowledged batch was lost"

    run_writer(store_url, kill_after=None)  # the restarted ingest completes; resent batches change nothing
    assert check_consistent(store_url) == BATCHES
    store = Store(store_url)
    assert store.counts()["edges"] == BATCHES * 2000
    assert store.counts()["nodes"] == BATCHES * 2001
    store.close()
