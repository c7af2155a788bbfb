"""The Cypher statements zhuisu emits, generated from the ontology, each with its parameters declared.

``schema_statements`` and ``write_statements`` enumerate what sync runs, ``backend.read_statements`` what
the query backend runs; the tests lint all of them with Neo4j's own Cypher tooling.

Labels and relationship types cannot be Cypher parameters, so they are written into the statement text;
they only ever come from the ontology (checked here as plain identifiers), never from user input.
A node carries its kind and its superclasses as labels (``:Line:Equipment``); nodes are found and merged
by the label of the kind that owns their uid prefix (``equipment:`` → ``Equipment``), which every node of
that prefix carries, so one uniqueness constraint per prefix kind makes uids unique in the whole graph.
Relationship types are the relation names in UPPER_SNAKE case (``consumedBy`` → ``CONSUMED_BY``).
Edge times are stored as ``t``, epoch milliseconds (an integer), exactly as in the store; ``sid`` is the
row id in the store, which orders query results exactly as the in-memory engine orders them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from zhuisu.ontology import Ontology, load

_IDENT = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")

# Properties every node and relationship written by zhuisu has; attributes with these names are kept in
# the JSON ``attrs`` property instead, so they never overwrite them.
NODE_FIELDS = ("sid", "uid", "kind", "name", "attrs")
EDGE_FIELDS = ("sid", "key", "t", "qty", "uom", "attrs")

_NODE_ROW = {"sid": 7, "uid": "lot:CG2311-0007", "kind": "MaterialLot", "name": "磁钢 CG2311-0007",
             "props": {"step": "压装", "quantity": 1000.0}, "attrs": None}
_EDGE_ROW = {"sid": 12, "src": "lot:CG2311-0007", "dst": "op:PF-00042", "key": "", "t": 1698970500000,
             "qty": 2.0, "uom": "ea", "props": {}, "attrs": None}


@dataclass(frozen=True, slots=True)
class Statement:
    """One Cypher statement and its parameters, each with an example value (declared to the linter)."""

    name: str
    text: str
    params: Mapping[str, Any]

    def bind(self, **values: Any) -> tuple[str, dict[str, Any]]:
        """The text and parameters to run, refusing any parameter the statement does not declare."""
        if values.keys() != self.params.keys():
            raise ValueError(f"statement {self.name}: parameters {sorted(values)} are not the declared "
                             f"{sorted(self.params)}")
        return self.text, values


def _ident(name: str) -> str:
    if not _IDENT.match(name):
        raise ValueError(f"{name!r} is not a plain identifier; labels and types come only from the ontology")
    return name


def rel_type(relation: str, onto: Ontology | None = None) -> str:
    """The relationship type of an ontology relation: ``consumedBy`` → ``CONSUMED_BY``."""
    (onto or load()).relation(relation)
    return _ident(re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", relation).upper())


def labels(kind: str, onto: Ontology | None = None) -> tuple[str, ...]:
    """The labels of a node of ``kind``: the kind, then its superclasses."""
    return tuple(_ident(k) for k in (onto or load()).kind(kind).ancestors)


def root(kind: str, onto: Ontology | None = None) -> str:
    """The label that nodes of ``kind`` are merged and looked up by: the kind owning their uid prefix."""
    onto = onto or load()
    return _ident(onto.by_prefix[onto.kind(kind).prefix])


def node_kinds(onto: Ontology | None = None) -> list[str]:
    """Kinds that nodes can have (those with a uid prefix), sorted."""
    onto = onto or load()
    return sorted(k.name for k in onto.kinds.values() if k.prefix)


def endpoint_roots(relation: str, onto: Ontology | None = None) -> list[tuple[str, str]]:
    """The (source root, target root) label pairs that the ontology lets ``relation`` connect."""
    onto = onto or load()
    rel = onto.relation(relation)

    def roots(allowed: frozenset[str]) -> set[str]:
        return {root(k, onto) for k in node_kinds(onto) if allowed.intersection(onto.kind(k).ancestors)}

    return sorted((s, d) for s in roots(rel.sources) for d in roots(rel.targets))


# ── schema ───────────────────────────────────────────────────────────────────────────────────────────────
def uid_constraint(root_label: str) -> Statement:
    """Uniqueness of ``uid`` among the nodes of one prefix kind (also the index that MERGE looks up by)."""
    label = _ident(root_label)
    return Statement(
        f"constraint:{label}",
        f"CREATE CONSTRAINT zs_{label.lower()}_uid IF NOT EXISTS FOR (n:{label}) REQUIRE n.uid IS UNIQUE",
        {},
    )


def name_index(root_label: str) -> Statement:
    """An index on ``name``, so users can look nodes up by their Chinese names."""
    label = _ident(root_label)
    text = f"CREATE INDEX zs_{label.lower()}_name IF NOT EXISTS FOR (n:{label}) ON (n.name)"
    return Statement(f"index:{label}", text, {})


def schema_statements(onto: Ontology | None = None) -> list[Statement]:
    """Constraints and indexes, created before any data is written."""
    onto = onto or load()
    roots = sorted({root(k, onto) for k in node_kinds(onto)})
    return [uid_constraint(r) for r in roots] + [name_index(r) for r in roots]


# ── writes (sync) ────────────────────────────────────────────────────────────────────────────────────────
def merge_nodes(kind: str, onto: Ontology | None = None) -> Statement:
    """Merge a batch of nodes of one kind by uid, setting their labels, name and attributes."""
    onto = onto or load()
    own = labels(kind, onto)
    prefix = onto.kind(kind).prefix
    # A node's kind may change within its prefix (a stub ``Equipment`` becomes a ``Line``): drop the labels
    # of the other kinds sharing the prefix that this kind does not have.
    stale = sorted({a for k in onto.kinds.values() if k.prefix == prefix for a in k.ancestors} - set(own))
    remove = f"\nREMOVE n:{':'.join(stale)}" if stale else ""
    text = (
        f"UNWIND $rows AS row\n"
        f"MERGE (n:{root(kind, onto)} {{uid: row.uid}}){remove}\n"
        f"SET n:{':'.join(own)}, n.sid = row.sid, n.kind = row.kind, n.name = row.name, n.attrs = row.attrs\n"
        f"SET n += row.props"
    )
    return Statement(f"nodes:{kind}", text, {"rows": [_NODE_ROW]})


def merge_edges(relation: str, src_root: str, dst_root: str, onto: Ontology | None = None) -> Statement:
    """Merge a batch of relationships of one type on their key, returning how many were written."""
    rtype = rel_type(relation, onto)
    text = (
        f"UNWIND $rows AS row\n"
        f"MATCH (a:{_ident(src_root)} {{uid: row.src}})\n"
        f"MATCH (b:{_ident(dst_root)} {{uid: row.dst}})\n"
        f"MERGE (a)-[r:{rtype} {{key: row.key}}]->(b)\n"
        f"SET r.sid = row.sid, r.t = row.t, r.qty = row.qty, r.uom = row.uom, r.attrs = row.attrs\n"
        f"SET r += row.props\n"
        f"RETURN count(r) AS written"
    )
    return Statement(f"edges:{rtype}:{src_root}>{dst_root}", text, {"rows": [_EDGE_ROW]})


def delete_edges(relation: str, src_root: str, dst_root: str, onto: Ontology | None = None) -> Statement:
    """Delete retracted relationships, identified by (source, type, target, key)."""
    rtype = rel_type(relation, onto)
    text = (
        f"UNWIND $rows AS row\n"
        f"MATCH (:{_ident(src_root)} {{uid: row.src}})-[r:{rtype} {{key: row.key}}]->(:{_ident(dst_root)} "
        f"{{uid: row.dst}})\n"
        f"DELETE r"
    )
    return Statement(f"retract:{rtype}:{src_root}>{dst_root}", text,
                     {"rows": [{"src": "lot:CG2311-0007", "dst": "op:PF-00042", "key": "urn:uuid:ev-1"}]})


def write_statements(onto: Ontology | None = None) -> Iterator[Statement]:
    """Every statement sync can emit: one per node kind, two per (relationship type, endpoint roots)."""
    onto = onto or load()
    for kind in node_kinds(onto):
        yield merge_nodes(kind, onto)
    for relation in sorted(onto.relations):
        for src, dst in endpoint_roots(relation, onto):
            yield merge_edges(relation, src, dst, onto)
            yield delete_edges(relation, src, dst, onto)


@cache
def writes(onto: Ontology) -> dict[str, Statement]:
    """The write statements of ``onto`` by name, built once."""
    return {s.name: s for s in write_statements(onto)}


def node_statement(kind: str, onto: Ontology) -> Statement:
    """The merge statement for nodes of ``kind``."""
    return writes(onto)[f"nodes:{kind}"]


def edge_statement(relation: str, src_kind: str, dst_kind: str, onto: Ontology, *,
                   delete: bool = False) -> Statement:
    """The merge (or, with ``delete``, the delete) statement for ``relation`` between nodes of these kinds."""
    verb = "retract" if delete else "edges"
    return writes(onto)[f"{verb}:{rel_type(relation, onto)}:{root(src_kind, onto)}>{root(dst_kind, onto)}"]


# ── reads (query backend) ────────────────────────────────────────────────────────────────────────────────
def find_node(root_label: str) -> Statement:
    """Look a node up by uid among the nodes of one prefix kind."""
    label = _ident(root_label)
    text = f"MATCH (n:{label} {{uid: $uid}})\nRETURN elementId(n) AS id, properties(n) AS props"
    return Statement(f"find:{label}", text, {"uid": "unit:SN-M2311-00042"})


_ARROWS = {"out": ("-", "->"), "in": ("<-", "-"), "both": ("-", "-")}


def expand(role: str, relations: list[str], direction: str, onto: Ontology | None = None) -> Statement:
    """The relationships of some types around a set of nodes (by element id), with their other ends.

    Element ids are only meaningful inside one transaction, so a query runs all its expansions in one.
    """
    left, right = _ARROWS[direction]
    types = "|".join(rel_type(r, onto) for r in sorted(relations))
    text = (
        f"UNWIND $ids AS id\n"
        f"MATCH (n) WHERE elementId(n) = id\n"
        f"MATCH (n){left}[r:{types}]{right}(m)\n"
        f"RETURN elementId(startNode(r)) AS src, elementId(endNode(r)) AS dst, type(r) AS type,\n"
        f"       properties(r) AS props, elementId(m) AS other, properties(m) AS other_props"
    )
    return Statement(f"expand:{role}", text, {"ids": ["4:c0a8f5e2-8d1b-4c51-9d6b-0e6a7b3f9a10:42"]})
