from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView
from rest_framework import routers
from rest_framework.authtoken.views import obtain_auth_token

from backend.datasets.api import DatasetViewSet
from backend.experiments.api import ExperimentViewSet, RunViewSet, StudyReportView
from backend.labeling.api import HealthView, LabelingJobViewSet, ModelVersionViewSet
from backend.labeling.views import label_page

router = routers.DefaultRouter()
router.register("datasets", DatasetViewSet)
router.register("experiments", ExperimentViewSet)
router.register("runs", RunViewSet)
router.register("labels", LabelingJobViewSet, basename="labels")
router.register("model-versions", ModelVersionViewSet)

admin.site.site_header = _("Etiquetado: image classifiers")
admin.site.site_title = _("Etiquetado")
admin.site.index_title = _("Administration")

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False), name="start"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/auth/token/", obtain_auth_token, name="api-token"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/health/", HealthView.as_view(), name="api-health"),
    path("api/study/report/", StudyReportView.as_view(), name="api-study-report"),
    path("api/", include(router.urls)),
    path("etiquetar/", label_page, name="label-page"),
    path("informe/", include("backend.experiments.urls")),
]

# Django calls these only when DEBUG is off. With DEBUG on, it shows its technical pages.
handler404 = "backend.common.views.page_not_found"
handler500 = "backend.common.views.server_error"
