from rest_framework import serializers, viewsets

from backend.datasets.models import Dataset


class DatasetSerializer(serializers.ModelSerializer):
    class Meta:
        model = Dataset
        fields = [
            "id", "name", "status", "source", "image_size", "class_names", "train_counts", "test_counts",
            "image_shape", "checksum", "test_split", "progress_done", "progress_total", "error",
            "created_at", "imported_at",
        ]
        read_only_fields = fields


class DatasetViewSet(viewsets.ReadOnlyModelViewSet):
    """Imported datasets. Import new ones with the admin or ``manage.py import_dataset``."""

    queryset = Dataset.objects.all()
    serializer_class = DatasetSerializer

