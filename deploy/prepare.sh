#!/usr/bin/env bash
# The `cltv-prepare` service (root, runs first): write the secrets into the secrets volume and hand the
# data folders to the cltv user, so that bind-mounted host folders work as well as named volumes.
set -euo pipefail

python /opt/cltv/deploy/secrets_init.py /run/cltv-secrets
chown 0:0 /run/cltv-secrets
chmod 0755 /run/cltv-secrets  # the folder is listable; each file inside is readable by its one reader only

uid=50000  # the image's cltv user (Dockerfile)
for folder in /data/warehouse /data/serving /data/models /opt/airflow/logs; do
    # Only the top folder: a bind mount's existing files keep their owners (the pipeline never writes them).
    chown "${uid}:0" "${folder}"
    chmod 0770 "${folder}"
done
echo "cltv-prepare: secrets and data folders ready"
