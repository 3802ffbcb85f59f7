"""Facts stored with each run so that it can be reproduced: library versions, code version, host."""

from __future__ import annotations

import logging
import os
import platform
import socket
import subprocess
from importlib import metadata
from pathlib import Path

logger = logging.getLogger(__name__)

CODE_VERSION_ENV = "ETIQUETADO_CODE_VERSION"
GIT_TIMEOUT_SECONDS = 5

# Distribution names to try for each library, so that versions are read from package
# metadata without importing TensorFlow (which is slow and not fork-safe).
_DISTRIBUTIONS = {
    "tensorflow": ("tensorflow", "tensorflow-cpu", "tensorflow-gpu", "tf-nightly"),
    "keras": ("keras",),
    "numpy": ("numpy",),
    "pillow": ("pillow",),
}


def _distribution_version(names: tuple[str, ...]) -> str:
    for name in names:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return "not installed"


def library_versions() -> dict[str, str]:
    """Return the versions of Python, TensorFlow, Keras, numpy and Pillow, from installed package metadata."""
    versions = {"python": platform.python_version()}
    for library, distributions in _DISTRIBUTIONS.items():
        versions[library] = _distribution_version(distributions)
    return versions


def _run_git(repo_root: Path, *arguments: str) -> str:
    completed = subprocess.run(
        ["git", *arguments],
        cwd=repo_root,
        capture_output=True,
        text=True,
        timeout=GIT_TIMEOUT_SECONDS,
        check=True,
    )
    return completed.stdout.strip()


def code_version(repo_root: Path | None = None) -> str:
    """Return the code version: $ETIQUETADO_CODE_VERSION, else the short git commit, else "unknown".

    The git commit gets a "-dirty" suffix when the working tree has uncommitted changes
    or untracked files. Deployments without a .git folder should set the variable.
    """
    from_environment = os.environ.get(CODE_VERSION_ENV, "").strip()
    if from_environment:
        return from_environment

    root = repo_root if repo_root is not None else Path(__file__).resolve().parents[1]
    try:
        commit = _run_git(root, "rev-parse", "--short", "HEAD")
        changes = _run_git(root, "status", "--porcelain")
    except (OSError, subprocess.SubprocessError) as exc:
        logger.debug("No git version for %s: %s", root, exc)
        return "unknown"
    return f"{commit}-dirty" if changes else commit


def host_name() -> str:
    """Return this machine's host name."""
    return socket.gethostname()
