"""MQTT subscription against the real Mosquitto broker: valid messages land once, malformed ones are counted and
logged, and none of them stops the connector."""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as paho
import pytest
import sqlalchemy as sa

from zhuisu import config
from zhuisu.graph.schema import edges, nodes
from zhuisu.graph.store import Store
from zhuisu.ingest.connectors.mqtt import Malformed, MqttConnector, records

from .conftest import service_missing


@pytest.fixture(scope="session")
def mqtt_url() -> str:
    """The Mosquitto broker the tests use (``ZHUISU_MQTT_TEST_URL``), or a skip (a failure in CI) without it."""
    url = config.get("mqtt_test_url")
    parts = urlsplit(url)
    client = paho.Client(paho.CallbackAPIVersion.VERSION2)
    try:
        client.connect(parts.hostname or "127.0.0.1", parts.port or 1883, keepalive=5)
        client.disconnect()
    except OSError as exc:
        service_missing(f"MQTT broker not reachable at {url} ({type(exc).__name__}); set ZHUISU_MQTT_TEST_URL")
    return url


@pytest.fixture
def publisher(mqtt_url: str) -> Iterator[paho.Client]:
    parts = urlsplit(mqtt_url)
    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=f"test-pub-{uuid.uuid4().hex[:8]}")
    client.connect(parts.hostname or "127.0.0.1", parts.port or 1883)
    client.loop_start()
    yield client
    client.loop_stop()
    client.disconnect()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(str(tmp_path / "z.db"))
    yield s
    s.close()


def send(client: paho.Client, topic: str, payload: Any) -> None:
    body = payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode()
    client.publish(topic, body, qos=1).wait_for_publish(10)


def wait_for(check: Any, timeout: float = 20.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


def count(store: Store, query: Any) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def test_valid_messages_land_once_malformed_are_counted(store: Store, mqtt_url: str, publisher: paho.Client,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    prefix = f"zhuisu-test-{uuid.uuid4().hex[:8]}"
    connector = MqttConnector(store, url=mqtt_url, prefix=prefix, flush_s=0.1)
    connector.start()
    assert connector.wait_connected()
    time.sleep(0.2)  # the subscription is acknowledged
    alarm_topic, telemetry_topic = f"{prefix}/plant-1/PRESS-02/alarm", f"{prefix}/plant-1/PRESS-02/telemetry"
    sent = 0
    alarms = [{"alarm_id": f"AL-{i:03d}", "code": f"E{200 + i % 5}", "raised_at": f"2023-11-03T08:{i % 60:02d}:00",
               "message": "主轴温度过高", "severity": "high"} for i in range(60)]
    readings = [{"parameter": "PRESS.force", "value": 12.0 + i / 10, "unit": "kN", "operation_id": "OP-7",
                 "measured_at": f"2023-11-03T09:00:{i:02d}+08:00"} for i in range(40)]
    latest = [{"parameter": "PRESS.temp", "value": 40 + i, "unit": "℃", "time": 1699000000 + i} for i in range(20)]
    malformed: list[tuple[str, Any]] = [
        (alarm_topic, b"{not json"), (alarm_topic, b""), (alarm_topic, b"\xff\xfe"), (alarm_topic, [1, 2]),
        (alarm_topic, {"raised_at": "2023-11-03T08:00:00"}), (alarm_topic, {"code": "E1", "raised_at": "yesterday"}),
        (alarm_topic, {"code": "E1", "raised_at": "2023-11-03T08:00:00", "alarm_id": "x" * 500}),
        (alarm_topic, {"code": {"nested": 1}, "raised_at": "2023-11-03T08:00:00"}),
        (telemetry_topic, {"parameter": "p", "value": "abc", "measured_at": "2023-11-03T08:00:00"}),
        (telemetry_topic, b'{"parameter": "p", "value": NaN, "measured_at": "2023-11-03T08:00:00"}'),
        (telemetry_topic, {"parameter": "p", "value": 1}), (telemetry_topic, {"value": 1, "time": 1699000000}),
        (f"{prefix}/plant-1/PRESS-02/status", {"ok": True}), (f"{prefix}/PRESS-02/alarm", alarms[0]),
        (f"{prefix}/plant-1/PRESS-02/alarm/extra", alarms[0]), (f"{prefix}/plant-1/%00/alarm", alarms[0]),
        (alarm_topic, {"code": "E1", "raised_at": 10**20}), (alarm_topic, "just a string"),
    ]
    for i, alarm in enumerate(alarms):
        send(publisher, alarm_topic, alarm)
        if i % 10 == 0:  # malformed messages among the valid ones
            topic, body = malformed[i // 10]
            send(publisher, topic, body)
    for reading in readings:
        send(publisher, telemetry_topic, reading)
    for reading in latest:
        send(publisher, telemetry_topic, reading)
    for topic, body in malformed[6:]:
        send(publisher, topic, body)
    for alarm in alarms[:10]:  # redelivered (as QoS 1 may): no second landing
        send(publisher, alarm_topic, alarm)
    send(publisher, alarm_topic, alarms[10:15])  # an array of objects is one message of several records
    sent = len(alarms) + len(malformed) + len(readings) + len(latest) + 10 + 1
    wait_for(lambda: connector.stats.received == sent)
    connector.flush()
    assert connector.stats.malformed == len(malformed) and connector.running
    assert connector.stats.committed == sent - len(malformed) and connector.stats.rejected == 0
    assert count(store, sa.select(sa.func.count()).select_from(nodes).where(nodes.c.kind == "Alarm")) == 60
    on_press = sa.select(sa.func.count()).select_from(edges).where(edges.c.rel == "raisedOn")
    assert count(store, on_press) == 60
    measured = sa.select(sa.func.count()).select_from(edges).where(edges.c.rel == "measured")
    assert count(store, measured) == 40
    with store.engine.connect() as conn:
        attrs = conn.execute(sa.select(nodes.c.attrs).where(nodes.c.uid == "param:PRESS.temp")).scalar_one()
        alarm = conn.execute(sa.select(nodes.c.attrs).where(nodes.c.uid == "alarm:AL-007")).scalar_one()
    assert json.loads(attrs)["last_value"] == 59.0
    assert json.loads(alarm) | {"site": "plant-1", "code": "E202", "severity": "high"} == json.loads(alarm)
    logged = [r for r in caplog.records if r.levelno == logging.WARNING and "malformed message" in r.getMessage()]
    assert len(logged) == len(malformed)

    # still running: a later message lands
    send(publisher, alarm_topic, {"alarm_id": "AL-LATE", "code": "E9", "raised_at": "2023-11-04T08:00:00"})
    wait_for(lambda: connector.stats.committed == sent - len(malformed) + 1)
    assert count(store, sa.select(sa.func.count()).select_from(nodes).where(nodes.c.kind == "Alarm")) == 61
    connector.stop()
    assert not connector.running


def test_message_parsing() -> None:
    found = records("zhuisu/厂区/2号%2F压装机/alarm", json.dumps({"code": 17, "raised_at": 1699000000000}).encode())
    (node,) = found.nodes
    assert node.uid == "alarm:2号/压装机-17-20231103T162640" and found.edges[0].dst == "equipment:2号/压装机"
    with pytest.raises(Malformed, match="topic"):
        records("other/a/b/alarm", b"{}")
    with pytest.raises(Malformed, match="code is missing"):
        records("zhuisu/a/b/alarm", b'{"raised_at": "2023-11-03"}')


def test_bad_broker_url() -> None:
    from zhuisu.errors import BadInput

    with pytest.raises(BadInput, match="mqtt://HOST:PORT"):
        MqttConnector(Store(":memory:"), url="http://broker")
