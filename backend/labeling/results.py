"""Presentation of a labeled image: class display names, the label decision, messages."""

from collections.abc import Mapping, Sequence

from django.utils.formats import number_format
from django.utils.translation import get_language, gettext, gettext_noop

from backend.common.classes import class_display_name

NOT_SURE_MESSAGE = gettext_noop(
    "Not sure: the most likely class, %(class_name)s, has a confidence of %(confidence)s, "
    "not above the threshold of %(threshold)s. The image may show none of the classes the model knows."
)


def scored_class(class_key: str, confidence: float) -> dict:
    """Return a class of a result as the API shows it: key, Spanish and English names, confidence."""
    return {
        "key": class_key,
        "name_es": class_display_name(class_key, "es"),
        "name_en": class_display_name(class_key, "en"),
        "confidence": confidence,
    }


def label_for(predictions: Sequence[Mapping], *, threshold: float) -> str:
    """Return the top class key when its confidence is above ``threshold``, else "" (not sure).

    The comparison is strict, so a threshold of 0 always labels and 1 never does.
    """
    if not predictions:
        return ""
    top = predictions[0]
    return top["class_name"] if top["confidence"] > threshold else ""


def not_sure_reason(predictions: Sequence[Mapping], *, threshold: float) -> str:
    """Return the translated reason why an image got no label."""
    top = predictions[0]
    return gettext(NOT_SURE_MESSAGE) % {
        "class_name": class_display_name(top["class_name"], get_language() or "es"),
        "confidence": _percent(top["confidence"]),
        "threshold": _percent(threshold),
    }


def _percent(fraction: float) -> str:
    """Format a fraction as a percentage with one decimal, in the active language's number format."""
    return f"{number_format(100 * fraction, decimal_pos=1, use_l10n=True)} %"


def error_message(message_id: str, params: Mapping) -> str:
    """Translate a stored English message id and fill in its values."""
    return gettext(message_id) % dict(params)

