"""Ingest rate, start-up, memory, trace latency and RCA on the generated bench plant, side by side with SQLite
and PostgreSQL WITH RECURSIVE, networkx and LadybugDB: a thin entry point over ``zhuisu bench``.

    python bench/ingest_trace.py --units 780000 [--json] [--db existing.db]   # 780000 units: ≈ 20M edges
"""

from zhuisu.cli import app

if __name__ == "__main__":
    import sys

    app(["bench", *sys.argv[1:]])
