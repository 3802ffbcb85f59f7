"""Django settings for the Etiquetado service.

Every setting that differs between machines comes from an environment variable.
The defaults suit development on one machine: with no DATABASE_URL the service
uses an SQLite file, and with no CELERY_BROKER_URL it uses the local Redis when
it accepts connections, else a broker kept in files (see ``_default_broker_url``).
"""

import os
import secrets
import socket
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return default if value in (None, "") else int(value)


def _env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# Data written by the service: the SQLite fallback, imported datasets, trained
# models, uploads and the file broker. Web and workers must share this folder.
DATA_DIR = Path(os.environ.get("ETIQUETADO_DATA_DIR", BASE_DIR / "var")).resolve()
DATASETS_ROOT = Path(os.environ.get("ETIQUETADO_DATASETS_DIR", DATA_DIR / "datasets")).resolve()
ARTIFACTS_ROOT = Path(os.environ.get("ETIQUETADO_ARTIFACTS_DIR", DATA_DIR / "artifacts")).resolve()
MEDIA_ROOT = DATA_DIR / "uploads"
MEDIA_URL = "/uploads/"


def _secret_key() -> str:
    """Read DJANGO_SECRET_KEY, or create one per installation under DATA_DIR.

    A key kept in the data folder is shared by web and workers and survives
    restarts, so no installation ever runs with a key written in the code.
    """
    key = os.environ.get("DJANGO_SECRET_KEY")
    if key:
        return key
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        # Write a private temporary file and link it into place, so that web
        # and workers starting at once all read the same complete key.
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        temporary = DATA_DIR / f".secret_key.{os.getpid()}"
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(50))
        try:
            os.link(temporary, key_file)
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = _env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = _env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = _env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "backend.common",
    "backend.datasets",
    "backend.experiments",
    "backend.labeling",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "backend.common.middleware.SpanishFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "backend.urls"
WSGI_APPLICATION = "backend.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "backend" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def _database() -> dict:
    url = os.environ.get("DATABASE_URL")
    if url:
        return dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    # Web and worker write at once: write-ahead logging lets readers go on while
    # one writer works, and the busy timeout (seconds) makes a second writer wait
    # instead of failing with "database is locked".
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": DATA_DIR / "etiquetado.sqlite3",
        "OPTIONS": {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
    }


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Spanish (Chile) by default; English when the user chooses it with the language
# selector, or an API client asks for it with Accept-Language.
LANGUAGE_CODE = "es-cl"
LANGUAGES = [("es-cl", _("Spanish (Chile)")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "America/Santiago"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Uploads larger than FILE_UPLOAD_MAX_MEMORY_SIZE are streamed to a temporary
# file instead of memory. A dataset archive uploaded through the admin may be
# at most DATASET_UPLOAD_MAX_BYTES; larger ones go through
# `manage.py import_dataset` on the server.
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
DATASET_UPLOAD_MAX_BYTES = _env_int("ETIQUETADO_DATASET_UPLOAD_MAX_BYTES", 2 * 1024**3)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAdminUser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "backend.common.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Etiquetado API",
    "DESCRIPTION": "Image classifiers for the Government of Chile: datasets, experiments and runs.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
}


def _redis_answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _default_broker_url() -> str:
    """Return the local Redis when it accepts connections, else kombu's filesystem transport.

    The filesystem transport lets web and one worker on the same machine talk
    through folders under DATA_DIR when no broker server is installed.
    """
    if _redis_answers("127.0.0.1", 6379):
        return "redis://127.0.0.1:6379/0"
    return "filesystem://"


# Hard limit on one training run, in seconds. The broker must not hand an
# unacknowledged run to another worker while the first may still be training,
# so its visibility timeout is this limit plus an hour.
RUN_TIME_LIMIT_SECONDS = _env_int("ETIQUETADO_RUN_TIME_LIMIT_SECONDS", 6 * 3600)
RUN_SOFT_TIME_LIMIT_SECONDS = RUN_TIME_LIMIT_SECONDS - 60
# A run whose worker died this many times is failed instead of redelivered again.
RUN_MAX_ATTEMPTS = _env_int("ETIQUETADO_RUN_MAX_ATTEMPTS", 3)
# How often a training run queries the database for a cancel, in seconds.
RUN_CANCEL_CHECK_SECONDS = float(os.environ.get("ETIQUETADO_RUN_CANCEL_CHECK_SECONDS", "0.5"))
DATASET_IMPORT_TIME_LIMIT_SECONDS = _env_int("ETIQUETADO_DATASET_IMPORT_TIME_LIMIT_SECONDS", 3600)
# Local file of VGG16's ImageNet weights without the top layers
# (vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5). Unset: Keras downloads them.
VGG16_WEIGHTS = Path(os.environ["ETIQUETADO_VGG16_WEIGHTS"]) if os.environ.get("ETIQUETADO_VGG16_WEIGHTS") else None
# How long the study's queue estimate waits for workers to reply, in seconds.
WORKER_INSPECT_TIMEOUT_SECONDS = float(os.environ.get("ETIQUETADO_WORKER_INSPECT_TIMEOUT_SECONDS", "1.0"))

CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or _default_broker_url()
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = DATA_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "messages"),
        "data_folder_out": str(_broker_dir / "messages"),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
        # Without it, kombu keeps its exchange bindings in ./control, wherever
        # the process happens to start.
        "control_folder": str(_broker_dir / "control"),
    }
    for _folder in ("messages", "processed", "control"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": RUN_TIME_LIMIT_SECONDS + 3600}
CELERY_TASK_DEFAULT_QUEUE = "training"
CELERY_TASK_ROUTES = {
    "workers.tasks.train_run": {"queue": "training"},
    "workers.tasks.import_dataset": {"queue": "datasets"},
    "workers.tasks.evaluate_run": {"queue": "training"},
}
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("ETIQUETADO_LOG_LEVEL", "INFO")},
}

# Labeling service. Limits on what one request may send; each limit, when passed,
# gets its own Spanish message.
LABELING_MAX_IMAGE_BYTES = _env_int("ETIQUETADO_LABELING_MAX_IMAGE_BYTES", 20 * 1024**2)
# Width x height of one image, checked from its header before any pixel is decoded.
LABELING_MAX_IMAGE_PIXELS = _env_int("ETIQUETADO_LABELING_MAX_IMAGE_PIXELS", 50_000_000)
LABELING_MAX_IMAGES = _env_int("ETIQUETADO_LABELING_MAX_IMAGES", 100)
# Bytes that the entries of one .zip may expand to, counted while they are read.
LABELING_MAX_ZIP_EXPANDED_BYTES = _env_int("ETIQUETADO_LABELING_MAX_ZIP_EXPANDED_BYTES", 200 * 1024**2)
# Django rejects a multipart request with more files than this before the view runs;
# it is above LABELING_MAX_IMAGES so that the view returns its own message.
DATA_UPLOAD_MAX_NUMBER_FILES = 2 * LABELING_MAX_IMAGES
# ``?wait=`` keeps a web worker busy until the results are ready or this many seconds pass.
LABELING_MAX_WAIT_SECONDS = _env_int("ETIQUETADO_LABELING_MAX_WAIT_SECONDS", 30)
LABELING_WAIT_POLL_SECONDS = 0.05
LABELING_DEFAULT_TOP_K = 3
LABELING_MAX_TOP_K = 20
# An image gets a label only when its top class's confidence (softmax probability)
# is above this; below it the answer is "not sure", because most images the sites
# send show none of the trained classes.
LABELING_DEFAULT_THRESHOLD = float(os.environ.get("ETIQUETADO_LABELING_THRESHOLD", "0.5"))
# Images decoded and run through the model at once by a worker.
LABELING_BATCH_SIZE = _env_int("ETIQUETADO_LABELING_BATCH_SIZE", 64)
# Served model versions that one worker process keeps loaded.
LABELING_MODEL_CACHE_SIZE = 2
LABELING_JOB_TIME_LIMIT_SECONDS = _env_int("ETIQUETADO_LABELING_JOB_TIME_LIMIT_SECONDS", 600)
LABELING_MAX_ATTEMPTS = 3
LABELING_HEALTH_TIMEOUT_SECONDS = 2
CELERY_TASK_ROUTES["workers.tasks.label_job"] = {"queue": "labeling"}
