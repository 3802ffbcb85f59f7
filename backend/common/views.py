"""Error pages for unknown addresses and server errors, in the request's language.

Under ``/api/`` they are JSON bodies shaped like the API's other errors
(``detail`` and ``code``). Elsewhere they are short HTML pages. Django calls
them only when DEBUG is off, so DEBUG keeps its technical pages.
"""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults

from backend.common.middleware import SpanishFirstLocaleMiddleware


def _is_api_request(request: HttpRequest) -> bool:
    return request.path.startswith(SpanishFirstLocaleMiddleware.api_prefix)


def _api_error(detail: str, code: str, status: int) -> JsonResponse:
    # ensure_ascii=False writes "á" as REST framework's JSON renderer does, not as "\u00e1".
    return JsonResponse({"detail": detail, "code": code}, status=status, json_dumps_params={"ensure_ascii": False})


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Return the 404 response for an address that no view serves, or for a view's ``Http404``."""
    if _is_api_request(request):
        detail = _(
            "The address %(path)s does not exist in the API. Check the address and the id in it. "
            "GET /api/schema/ describes every address."
        ) % {"path": request.path}
        return _api_error(detail, "not_found", 404)
    return defaults.page_not_found(request, exception, template_name="common/404.html")


def server_error(request: HttpRequest) -> HttpResponse:
    """Return the 500 response, without a stack trace. Django has already logged the error on ``django.request``."""
    if _is_api_request(request):
        detail = _(
            "The server failed to process the request. Try again later, and if it fails again, "
            "tell the service administrators."
        )
        return _api_error(detail, "server_error", 500)
    return defaults.server_error(request, template_name="common/500.html")
