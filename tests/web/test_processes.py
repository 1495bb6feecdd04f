"""`counterplan serve --processes N`: several server processes on one
database (a SQLite file or PostgreSQL), each answering for sessions the
others opened and writing beside the others; refused on a SQLite database in
memory, which each process would have to itself."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from test_cli import run

from livehttp import LiveUser, at_once
from liveserver import free_port
from webtests import new_database, postgres_server


def _children(pid: int) -> list[int]:
    return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def _cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:"])
def test_several_processes_need_a_database_they_share(url: str) -> None:
    done = run("serve", "--db", url, "--port", str(free_port()), "--processes", "2")
    assert done.returncode == 1
    assert "--processes 2 needs a database in a file or on a server" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.fixture
def url(backend: str, tmp_path: Path) -> Iterator[str]:
    """A new, empty database on ``backend``, dropped after the test."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'plan.db'}"
        return
    server = postgres_server()
    if server is None:
        pytest.skip("no PostgreSQL server: set COUNTERPLAN_TEST_POSTGRES")
    with new_database(server, f"counterplan_test_{uuid.uuid4().hex[:12]}") as made:
        yield made


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_two_processes_share_sessions_and_the_work(url: str, tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "counterplan.cli", "serve", "--demo",
                                 "--db", url, "--port", str(port),
                                 "--processes", "2"], stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 180
        while True:
            assert proc.poll() is None, log.read_text()
            try:
                with urllib.request.urlopen(base + "/login", timeout=5) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError):
                pass
            assert time.monotonic() < deadline, "the server did not start in 3 minutes"
            time.sleep(0.5)
        workers = _children(proc.pid)
        serving = [pid for pid in workers
                   if "multiprocessing.spawn" in Path(f"/proc/{pid}/cmdline").read_text()]
        assert len(serving) == 2, workers
        before = {pid: _cpu(pid) for pid in serving}
        delegate = LiveUser(base, "agro-delegate")  # one session, opened in one process
        answers = at_once([lambda: delegate.get("/api/plans/brazil") for _ in range(40)])
        assert [status for status, _ in answers] == [200] * 40
        assert all(body["plan"] == "brazil" for _, body in answers)
        worked = {pid: _cpu(pid) - before[pid] for pid in serving}
        assert all(seconds > 0 for seconds in worked.values()), worked
        # writes from both processes at once: every proposal judged and kept
        unit = "/api/plans/brazil/units/agro"
        planned = next(r for r in delegate.get(unit)[1]["activity"] if (r["level"] or 0) > 0)
        pledges = [{"kind": "pledge", "technique": planned["technique"],
                    "period": planned["period"], "value": str(planned["level"] * 1.001),
                    "note": f"at once {k}"} for k in range(24)]
        made = at_once([lambda body=body: delegate.post(f"{unit}/proposals", body)
                        for body in pledges])
        assert [status for status, _ in made] == [201] * 24, made
        kept = delegate.get(f"{unit}/proposals")[1]
        assert sorted(p["note"] for p in kept if p["note"].startswith("at once")) == \
            sorted(b["note"] for b in pledges)
    finally:
        proc.terminate()
        proc.wait(timeout=60)
