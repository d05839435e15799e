"""Write the stack's secrets into the secrets volume: the operator's value when given, else the one from
an earlier start, else a new random one. Run by the `secrets-init` service before anything else starts.

Why files, not environment variables: Airflow reads each secret through its `*_CMD` setting (`cat` of
the file) and PostgreSQL through `POSTGRES_PASSWORD_FILE`, so no secret shows in `docker inspect`, and a
secret generated at the first start survives restarts and upgrades in the volume. Each file is readable
only by the user of the one service that needs it.

    python deploy/secrets_init.py DIR      (as root in the container; as anyone in tests, without chown)
"""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

AIRFLOW_UID = 50000  # the image's cltv user (Dockerfile)
POSTGRES_UID = 999  # the `postgres` user of the Debian (bookworm) variant of the official postgres image
POSTGRES_USER = "airflow"
POSTGRES_DB = "airflow"
POSTGRES_HOST = "postgres"


def fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


def token() -> str:
    return secrets.token_urlsafe(32)


def password() -> str:
    return secrets.token_hex(16)  # no characters that need quoting in a URL or a shell


@dataclass(frozen=True)
class Secret:
    """One secret file: which operator variable may set it, how to make one, who may read it."""

    file: str
    variable: str
    generate: Callable[[], str]
    owner_uid: int = AIRFLOW_UID


SECRETS = (
    Secret("fernet_key", "CLTV_FERNET_KEY", fernet_key),
    Secret("jwt_secret", "CLTV_JWT_SECRET", token),
    Secret("api_secret_key", "CLTV_API_SECRET_KEY", token),
    Secret("admin_password", "CLTV_ADMIN_PASSWORD", password),
    Secret("postgres_password", "CLTV_POSTGRES_PASSWORD", password, owner_uid=POSTGRES_UID),
)
SQL_ALCHEMY_CONN_FILE = "sql_alchemy_conn"


def write_secret(path: Path, value: str, owner_uid: int) -> None:
    """Write atomically with mode 0400; hand the file to its reader when we are root."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.unlink(missing_ok=True)
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o400)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(value)
    if os.geteuid() == 0:
        os.chown(temporary, owner_uid, owner_uid)
    temporary.replace(path)


def resolve(secret: Secret, folder: Path, env: Mapping[str, str]) -> tuple[str, str]:
    """The secret's value and where it came from: the operator's variable wins, then the volume."""
    path = folder / secret.file
    if env.get(secret.variable):
        return env[secret.variable], "from " + secret.variable
    if path.exists():
        return path.read_text(), "kept"
    return secret.generate(), "generated"


def sql_alchemy_conn(postgres_password: str) -> str:
    return (
        f"postgresql+psycopg2://{POSTGRES_USER}:{quote(postgres_password, safe='')}"
        f"@{POSTGRES_HOST}:5432/{POSTGRES_DB}"
    )


def init_secrets(folder: Path, env: Mapping[str, str]) -> dict[str, str]:
    """Write every secret file in `folder`; return how each was obtained (never the values)."""
    folder.mkdir(parents=True, exist_ok=True)
    outcome = {}
    values = {}
    for secret in SECRETS:
        value, outcome[secret.file] = resolve(secret, folder, env)
        values[secret.file] = value
        if outcome[secret.file] != "kept":
            write_secret(folder / secret.file, value, secret.owner_uid)
    write_secret(folder / SQL_ALCHEMY_CONN_FILE, sql_alchemy_conn(values["postgres_password"]), AIRFLOW_UID)
    return outcome


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    for name, how in init_secrets(Path(argv[0]), os.environ).items():
        print(f"secret {name}: {how}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
