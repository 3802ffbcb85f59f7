import csv
import io
import time

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFilesSent
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, renderers, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.common.api import RejectUnknownFieldsMixin
from backend.common.errors import ServiceError
from backend.experiments.models import Run
from backend.labeling.models import LabelingJob, ModelVersion
from backend.labeling.selectors import (
    EXPORT_COLUMNS,
    health_status,
    labeling_job_export_rows,
    labeling_job_result,
)
from backend.labeling.services import labeling_job_create, model_version_promote, model_version_serve


class LabelingParametersSerializer(serializers.Serializer):
    """How to label: read from the query string, or from form fields beside the images."""

    k = serializers.IntegerField(
        min_value=1, max_value=settings.LABELING_MAX_TOP_K, default=lambda: settings.LABELING_DEFAULT_TOP_K,
        help_text="Number of most probable classes to return per image.",
    )
    threshold = serializers.FloatField(
        min_value=0.0, max_value=1.0, default=lambda: settings.LABELING_DEFAULT_THRESHOLD,
        help_text="An image gets a label only when its top class's confidence is above this; else it is 'not sure'.",
    )
    wait = serializers.FloatField(
        min_value=0.0, default=0.0,
        help_text="Seconds to wait for the results before answering 202; at most LABELING_MAX_WAIT_SECONDS.",
    )


class LabelingCSVRenderer(renderers.BaseRenderer):
    """Write export rows as CSV, with a byte order mark so that spreadsheets read it as UTF-8."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        rows = data if isinstance(data, list) else [data]
        columns = EXPORT_COLUMNS if isinstance(data, list) else list(data)
        output = io.StringIO()
        output.write("\ufeff")
        writer = csv.DictWriter(output, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
        return output.getvalue().encode(self.charset)


def _job_url(request, job: LabelingJob) -> str:
    return request.build_absolute_uri(f"/api/labels/{job.pk}/")


def _wait_until_finished(job: LabelingJob, seconds: float) -> LabelingJob:
    deadline = time.monotonic() + seconds
    while not job.is_finished and time.monotonic() < deadline:
        time.sleep(settings.LABELING_WAIT_POLL_SECONDS)
        job.refresh_from_db(fields=["status", "finished_at", "model_version", "error", "error_params"])
    return job


class LabelingJobViewSet(mixins.CreateModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Send images to be labeled, then read their labels or export them."""

    # The sites' systems label with a token of their own, which needs no staff rights.
    permission_classes = [IsAuthenticated]

    queryset = LabelingJob.objects.select_related("model_version")
    parser_classes = [MultiPartParser, FormParser]

    def get_queryset(self):
        """Staff see every job; other users only the jobs they sent."""
        queryset = super().get_queryset()
        if self.request.user.is_staff:
            return queryset
        return queryset.filter(created_by=self.request.user)
    serializer_class = LabelingParametersSerializer

    @extend_schema(
        parameters=[OpenApiParameter("k", int), OpenApiParameter("threshold", float), OpenApiParameter("wait", float)],
        request={"multipart/form-data": {"type": "object", "properties": {"images": {"type": "array", "items": {"type": "string", "format": "binary"}}}}},
        responses={200: dict, 202: dict},
    )
    def create(self, request, *args, **kwargs):
        """Store the images (files in the repeatable field ``images``, or .zip archives of images) and queue them.

        Returns 202 with the job's id and URL, or 200 with the results when they are
        ready within ``?wait=SECONDS``.
        """
        try:
            uploads = request.FILES.getlist("images")
            form_values = {key: request.data[key] for key in ("k", "threshold", "wait") if key in request.data}
        except (TooManyFilesSent, RequestDataTooBig) as error:
            raise ServiceError(
                _("The request contains more files than the limit of %(limit)s images per request. Send them in several requests.")
                % {"limit": settings.LABELING_MAX_IMAGES}
            ) from error
        parameters = LabelingParametersSerializer(data={**request.query_params.dict(), **form_values})
        parameters.is_valid(raise_exception=True)
        values = parameters.validated_data

        job = labeling_job_create(uploads=uploads, top_k=values["k"], threshold=values["threshold"], created_by=request.user)

        wait = min(values["wait"], settings.LABELING_MAX_WAIT_SECONDS)
        if wait > 0:
            job = _wait_until_finished(job, wait)
        answer = status.HTTP_200_OK if job.is_finished else status.HTTP_202_ACCEPTED
        return Response(labeling_job_result(job, url=_job_url(request, job)), status=answer)

    @extend_schema(responses={200: dict})
    def retrieve(self, request, *args, **kwargs):
        """Return the job's status (queued, running, done, failed) and each image's labels or error."""
        job = self.get_object()
        return Response(labeling_job_result(job, url=_job_url(request, job)))

    @extend_schema(responses={200: dict})
    @action(detail=True, methods=["get"], renderer_classes=[renderers.JSONRenderer, LabelingCSVRenderer])
    def export(self, request, pk=None, format=None):
        """Export the job's results as JSON or CSV: ``export.json``, ``export.csv`` or ``export/?format=csv``."""
        job = self.get_object()
        extension = request.accepted_renderer.format
        if extension == "csv":
            data = labeling_job_export_rows(job)
        else:
            data = labeling_job_result(job, url=_job_url(request, job))
        response = Response(data)
        response["Content-Disposition"] = f'attachment; filename="etiquetas-{job.pk}.{extension}"'
        return response


class ModelVersionSerializer(RejectUnknownFieldsMixin, serializers.ModelSerializer):
    run = serializers.PrimaryKeyRelatedField(queryset=Run.objects.all())

    class Meta:
        model = ModelVersion
        fields = ["id", "version", "run", "model_dir", "class_names", "input_shape", "test_accuracy",
                  "is_serving", "served_since", "created_at"]
        read_only_fields = ["id", "version", "model_dir", "class_names", "input_shape", "test_accuracy",
                            "is_serving", "served_since", "created_at"]


class ModelVersionViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Models that label images. ``POST`` with a run promotes its model and puts it in service."""

    queryset = ModelVersion.objects.select_related("run")
    serializer_class = ModelVersionSerializer

    def perform_create(self, serializer):
        serializer.instance = model_version_promote(run=serializer.validated_data["run"], promoted_by=self.request.user)

    @extend_schema(request=None, responses={200: ModelVersionSerializer})
    @action(detail=True, methods=["post"])
    def serve(self, request, pk=None):
        """Put this version in service instead of the current one, such as to go back to an earlier model."""
        model_version = model_version_serve(model_version=self.get_object())
        return Response(ModelVersionSerializer(model_version).data)


class HealthView(APIView):
    """Readiness of the database, the broker and a served model: 200 when all are ready, else 503."""

    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(responses={200: dict, 503: dict})
    def get(self, request):
        ready, components = health_status()
        body = {"status": "ready" if ready else "not_ready", "components": components}
        return Response(body, status=status.HTTP_200_OK if ready else status.HTTP_503_SERVICE_UNAVAILABLE)
