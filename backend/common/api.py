"""REST framework hooks shared by every app's API."""

import logging
from collections.abc import Mapping

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from backend.common.errors import ServiceError, ml_error_message
from ml.errors import MLError

logger = logging.getLogger(__name__)

# Django's CSRF form field, which the browsable API's HTML forms send beside the fields.
CSRF_FORM_FIELD = "csrfmiddlewaretoken"


class RejectUnknownFieldsMixin:
    """Reject input keys that are not fields of the serializer, instead of ignoring them.

    Mix it into a ``Serializer`` before the serializer class. Each unknown key gets
    its own error, under its name, that lists the writable fields. Read-only fields
    stay accepted and ignored, as REST framework does, so that a body copied from a
    GET response can be sent back.
    """

    def to_internal_value(self, data):
        unknown = []
        if isinstance(data, Mapping):
            unknown = sorted(set(data) - set(self.fields) - {CSRF_FORM_FIELD})

        errors = {}
        try:
            validated = super().to_internal_value(data)
        except exceptions.ValidationError as error:
            if not isinstance(error.detail, dict):
                raise
            errors = dict(error.detail)

        writable = ", ".join(name for name, field in self.fields.items() if not field.read_only)
        for name in unknown:
            errors[name] = [
                _("“%(field)s” is not a known field. The accepted fields are: %(accepted)s.")
                % {"field": name, "accepted": writable}
            ]
        if errors:
            raise serializers.ValidationError(errors)
        return validated


def exception_handler(exc, context):
    """Convert service, ``ml`` and model validation errors into REST framework responses.

    Every error body has a ``detail`` message in the request's language (Spanish
    unless the client sends ``Accept-Language: en``) and a ``code``. Anything
    else, a bug, is left to REST framework and Django, which answer 500 without
    a stack trace unless DEBUG is on.
    """
    if isinstance(exc, ServiceError):
        return Response({"detail": exc.message, "code": exc.code}, status=exc.status_code)
    if isinstance(exc, MLError):
        return Response(
            {"detail": ml_error_message(exc), "code": type(exc).__name__},
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, Http404):
        # Django's message names the model in English ("No Run matches the
        # given query."); REST framework's own is translated.
        exc = exceptions.NotFound()
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(detail=exc.message_dict if hasattr(exc, "error_dict") else exc.messages)

    if isinstance(exc, exceptions.ParseError):
        # REST framework's parsers put the parser's English text in the detail.
        logger.info("request body rejected: %s", exc.detail)
        exc = exceptions.ParseError(_("The request body could not be read. Send valid JSON or form data."))

    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(response.data, dict):
        return response
    if "detail" in response.data:
        response.data["code"] = getattr(response.data["detail"], "code", "error")
    elif isinstance(exc, exceptions.ValidationError):
        # Field errors stay under their field names; detail and code make every
        # error body readable the same way.
        response.data = {
            "detail": _("Some values are invalid. Each field lists what to correct."),
            "code": "invalid",
            **response.data,
        }
    return response
