"""Write a file completely or not at all."""

from __future__ import annotations

import os
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
