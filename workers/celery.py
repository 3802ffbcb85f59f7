"""The Celery application.

Its parent process must never import TensorFlow, which is not fork-safe: tasks
import it inside the forked child that runs them (see ``workers.tasks``).
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")

app = Celery("etiquetado", include=["workers.tasks"])
app.config_from_object("django.conf:settings", namespace="CELERY")
