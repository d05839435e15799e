"""deploy/secrets_init.py: every secret exists after the first start, survives restarts, and an operator's
value wins; files are private to their one reader."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy.engine import make_url

from tests.deploy.conftest import deploy_module

secrets_init = deploy_module("secrets_init")


def read_all(folder: Path) -> dict[str, str]:
    return {path.name: path.read_text() for path in folder.iterdir()}


def test_first_start_generates_every_secret_privately(tmp_path: Path):
    outcome = secrets_init.init_secrets(tmp_path, {})

    assert set(outcome.values()) == {"generated"}
    values = read_all(tmp_path)
    assert set(values) == {s.file for s in secrets_init.SECRETS} | {"sql_alchemy_conn"}
    Fernet(values["fernet_key"].encode())  # a valid key, or this raises
    assert len({values[s.file] for s in secrets_init.SECRETS}) == len(secrets_init.SECRETS)
    assert all(len(values[s.file]) >= 32 for s in secrets_init.SECRETS)
    url = make_url(values["sql_alchemy_conn"])
    assert (url.drivername, url.username, url.host, url.database) == (
        "postgresql+psycopg2",
        "airflow",
        "postgres",
        "airflow",
    )
    assert url.password == values["postgres_password"]
    for path in tmp_path.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o400, path.name


@pytest.mark.skipif(os.geteuid() != 0, reason="ownership is handed over only when run as root")
def test_each_file_belongs_to_the_one_service_user_that_reads_it(tmp_path: Path):
    secrets_init.init_secrets(tmp_path, {})

    owners = {path.name: path.stat().st_uid for path in tmp_path.iterdir()}
    assert owners.pop("postgres_password") == 999
    assert set(owners.values()) == {50000}


def test_a_restart_keeps_the_stored_secrets(tmp_path: Path):
    secrets_init.init_secrets(tmp_path, {})
    first = read_all(tmp_path)

    outcome = secrets_init.init_secrets(tmp_path, {})

    assert set(outcome.values()) == {"kept"}
    assert read_all(tmp_path) == first


def test_an_operators_value_replaces_the_stored_one_and_is_quoted_in_the_url(tmp_path: Path):
    secrets_init.init_secrets(tmp_path, {})
    before = read_all(tmp_path)
    awkward = "p@ss:w/rd%20#?"  # characters a database URL must quote

    outcome = secrets_init.init_secrets(tmp_path, {"CLTV_POSTGRES_PASSWORD": awkward})

    after = read_all(tmp_path)
    assert outcome["postgres_password"] == "from CLTV_POSTGRES_PASSWORD"
    assert after["postgres_password"] == awkward
    assert make_url(after["sql_alchemy_conn"]).password == awkward
    assert after["fernet_key"] == before["fernet_key"]


def test_the_command_line_writes_into_the_given_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    assert secrets_init.main([str(tmp_path / "secrets")]) == 0

    assert "secret fernet_key: generated" in capsys.readouterr().out
    assert (tmp_path / "secrets" / "jwt_secret").exists()
    assert secrets_init.main([]) == 2
