from __future__ import annotations

from pathlib import Path

import pytest

from cltv.config import PROJECT_ROOT, Settings


def test_defaults_live_in_the_project():
    settings = Settings.from_env({})
    assert settings.warehouse == PROJECT_ROOT / "warehouse" / "cltv.duckdb"
    assert settings.landing_dir == PROJECT_ROOT / "data" / "landing"
    assert settings.serving_dir == PROJECT_ROOT / "warehouse" / "serving"
    assert settings.max_reject_share == 0.01


def test_relative_paths_resolve_against_the_project_root_and_absolute_ones_stay(tmp_path: Path):
    settings = Settings.from_env({"CLTV_WAREHOUSE": "elsewhere/w.duckdb", "CLTV_LANDING_DIR": str(tmp_path)})
    assert settings.warehouse == PROJECT_ROOT / "elsewhere" / "w.duckdb"
    assert settings.landing_dir == tmp_path


def test_settings_survive_a_round_trip_through_the_environment(settings: Settings):
    assert Settings.from_env(settings.to_env()) == settings


def test_a_reject_share_outside_zero_to_one_is_refused():
    with pytest.raises(ValueError, match="CLTV_MAX_REJECT_SHARE"):
        Settings.from_env({"CLTV_MAX_REJECT_SHARE": "5"})


def test_serving_keeps_three_publications_unless_told_and_never_none():
    assert Settings.from_env({}).serving_keep == 3
    assert Settings.from_env({"CLTV_SERVING_KEEP": "5"}).serving_keep == 5
    with pytest.raises(ValueError, match="CLTV_SERVING_KEEP must be at least 1, got 0"):
        Settings.from_env({"CLTV_SERVING_KEEP": "0"})
