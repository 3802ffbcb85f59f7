"""Read the files of a dataset source (folder, zip or tar archive) without extracting it.

Every entry is checked before anything is read: absolute paths, ``..`` components,
symbolic and hard links, and device or FIFO entries raise UnsafeArchiveEntryError.
Archive members are read into memory one at a time, never written to disk.
"""

from __future__ import annotations

import logging
import os
import re
import stat
import tarfile
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ml.errors import ArchiveCorruptError, SourceNotFoundError, UnsafeArchiveEntryError, UnsupportedSourceError

logger = logging.getLogger(__name__)

ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz")

# Folders that macOS adds to archives. They contain file metadata, not dataset images.
IGNORED_FOLDER_NAMES = frozenset({"__MACOSX"})

_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:")
_ZIP_UNIX_SYSTEM = 3

# Errors that tarfile, gzip, zipfile and zlib raise on truncated or malformed input.
_ARCHIVE_READ_ERRORS = (tarfile.TarError, zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError)


@dataclass(frozen=True)
class Entry:
    """A regular file inside a source."""

    parts: tuple[str, ...]
    """Path components relative to the source root, without '.' or empty components."""
    name: str
    """The path as stored in the source, for messages."""
    order: int
    """Position in the source, so that archives are read front to back."""


def is_hidden(entry: Entry) -> bool:
    """Return whether any component is a hidden name (.DS_Store) or an ignored folder (__MACOSX)."""
    return any(part.startswith(".") or part in IGNORED_FOLDER_NAMES for part in entry.parts)


def split_entry_name(name: str) -> tuple[str, ...]:
    """Split an archive member name into components, raising UnsafeArchiveEntryError if it escapes the root."""
    # Zip files made on Windows may use backslashes, so they count as separators here.
    normalized = name.replace("\\", "/")
    if normalized.startswith("/") or _WINDOWS_DRIVE.match(normalized):
        raise UnsafeArchiveEntryError(name=name)

    parts = tuple(part for part in normalized.split("/") if part not in ("", "."))
    if ".." in parts:
        raise UnsafeArchiveEntryError(name=name)
    return parts


class Source:
    """The regular files of a source and a way to read them."""

    def __init__(self, path: Path, entries: list[Entry]) -> None:
        self.path = path
        self.entries = entries

    def read(self, entries: Sequence[Entry]) -> Iterator[tuple[Entry, bytes]]:
        """Yield ``(entry, content)`` for each of ``entries``, in storage order."""
        raise NotImplementedError


class _FolderSource(Source):
    def read(self, entries: Sequence[Entry]) -> Iterator[tuple[Entry, bytes]]:
        for entry in sorted(entries, key=lambda item: item.order):
            yield entry, self.path.joinpath(*entry.parts).read_bytes()


class _ArchiveSource(Source):
    """A tar or zip archive: members are read in storage order, and read errors mean a corrupt archive."""

    def __init__(self, path: Path, archive: tarfile.TarFile | zipfile.ZipFile,
                 members: dict[int, tarfile.TarInfo | zipfile.ZipInfo], entries: list[Entry]) -> None:
        super().__init__(path, entries)
        self._archive = archive
        self._members = members

    def _read_member(self, member) -> bytes:
        raise NotImplementedError

    def read(self, entries: Sequence[Entry]) -> Iterator[tuple[Entry, bytes]]:
        # Reading in member order keeps a compressed tar stream moving forward only.
        for entry in sorted(entries, key=lambda item: item.order):
            try:
                content = self._read_member(self._members[entry.order])
            except _ARCHIVE_READ_ERRORS as exc:
                raise ArchiveCorruptError(path=self.path.name, reason=str(exc) or type(exc).__name__) from exc
            yield entry, content


class _TarSource(_ArchiveSource):
    def _read_member(self, member: tarfile.TarInfo) -> bytes:
        return self._archive.extractfile(member).read()


class _ZipSource(_ArchiveSource):
    def _read_member(self, member: zipfile.ZipInfo) -> bytes:
        return self._archive.read(member)


def _has_archive_suffix(path: Path) -> bool:
    return path.name.lower().endswith(ARCHIVE_SUFFIXES)


@contextmanager
def open_source(path: Path) -> Iterator[Source]:
    """Open a folder, zip or tar archive (any compression tarfile reads) and list its files.

    The kind is found from the content, so a tar archive with an unusual name still opens.
    Raises SourceNotFoundError, UnsupportedSourceError, ArchiveCorruptError or
    UnsafeArchiveEntryError.
    """
    if not path.exists():
        raise SourceNotFoundError(path=str(path))

    if path.is_dir():
        yield _open_folder(path)
        return

    if not path.is_file():
        raise UnsupportedSourceError(path=str(path))

    if zipfile.is_zipfile(path):
        with _open_zip(path) as source:
            yield source
        return

    if _is_tar(path):
        with _open_tar(path) as source:
            yield source
        return

    if _has_archive_suffix(path):
        raise ArchiveCorruptError(path=path.name, reason="not a zip or tar archive")
    raise UnsupportedSourceError(path=str(path))


def _is_tar(path: Path) -> bool:
    try:
        return tarfile.is_tarfile(path)
    except _ARCHIVE_READ_ERRORS:
        # A truncated compressed stream can fail here. A file whose name promises a
        # tar archive then gets ArchiveCorruptError from the caller.
        return False


def _open_folder(root: Path) -> Source:
    entries: list[Entry] = []
    for directory, folder_names, file_names in os.walk(root, followlinks=False):
        directory_path = Path(directory)
        # Hidden folders (.git, .ipynb_checkpoints) are skipped without being walked.
        folder_names[:] = sorted(name for name in folder_names
                                 if not name.startswith(".") and name not in IGNORED_FOLDER_NAMES)
        for name in folder_names:
            if (directory_path / name).is_symlink():
                raise UnsafeArchiveEntryError(name=str((directory_path / name).relative_to(root)))

        for name in sorted(file_names):
            file_path = directory_path / name
            relative = file_path.relative_to(root)
            mode = file_path.lstat().st_mode
            if not stat.S_ISREG(mode):
                raise UnsafeArchiveEntryError(name=str(relative))
            entries.append(Entry(parts=relative.parts, name=str(relative), order=len(entries)))
    return _FolderSource(root, entries)


@contextmanager
def _open_tar(path: Path) -> Iterator[Source]:
    try:
        archive = tarfile.open(path, mode="r:*")
    except _ARCHIVE_READ_ERRORS as exc:
        raise ArchiveCorruptError(path=path.name, reason=str(exc) or type(exc).__name__) from exc

    with archive:
        try:
            # getmembers() reads the whole archive once, which finds truncation early.
            members = archive.getmembers()
        except _ARCHIVE_READ_ERRORS as exc:
            raise ArchiveCorruptError(path=path.name, reason=str(exc) or type(exc).__name__) from exc

        entries: list[Entry] = []
        members_by_order: dict[int, tarfile.TarInfo] = {}
        for member in members:
            parts = split_entry_name(member.name)
            if member.isdir():
                continue
            if not member.isfile():
                # Symbolic and hard links, character and block devices, FIFOs.
                raise UnsafeArchiveEntryError(name=member.name)
            order = len(entries)
            members_by_order[order] = member
            entries.append(Entry(parts=parts, name=member.name, order=order))

        yield _TarSource(path, archive, members_by_order, entries)


@contextmanager
def _open_zip(path: Path) -> Iterator[Source]:
    try:
        archive = zipfile.ZipFile(path)
    except _ARCHIVE_READ_ERRORS as exc:
        raise ArchiveCorruptError(path=path.name, reason=str(exc) or type(exc).__name__) from exc

    with archive:
        entries: list[Entry] = []
        members_by_order: dict[int, zipfile.ZipInfo] = {}
        for info in archive.infolist():
            parts = split_entry_name(info.filename)
            # Zip files made on Unix (create_system 3) store st_mode in the high 16 bits.
            # Python's writestr leaves the file type bits at 0, which means a regular file.
            file_type = stat.S_IFMT(info.external_attr >> 16) if info.create_system == _ZIP_UNIX_SYSTEM else 0
            if file_type not in (0, stat.S_IFREG, stat.S_IFDIR):
                raise UnsafeArchiveEntryError(name=info.filename)
            if info.is_dir():
                continue
            order = len(entries)
            members_by_order[order] = info
            entries.append(Entry(parts=parts, name=info.filename, order=order))

        yield _ZipSource(path, archive, members_by_order, entries)
