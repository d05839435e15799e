"""Settings of the FAB auth manager (users, roles and passwords in the metadata DB) for the api-server.

Airflow reads this file through `AIRFLOW__FAB__CONFIG_FILE` (docker-compose.yml). Logins are database
accounts created by an admin; nobody can register themselves; session cookies are HTTPS-only when the
stack sits behind TLS (`CLTV_SECURE_COOKIES=true`).
"""

from __future__ import annotations

import os

from flask_appbuilder.const import AUTH_DB

AUTH_TYPE = AUTH_DB
AUTH_USER_REGISTRATION = False
WTF_CSRF_ENABLED = True
WTF_CSRF_TIME_LIMIT = None
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = os.environ.get("CLTV_SECURE_COOKIES", "false").lower() == "true"
# Failed logins are rate limited per api-server process; one process (the default) keeps the count exact.
AUTH_RATE_LIMITED = True
RATELIMIT_STORAGE_URI = "memory://"
