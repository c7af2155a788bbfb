"""Settings declared once as data, read from ``ZHUISU_*`` environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Setting:
    name: str
    default: str
    help: str

    @property
    def env(self) -> str:
        return f"ZHUISU_{self.name.upper()}"


SETTINGS: tuple[Setting, ...] = (
    Setting("db_url", "sqlite:///zhuisu.db", "Store database URL (SQLAlchemy): a SQLite file or PostgreSQL."),
    Setting("timezone", "Asia/Shanghai", "Plant time zone: times without an offset are read and shown in it."),
    Setting(
        "require_services",
        "0",
        "1 makes tests that need PostgreSQL or Mosquitto fail instead of skip when the service is missing.",
    ),
    Setting(
        "graph_backend",
        "rustworkx",
        "Where trace, containment and paths run: rustworkx (in memory) or neo4j (docs/neo4j.md).",
    ),
    Setting(
        "neo4j_uri",
        "",
        "Neo4j server for `zhuisu neo4j sync` and the neo4j backend, e.g. bolt://localhost:7687; "
        "also turns on the live Neo4j tests.",
    ),
    Setting("neo4j_user", "neo4j", "Neo4j login user."),
    Setting("neo4j_password", "", "Neo4j password."),
    Setting("neo4j_database", "neo4j", "Neo4j database name."),
    Setting("pg_url", "postgresql+psycopg://postgres@127.0.0.1:5432/test", "PostgreSQL URL used by tests."),
    Setting("api_host", "127.0.0.1", "Address `zhuisu serve` listens on; 0.0.0.0 opens it to the plant network."),
    Setting("api_port", "8000", "Port `zhuisu serve` listens on."),
    Setting(
        "api_keys_required_for_reads",
        "0",
        "1 makes every read endpoint of the API need a key with the read scope; writes always need a key.",
    ),
    Setting(
        "cors_origins",
        "",
        "Comma-separated origins that browsers may call the API from (CORS), e.g. https://mes.example.com; "
        "* allows any; empty allows none.",
    ),
    Setting("api_max_body_mb", "64", "Largest request body the API accepts (ingest, uploads, EPCIS capture), MiB."),
    Setting("api_page_rows", "50000", "Most rows one page of a trace, search or EPCIS query may hold."),
    Setting(
        "sql_mappings",
        "",
        "Comma-separated SQL pull mapping files that `zhuisu serve` runs (docs/api.md, Connectors).",
    ),
    Setting(
        "mqtt_url",
        "",
        "MQTT broker that `zhuisu serve` subscribes to for equipment alarms and telemetry, "
        "e.g. mqtt://127.0.0.1:1883; empty: none.",
    ),
    Setting(
        "mqtt_topic_prefix",
        "zhuisu",
        "First level of the MQTT topics: PREFIX/{site}/{equipment}/alarm (or /telemetry).",
    ),
    Setting(
        "mqtt_client_id",
        "",
        "MQTT client id; a fixed one makes the broker keep QoS 1 messages for zhuisu while it is down.",
    ),
    Setting("mqtt_test_url", "mqtt://127.0.0.1:1883", "MQTT broker used by tests."),
)

_BY_NAME = {s.name: s for s in SETTINGS}


def get(name: str) -> str:
    """Return a setting's value from its environment variable, or its declared default."""
    try:
        setting = _BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown setting {name!r}; known: {', '.join(_BY_NAME)}") from None
    return os.environ.get(setting.env, setting.default)


def db_url() -> str:
    """The store URL named by ``ZHUISU_DB_URL`` (default: ``./zhuisu.db``)."""
    return get("db_url")
