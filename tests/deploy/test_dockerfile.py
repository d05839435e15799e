"""The Dockerfile builds what the compose file runs: pinned base and packages, the whole source tree,
the data folders the volumes mount on, a non-root user and no secrets."""

from __future__ import annotations

import re
import shlex
import tomllib

from packaging.requirements import Requirement

from cltv.airflow_env import DAGS_FOLDER
from cltv.config import DBT_PROJECT_DIR, PROJECT_ROOT, SODA_CHECKS_DIR
from tests.deploy.conftest import DEPLOY_DIR, IMAGE_ROOT, dockerfile_instructions, volume_mounts

PYPROJECT = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())
CONSTRAINTS = DEPLOY_DIR / "constraints.txt"
DEPLOY_REQUIREMENTS = DEPLOY_DIR / "requirements-deploy.txt"


def instructions(keyword: str) -> list[str]:
    return [arguments for name, arguments in dockerfile_instructions() if name == keyword]


def arg_defaults() -> dict[str, str]:
    return dict(arg.split("=", 1) for arg in instructions("ARG") if "=" in arg)


def requirement_lines(path) -> list[Requirement]:
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [Requirement(line) for line in lines if line]


def pinned_versions() -> dict[str, str]:
    pins = {}
    for requirement in requirement_lines(CONSTRAINTS):
        (specifier,) = requirement.specifier
        assert specifier.operator == "==", f"{requirement} is not pinned"
        pins[requirement.name.lower().replace("_", "-")] = specifier.version
    return pins


def test_the_base_image_is_an_exact_python_release_of_the_projects_minor():
    image = instructions("FROM")[0].replace("${PYTHON_IMAGE}", arg_defaults()["PYTHON_IMAGE"])
    match = re.fullmatch(r"python:(\d+)\.(\d+)\.(\d+)-slim-bookworm", image)
    assert match, image
    assert (
        PYPROJECT["project"]["requires-python"] == f">={match[1]}.{match[2]},<{match[1]}.{int(match[2]) + 1}"
    )


def test_the_image_runs_as_a_non_root_user_without_secrets():
    user = instructions("USER")[-1].replace("${CLTV_UID}", arg_defaults()["CLTV_UID"])
    assert user not in {"root", "0"}
    assert int(user) >= 1000
    text = " ".join(instructions("ENV") + instructions("ARG"))
    assert not re.search(r"PASSWORD|SECRET|FERNET|TOKEN|_KEY\b", text, flags=re.IGNORECASE)


def test_every_folder_the_code_needs_is_copied_to_where_cltv_looks_for_it():
    workdir = instructions("WORKDIR")[0]
    assert workdir == IMAGE_ROOT
    copied = {}
    for arguments in instructions("COPY"):
        *sources, target = shlex.split(arguments)
        for source in sources:
            assert (PROJECT_ROOT / source).exists(), f"COPY {source}: not in the repository"
            copied[source.rstrip("/")] = target
    needed = {DAGS_FOLDER, DBT_PROJECT_DIR, SODA_CHECKS_DIR, PROJECT_ROOT / "dashboard", DEPLOY_DIR}
    needed |= {
        PROJECT_ROOT / p.rstrip("*") for p in PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]
    }
    for folder in needed:
        name = str(folder.relative_to(PROJECT_ROOT))
        assert copied.get(name, "").rstrip("/") == name, f"{name} is not copied to {IMAGE_ROOT}/{name}"
    env = " ".join(instructions("ENV"))
    assert f"PYTHONPATH={IMAGE_ROOT}" in env
    assert f"AIRFLOW__CORE__DAGS_FOLDER={IMAGE_ROOT}/dags" in env


def test_dependencies_install_from_the_pins_and_the_dbt_manifest_is_built():
    run = " ".join(instructions("RUN"))
    assert "--constraint deploy/constraints.txt" in run
    assert "--requirement pyproject.toml" in run
    assert "--requirement deploy/requirements-deploy.txt" in run
    # PYTHONDONTWRITEBYTECODE caches nothing at run time: the image ships its dependencies compiled
    assert "--compile-bytecode" in run
    assert "python -m cltv manifest" in run
    assert re.fullmatch(r"\d+\.\d+\.\d+", arg_defaults()["UV_VERSION"])


def test_the_folders_that_volumes_mount_on_exist_in_the_image_owned_by_its_user(services):
    """A named volume starts as a copy of the image's folder, owner included."""
    run = " ".join(instructions("RUN"))
    created = set(re.search(r"mkdir -p ([^&]+)&&", run).group(1).split())
    targets = {target for service in services.values() for _, target, _ in volume_mounts(service)}
    ours = {t for t in targets if t.startswith(("/data/", "/opt/airflow", "/run/cltv-secrets"))}
    assert ours <= created
    assert 'chown -R "${CLTV_UID}:0" /opt/airflow /data' in run


def test_constraints_satisfy_every_requirement_of_cltv_and_of_the_deployment():
    """Regenerate deploy/constraints.txt (command in deploy/requirements-deploy.txt) when this fails."""
    pins = pinned_versions()
    requirements = [Requirement(r) for r in PYPROJECT["project"]["dependencies"]]
    requirements += requirement_lines(DEPLOY_REQUIREMENTS)
    for requirement in requirements:
        name = requirement.name.lower().replace("_", "-")
        assert name in pins, f"{name} is missing from deploy/constraints.txt"
        assert requirement.specifier.contains(pins[name]), f"{requirement} but constraints pin {pins[name]}"


def test_the_deployment_adds_exactly_pinned_fab_postgres_and_celery_providers():
    pins = {r.name: str(r.specifier) for r in requirement_lines(DEPLOY_REQUIREMENTS)}
    assert pins["apache-airflow-providers-fab"] == "==3.10.2"
    assert set(pins) == {
        "apache-airflow-providers-fab",
        "apache-airflow-providers-postgres",
        "apache-airflow-providers-celery",
    }
    assert all(spec.startswith("==") for spec in pins.values())


def test_the_build_context_leaves_out_secrets_and_local_state():
    ignored = set((PROJECT_ROOT / ".dockerignore").read_text().split())
    assert {".env", ".venv", ".airflow", "warehouse", "data", ".git", "dbt_project/target"} <= ignored


def test_the_dashboards_streamlit_is_installed_in_the_image(services):
    assert services["dashboard"]["command"][0] == "streamlit"
    declared = [Requirement(r) for r in PYPROJECT["project"]["dependencies"]]
    declared += requirement_lines(DEPLOY_REQUIREMENTS)
    assert "streamlit" in {requirement.name for requirement in declared}
