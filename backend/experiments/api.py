from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, routers, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from backend.common.api import RejectUnknownFieldsMixin
from backend.datasets.models import Dataset
from backend.experiments.models import EpochMetric, Experiment, Run
from backend.experiments.selectors import study_report
from backend.experiments.services import experiment_create, run_cancel, run_evaluation_queue, run_queue
from backend.experiments.views import REPORT_CSV_FILENAME, StudyReportCSVRenderer


class ExperimentSerializer(RejectUnknownFieldsMixin, serializers.ModelSerializer):
    dataset = serializers.PrimaryKeyRelatedField(
        queryset=Dataset.objects.all(),
        # REST framework fills these with str.format, hence {pk_value}.
        error_messages={
            "does_not_exist": gettext_lazy("No dataset has the id {pk_value}. List the datasets with GET /api/datasets/."),
            "incorrect_type": gettext_lazy("The dataset must be given by its numeric id, as listed by GET /api/datasets/."),
        },
    )
    hyperparameters = serializers.JSONField(
        required=False, help_text="Hyperparameters of the family; missing ones take their defaults."
    )

    class Meta:
        model = Experiment
        fields = ["id", "name", "description", "dataset", "family", "hyperparameters", "created_at"]
        read_only_fields = ["id", "created_at"]
        extra_kwargs = {
            # The service checks uniqueness, with a message that explains how to fix a clash.
            "name": {"validators": []},
            "family": {
                "error_messages": {
                    # REST framework fills in {input} with str.format, so format_lazy keeps
                    # that placeholder and adds the families when the message is rendered.
                    "invalid_choice": format_lazy(
                        gettext_lazy("“{input}” is not a model family. The valid families are: {families}."),
                        input="{input}",
                        families=", ".join(Experiment.Family.values),
                    ),
                }
            },
        }

    def validate_hyperparameters(self, value):
        if not isinstance(value, dict):
            raise serializers.ValidationError(_('Hyperparameters must be a JSON object, such as {"epochs": 10}.'))
        return value


class EpochMetricSerializer(serializers.ModelSerializer):
    class Meta:
        model = EpochMetric
        fields = ["epoch", "accuracy", "loss", "val_accuracy", "val_loss", "seconds", "recorded_at"]


class RunSerializer(serializers.ModelSerializer):
    experiment_name = serializers.CharField(source="experiment.name", read_only=True)
    epochs_planned = serializers.IntegerField(read_only=True)

    class Meta:
        model = Run
        fields = [
            "id", "experiment", "experiment_name", "status", "created_at", "started_at", "finished_at",
            "worker_hostname", "attempts", "hyperparameters", "seed", "code_version", "library_versions",
            "dataset_checksum", "epochs_planned", "epochs_run", "stopped_early", "train_examples",
            "validation_examples", "test_accuracy", "test_loss", "seconds", "error",
        ]
        read_only_fields = fields


class ExperimentViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Experiments: create, list and read; ``POST .../runs/`` queues a run."""

    queryset = Experiment.objects.select_related("dataset")
    serializer_class = ExperimentSerializer

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = experiment_create(
            name=data["name"],
            dataset=data["dataset"],
            family=data.get("family", Experiment.Family.MLP),
            hyperparameters=data.get("hyperparameters", {}),
            description=data.get("description", ""),
            created_by=self.request.user,
        )

    @extend_schema(request=None, responses={202: RunSerializer})
    @action(detail=True, methods=["post"])
    def runs(self, request, pk=None):
        """Queue a new run of this experiment."""
        run = run_queue(experiment=self.get_object())
        return Response(RunSerializer(run).data, status=status.HTTP_202_ACCEPTED)


class RunViewSet(viewsets.ReadOnlyModelViewSet):
    """Runs with their status and results; filter with ``?experiment=ID``."""

    queryset = Run.objects.select_related("experiment")
    serializer_class = RunSerializer

    def get_queryset(self):
        queryset = super().get_queryset()
        experiment = self.request.query_params.get("experiment")
        if experiment is not None and not experiment.isdigit():
            raise ValidationError(
                {"experiment": [_("The experiment filter must be a numeric id, such as ?experiment=3.")]}
            )
        if experiment:
            queryset = queryset.filter(experiment_id=int(experiment))
        return queryset

    @extend_schema(request=None, responses={200: RunSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel a queued or running run; 409 when it has already finished."""
        run = run_cancel(run=self.get_object())
        return Response(RunSerializer(run).data)

    @extend_schema(responses={200: EpochMetricSerializer(many=True)})
    @action(detail=True, methods=["get"])
    def metrics(self, request, pk=None):
        """Per-epoch metrics, as written while the run trains."""
        run = self.get_object()
        return Response(EpochMetricSerializer(run.epochs.all(), many=True).data)

    @extend_schema(request=None, responses={200: dict, 202: RunSerializer})
    @action(detail=True, methods=["get", "post"])
    def evaluation(self, request, pk=None):
        """Confusion matrix and per-class accuracy on the test split.

        GET answers the cached evaluation, or 404 while there is none; POST asks a
        worker to compute it from the saved model (202), or answers it when cached.
        """
        run = self.get_object()
        if run.test_evaluation is not None:
            return Response(run.test_evaluation)
        if request.method == "POST":
            run_evaluation_queue(run=run)
            return Response(RunSerializer(run).data, status=status.HTTP_202_ACCEPTED)
        return Response(
            {"detail": _("Run %(id)s has no test evaluation yet. Ask for one with POST.") % {"id": run.pk}, "code": "not_found"},
            status=status.HTTP_404_NOT_FOUND,
        )


class StudyReportView(APIView):
    """The reference study's rows beside our figures, the oddities, and the awards.

    ``?format=csv`` (or ``Accept: text/csv``) sends the same CSV as ``/informe/estudio.csv``.
    """

    renderer_classes = [*api_settings.DEFAULT_RENDERER_CLASSES, StudyReportCSVRenderer]

    @extend_schema(responses={200: dict})
    def get(self, request):
        response = Response(study_report())
        if request.accepted_renderer.format == StudyReportCSVRenderer.format:
            response["Content-Disposition"] = f'attachment; filename="{REPORT_CSV_FILENAME}"'
        return response

    def handle_exception(self, exc):
        # An error has no CSV form: it is sent as JSON, whatever format was requested.
        renderer = getattr(self.request, "accepted_renderer", None)
        if renderer is not None and renderer.format == StudyReportCSVRenderer.format:
            self.request.accepted_renderer = JSONRenderer()
            self.request.accepted_media_type = JSONRenderer.media_type
        return super().handle_exception(exc)
