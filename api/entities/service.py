"""Lookup and search over the store's nodes and aliases."""

from __future__ import annotations

import sqlalchemy as sa

from zhuisu.api.entities.models import EntityBrief, EntityRead, Label, LinkCount
from zhuisu.errors import NotFound
from zhuisu.graph.schema import aliases, edges, nodes
from zhuisu.graph.store import Store


def get(*, store: Store, ref: str) -> EntityRead:
    """The node a uid or alias names, with its aliases and edge counts by relation."""
    record = store.node(ref)
    kind = store.ontology.kind(record.kind)
    links = []
    with store.engine.connect() as conn:
        for column, direction in ((edges.c.src, "out"), (edges.c.dst, "in")):
            q = (sa.select(edges.c.rel, sa.func.count()).where(column == record.id, edges.c.retracted.is_(None))
                 .group_by(edges.c.rel).order_by(edges.c.rel))
            links += [LinkCount(rel=rel, direction=direction, count=n) for rel, n in conn.execute(q)]
    return EntityRead(uid=record.uid, kind=record.kind, kind_label=Label(zh=kind.label_zh, en=kind.label_en),
                      name=record.name, attrs=record.attrs, aliases=store.aliases_of(record.uid), links=links)


def search(*, store: Store, q: str, kinds: list[str] | None, prefix: bool, limit: int,
           after: str | None) -> tuple[list[EntityBrief], bool]:
    """Nodes whose uid, name or an alias contains (or, with ``prefix``, starts with) ``q``, ignoring case,
    ordered by uid after ``after``; and whether more follow."""
    text = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = f"{text}%" if prefix else f"%{text}%"
    by_alias = sa.select(aliases.c.node).where(aliases.c.alias.ilike(pattern, escape="\\"))
    cond = sa.or_(nodes.c.uid.ilike(pattern, escape="\\"), nodes.c.name.ilike(pattern, escape="\\"),
                  nodes.c.id.in_(by_alias))
    if kinds:
        onto = store.ontology
        wanted = {onto.kind(k).name for k in kinds}
        cond = sa.and_(cond, nodes.c.kind.in_(sorted(k for k in onto.kinds
                                                      if wanted.intersection(onto.kinds[k].ancestors))))
    if after is not None:
        cond = sa.and_(cond, nodes.c.uid > after)
    query = sa.select(nodes.c.uid, nodes.c.kind, nodes.c.name).where(cond).order_by(nodes.c.uid).limit(limit + 1)
    with store.engine.connect() as conn:
        found = [EntityBrief(uid=u, kind=k, name=n) for u, k, n in conn.execute(query)]
    return found[:limit], len(found) > limit


def exact(*, store: Store, q: str) -> EntityBrief | None:
    """The node ``q`` names as a uid or alias, if any."""
    try:
        record = store.node(q)
    except NotFound:
        return None
    return EntityBrief(uid=record.uid, kind=record.kind, name=record.name)
