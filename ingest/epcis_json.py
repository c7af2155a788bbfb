"""GS1 EPCIS 2.0 JSON / JSON-LD documents → canonical records, through :mod:`zhuisu.ingest.epcis`."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema.exceptions import best_match
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for

from zhuisu.errors import BadInput
from zhuisu.ingest import epcis
from zhuisu.ingest.records import Batch

SCHEMA = "EPCIS-JSON-Schema.json"
_DOCUMENTS = ("EPCISDocument", "EPCISQueryDocument")

# Prefixes of the standard context (epcis-context.jsonld), which documents cite by URL: it is never fetched.
_STANDARD_PREFIXES = {
    "epcis": "https://ref.gs1.org/epcis/",
    "cbv": "https://ref.gs1.org/cbv/",
    "cbvmda": "urn:epcglobal:cbv:mda:",
    "gs1": "https://gs1.org/voc/",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "dcterms": "http://purl.org/dc/terms/",
}

_FIELDS = frozenset({
    "@context", "type", "eventTime", "recordTime", "eventTimeZoneOffset", "eventID", "certificationInfo",
    "errorDeclaration", "action", "parentID", "epcList", "childEPCs", "quantityList", "childQuantityList",
    "inputEPCList", "inputQuantityList", "outputEPCList", "outputQuantityList", "transformationID", "bizStep",
    "disposition", "persistentDisposition", "readPoint", "bizLocation", "bizTransactionList", "sourceList",
    "destinationList", "sensorElementList", "ilmd",
})

# (field, CBV vocabulary) of the values that EPCIS 1.x wrote as URNs; see _accept_cbv_urns.
_VOCABULARY_FIELDS = (("bizStep", "bizstep"), ("disposition", "disp"))
_TYPED_LISTS = (("bizTransactionList", "btt"), ("sourceList", "sdt"), ("destinationList", "sdt"))


def read(path: Path, **options: Any) -> Iterator[Batch]:
    """One batch per EPCIS JSON/JSON-LD file: an EPCISDocument, an EPCISQueryDocument or a single event."""
    name = path.name
    try:
        doc = json.loads(path.read_bytes())
    except OSError as exc:
        raise BadInput(f"无法读取 cannot read the file: {exc.strerror}", where=name) from None
    except ValueError as exc:  # JSONDecodeError, or bytes that are not UTF-8
        raise BadInput(f"JSON 格式错误 malformed JSON: {exc}", where=name) from None
    yield read_document(doc, name)


def read_document(doc: Any, name: str) -> Batch:
    """The batch of an already parsed document (or single event); ``name`` labels its errors and source."""
    events, master = parse(doc, name)
    return epcis.to_batch(f"epcis:{name}", [event for _raw, event in events], master)


def parse(doc: Any, name: str) -> tuple[list[tuple[dict[str, Any], epcis.Event]], list[epcis.MasterData]]:
    """A parsed document's events, checked against the EPCIS 2.0 JSON schema, each as written (CBV URNs made
    bare, in place) and as a model; and the master data of its header and results."""
    raw_events = _event_list(doc)
    _accept_cbv_urns(raw_events)
    _validate(doc, raw_events, name)
    context = _Context(_STANDARD_PREFIXES).extend(doc.get("@context"))
    events = []
    for i, raw in enumerate(raw_events):
        try:
            events.append((raw, _event(raw, context.extend(raw.get("@context")))))
        except ValueError as exc:
            raise BadInput(f"{_label(raw_events, i)}: {exc}", where=name) from None
    return events, _master(doc, context)


def _event_list(doc: Any) -> list[Any]:
    """The document's events, found without trusting its shape (it is validated after)."""
    if not isinstance(doc, dict):
        return []
    if isinstance(doc.get("type"), str) and doc["type"] not in _DOCUMENTS:
        return [doc]  # the capture interface also accepts one bare event
    body = doc.get("epcisBody")
    if isinstance(body, dict) and isinstance(body.get("queryResults"), dict):
        body = body["queryResults"].get("resultsBody")
    events = body.get("eventList") if isinstance(body, dict) else None
    return events if isinstance(events, list) else []


def _accept_cbv_urns(events: list[Any]) -> None:
    """Rewrite CBV URNs (``urn:epcglobal:cbv:disp:in_progress``) in standard vocabulary fields as bare terms.

    The 2.0 JSON schema admits only bare CBV terms there, yet GS1's own examples (and 1.x-era senders) use
    the URNs, which name exactly the same terms; accepting them is the one leniency of this reader.
    """
    for event in events:
        if not isinstance(event, dict):
            continue
        for name, vocabulary in _VOCABULARY_FIELDS:
            if _is_cbv_urn(event.get(name)):
                event[name] = epcis.cbv_term(event[name], vocabulary)
        pd = event.get("persistentDisposition")
        for values in pd.values() if isinstance(pd, dict) else ():
            if isinstance(values, list):
                values[:] = [epcis.cbv_term(v, "disp") if _is_cbv_urn(v) else v for v in values]
        for name, vocabulary in _TYPED_LISTS:
            items = event.get(name)
            for item in items if isinstance(items, list) else ():
                if isinstance(item, dict) and _is_cbv_urn(item.get("type")):
                    item["type"] = epcis.cbv_term(item["type"], vocabulary)
        error = event.get("errorDeclaration")
        if isinstance(error, dict) and _is_cbv_urn(error.get("reason")):
            error["reason"] = epcis.cbv_term(error["reason"], "er")


def _is_cbv_urn(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("urn:epcglobal:cbv:")


@cache
def _validators(path: Path) -> tuple[Validator, Callable[[Any], bool]]:
    """The schema's validator, and a fast yes/no check (jsonschema-rs, where installed) in front of it."""
    schema = json.loads(path.read_text(encoding="utf-8"))
    cls = validator_for(schema)
    # Every $ref of the schema is internal ("#/definitions/…"), so nothing is ever fetched.
    validator = cls(schema, format_checker=cls.FORMAT_CHECKER)
    try:
        import jsonschema_rs
    except ImportError:
        return validator, validator.is_valid
    # jsonschema takes ~3 ms per event (30 s for a 10 000-event document); the Rust validator ~0.01 ms.
    return validator, jsonschema_rs.validator_for(schema).is_valid


def _validate(doc: Any, events: list[Any], name: str) -> None:
    """Check the document against the EPCIS 2.0 JSON schema; the best-matching violation, in one line."""
    validator, quick = _validators(epcis.schema_file(SCHEMA))
    if quick(doc):
        return
    # jsonschema decides and words the error: its best match names the most specific violation.
    error = best_match(validator.iter_errors(doc))
    if error is None:
        return
    path = list(error.absolute_path)
    message = " ".join(error.message.split())
    message = message if len(message) <= 240 else message[:237] + "..."
    if "eventList" in path[:-1]:
        at = path.index("eventList")
        index, rest = path[at + 1], path[at + 2:]
    elif events and events[0] is doc:
        index, rest = 0, path
    else:
        raise BadInput(f"{_pointer(path) + ': ' if path else ''}{message}", where=name)
    field = _pointer(rest) + ": " if rest else ""
    raise BadInput(f"{_label(events, int(index))}: {field}{message}", where=name)


def _pointer(path: list[Any]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")


def _label(events: list[Any], index: int) -> str:
    event = events[index] if isinstance(events[index], dict) else {}
    kind, eid = event.get("type"), event.get("eventID")
    detail = " ".join(str(x) for x in (kind, eid) if isinstance(x, str))
    return f"event #{index + 1}" + (f" ({detail})" if detail else "")


class _Context:
    """JSON-LD prefixes in scope: CURIE values expand to IRIs, CURIE keys to Clark ``{namespace}local``."""

    def __init__(self, prefixes: Mapping[str, str]) -> None:
        self.prefixes = dict(prefixes)

    def extend(self, context: Any) -> _Context:
        """This context with the prefixes that a ``@context`` value (URL, object or list) declares."""
        if not context:
            return self
        out = _Context(self.prefixes)
        for item in context if isinstance(context, list) else [context]:
            for key, value in item.items() if isinstance(item, dict) else ():
                iri = value.get("@id") if isinstance(value, dict) else value
                if isinstance(iri, str) and not key.startswith("@") and ":" not in key:
                    out.prefixes[key] = iri
        return out

    def iri(self, value: str) -> str:
        prefix, sep, local = value.partition(":")
        if sep and prefix in self.prefixes and not local.startswith("//"):
            return self.prefixes[prefix] + local
        return value

    def key(self, key: str) -> str:
        prefix, sep, local = key.partition(":")
        if sep and prefix in self.prefixes and not local.startswith("//"):
            return f"{{{self.prefixes[prefix]}}}{local}"
        return key

    def keys(self, value: Any) -> Any:
        """A JSON value with every object key expanded, recursively."""
        if isinstance(value, dict):
            return {self.key(k): self.keys(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.keys(v) for v in value]
        return value


def _event(raw: dict[str, Any], ctx: _Context) -> epcis.Event:
    offset = raw.get("eventTimeZoneOffset")
    try:
        when = epcis.parse_time(raw["eventTime"], offset)
    except ValueError as exc:
        raise ValueError(f"eventTime: {exc}") from None
    return epcis.Event(
        type=raw["type"],
        event_time=when,
        time_zone_offset=offset,
        event_id=raw.get("eventID"),
        action=raw.get("action"),
        parent_id=raw.get("parentID"),
        epcs=tuple(raw.get("epcList") or raw.get("childEPCs") or ()),
        quantities=_quantities(raw.get("quantityList") or raw.get("childQuantityList")),
        inputs=tuple(raw.get("inputEPCList") or ()),
        input_quantities=_quantities(raw.get("inputQuantityList")),
        outputs=tuple(raw.get("outputEPCList") or ()),
        output_quantities=_quantities(raw.get("outputQuantityList")),
        transformation_id=raw.get("transformationID"),
        biz_step=ctx.iri(raw["bizStep"]) if "bizStep" in raw else None,
        disposition=ctx.iri(raw["disposition"]) if "disposition" in raw else None,
        persistent_disposition={k: tuple(ctx.iri(v) for v in vs)
                                for k, vs in (raw.get("persistentDisposition") or {}).items()},
        read_point=(raw.get("readPoint") or {}).get("id"),
        biz_location=(raw.get("bizLocation") or {}).get("id"),
        biz_transactions=tuple((ctx.iri(b.get("type", "")), b["bizTransaction"])
                               for b in raw.get("bizTransactionList") or ()),
        sources=tuple((ctx.iri(s["type"]), s["source"]) for s in raw.get("sourceList") or ()),
        destinations=tuple((ctx.iri(d["type"]), d["destination"]) for d in raw.get("destinationList") or ()),
        sensors=tuple(ctx.keys(s) for s in raw.get("sensorElementList") or ()),
        ilmd=ctx.keys(raw.get("ilmd") or {}),
        certification=_strings(raw.get("certificationInfo")),
        extensions={ctx.key(k): ctx.keys(v) for k, v in raw.items() if k not in _FIELDS},
        error=_error(raw.get("errorDeclaration"), ctx),
    )


def _quantities(items: list[dict[str, Any]] | None) -> tuple[epcis.Quantity, ...]:
    return tuple(epcis.Quantity(q["epcClass"], None if q.get("quantity") is None else float(q["quantity"]),
                                q.get("uom")) for q in items or ())


def _strings(value: Any) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value or ())


def _error(raw: dict[str, Any] | None, ctx: _Context) -> epcis.ErrorDeclaration | None:
    if raw is None:
        return None
    try:
        when = epcis.parse_time(raw["declarationTime"]) if "declarationTime" in raw else None
    except ValueError as exc:
        raise ValueError(f"errorDeclaration.declarationTime: {exc}") from None
    reason = ctx.iri(raw["reason"]) if "reason" in raw else None
    return epcis.ErrorDeclaration(when, reason, tuple(raw.get("correctiveEventIDs") or ()))


def _master(doc: dict[str, Any], ctx: _Context) -> list[epcis.MasterData]:
    """Vocabulary elements of the header's master data and of a master-data query result."""
    header = (doc.get("epcisHeader") or {}).get("epcisMasterData") or {}
    results = ((doc.get("epcisBody") or {}).get("queryResults") or {}).get("resultsBody") or {}
    out = []
    for vocabulary in (header.get("vocabularyList") or []) + (results.get("vocabularyList") or []):
        for element in vocabulary.get("vocabularyElementList") or ():
            attrs: dict[str, Any] = {}
            for attribute in element.get("attributes") or ():
                _add(attrs, ctx.iri(attribute["id"]), ctx.keys(attribute.get("attribute")))
            out.append(epcis.MasterData(ctx.iri(vocabulary["type"]), element["id"], attrs))
    return out


def _add(out: dict[str, Any], key: str, value: Any) -> None:
    """Set a key; a repeated key collects its values in a list."""
    if key not in out:
        out[key] = value
    elif isinstance(out[key], list):
        out[key].append(value)
    else:
        out[key] = [out[key], value]
