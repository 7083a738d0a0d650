"""Every file deskctl writes goes through here: atomic and owner-only.

A file is written to a temporary name in its own directory, flushed to disk
(fsync) and renamed into place only when complete; any failure removes the
temporary file and leaves the old file exactly as it was. Files are created
0600 and the directories deskctl creates 0700, whatever the umask: stores,
backups, reports and attachments hold customers' data.

Used from every layer above ``domain`` (like ``clock`` and ``errors``).
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from deskctl.errors import BadInput, DeskctlError, StoreUnavailable

FILE_MODE = 0o600
DIR_MODE = 0o700
_CHUNK = 1 << 20
# A full or failing disk is the machine's fault, not the user's: exit 5 like a store down.
_DISK_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EROFS, errno.EFBIG}


def file_error(what: str, path: Path | str, exc: OSError) -> DeskctlError:
    """One line for a failed write: disk trouble is exit 5, a bad path exit 2."""
    reason = exc.strerror or str(exc)
    if exc.errno in _DISK_ERRNOS:
        return StoreUnavailable(f"{what}: cannot write {path}: {reason}; nothing was written")
    return BadInput(f"{what}: cannot write {path}: {reason}")


def private_dir(path: Path | str) -> Path:
    """Create ``path`` (and missing parents) as owner-only directories; existing ones
    are left as the user set them."""
    target = Path(path)
    missing = []
    probe = target
    while not probe.exists():
        missing.append(probe)
        if probe.parent == probe:
            break
        probe = probe.parent
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):  # a concurrent command made it
            folder.mkdir(mode=DIR_MODE)
            os.chmod(folder, DIR_MODE)  # mkdir's mode is filtered by the umask
    return target


def _temp_name(target: Path) -> Path:
    return target.with_name(f".{target.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")


def _open_private(path: Path) -> int:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    os.fchmod(fd, FILE_MODE)
    return fd


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not every file system lets a directory be opened
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def replacing(path: Path | str, *, what: str = "file") -> Iterator[Path]:
    """A temporary owner-only path next to ``path``; renamed onto it when the block
    ends without error, removed otherwise. For tools that write a path themselves
    (SQLite's backup, pg_dump)."""
    target = Path(path)
    tmp = _temp_name(target)
    try:
        os.close(_open_private(tmp))
    except OSError as exc:
        raise file_error(what, target, exc) from None
    try:
        yield tmp
        os.chmod(tmp, FILE_MODE)
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)
    except OSError as exc:
        raise file_error(what, target, exc) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    _fsync_dir(target.parent)


def write_bytes(path: Path | str, data: bytes, *, what: str = "file") -> int:
    """Write ``data`` to ``path`` atomically, owner-only; returns the byte count."""
    with replacing(path, what=what) as tmp:
        fd = os.open(tmp, os.O_WRONLY | os.O_TRUNC)
        try:
            _write_all(fd, data)
        finally:
            os.close(fd)
    return len(data)


def write_text(path: Path | str, text: str, *, what: str = "file") -> int:
    return write_bytes(path, text.encode("utf-8"), what=what)


def copy_stream(source: BinaryIO, path: Path | str, *, limit: int, what: str = "file") -> int:
    """Copy at most ``limit`` bytes from ``source`` into ``path`` (atomic, owner-only).

    A source longer than the limit is refused and nothing is left behind.
    """
    total = 0
    with replacing(path, what=what) as tmp:
        fd = os.open(tmp, os.O_WRONLY | os.O_TRUNC)
        try:
            while chunk := source.read(_CHUNK):
                total += len(chunk)
                if total > limit:
                    raise BadInput(f"{what}: larger than the limit of {limit} bytes")
                _write_all(fd, chunk)
        finally:
            os.close(fd)
    return total


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def create_private(path: Path | str) -> None:
    """Create an empty owner-only file if there is none (a new SQLite store: SQLite
    gives its -wal and -shm files the mode of the database file)."""
    target = Path(path)
    private_dir(target.parent)
    try:
        os.close(_open_private(target))
    except FileExistsError:
        return


def regular_file(path: Path | str, *, what: str, limit: int | None = None) -> int:
    """The size of ``path`` if it is a regular file within ``limit``; else one clear error.

    Devices, FIFOs and directories are refused before anything is opened for
    reading (``/dev/zero`` never ends, a FIFO blocks).
    """
    try:
        info = os.stat(path)
    except OSError as exc:
        raise BadInput(f"{what}: cannot read {path}: {exc.strerror or exc}") from None
    if stat.S_ISDIR(info.st_mode):
        raise BadInput(f"{what}: cannot read {path}: it is a directory")
    if not stat.S_ISREG(info.st_mode):
        raise BadInput(f"{what}: {path} is not a regular file")
    if limit is not None and info.st_size > limit:
        raise BadInput(
            f"{what}: {path} is {info.st_size} bytes, more than the limit of {limit} bytes"
        )
    return info.st_size


def read_text(path: Path | str, *, what: str, limit: int = 16_000_000,
              encoding: str = "utf-8") -> str:
    """A text file given by the user: a regular file (a FIFO would block, /dev/zero never
    ends), at most ``limit`` bytes, in ``encoding``."""
    regular_file(path, what=what, limit=limit)
    try:
        with open(path, encoding=encoding, newline="") as fh:
            return fh.read(limit + 1)
    except OSError as exc:
        raise BadInput(f"{what}: cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise BadInput(f"{what}: {path} is not UTF-8 text") from None
