#!/usr/bin/env bash
# The `airflow-init` service: migrate the metadata DB (Airflow's and the FAB auth manager's tables), create
# cltv's one-slot writer pool and the first admin account. Every step is idempotent, so the service runs
# at every `docker compose up` and after an upgrade (the migration of a new Airflow version happens here).
set -euo pipefail

secret() { cat "/run/cltv-secrets/$1"; }

echo "airflow-init: $(airflow version)"
airflow db migrate

pool="$(python -c 'from cltv.airflow_env import WAREHOUSE_POOL; print(WAREHOUSE_POOL)')"
airflow pools set "${pool}" 1 "One writer of the DuckDB warehouse at a time"

# An existing account is left as it is (FAB prints "already exists"): change a password in the UI or with
# `airflow users reset-password`, not by editing the secret.
airflow users create \
    --username "${CLTV_ADMIN_USER:-admin}" \
    --password "$(secret admin_password)" \
    --email "${CLTV_ADMIN_EMAIL:-admin@example.org}" \
    --firstname cltv --lastname admin --role Admin

echo "airflow-init: done (pool ${pool}, admin ${CLTV_ADMIN_USER:-admin})"
