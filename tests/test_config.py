"""Settings: read once, validated, no default secret outside dev mode, all documented."""

from __future__ import annotations

import re

import pytest

from stockline import config
from stockline.config import Settings
from stockline.errors import ConfigError
from tests.conftest import REPO


def test_defaults_match_the_design():
    settings = Settings.from_env({})
    assert (settings.port, settings.workers, settings.min_shelf_life_days,
            settings.expiring_soon_days) == (5000, 1, 0, 30)
    assert settings.database_url is None and settings.db_prepare is True
    assert settings.data_dir.name == ".stockline"


def test_secret_key_is_required_outside_dev_mode(tmp_path):
    for env in ("production", "test"):
        with pytest.raises(ConfigError, match="SECRET_KEY is not set"):
            Settings.from_env({"STOCKLINE_ENV": env, "STOCKLINE_DATA_DIR": str(tmp_path)}
                              ).resolved_secret_key()
    with pytest.raises(ConfigError, match="at least 32"):
        Settings.from_env({"SECRET_KEY": "short"}).resolved_secret_key()


def test_dev_mode_makes_a_secret_once_and_keeps_it(tmp_path):
    settings = Settings.from_env({"STOCKLINE_ENV": "dev", "STOCKLINE_DATA_DIR": str(tmp_path)})
    first = settings.resolved_secret_key()
    assert len(first) >= 32
    assert settings.resolved_secret_key() == first
    assert (tmp_path / "dev_secret_key").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize(("environ", "message"), [
    ({"PORT": "http"}, "PORT must be a whole number"),
    ({"PORT": "0"}, "PORT must be at least 1"),
    ({"DB_POOL_MIN": "20", "DB_POOL_MAX": "5"}, "must not exceed DB_POOL_MAX"),
    ({"DB_PREPARE": "maybe"}, "DB_PREPARE must be 1 or 0"),
    ({"STOCKLINE_ENV": "staging"}, "STOCKLINE_ENV must be one of"),
])
def test_malformed_settings_are_refused_with_the_name(environ, message):
    with pytest.raises(ConfigError, match=message):
        Settings.from_env(environ)


def test_prepared_statements_can_be_turned_off_for_pgbouncer():
    assert Settings.from_env({"DB_PREPARE": "0"}).db_prepare is False


def test_every_setting_is_documented_in_the_readme():
    source = (REPO / "src" / "stockline" / "config.py").read_text()
    names = set(re.findall(r'environ(?:\.get\(|, )"([A-Z_]+)"', source))
    assert len(names) >= 15
    readme = (REPO / "README.md").read_text()
    undocumented = sorted(name for name in names if f"`{name}`" not in readme)
    assert undocumented == []


def test_settings_are_not_read_at_import():
    assert config.get_settings.cache_info().currsize == 0
