"""The service's URLs plus two views that fail, to check the 500 responses through the real handlers."""

from django.urls import path

from backend.urls import handler404, handler500  # noqa: F401  (Django reads them from the URLconf)
from backend.urls import urlpatterns as service_urlpatterns

FAILURE_MESSAGE = "fallo interno de prueba"


def failing_view(request):
    raise RuntimeError(FAILURE_MESSAGE)


urlpatterns = [
    path("api/fallo/", failing_view),
    path("fallo/", failing_view),
    *service_urlpatterns,
]
