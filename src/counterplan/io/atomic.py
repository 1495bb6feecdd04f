"""Write a file, or the files of a folder, completely or not at all.

Light on purpose (no numpy or pandas): the command line imports it early."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from counterplan.errors import CounterplanError


@contextmanager
def staged_file(path: Path) -> Iterator[Path]:
    """Yield a temporary file name beside ``path``; on success it replaces
    ``path``, on failure it is removed and ``path`` is untouched."""
    path = Path(path)
    if path.is_dir():
        raise CounterplanError(f"{path} is a folder; give a file name such as {path}/values.csv")
    try:
        path.absolute().parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{path.name}-", suffix=path.suffix,
                                    dir=path.absolute().parent)
    except OSError as exc:
        raise CounterplanError(f"cannot write {path}: {exc.strerror}") from None
    os.close(fd)
    tmp = Path(name)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # as an ordinary new file, not mkstemp's 0600
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@contextmanager
def staged_folder(path: Path, stale: frozenset[str] = frozenset()) -> Iterator[Path]:
    """Yield a temporary folder beside ``path``; on success its files replace
    those of ``path`` (created if needed), and the files named in ``stale``
    that were not written are removed (a table left in the other format);
    on failure nothing changes."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise CounterplanError(f"{path} exists and is not a folder; choose another output")
    parent = path.absolute().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}-", dir=parent))
    except OSError as exc:
        raise CounterplanError(f"cannot write to {parent}: {exc.strerror}") from None
    try:
        yield tmp
        path.mkdir(exist_ok=True)
        written = set()
        for file in tmp.iterdir():
            if (path / file.name).is_dir():
                shutil.rmtree(path / file.name)
            os.replace(file, path / file.name)
            written.add(file.name)
        for name in stale - written:
            (path / name).unlink(missing_ok=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
