"""Live connectors: pull from MES/ERP databases (``sql``) and subscribe to equipment streams (``mqtt``).

Each turns what it reads into canonical records and commits them through the store, one batch at a time,
so the graph of a running ``zhuisu serve`` updates without a restart. docs/api.md ("Connectors") documents
their mapping file and topic scheme.
"""
