"""Errors that users can cause, with messages translated to the active language."""

from django.utils.translation import gettext

from ml.errors import MLError


class ServiceError(Exception):
    """A request that the service rejects; its message tells the user what to do.

    ``status_code`` is the HTTP status that the API answers with.
    """

    status_code = 400
    code = "invalid"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class ConflictError(ServiceError):
    """The request is valid but the object's current state does not allow it."""

    status_code = 409
    code = "conflict"


class UnavailableError(ServiceError):
    """The service cannot do this now, for a reason an administrator can fix."""

    status_code = 503
    code = "unavailable"


def ml_error_message(error: MLError) -> str:
    """Translate an ``ml`` error's English message id and fill in its values."""
    return gettext(error.message) % error.params
