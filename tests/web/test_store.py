"""The in-process store of versions: evaluators shared between request
threads, one thread per evaluator at a time."""

from __future__ import annotations

import threading
import time

import pytest

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
