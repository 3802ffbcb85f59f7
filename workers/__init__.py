"""Celery workers that train and label with the ``ml`` package."""

from workers.celery import app

__all__ = ["app"]
