"""Train the fast_cnn preset on CIFAR-10 and print its test accuracy and training time.

Goal: at least 0.91 accuracy on the 5,000 test images, trained in under 20 minutes on
2 CPU cores. Run it on a quiet machine; other processes on the cores change the time.

    .venv/bin/python bench/fast_cnn.py [--archive PATH] [--epochs N] [--train-subset N]
                                       [--precision auto|float32] [--set NAME=VALUE ...]

--train-subset and --epochs give short proxy runs; --precision float32 turns off
bfloat16 to compare; --set changes any other hyperparameter of the preset (VALUE
as JSON, for example --set learning_rate=0.8). It imports the archive into a new temporary folder, trains with
``ml.training.train_model`` (the path a worker takes, without the database), and prints
one line per epoch and a summary table.
"""

import argparse
import dataclasses
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
TARGET_ACCURACY = 0.91
TARGET_SECONDS = 20 * 60
SUBSET_SEED = 0


def _parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--archive", type=Path, default=REPO_ROOT.parent / "shared" / "datasets" / "cifar10-jpeg.tar.gz",
                        help="CIFAR-10 archive (default: the shared JPEG archive beside the repository).")
    parser.add_argument("--epochs", type=int, default=None, help="Epochs (default: the preset's).")
    parser.add_argument("--train-subset", type=int, default=None, help="Train on only this many training images.")
    parser.add_argument("--precision", choices=("auto", "float32"), default="auto",
                        help="auto: bfloat16 where the CPU supports it; float32: never.")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="Hyperparameter to change, VALUE as JSON (repeatable).")
    return parser.parse_args()


def main() -> int:
    arguments = _parse_arguments()
    sys.path.insert(0, str(REPO_ROOT))
    from ml.config import FastCNNConfig, family_config_from_dict
    from ml.datasets import import_dataset, load_arrays
    from ml.families import cpu_supports_bf16
    from ml.training import train_model

    work = Path(tempfile.mkdtemp(prefix="etiquetado-bench-fast-cnn-"))
    started = time.perf_counter()
    arrays = load_arrays(import_dataset(arguments.archive, work / "dataset").path)
    import_seconds = time.perf_counter() - started
    if arguments.train_subset:
        # A seeded random subset: the imported arrays are sorted by class.
        chosen = np.sort(np.random.default_rng(SUBSET_SEED).permutation(len(arrays.y_train))[: arguments.train_subset])
        arrays = dataclasses.replace(arrays, x_train=arrays.x_train[chosen], y_train=arrays.y_train[chosen])

    config = FastCNNConfig()
    overrides = {"mixed_precision": arguments.precision == "auto"}
    if arguments.epochs:
        overrides["epochs"] = arguments.epochs
    for assignment in arguments.set:
        name, _, text = assignment.partition("=")
        overrides[name] = json.loads(text)
    config = family_config_from_dict("fast_cnn", {**dataclasses.asdict(config), **overrides})

    def report(epoch) -> None:
        print(f"epoch {epoch.epoch:3d}  accuracy {epoch.accuracy:.4f}  val_accuracy {epoch.val_accuracy:.4f}  "
              f"{epoch.seconds:6.1f} s", flush=True)

    started = time.perf_counter()
    result = train_model(config, arrays, work_dir=work / "run", on_epoch_end=report)
    wall_seconds = time.perf_counter() - started

    images = result.train_examples * result.epochs_run
    print()
    print("| figure | value |")
    print("| --- | --- |")
    print(f"| config | {dataclasses.asdict(config)} |")
    print(f"| CPU bfloat16 | {cpu_supports_bf16()} |")
    print(f"| import | {len(arrays.y_train) + len(arrays.y_test)} images in {import_seconds:.1f} s |")
    print(f"| training images x epochs | {result.train_examples} x {result.epochs_run} |")
    print(f"| training seconds (epochs) | {result.seconds:.0f} |")
    print(f"| wall seconds (with test evaluation and saving) | {wall_seconds:.0f} |")
    print(f"| throughput | {images / result.seconds:.0f} images/s |")
    print(f"| test accuracy ({len(arrays.y_test)} images, with test-time augmentation) | {result.test_accuracy:.4f} |")
    print(f"| saved model (for bench/label_throughput.py --model-dir) | {result.model_dir} |")
    print(f"| goal | accuracy >= {TARGET_ACCURACY} in < {TARGET_SECONDS} s: "
          f"{'met' if result.test_accuracy >= TARGET_ACCURACY and wall_seconds < TARGET_SECONDS else 'not met'} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
