"""The maintenance assistant: a Chinese question → intent and slots → store/graph queries → an answer with citations.

No model is downloaded and no language model is used: understanding is cue words weighed with the slots the
question holds (machines, symptoms, identifiers, times), and every answer cites the records it came from.
"""

from __future__ import annotations

import logging
import re
import time
from datetime import date
from typing import TYPE_CHECKING, Any

from zhuisu.assistant import answer as handlers
from zhuisu.assistant import session as sessions
from zhuisu.assistant.answer import Answer, Citation, Context, refuse
from zhuisu.assistant.intents import INTENTS, classify
from zhuisu.assistant.kb import load as load_kb
from zhuisu.assistant.session import Session
from zhuisu.assistant.slots import Slots, extract

if TYPE_CHECKING:
    from zhuisu.graph.engine import Engine
    from zhuisu.graph.store import Store

__all__ = ["INTENTS", "Answer", "Citation", "Session", "ask"]

log = logging.getLogger(__name__)
MAX_QUESTION = 300
_MACHINE_INTENTS = {"fault_history", "who", "last_done", "parts", "downtime"}
_ITEM_INTENTS = {"supplier", "materials", "where_went"}
_WORK_LABELS = ("Symptom", "Cause", "Component", "Action", "SparePart")  # what a repair question is about


def _handlers() -> dict[str, Any]:
    from zhuisu.assistant import tracing

    return {"fault_history": handlers.fault_history, "fix": handlers.fix, "causes": handlers.causes,
            "parts": handlers.parts, "last_done": handlers.last_done, "who": handlers.who,
            "downtime": handlers.downtime, "similar": handlers.similar, "supplier": tracing.supplier,
            "materials": tracing.materials, "where_went": tracing.where_went}


def ask(question: str, *, store: Store, engine: Engine | None = None, session: Session | str | None = None,
        today: date | None = None) -> Answer:
    """Answer one question from the store's records (``today`` anchors 上个月, 昨天…; default the real today)."""
    started = time.perf_counter()
    state = sessions.load(store, session) if isinstance(session, str) else session
    result, focus = _answer(question, store=store, engine=engine, session=state, today=today or date.today())
    if state is not None:
        state.add(question, result.intent if not result.refused else None, focus if not result.refused else {})
        if isinstance(session, str):
            sessions.save(store, state)
    result.ms = (time.perf_counter() - started) * 1000
    return result


def _answer(question: str, *, store: Store, engine: Engine | None, session: Session | None,
            today: date) -> tuple[Answer, dict[str, Any]]:
    focus: dict[str, Any] = {}
    if not isinstance(question, str) or not question.strip():
        return refuse(str(question or ""), "问题是空的。"), focus
    if len(question) > MAX_QUESTION:
        return refuse(question[:50] + "…", f"问题太长（超过{MAX_QUESTION}字），请简短地问一个问题。"), focus
    kb = load_kb(store)
    slots = extract(question, kb, store, today)
    previous = session.last.get("intent") if session is not None and session.last else None
    understood = classify(slots, previous=previous)
    intent = understood.intent
    if understood.out_of_scope or intent is None:
        if slots.candidates and not slots.equipment:
            return _which(question, slots, kb, None), focus
        result = refuse(question, "这个问题不在维修与追溯记录能回答的范围内。")
        result.slots = slots.to_dict()
        return result, focus
    if session is not None:
        _follow_up(intent, slots, session, kb)
    if intent in _MACHINE_INTENTS | {"fix", "causes"} and slots.unknown_equipment and not slots.equipment:
        return _which(question, slots, kb, intent), focus
    if intent in _MACHINE_INTENTS - {"downtime"} and not slots.equipment and not slots.equipment_type \
            and slots.candidates:
        return _which(question, slots, kb, intent), focus
    focus.update(concepts={k: v for k, v in slots.concepts.items() if k in _WORK_LABELS}, activity=slots.activity)
    ctx = Context(question, slots, kb, store, engine, focus)
    try:
        result = _handlers()[intent](ctx)
    except Exception as exc:  # a question must never crash the caller: log it, say so, cite nothing
        log.exception("assistant failed on %r", question)
        result = refuse(question, "处理这个问题时出错了，已记录。", intent=intent)
        result.data = {"error": type(exc).__name__}
    if not result.refused and not result.citations:  # never an answer without evidence
        result = refuse(question, "没有可以引用的记录。", intent=intent)
    result.slots = slots.to_dict()
    result.data.setdefault("scores", {k: v for k, v in understood.scores.items() if v > 0})
    return result, focus


def _which(question: str, slots: Slots, kb: Any, intent: str | None) -> Answer:
    names = [f"{kb.equipment[u].name}（{u.partition(':')[2]}）" for u in slots.candidates if u in kb.equipment]
    what = "、".join(slots.unknown_equipment) if slots.unknown_equipment else "这台设备"
    lead = f"找不到{what}。" if slots.unknown_equipment else "指的是哪台设备？"
    if not names:  # a kind of machine the plant does not have: say which kinds it has
        kinds = sorted({e.type for e in kb.equipment.values() if e.type})
        return refuse(question, f"{lead}记录中的设备类型有：" + "、".join(kinds) + "。", intent=intent)
    result = refuse(question, f"{lead}请问是以下哪一台：" + "、".join(names), intent=intent, clarify=slots.candidates)
    result.slots = slots.to_dict()
    return result


def _follow_up(intent: str, slots: Slots, session: Session, kb: Any) -> None:
    """Fill what a follow-up leaves out ("那它上次是谁修的？") from the previous turns."""
    elliptic = (slots.pronoun or bool(re.match(r"^(那|那么|还有|再|它)", slots.text))
                or slots.text.rstrip("?？ ").endswith("呢"))
    if not elliptic:
        return
    if intent in _MACHINE_INTENTS and not slots.equipment and not slots.equipment_type \
            and not slots.unknown_equipment and not slots.candidates:
        remembered = [u for u in session.recall("equipment") if u in kb.equipment]
        if remembered:
            slots.equipment = remembered[:1]
            slots.candidates = []
    own = {k for k in _WORK_LABELS if slots.of(k)}
    if intent in _MACHINE_INTENTS | {"fix", "causes"} and own <= {"Action"} and not slots.activity \
            and session.last and session.last.get("intent") in _MACHINE_INTENTS | {"fix", "causes"}:
        # 那4号配料罐呢: the same work as the previous question; 那是谁换的: the same part, this question's verb
        previous = session.last.get("focus", {})
        for label, named in (previous.get("concepts") or {}).items():
            if label not in own and (not own or label in ("Component", "SparePart")):
                slots.concepts[label] = dict(named)
        if not own:
            slots.activity = list(previous.get("activity") or [])
    if intent in _ITEM_INTENTS and not slots.items and not slots.unknown_ids and not slots.ambiguous_ids:
        if slots.materials:
            for turn in reversed(session.turns):
                for uid, material in (turn.get("focus", {}).get("lot_materials") or {}).items():
                    if material in slots.materials:
                        slots.items = [(uid, "MaterialLot")]
                        return
        for uid in session.recall("items"):
            kind = "SerialUnit" if uid.startswith("unit:") else "MaterialLot" if uid.startswith("lot:") else "Shipment"
            slots.items = [(uid, kind)]
            return

