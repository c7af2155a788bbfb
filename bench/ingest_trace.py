"""Ingest rate, start-up, memory and trace latency on a generated motor plant, side by side with SQLite and
PostgreSQL WITH RECURSIVE, networkx and LadybugDB: a thin entry point over ``zhuisu bench``.

    python bench/ingest_trace.py --units 100000 [--json] [--db existing.db]
"""

from zhuisu.cli import app

if __name__ == "__main__":
    import sys

    app(["bench", *sys.argv[1:]])
