from importlib import metadata

from ml.reproducibility import CODE_VERSION_ENV, code_version, host_name, library_versions


def test_library_versions_match_installed_packages():
    versions = library_versions()

    assert set(versions) == {"python", "tensorflow", "keras", "numpy", "pillow"}
    assert versions["numpy"] == metadata.version("numpy")
    assert versions["keras"] == metadata.version("keras")
    assert versions["tensorflow"] != "not installed"


def test_code_version_prefers_environment(monkeypatch):
    monkeypatch.setenv(CODE_VERSION_ENV, "release-2026.1")

    assert code_version() == "release-2026.1"


def test_code_version_outside_git_is_unknown(monkeypatch, tmp_path):
    monkeypatch.delenv(CODE_VERSION_ENV, raising=False)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))

    assert code_version(tmp_path) == "unknown"


def test_host_name_is_not_empty():
    assert host_name()
