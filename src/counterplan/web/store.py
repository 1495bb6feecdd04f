"""Versions kept as zipped plan folders, and an in-process cache of what a
version is read into: its economy, its solved plan's tables and, at first
need, the library's :class:`Evaluator` that judges counter-plans against it.

A version never changes, so a cache entry never goes stale; HiGHS models are
not safe to share between threads, so each evaluator has its own lock.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import queue
import stat
import tempfile
import threading
import zipfile
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from counterplan.counter.evaluate import Evaluator
from counterplan.errors import CounterplanError, InvalidInput, Problem
from counterplan.io.folder import read_folder, write_folder
from counterplan.model import Economy
from counterplan.plan.result import Plan, write_plan

#: Most bytes a zip may unpack to (a guard against zip bombs).
MAX_UNPACKED = 512 * 1024 * 1024


def zip_folder(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(folder.rglob("*")):
            if file.is_file():
                archive.write(file, file.relative_to(folder).as_posix())
    return buffer.getvalue()


def unzip_to(data: bytes, folder: Path, name: str = "upload.zip") -> Path:
    """Unpack a zipped plan folder into ``folder``; the plan folder is the
    zip's root or its one top-level folder.  Raise :class:`InvalidInput` for
    what is not a safe zip."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, ValueError) as exc:
        raise InvalidInput([Problem(name, None, f"is not a zip file ({exc})",
                                    "zip the plan folder (economy.toml and its CSV tables)")]
                           ) from None
    if sum(m.file_size for m in members) > MAX_UNPACKED:
        raise InvalidInput([Problem(name, None, "unpacks to more than 512 MiB",
                                    "upload a smaller plan folder")])
    for member in members:
        target = (folder / member.filename).resolve()
        if not target.is_relative_to(folder.resolve()):
            raise InvalidInput([Problem(name, None, "has a path outside its folder",
                                        "zip only the plan folder", member.filename)])
        _check_regular(member, name)
    archive.extractall(folder)
    if (folder / "economy.toml").is_file():
        return folder
    inner = [p for p in folder.iterdir() if p.is_dir() and (p / "economy.toml").is_file()]
    if len(inner) == 1:
        return inner[0]
    raise InvalidInput([Problem(name, None, "has no economy.toml at its root or in one folder",
                                "zip the plan folder itself")])


def _check_regular(member: zipfile.ZipInfo, name: str) -> None:
    """Refuse a member that is neither a file nor a folder: a symbolic link
    (which zip -y stores) or a device, pipe or socket."""
    kind = stat.S_IFMT(member.external_attr >> 16)  # 0: made where files have no mode
    if kind in (0, stat.S_IFREG, stat.S_IFDIR):
        return
    what = "a symbolic link" if kind == stat.S_IFLNK else "neither a file nor a folder"
    raise InvalidInput([Problem(name, None, f"holds {what}, which a plan folder may not",
                                "zip the plan folder's files themselves (zip without -y)",
                                member.filename)])


def economy_from_zip(data: bytes, name: str = "upload.zip") -> Economy:
    with tempfile.TemporaryDirectory() as tmp:
        return read_folder(unzip_to(data, Path(tmp), name))


def pack(economy: Economy, plan: Plan) -> tuple[bytes, bytes]:
    """The zipped plan folder and zipped solved-plan folder of a version."""
    with tempfile.TemporaryDirectory() as tmp:
        write_folder(economy, Path(tmp) / "economy")
        write_plan(plan, Path(tmp) / "plan")
        return zip_folder(Path(tmp) / "economy"), zip_folder(Path(tmp) / "plan")


#: Evaluators held per version: HiGHS releases the GIL while it solves, so
#: as many counter-plans as there are cores can be judged at once.
JUDGES = max(1, min(4, os.cpu_count() or 1))


@dataclass
class Loaded:
    """A version read back: economy, solved-plan tables, summary, and its
    evaluators (made at first need, at most ``judges``; each HiGHS model
    serves one thread at a time)."""

    economy: Economy
    tables: dict[str, pd.DataFrame]
    summary: dict[str, Any]
    judges: int = JUDGES
    _idle: queue.LifoQueue[Evaluator] = field(default_factory=queue.LifoQueue)
    _made: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @contextmanager
    def evaluator(self) -> Iterator[Evaluator]:
        """An evaluator of this version for this thread alone, while in the block."""
        try:
            judge = self._idle.get_nowait()
        except queue.Empty:
            with self._lock:
                make = self._made < self.judges
                self._made += make
            if make:
                try:
                    judge = Evaluator(self.economy)
                except BaseException:
                    with self._lock:
                        self._made -= 1
                    raise
            else:
                judge = self._idle.get()
        try:
            yield judge
        finally:
            self._idle.put(judge)


def _plan_tables(data: bytes) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    tables: dict[str, pd.DataFrame] = {}
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        summary = json.loads(archive.read("summary.json"))
        for name in archive.namelist():
            if name.endswith(".csv"):
                with archive.open(name) as f:
                    tables[name.removesuffix(".csv")] = pd.read_csv(
                        f, dtype={"item": str, "technique": str, "period": str})
    return tables, summary


class VersionCache:
    """The most recently used versions, read once each.  Behind the version
    numbers of one database, what was read is shared in the process by the
    content of the version's two zips (:class:`_ByContent`): a database
    restored from an archive, or a second application in the same process
    (the test suite makes hundreds), reads a version another has read only
    once."""

    def __init__(self, size: int = 16):
        self.size = size
        self._entries: OrderedDict[int, Loaded] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, version_id: int, economy_zip: bytes | None = None,
            plan_zip: bytes | None = None) -> Loaded | None:
        """The version read, or None when it is not here and no zips are given
        (the caller then fetches them).  Threads asking for one version at
        once wait for a single read in :class:`_ByContent`."""
        with self._lock:
            if version_id in self._entries:
                self._entries.move_to_end(version_id)
                return self._entries[version_id]
        if economy_zip is None or plan_zip is None:
            return None
        loaded = _BY_CONTENT.get(economy_zip, plan_zip, f"version {version_id}")
        with self._lock:
            self._entries[version_id] = loaded
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return loaded


class _ByContent:
    """Versions read, keyed by the SHA-256 of their two zips: content that
    never changes, so an entry never goes stale; the most recent ``size``.
    One thread reads a version; the others asking for it wait for that read."""

    def __init__(self, size: int = 16):
        self.size = size
        self._entries: OrderedDict[bytes, Loaded] = OrderedDict()
        self._lock = threading.Lock()
        self._loading: dict[bytes, threading.Lock] = {}

    def get(self, economy_zip: bytes, plan_zip: bytes, name: str) -> Loaded:
        key = hashlib.sha256(economy_zip).digest() + hashlib.sha256(plan_zip).digest()
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
            loading = self._loading.setdefault(key, threading.Lock())
        with loading:
            with self._lock:
                if key in self._entries:
                    return self._entries[key]
            try:
                economy = economy_from_zip(economy_zip, name)
            except CounterplanError as exc:  # stored versions were valid when written
                raise RuntimeError(f"stored {name} cannot be read: {exc}") from exc
            tables, summary = _plan_tables(plan_zip)
            loaded = Loaded(economy, tables, summary)
            with self._lock:
                self._entries[key] = loaded
                self._loading.pop(key, None)
                while len(self._entries) > self.size:
                    self._entries.popitem(last=False)
            return loaded


_BY_CONTENT = _ByContent()
