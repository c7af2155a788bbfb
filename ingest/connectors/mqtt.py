"""MQTT subscription for equipment alarms and telemetry (paho-mqtt), JSON payloads.

Topic scheme (``PREFIX`` is ``ZHUISU_MQTT_TOPIC_PREFIX``, ``zhuisu`` by default; percent-encode a ``/`` in
an id)::

    PREFIX/{site}/{equipment}/alarm       an alarm raised (or cleared) on equipment:{equipment}
    PREFIX/{site}/{equipment}/telemetry   a process parameter reading from that equipment

Payload: one JSON object, or an array of them.

- alarm: ``code`` and ``raised_at`` required; ``alarm_id``, ``cleared_at``, ``message``, ``severity``
  optional. It becomes Alarm ``alarm:{alarm_id}`` (without an id: ``alarm:{equipment}-{code}-{raised_at}``)
  ``raisedOn`` the equipment, as the canonical ``alarms`` table makes it; a later message with the same id
  (the clearing) updates it.
- telemetry: ``parameter``, ``value`` (a number) and ``measured_at`` required; ``unit`` and ``operation_id``
  optional. With an operation, a reading ``op:{operation_id} measured param:{parameter}`` keyed by its time
  (as the ``measurements`` table makes them); without one, the parameter's latest value
  (``last_value``/``last_at``) on ``param:{parameter} parameterOf`` the equipment. The graph is not a
  historian: send high-rate telemetry to one and only what traces need here.

Times are ISO 8601 (without an offset: plant time) or epoch seconds/milliseconds. Messages are committed in
batches every ``flush_s`` seconds; a redelivered (QoS 1) message changes nothing. A malformed message (not
JSON, a wrong topic, a missing or bad field) is counted and logged, never fatal.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as paho
from sqlalchemy.exc import SQLAlchemyError

from zhuisu.errors import BadInput, ZhuisuError
from zhuisu.graph.store import IngestResult, Store
from zhuisu.ingest.records import Batch, Edge, Node, plant_zone

log = logging.getLogger("zhuisu.connectors.mqtt")
KINDS = ("alarm", "telemetry")
_MAX_ID = 180


class Malformed(ValueError):
    """A message that cannot become records; the text says why."""


@dataclass(slots=True)
class Records:
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)


def records(topic: str, payload: bytes, *, prefix: str = "zhuisu") -> Records:
    """The records of one message, or :class:`Malformed` saying what is wrong with it."""
    levels = topic.split("/")
    if len(levels) != 4 or levels[0] != prefix or levels[3] not in KINDS or not levels[1] or not levels[2]:
        raise Malformed(f"topic {topic!r} is not {prefix}/{{site}}/{{equipment}}/alarm or …/telemetry")
    site, equipment, kind = _ident(levels[1], "site"), _ident(levels[2], "equipment"), levels[3]
    try:
        body = json.loads(payload)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Malformed(f"not JSON: {exc}") from None
    items = body if isinstance(body, list) else [body]
    if not items or not all(isinstance(i, dict) for i in items):
        raise Malformed("payload is not a JSON object (or an array of objects)")
    out = Records()
    for item in items:
        (_alarm if kind == "alarm" else _telemetry)(out, item, site, equipment)
    return out


def _alarm(out: Records, item: dict[str, Any], site: str, equipment: str) -> None:
    code = _text(item, "code", required=True)
    raised = _time(item, "raised_at", "time")
    assert raised is not None and code is not None
    cleared = _time(item, "cleared_at", required=False)
    given = _text(item, "alarm_id")
    uid = f"alarm:{given}" if given else f"alarm:{equipment}-{code}-{raised.strftime('%Y%m%dT%H%M%S')}"
    message, severity = _text(item, "message", limit=2000), _text(item, "severity")
    attrs = {"code": code, "raised_at": raised.isoformat(), "cleared_at": cleared.isoformat() if cleared else None,
             "message": message, "severity": severity, "site": site, "source": "mqtt"}
    out.nodes.append(Node(uid, "Alarm", message or code, {k: v for k, v in attrs.items() if v is not None}))
    out.edges.append(Edge(uid, "raisedOn", f"equipment:{equipment}", raised))


def _telemetry(out: Records, item: dict[str, Any], site: str, equipment: str) -> None:
    parameter = _text(item, "parameter", required=True)
    value = item.get("value")
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise Malformed(f"value must be a finite number, not {value!r}")
    when = _time(item, "measured_at", "time")
    assert when is not None
    unit, operation = _text(item, "unit", limit=20), _text(item, "operation_id")
    param = f"param:{parameter}"
    if operation:
        attrs = {"value": float(value), "unit": unit, "equipment": equipment, "site": site, "source": "mqtt"}
        out.edges.append(Edge(f"op:{operation}", "measured", param, when, key=f"mqtt:{when.isoformat()}",
                              attrs={k: v for k, v in attrs.items() if v is not None}))
        return
    attrs = {"last_value": float(value), "last_at": when.isoformat(), "unit": unit}
    out.nodes.append(Node(param, "ProcessParameter", attrs={k: v for k, v in attrs.items() if v is not None}))
    out.edges.append(Edge(param, "parameterOf", f"equipment:{equipment}"))


def _ident(level: str, what: str) -> str:
    text = unquote(level).strip()
    if not text or len(text) > _MAX_ID or any(c in text for c in "\x00\n\r\t"):
        raise Malformed(f"bad {what} {level!r} in the topic")
    return text


def _text(item: dict[str, Any], name: str, *, required: bool = False, limit: int = _MAX_ID) -> str | None:
    value = item.get(name)
    if value is None or value == "":
        if required:
            raise Malformed(f"{name} is missing")
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise Malformed(f"{name} must be text, not {type(value).__name__}")
    text = str(value).strip()
    if not text or len(text) > limit or "\x00" in text:
        raise Malformed(f"{name} must be 1–{limit} characters")
    return text


def _time(item: dict[str, Any], name: str, alias: str | None = None, *, required: bool = True) -> datetime | None:
    value = item.get(name, item.get(alias) if alias else None)
    if value is None:
        if required:
            raise Malformed(f"{name} is missing")
        return None
    try:
        if isinstance(value, bool):
            raise ValueError
        if isinstance(value, int | float):  # epoch seconds, or milliseconds
            seconds = value / 1000 if abs(value) > 1e11 else value
            when = datetime.fromtimestamp(seconds, tz=plant_zone())
        elif isinstance(value, str):
            when = datetime.fromisoformat(value.strip())
        else:
            raise ValueError
    except (ValueError, OverflowError, OSError):
        raise Malformed(f"{name} {value!r} is not an ISO 8601 time or epoch seconds") from None
    if not 1900 <= when.year < 2200:
        raise Malformed(f"{name} {value!r} is out of range")
    return when


@dataclass
class Stats:
    received: int = 0
    malformed: int = 0
    rejected: int = 0  # well-formed messages the store refused (e.g. an alias conflict)
    committed: int = 0  # messages whose records are committed
    batches: int = 0
    errors: int = 0  # commits that failed and were retried
    connected: bool = False
    last_error: str | None = None


class MqttConnector:
    """Subscribes to ``PREFIX/#`` and commits alarms and telemetry in batches; ``start()`` / ``stop()``."""

    def __init__(self, store: Store, *, url: str = "mqtt://127.0.0.1:1883", prefix: str = "zhuisu",
                 client_id: str = "", qos: int = 1, flush_s: float = 0.5, max_batch: int = 2000,
                 on_commit: Callable[[IngestResult], Any] | None = None) -> None:
        parts = urlsplit(url if "://" in url else f"mqtt://{url}")
        if parts.scheme not in ("mqtt", "tcp") or not parts.hostname:
            raise BadInput(f"MQTT 地址无效 {url!r}; give mqtt://HOST:PORT (mqtt://user:password@host:1883)")
        self.store = store
        self.url, self.prefix, self.qos = url, prefix.strip("/"), qos
        self.flush_s, self.max_batch, self.on_commit = flush_s, max_batch, on_commit
        self.stats = Stats()
        self._pending: list[Records] = []
        self._lock = threading.Lock()
        self._committing = threading.Lock()  # one flush at a time: a caller's flush waits for one in flight
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._flusher: threading.Thread | None = None
        self._host, self._port = parts.hostname, parts.port or 1883
        persistent = bool(client_id)  # a fixed id keeps a session: the broker holds QoS 1 messages meanwhile
        self.client = paho.Client(paho.CallbackAPIVersion.VERSION2,
                                  client_id=client_id or f"zhuisu-{uuid.uuid4().hex[:12]}",
                                  clean_session=not persistent)
        if parts.username:
            self.client.username_pw_set(unquote(parts.username), unquote(parts.password or ""))
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.client.reconnect_delay_set(1, 30)

    @property
    def name(self) -> str:
        return f"mqtt:{self._host}:{self._port}/{self.prefix}"

    # ── paho callbacks (its network thread): never raise ──────────────────────
    def _on_connect(self, client: paho.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any) -> None:
        if getattr(reason, "is_failure", False):
            self.stats.last_error = f"connect refused: {reason}"
            log.warning("%s: %s", self.name, self.stats.last_error)
            return
        self.stats.connected = True
        client.subscribe(f"{self.prefix}/#", qos=self.qos)
        log.info("%s: connected, subscribed to %s/#", self.name, self.prefix)

    def _on_disconnect(self, _client: paho.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any) -> None:
        self.stats.connected = False
        if not self._stop.is_set():
            log.warning("%s: disconnected (%s); reconnecting", self.name, reason)

    def _on_message(self, _client: paho.Client, _userdata: Any, message: paho.MQTTMessage) -> None:
        try:
            self.handle(message.topic, bytes(message.payload))
        except Exception:  # a message must never take down the network thread
            log.exception("%s: unexpected error on a message", self.name)

    def handle(self, topic: str, payload: bytes) -> None:
        """Take one message: queue its records for the next commit, or count it as malformed."""
        self.stats.received += 1
        try:
            found = records(topic, payload, prefix=self.prefix)
        except Malformed as exc:
            self.stats.malformed += 1
            if self.stats.malformed <= 100 or self.stats.malformed % 1000 == 0:
                log.warning("%s: malformed message #%d on %r: %s (payload %r)", self.name, self.stats.malformed,
                            topic, exc, payload[:200])
            return
        with self._lock:
            self._pending.append(found)
            full = len(self._pending) >= self.max_batch
        if full:
            self._wake.set()

    # ── committing ─────────────────────────────────────────────────────────────
    def flush(self) -> int:
        """Commit the queued messages now; returns how many were committed."""
        with self._committing:
            return self._flush()

    def _flush(self) -> int:
        with self._lock:
            taken, self._pending = self._pending, []
        if not taken:
            return 0
        try:
            result = self._commit(taken)
        except BadInput:
            result = None
            for one in taken:  # find the messages the store refuses, keep the rest
                try:
                    result = self._commit([one])
                except BadInput as exc:
                    self.stats.rejected += 1
                    log.warning("%s: message refused by the store: %s", self.name, exc)
            return len(taken)
        except (ZhuisuError, SQLAlchemyError) as exc:
            with self._lock:  # the store is unreachable: keep them for the next try
                self._pending = taken + self._pending
            self.stats.errors += 1
            self.stats.last_error = f"{type(exc).__name__}: {exc}"[:500]
            log.warning("%s: commit failed, will retry: %s", self.name, self.stats.last_error)
            return 0
        del result
        return len(taken)

    def _commit(self, items: list[Records]) -> IngestResult:
        batch = Batch(source=f"mqtt:{self.prefix}", nodes=[n for r in items for n in r.nodes],
                      edges=[e for r in items for e in r.edges])
        result = self.store.ingest(batch)
        self.stats.batches += 1
        self.stats.committed += len(items)
        if self.on_commit is not None:
            self.on_commit(result)
        return result

    def _run_flusher(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.flush_s)
            self._wake.clear()
            try:
                if self.flush() == 0 and self.stats.errors and self._pending:
                    self._stop.wait(min(30.0, self.flush_s * 10))  # back off while the store is down
            except Exception:  # the flusher must outlive whatever one commit ran into
                log.exception("%s: flush failed", self.name)
        self.flush()

    # ── running ────────────────────────────────────────────────────────────────
    def start(self) -> None:
        self._stop.clear()
        self.client.connect_async(self._host, self._port, keepalive=30)
        self.client.loop_start()
        self._flusher = threading.Thread(target=self._run_flusher, name=f"{self.name}:flush", daemon=True)
        self._flusher.start()

    def wait_connected(self, timeout: float = 10.0) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.stats.connected:
                return True
            time.sleep(0.05)
        return False

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self.client.disconnect()
        self.client.loop_stop()
        if self._flusher is not None:
            self._flusher.join(30)
            self._flusher = None

    @property
    def running(self) -> bool:
        return self._flusher is not None and self._flusher.is_alive()

    def status(self) -> dict[str, Any]:
        s = self.stats
        return {"name": self.name, "kind": "mqtt", "running": self.running,
                "stats": {"received": s.received, "malformed": s.malformed, "rejected": s.rejected,
                          "committed": s.committed, "batches": s.batches, "errors": s.errors,
                          "connected": s.connected, "last_error": s.last_error}}
