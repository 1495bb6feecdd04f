"""The in-process store of versions: evaluators shared between request
threads, one thread per evaluator at a time; a version read once per
process, whichever database (or copy, or restored archive) it comes from,
and only the same content shared."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from counterplan import examples
from counterplan.io.folder import read_folder
from counterplan.plan import solve
from counterplan.web import store
from counterplan.web.services.versions import economy_of_example
from counterplan.web.store import Loaded


def test_each_thread_gets_an_evaluator_of_its_own() -> None:
    got = Loaded(economy_of_example("kantorovich-1939"), {}, {}, judges=2)
    inside: list[int] = []
    most = [0]
    lock = threading.Lock()
    seen: set[int] = set()

    def work() -> None:
        with got.evaluator() as judge:
            with lock:
                inside.append(id(judge))
                assert inside.count(id(judge)) == 1  # nobody else holds it
                most[0] = max(most[0], len(inside))
                seen.add(id(judge))
            time.sleep(0.05)
            with lock:
                inside.remove(id(judge))

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert most[0] == 2  # two judged at once, never more
    assert len(seen) == 2  # and no more than two models were made


def test_a_failed_evaluator_frees_its_place() -> None:
    got = Loaded(economy_of_example("kantorovich-1939"), {}, {}, judges=1)
    got.economy = None  # type: ignore[assignment]  # the Evaluator cannot be made
    with pytest.raises(AttributeError), got.evaluator():
        pass
    got.economy = economy_of_example("kantorovich-1939")
    objectives: list[float] = []

    def again() -> None:
        with got.evaluator() as judge:
            objectives.append(judge.objective)

    thread = threading.Thread(target=again, daemon=True)
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive(), "waited for an evaluator that was never made"
    assert objectives == [pytest.approx(86 + 2 / 3)]  # Kantorovich's 86 2/3 sets


@pytest.fixture
def zips(tmp_path: Path) -> tuple[bytes, bytes, bytes]:
    """Kantorovich's plan as the two zips of a version, and a plan zip of other content."""
    folder = examples.copy_example("kantorovich-1939", tmp_path / "plan")
    economy = read_folder(folder)
    economy_zip, plan_zip = store.pack(economy, solve(economy))
    other = store.pack(economy, solve(economy, "harmony"))[1]
    assert other != plan_zip
    return economy_zip, plan_zip, other


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """An empty process-wide cache, and the names of the versions read from zip."""
    monkeypatch.setattr(store, "_BY_CONTENT", store._ByContent())
    names: list[str] = []
    real = store.economy_from_zip

    def counted(data: bytes, name: str = "upload.zip") -> Any:
        names.append(name)
        return real(data, name)

    monkeypatch.setattr(store, "economy_from_zip", counted)
    return names


def test_two_databases_share_what_one_has_read(zips: tuple[bytes, bytes, bytes],
                                               reads: list[str]) -> None:
    economy_zip, plan_zip, other = zips
    first, second = store.VersionCache(), store.VersionCache()
    a = first.get(3, economy_zip, plan_zip)
    b = second.get(8, economy_zip, plan_zip)  # the same content under another number
    assert a is b and reads == ["version 3"]
    assert second.get(8) is a  # and under its own number from then on
    c = second.get(9, economy_zip, other)  # other content is read for itself
    assert c is not a and reads == ["version 3", "version 9"]
    assert c.summary != a.summary


def test_threads_asking_at_once_read_a_version_once(zips: tuple[bytes, bytes, bytes],
                                                    reads: list[str]) -> None:
    economy_zip, plan_zip, _ = zips
    caches = [store.VersionCache() for _ in range(8)]
    got: list[Any] = [None] * 8
    start = threading.Barrier(8)

    def ask(k: int) -> None:
        start.wait()
        got[k] = caches[k].get(k, economy_zip, plan_zip)

    threads = [threading.Thread(target=ask, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(reads) == 1 and all(g is got[0] for g in got)
