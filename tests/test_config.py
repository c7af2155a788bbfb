"""Settings are declared once and every one of them is documented."""

from __future__ import annotations

import pytest

from zhuisu import config
from zhuisu.config import SETTINGS

from .conftest import REPO


def test_every_setting_is_documented() -> None:
    doc = (REPO / "docs" / "settings.md").read_text(encoding="utf-8")
    for setting in SETTINGS:
        assert f"`{setting.env}`" in doc and f"`{setting.default}`" in doc, setting.env


def test_environment_overrides_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZHUISU_DB_URL", "sqlite:///elsewhere.db")
    assert config.db_url() == "sqlite:///elsewhere.db"


def test_unknown_setting_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="db_url"):
        config.get("db_ulr")
