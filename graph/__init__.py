"""Durable store (``store``), in-memory engine (``engine``) and the queries over it (``trace``, ``paths``).

Import from the modules: re-exporting ``trace`` here would shadow the ``zhuisu.graph.trace`` module.
"""
