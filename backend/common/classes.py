"""Display names of class keys: keys stay English in data and API, people read Spanish or English."""

# Display names of the CIFAR-10 class keys. Keys stay English in data and API; any
# other key is shown as itself.
CLASS_DISPLAY_NAMES = {
    "airplane": {"es": "avión", "en": "airplane"},
    "automobile": {"es": "automóvil", "en": "automobile"},
    "bird": {"es": "pájaro", "en": "bird"},
    "cat": {"es": "gato", "en": "cat"},
    "deer": {"es": "ciervo", "en": "deer"},
    "dog": {"es": "perro", "en": "dog"},
    "frog": {"es": "rana", "en": "frog"},
    "horse": {"es": "caballo", "en": "horse"},
    "ship": {"es": "barco", "en": "ship"},
    "truck": {"es": "camión", "en": "truck"},
}


def class_display_name(class_key: str, language: str) -> str:
    """Return the class's name in ``language`` ("es" or "en"), or the key itself when it has none."""
    names = CLASS_DISPLAY_NAMES.get(class_key)
    if names is None:
        return class_key
    return names["en"] if language.startswith("en") else names["es"]
