"""``zhuisu serve``: the API under uvicorn, with the live connectors that the settings or options name."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from zhuisu import config
from zhuisu.graph.store import Store


def connectors(store: Store, *, sql: Sequence[Path] = (), mqtt: str | None = None) -> list[Any]:
    """The connectors to run: SQL pulls for each mapping file, and an MQTT subscription if a broker is named."""
    from zhuisu.ingest.connectors.sql import SqlConnector

    out: list[Any] = [SqlConnector(store, path) for path in sql]
    if mqtt:
        from zhuisu.ingest.connectors.mqtt import MqttConnector

        out.append(MqttConnector(store, url=mqtt, prefix=config.get("mqtt_topic_prefix"),
                                 client_id=config.get("mqtt_client_id")))
    return out


def serve(*, host: str, port: int, db: str | None = None, sql: Sequence[Path] = (), mqtt: str | None = None,
          log_level: str = "info") -> None:
    """Run the API until interrupted; connectors start with it and stop with it."""
    import uvicorn

    from zhuisu.api.app import create_app

    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    store = Store(db)
    running = connectors(store, sql=sql, mqtt=mqtt)
    app = create_app(store, connectors=running)
    graph = app.state.zhuisu.graph
    for connector in running:  # queries see what a connector commits at once, not only at their next check
        connector.on_commit = lambda _result: graph.refresh(only_if_stale=True)
    uvicorn.run(app, host=host, port=port, log_level=log_level, proxy_headers=False)
