"""The ml package must stay importable without TensorFlow, Keras, Django or Celery."""

import json
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

LIGHT_MODULES = ("ml", "ml.datasets", "ml.config", "ml.errors", "ml.training", "ml.inference", "ml.models",
                 "ml.reproducibility", "ml.families", "ml.pipeline", "ml.evaluation")
HEAVY_MODULES = ("tensorflow", "keras", "django", "celery")


def test_ml_import_loads_no_heavy_libraries():
    script = (
        "import importlib, json, sys\n"
        f"for name in {LIGHT_MODULES!r}:\n"
        "    importlib.import_module(name)\n"
        f"print(json.dumps(sorted(name for name in {HEAVY_MODULES!r} if name in sys.modules)))\n"
    )
    completed = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True,
                               timeout=120, check=True)

    loaded = json.loads(completed.stdout.strip().splitlines()[-1])
    assert loaded == []
