"""Routes of the entities domain."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from zhuisu.api import paging
from zhuisu.api.deps import ReadAccess, StoreDep
from zhuisu.api.entities import service
from zhuisu.api.entities.models import EntityRead, KindRead, Label, RelationRead, SearchPage, Vocabulary
from zhuisu.api.errors import responses
from zhuisu.errors import BadInput

router = APIRouter(tags=["entities 实体"])


@router.get(
    "/entities", response_model=SearchPage, summary="搜索实体 Search nodes",
    description="按 uid、名称或别名搜索（子串或前缀，不分大小写），按 uid 排序分页。\n\nNodes whose uid, name or "
                "an alias contains `q` (or starts with it, `match=prefix`), ignoring case, ordered by uid, in "
                "pages; `exact` is the node `q` names exactly, if any.",
    responses=responses(400, 401, 403, 422),
)
def search_entities(store: StoreDep, _: ReadAccess,
                    q: Annotated[str, Query(min_length=1, max_length=200, description="搜索词 text to find",
                                            examples=["PRESS-02"])],
                    kind: Annotated[list[Annotated[str, Query(max_length=40)]] | None, Query(
                        max_length=20, description="只要这些类 only these kinds (and subclasses)")] = None,
                    match: Annotated[Literal["substring", "prefix"], Query(description="匹配方式")] = "substring",
                    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
                    cursor: Annotated[str | None, Query(max_length=1000, description="下一页 next page")] = None,
                    ) -> SearchPage:
    query = paging.digest(q, kind, match)
    after = None
    if cursor:
        state = paging.decode(cursor)
        if state.get("q") != query or not isinstance(state.get("after"), str):
            raise BadInput("分页令牌不属于此查询 this cursor belongs to another search; start again without it",
                           where="cursor")
        after = state["after"]
    items, more = service.search(store=store, q=q, kinds=kind, prefix=match == "prefix", limit=limit, after=after)
    following = paging.encode({"q": query, "after": items[-1].uid}) if more and items else None
    return SearchPage(exact=service.exact(store=store, q=q) if cursor is None else None, items=items,
                      next_cursor=following)


@router.get(
    "/entities/{ref:path}", response_model=EntityRead, summary="查看实体 Look up a node",
    description="按 uid 或别名（GS1 URN、Digital Link、标识解析 Handle）查看节点。\n\nThe node a uid or an alias "
                "(GS1 URN, Digital Link, Handle) names, with its attributes, aliases and edge counts by relation. "
                "Percent-encode `/`, `?` and `#` inside the reference.",
    responses=responses(401, 403, 404, 422),
)
def get_entity(store: StoreDep, _: ReadAccess,
               ref: Annotated[str, Path(min_length=1, max_length=400, description="uid 或别名 uid or alias",
                                        examples=["equipment:PRESS-02"])]) -> EntityRead:
    return service.get(store=store, ref=ref)


@router.get("/vocabulary", response_model=Vocabulary, summary="本体词汇 Kinds and relations",
            description="本体中的类与关系及中英文标签。The ontology's kinds (with uid prefixes) and relations "
                        "(material flow or context), with Chinese and English labels.",
            responses=responses(401, 403))
def vocabulary(store: StoreDep, _: ReadAccess) -> Vocabulary:
    onto = store.ontology
    kinds = [KindRead(name=k.name, prefix=k.prefix, label=Label(zh=k.label_zh, en=k.label_en),
                      synonyms=list(k.synonyms), ancestors=list(k.ancestors)) for k in onto.kinds.values()]
    relations = [RelationRead(name=r.name, flow=r.flow, sources=sorted(r.sources), targets=sorted(r.targets),
                              label=Label(zh=r.label_zh, en=r.label_en)) for r in onto.relations.values()]
    return Vocabulary(kinds=sorted(kinds, key=lambda k: k.name), relations=sorted(relations, key=lambda r: r.name))
