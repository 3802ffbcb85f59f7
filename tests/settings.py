"""Settings for the test suite: always the real PostgreSQL and Redis.

Tests never fall back to SQLite or the file broker. When PostgreSQL or Redis is
down, the suite fails at its first database or broker access.
"""

import os
import tempfile
from pathlib import Path

import dj_database_url

os.environ.setdefault("ETIQUETADO_DATA_DIR", tempfile.mkdtemp(prefix="etiquetado-tests-"))

from backend.settings import *  # noqa: E402,F403

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test"), conn_max_age=0
    )
}
# Database 15 keeps the tests' messages apart from a development service's.
CELERY_BROKER_URL = os.environ.get("TEST_CELERY_BROKER_URL", "redis://127.0.0.1:6379/15")
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": RUN_TIME_LIMIT_SECONDS + 3600}  # noqa: F405
# The worker tests cancel runs; a short check interval keeps them quick.
RUN_CANCEL_CHECK_SECONDS = 0.1
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
TEST_DATA_DIR = Path(os.environ["ETIQUETADO_DATA_DIR"])
STATIC_ROOT = TEST_DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
# Tests that train VGG16 write their own weights file here; no test downloads weights.
VGG16_WEIGHTS = TEST_DATA_DIR / "vgg16-notop.weights.h5"
