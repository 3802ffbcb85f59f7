"""Admin forms: one field per MLP hyperparameter or a JSON object for the other families, and the MLP grid."""

import json

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from backend.datasets.models import Dataset
from backend.experiments.models import Experiment, StudyRow
from backend.experiments.services import REGULARIZERS, hyperparameters_validate
from ml.config import ACTIVATIONS, FAMILY_FIELDS, HIDDEN_UNITS, MLP_FIELDS, OPTIMIZERS

# Labels in the admin's language; the field names, defaults, choices and ranges
# come from ``ml.config`` so that each is declared once.
HYPERPARAMETER_LABELS = {
    "hidden_layers": _("hidden layers (512, 256 and 256 units)"),
    "activation": _("activation"),
    "optimizer": _("optimizer"),
    "learning_rate": _("learning rate (empty: Keras default)"),
    "epochs": _("epochs"),
    "batch_size": _("batch size (images)"),
    "validation_fraction": _("validation fraction of the training split"),
    "dropout_rate": _("dropout rate (0: no Dropout)"),
    "early_stopping": _("EarlyStopping"),
    "early_stopping_monitor": _("EarlyStopping: monitored metric"),
    "early_stopping_patience": _("EarlyStopping: patience (epochs)"),
    "restore_best_weights": _("EarlyStopping: restore the best weights"),
    "seed": _("seed"),
}
REGULARIZER_LABELS = {
    "none": _("none"),
    "dropout": _("Dropout"),
    "early_stopping": _("EarlyStopping"),
}


def _form_field(description) -> forms.Field:
    label = HYPERPARAMETER_LABELS[description.name]
    if description.choices:
        return forms.ChoiceField(label=label, choices=[(choice, choice) for choice in description.choices], initial=description.default)
    if description.type == "bool":
        return forms.BooleanField(label=label, required=False, initial=description.default)
    if description.type == "int":
        return forms.IntegerField(label=label, initial=description.default, min_value=description.minimum, max_value=description.maximum)
    return forms.FloatField(label=label, initial=description.default, required=description.default is not None)


def hyperparameter_fields(exclude: tuple[str, ...] = ()) -> dict[str, forms.Field]:
    return {description.name: _form_field(description) for description in MLP_FIELDS if description.name not in exclude}


def family_fields_help() -> str:
    """List each non-MLP family's hyperparameters with their defaults, for the JSON field's help."""
    lines = []
    for family, descriptions in FAMILY_FIELDS.items():
        if family == Experiment.Family.MLP:
            continue
        defaults = ", ".join(f"{description.name}={json.dumps(description.default)}" for description in descriptions)
        lines.append(f"{family}: {defaults}")
    return " · ".join(lines)


# The MLP fields are declared on a class, not added in __init__, because the
# admin builds its form class from the declared fields and renders only those.
MLPHyperparameterForm = type("MLPHyperparameterForm", (forms.Form,), hyperparameter_fields())


class ExperimentAdminForm(MLPHyperparameterForm, forms.ModelForm):
    """Experiment form: MLP hyperparameters as plain fields, the other families' as one JSON object.

    Both are stored together as JSON, validated by the family's config in ``ml.config``.
    """

    hyperparameters_json = forms.JSONField(
        label=_("hyperparameters of the other families (JSON)"),
        required=False,
        # Django's own message addresses the user informally in Spanish.
        error_messages={"invalid": _('The hyperparameters are not valid JSON. Write an object such as {"epochs": 10}.')},
        help_text=_("Only for families other than the MLP, whose fields above are then ignored. Missing keys take their defaults."),
    )

    class Meta:
        model = Experiment
        fields = ["name", "description", "dataset", "family"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["dataset"].queryset = Dataset.objects.filter(status=Dataset.Status.READY)
        stored = self.instance.hyperparameters if self.instance.pk else {}
        is_mlp = not self.instance.pk or self.instance.family == Experiment.Family.MLP
        for description in MLP_FIELDS:
            field = self.fields[description.name]
            if description.name in stored and is_mlp:
                field.initial = stored[description.name]
            field.required = False
        self.fields["hyperparameters_json"].help_text = f"{self.fields['hyperparameters_json'].help_text} {family_fields_help()}"
        if not is_mlp:
            self.fields["hyperparameters_json"].initial = stored

    def clean(self):
        cleaned = super().clean()
        self._reject_family_or_dataset_change()
        family = cleaned.get("family") or Experiment.Family.MLP
        if family == Experiment.Family.MLP:
            values = {description.name: cleaned.get(description.name) for description in MLP_FIELDS}
            if any(name in self.errors for name in values):
                return cleaned
            values = {
                name: value for name, value in values.items()
                if value is not None or name == "learning_rate"
            }
        else:
            values = cleaned.get("hyperparameters_json") or {}
            if not isinstance(values, dict):
                raise ValidationError(_('Hyperparameters must be a JSON object, such as {"epochs": 10}.'))
        try:
            self.instance.hyperparameters = hyperparameters_validate(family=family, hyperparameters=values)
        except ValidationError as error:
            raise ValidationError(error.messages) from error
        return cleaned


    def _reject_family_or_dataset_change(self) -> None:
        if not self.instance.pk:
            return
        if "dataset" in self.changed_data and StudyRow.objects.filter(experiment=self.instance).exists():
            self.add_error("dataset", _("This experiment belongs to the study's catalog, whose experiments all "
                                        "train on one dataset. To change it, move the whole catalog with "
                                        "manage.py load_study --dataset NAME --move."))
        # A run stores its own hyperparameters but not its family or dataset, which it
        # reads from its experiment: changing them would relabel the runs already made.
        if not self.instance.runs.exists():
            return
        if "family" in self.changed_data:
            self.add_error("family", _("This experiment already has runs trained as this family. "
                                       "To train another family, create a new experiment."))
        if "dataset" in self.changed_data and "dataset" not in self.errors:
            self.add_error("dataset", _("This experiment already has runs trained on this dataset. "
                                        "To train on another dataset, create a new experiment."))


class ExperimentGridForm(forms.Form):
    """Choices whose product becomes one MLP experiment each."""

    name_prefix = forms.SlugField(label=_("name prefix"), max_length=60, help_text=_("Each experiment is named prefix-optimizer-activation-depth-regularizer."))
    dataset = forms.ModelChoiceField(label=_("dataset"), queryset=Dataset.objects.filter(status=Dataset.Status.READY))
    optimizers = forms.MultipleChoiceField(label=_("optimizers"), choices=[(name, name) for name in OPTIMIZERS], widget=forms.CheckboxSelectMultiple)
    activations = forms.MultipleChoiceField(label=_("activations"), choices=[(name, name) for name in ACTIVATIONS], widget=forms.CheckboxSelectMultiple)
    depths = forms.TypedMultipleChoiceField(
        label=_("hidden layers"),
        coerce=int,
        choices=[(depth, str(depth)) for depth in range(1, len(HIDDEN_UNITS) + 1)],
        widget=forms.CheckboxSelectMultiple,
    )
    regularizers = forms.MultipleChoiceField(label=_("regularizers"), choices=list(REGULARIZER_LABELS.items()), widget=forms.CheckboxSelectMultiple)
    queue_runs = forms.BooleanField(label=_("queue a run of each experiment now"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The grid sets these itself. Its dropout rate applies to the "dropout"
        # regularizer only, and 0 there means ml.config.DEFAULT_DROPOUT_RATE.
        grid_fields = ("optimizer", "activation", "hidden_layers", "early_stopping")
        self.fields.update(hyperparameter_fields(exclude=grid_fields))

    def base_hyperparameters(self) -> dict:
        grid_names = {"name_prefix", "dataset", "optimizers", "activations", "depths", "regularizers", "queue_runs"}
        return {name: value for name, value in self.cleaned_data.items() if name not in grid_names}

    @property
    def size(self) -> int:
        data = self.cleaned_data
        return len(data["optimizers"]) * len(data["activations"]) * len(data["depths"]) * len(data["regularizers"])
