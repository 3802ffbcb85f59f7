"""A check that the Celery broker accepts connections, before work is recorded for the workers."""

import logging

from django.utils.translation import gettext as _

from backend.common.errors import UnavailableError
from workers.celery import app as celery_app

logger = logging.getLogger(__name__)

# Seconds to wait for the broker before telling the user it does not respond.
BROKER_CHECK_TIMEOUT_SECONDS = 2


def broker_check() -> None:
    """Raise ``UnavailableError`` when the message broker does not accept a connection."""
    try:
        with celery_app.connection_for_write() as broker:
            broker.ensure_connection(max_retries=1, interval_start=0, interval_step=0,
                                     timeout=BROKER_CHECK_TIMEOUT_SECONDS)
    except Exception as error:
        # kombu raises the transport's own errors (redis, socket, filesystem) here.
        logger.error("broker does not respond: %s", error)
        raise UnavailableError(
            _("The message broker (Redis) does not respond, so nothing was queued. "
              "Check that it is running, then try again.")
        ) from error
