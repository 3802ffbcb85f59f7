from ml.errors import DatasetError, MLError, TooFewClassesError, UnsafeArchiveEntryError, gettext_noop


def test_gettext_noop_returns_message():
    assert gettext_noop("Some %(name)s") == "Some %(name)s"


def test_message_and_params_are_kept_apart():
    error = UnsafeArchiveEntryError(name="../evil.jpg")

    assert "%(name)s" in error.message
    assert error.params == {"name": "../evil.jpg"}
    assert "../evil.jpg" in str(error)
    assert "%(" not in str(error)


def test_subclasses_share_the_base():
    error = TooFewClassesError(count=1)

    assert isinstance(error, DatasetError)
    assert isinstance(error, MLError)
    assert str(error).startswith("The source contains 1 class folder(s)")
