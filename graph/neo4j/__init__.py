"""Neo4j exchange: incremental sync, ``neo4j-admin`` import files and a Cypher query backend.

Labels and relationship types come from the ontology (``cypher.py``); the ``neo4j`` driver is imported only
where a server is actually contacted, so the rest works without it.
"""
