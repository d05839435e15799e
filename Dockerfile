# cltv's one image: Airflow 3 (api-server, scheduler, dag-processor, triggerer, Celery worker), the
# pipeline's code and dbt project, and the Streamlit dashboard. docker-compose.yml runs it; docs/operating.md
# says how. No secret is baked in: they reach the containers as files in the secrets volume at run time.
#
#   docker build -t cltv:0.1.0 .
#
# Every Python package is pinned: cltv's own pins (pyproject.toml) plus the deployment's providers
# (deploy/requirements-deploy.txt), resolved together into deploy/constraints.txt.

# An exact tag; for strict reproducibility add its digest (python:3.11.14-slim-bookworm@sha256:...).
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm
FROM ${PYTHON_IMAGE}

ARG CLTV_UID=50000
ARG UV_VERSION=0.13.9

# libgomp1: XGBoost's OpenMP runtime, not in the slim image.
RUN apt-get update \
    && apt-get install --yes --no-install-recommends libgomp1 \
    && rm -rf /var/lib/apt/lists/*

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    UV_NO_CACHE=1 \
    DO_NOT_TRACK=1 \
    SCARF_ANALYTICS=false \
    SODA_CORE_TELEMETRY_ENABLED=false \
    DBT_SEND_ANONYMOUS_USAGE_STATS=false \
    AIRFLOW__COSMOS__ENABLE_TELEMETRY=False \
    AIRFLOW__USAGE_DATA_COLLECTION__ENABLED=False \
    STREAMLIT_BROWSER_GATHER_USAGE_STATS=false

# Dependencies first, in their own layer: a code change does not reinstall them. Compiled to bytecode
# here: with PYTHONDONTWRITEBYTECODE nothing is cached at run time, and every task process would compile
# Airflow, dbt and pandas from source again (~7 s of a 100M-line monthly run, bench/README.md).
WORKDIR /opt/cltv
COPY pyproject.toml ./
COPY deploy/requirements-deploy.txt deploy/constraints.txt deploy/
RUN pip install --no-cache-dir "uv==${UV_VERSION}" \
    && uv venv /opt/venv --python /usr/local/bin/python3.11 \
    && uv pip install --python /opt/venv/bin/python --compile-bytecode \
        --constraint deploy/constraints.txt \
        --requirement pyproject.toml \
        --requirement deploy/requirements-deploy.txt \
    && pip uninstall --yes uv

# The code runs from its source tree (PYTHONPATH), not from site-packages: cltv finds its dbt project,
# DAGs and Soda contracts relative to the tree (cltv.config.PROJECT_ROOT).
COPY cltv/ cltv/
COPY ml/ ml/
COPY dags/ dags/
COPY dbt_project/ dbt_project/
COPY soda_checks/ soda_checks/
COPY dashboard/ dashboard/
COPY deploy/ deploy/
ENV PYTHONPATH=/opt/cltv \
    AIRFLOW_HOME=/opt/airflow \
    AIRFLOW__CORE__DAGS_FOLDER=/opt/cltv/dags \
    AIRFLOW__CORE__LOAD_EXAMPLES=false

# Cosmos renders the dbt task group from the manifest: parse once at build time (no warehouse needed).
RUN CLTV_WAREHOUSE=/tmp/build/cltv.duckdb python -m cltv manifest \
    && rm -rf /tmp/build dbt_project/logs \
    && python -m compileall -q cltv ml dags

# A non-root user owns the data folders only; the code and the venv stay read-only for it. Named
# volumes mounted on these folders start with this ownership.
RUN useradd --uid "${CLTV_UID}" --gid 0 --create-home --home-dir /home/cltv cltv \
    && mkdir -p /opt/airflow/logs /data/warehouse /data/landing /data/serving /data/models /run/cltv-secrets \
    && chown -R "${CLTV_UID}:0" /opt/airflow /data \
    && chmod 0700 /run/cltv-secrets

USER ${CLTV_UID}
EXPOSE 8080 8501
CMD ["airflow", "version"]
