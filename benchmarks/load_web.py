"""Load script: concurrent delegates submitting on the web application.

Starts ``counterplan serve --demo`` on 127.0.0.1 (a free port, a fresh SQLite
file in a temporary folder) unless --url names a server already running on
this machine, adds ``--clients`` delegate accounts spread over the Brazil
example's twelve units, then runs one asyncio client per delegate, each
logged in, for ``--seconds`` (and at most ``--max-requests`` requests in all).
Each client loops: propose a counter-plan on its unit's own techniques (a
third each of pledges, better norms and more capacity, values drawn from a
seeded generator), submit it, report an activity, waiting ``--think`` seconds
(0.5–1.5 × that, drawn) before each action.  Reports are of whole periods, or
with ``--dated`` dated day after day through the first period and cumulative,
so that each one runs the plan cycle's monitor over its unit's reports.

Afterwards it reads the database directly: every accepted proposal (201) and
report (201) must be there and every accepted submission (200) in state
'submitted'. It prints throughput, the median and 95th-percentile latency
overall and per action, the statuses of what failed, writes everything to
benchmarks/results/load_web-<time>.json and exits 1 if anything accepted is
missing. Not a test: run it by hand,

    .venv/bin/python benchmarks/load_web.py --clients 50 --seconds 60 --think 0
    .venv/bin/python benchmarks/load_web.py --clients 50 --seconds 60 --think 1

Latency is measured by the clients, from sending a request to reading its
whole response; the clients share the machine with the server.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx2 as httpx
import numpy as np
from sqlalchemy import func, select

from counterplan.cycle.reports import period_dates
from counterplan.model import Economy
from counterplan.web import db as database
from counterplan.web import demo
from counterplan.web.auth import add_user
from counterplan.web.models import Proposal, Report, User
from counterplan.web.services.versions import economy_of_example, unit_part

RESULTS = Path(__file__).parent / "results"
LOCAL_HOSTS = ("127.0.0.1", "localhost")
PLAN = f"/api/plans/{demo.PLAN}"
ACTIONS = ("propose", "submit", "report")


@dataclass(frozen=True)
class Options:
    clients: int = 50
    seconds: float = 60.0
    max_requests: int = 20_000
    think: float = 0.0
    db: str | None = None
    url: str | None = None
    seed: int = 1
    timeout: float = 30.0
    workers: int | None = None
    processes: int = 1
    dated: bool = False


@dataclass(frozen=True)
class Record:
    """One request: what, its status (or the exception's name), when it
    started (seconds after the clients started) and took, and the id of what
    it created or submitted when accepted (and, for a proposal, its kind and
    verdict)."""

    action: str
    status: str
    start: float
    latency: float
    id: int | None = None
    verdict: str = ""

    @property
    def accepted(self) -> bool:
        return self.status in ("200", "201")


@dataclass
class UnitWork:
    """What one unit's delegates propose and report on."""

    unit: str
    techniques: list[str]
    periods: list[str]
    planned: dict[tuple[str, str], float]
    inputs: list[tuple[str, str, float]]  # technique, item, amount (< 0)
    stocks: list[tuple[str, float]]  # the unit's capital stocks, initial level


@dataclass(frozen=True)
class Timing:
    """The timed phase: its seconds, the CPU seconds the clients and (when
    this script started it) the server spent in it, and the machine's load
    average (1 minute) before and after."""

    seconds: float
    client_cpu_s: float
    server_cpu_s: float | None
    load_before: float
    load_after: float


@dataclass
class Budget:
    """The bound shared by all clients: a deadline and a count of requests."""

    deadline: float
    left: int
    started: float = field(default_factory=time.perf_counter)

    def take(self) -> bool:
        if self.left <= 0 or time.perf_counter() >= self.deadline:
            return False
        self.left -= 1
        return True


# -- the server ---------------------------------------------------------------------

def check_local(url: str) -> str:
    host = urlsplit(url).hostname
    if host not in LOCAL_HOSTS:
        sys.exit(f"--url {url!r}: this script loads only a server on this machine "
                 f"({' or '.join(LOCAL_HOSTS)})")
    return url.rstrip("/")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(db_url: str, port: int, workers: int | None, processes: int, log: Path
                 ) -> subprocess.Popen:
    command = [sys.executable, "-m", "counterplan.cli", "serve", "--demo", "--db", db_url,
               "--host", "127.0.0.1", "--port", str(port), "--processes", str(processes)]
    if workers is not None:
        command += ["--workers", str(workers)]
    with log.open("wb") as out:
        return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def cpu_seconds(pid: int | None) -> float | None:
    """User and system CPU seconds of process ``pid``, its threads and the
    processes it started (the server processes of ``--processes``; Linux)."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return None
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return own + sum(cpu_seconds(int(child)) or 0.0 for child in children)


def wait_ready(url: str, proc: subprocess.Popen | None, log: Path | None,
               limit: float = 120.0) -> None:
    """Poll the server until it answers (any HTTP status) or ``limit`` passes."""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if proc is not None and proc.poll() is not None:
            shown = log.read_text(errors="replace")[-2000:] if log else ""
            sys.exit(f"the server stopped with status {proc.returncode}:\n{shown}")
        with contextlib.suppress(httpx.HTTPError):
            httpx.get(f"{url}/api/me", timeout=2.0)
            return
        time.sleep(0.3)
    sys.exit(f"the server at {url} did not answer within {limit:.0f} s")


# -- accounts and the workload --------------------------------------------------------

def delegates(units: list[str], count: int) -> dict[str, str]:
    """``count`` load-test delegates, name → unit, round-robin over the units."""
    return {f"load-{k:03d}-{units[k % len(units)]}": units[k % len(units)]
            for k in range(count)}


def add_accounts(db_url: str, names: list[str]) -> None:
    """Add the accounts that are missing, through the library, on the server's database."""
    engine = database.connect(db_url)
    try:
        with database.transaction(database.sessions(engine)) as db:
            have = set(db.scalars(select(User.name).where(User.name.in_(names))))
            for name in names:
                if name not in have:
                    add_user(db, name, demo.PASSWORD)
    finally:
        engine.dispose()


async def log_in(client: httpx.AsyncClient, name: str) -> None:
    response = await client.post("/api/login", json={"name": name, "password": demo.PASSWORD})
    response.raise_for_status()
    client.headers["X-CSRF-Token"] = response.json()["csrf"]


async def grant(url: str, accounts: dict[str, str]) -> None:
    """The office makes each account a delegate of its unit."""
    async with httpx.AsyncClient(base_url=url, timeout=60.0) as office:
        await log_in(office, "office")
        for name, unit in accounts.items():
            response = await office.post(f"{PLAN}/members",
                                         json={"user": name, "role": "delegate", "unit": unit})
            response.raise_for_status()


def unit_work(economy: Economy, view: dict[str, Any]) -> UnitWork:
    """The techniques, planned activity, input norms and capital stocks of
    the unit whose page (GET /api/plans/…/units/{unit}) is ``view``."""
    unit = str(view["unit"])
    mine = unit_part(economy, unit)
    techniques = [str(t) for t in economy.techniques.index[mine]]
    f = economy.flows
    items = economy.items.index
    rows = np.flatnonzero(np.isin(f.technique, mine) & (f.amount < 0))
    inputs = [(str(economy.techniques.index[f.technique[n]]), str(items[f.item[n]]),
               float(f.amount[n])) for n in rows]
    start = economy.availability_array()[:, 0]
    stocks = [(str(items[i]), float(start[i])) for i in economy.stocks
              if str(items[i]).removeprefix("capital/") in techniques and start[i] > 0]
    planned = {(str(r["technique"]), str(r["period"])): float(r["level"] or 0.0)
               for r in view["activity"]}
    return UnitWork(unit, techniques, [str(p) for p in view["periods"]], planned, inputs,
                    stocks)


async def workloads(url: str, economy: Economy, accounts: dict[str, str]
                    ) -> dict[str, UnitWork]:
    """Each unit's workload, its planned activity read through the API by one of its delegates."""
    first = {unit: name for name, unit in reversed(accounts.items())}
    out = {}
    for unit, name in first.items():
        async with httpx.AsyncClient(base_url=url, timeout=60.0) as client:
            await log_in(client, name)
            response = await client.get(f"{PLAN}/units/{unit}")
            response.raise_for_status()
            out[unit] = unit_work(economy, response.json())
    return out


def counterplan(rng: np.random.Generator, work: UnitWork) -> dict[str, str]:
    """A one-row counter-plan: a pledge of 100–120 % of a planned activity in
    one period, a norm 2–20 % below a current input, or 1–5 % more of one of
    the unit's capital stocks (in one period, or at the start)."""
    kind = ("pledge", "norm", "capacity")[int(rng.integers(3))]
    if kind == "capacity" and not work.stocks:
        kind = "pledge"
    if kind == "pledge":
        technique = work.techniques[int(rng.integers(len(work.techniques)))]
        period = work.periods[int(rng.integers(len(work.periods)))]
        level = work.planned.get((technique, period), 0.0)
        value = max(level, 1.0) * rng.uniform(1.0, 1.2)
        return {"kind": kind, "technique": technique, "period": period, "value": f"{value:.6g}"}
    if kind == "norm":
        technique, item, amount = work.inputs[int(rng.integers(len(work.inputs)))]
        value = amount * rng.uniform(0.8, 0.98)
        return {"kind": kind, "technique": technique, "item": item, "value": f"{value:.6g}"}
    item, level = work.stocks[int(rng.integers(len(work.stocks)))]
    period = ["", *work.periods][int(rng.integers(len(work.periods) + 1))]
    value = level * rng.uniform(0.01, 0.05)
    return {"kind": kind, "item": item, "period": period, "value": f"{value:.6g}"}


def activity_report(rng: np.random.Generator, work: UnitWork,
                    calendar: Calendar | None = None) -> dict[str, Any]:
    """An activity 80–110 % of the planned one, of one technique in one period;
    with a ``calendar``, dated: of the first period, on the technique's next
    day, cumulative (its own pace times the plan pro rata to the day)."""
    technique = work.techniques[int(rng.integers(len(work.techniques)))]
    if calendar is not None:
        period = work.periods[0]
        day, share, pace = calendar.next_day(technique, period, rng)
        actual = work.planned.get((technique, period), 0.0) * share * pace
        return {"technique": technique, "period": period, "date": day,
                "activity": round(actual, 6), "note": "load test"}
    period = work.periods[int(rng.integers(len(work.periods)))]
    actual = work.planned.get((technique, period), 0.0) * rng.uniform(0.8, 1.1)
    return {"technique": technique, "period": period, "activity": round(actual, 6),
            "note": "load test"}


@dataclass
class Calendar:
    """Dated reports (``--dated``): each technique reports day after day through
    its period, whichever of its unit's delegates sends the report, at a pace
    drawn once (0.8–1.1 of the plan), so that its cumulative activity never
    falls.  The clients share one event loop, so the days are handed out in
    order; past the period's last day a technique reports that day again (a
    report on a date already reported replaces it)."""

    days: dict[tuple[str, str], int] = field(default_factory=dict)
    paces: dict[str, float] = field(default_factory=dict)

    def next_day(self, technique: str, period: str, rng: np.random.Generator
                 ) -> tuple[str, float, float]:
        """The technique's next date (ISO), the share of the period gone by
        it, and the technique's pace."""
        span = period_dates(period)
        if span is None:
            sys.exit(f"--dated: period {period!r} of the demo names no dates")
        length = (span[1] - span[0]).days + 1
        day = min(self.days.get((technique, period), 0) + 1, length)
        self.days[(technique, period)] = day
        pace = self.paces.setdefault(technique, float(rng.uniform(0.8, 1.1)))
        return (span[0] + dt.timedelta(days=day - 1)).isoformat(), day / length, pace


# -- the clients ----------------------------------------------------------------------

async def timed(client: httpx.AsyncClient, action: str, path: str, body: dict[str, Any] | None,
                t0: float, records: list[Record]) -> dict[str, Any] | None:
    """POST ``body`` to ``path``, record it; the response's JSON when accepted."""
    start = time.perf_counter()
    data: Any = None
    try:
        response = await client.post(path, json=body)
    except httpx.HTTPError as exc:
        status = type(exc).__name__
    else:
        status = str(response.status_code)
        with contextlib.suppress(ValueError):
            data = response.json()
    latency = time.perf_counter() - start
    record = Record(action, status, start - t0, latency)
    if record.accepted and isinstance(data, dict):
        verdict = f"{data['kind']} {data['verdict']}" if action == "propose" else ""
        record = Record(action, status, start - t0, latency, int(data["id"]), verdict)
    records.append(record)
    return data if record.accepted else None


async def ready(rng: np.random.Generator, think: float, budget: Budget,
                records: list[Record]) -> bool:
    """Wait the think time, then take a request from the budget: False when it
    is spent, or when the server refused a connection (it is gone: stop all)."""
    if records and records[-1].status == "ConnectError":
        budget.left = 0
    if think > 0:
        wait = think * rng.uniform(0.5, 1.5)
        await asyncio.sleep(max(0.0, min(wait, budget.deadline - time.perf_counter())))
    return budget.take()


async def delegate(client: httpx.AsyncClient, work: UnitWork, rng: np.random.Generator,
                   think: float, budget: Budget, records: list[Record],
                   calendar: Calendar | None = None) -> None:
    """One delegate's loop: propose, submit, report, until the budget ends."""
    t0 = budget.started
    units = f"{PLAN}/units/{work.unit}"
    while await ready(rng, think, budget, records):
        made = await timed(client, "propose", f"{units}/proposals",
                           {**counterplan(rng, work), "note": "load test"}, t0, records)
        if made is not None:
            if not await ready(rng, think, budget, records):
                return
            await timed(client, "submit", f"{PLAN}/proposals/{made['id']}/submit", None,
                        t0, records)
        if not await ready(rng, think, budget, records):
            return
        await timed(client, "report", f"{units}/reports",
                    activity_report(rng, work, calendar), t0, records)


async def run_clients(url: str, accounts: dict[str, str], work: dict[str, UnitWork],
                      options: Options, server: int | None) -> tuple[list[Record], Timing]:
    """Log every delegate in, then run them all at once; the records and the
    timing of the run (``server``: the server's process id, when known)."""
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    clients = [httpx.AsyncClient(base_url=url, timeout=options.timeout, limits=limits)
               for _ in accounts]
    records: list[Record] = []
    try:
        await asyncio.gather(*(log_in(c, name) for c, name in zip(clients, accounts,
                                                                  strict=True)))
        print(f"{len(clients)} delegates logged in; running for {options.seconds:g} s",
              flush=True)
        load, cpu, server_cpu = os.getloadavg()[0], time.process_time(), cpu_seconds(server)
        budget = Budget(time.perf_counter() + options.seconds, options.max_requests)
        calendar = Calendar() if options.dated else None
        runs = [delegate(c, work[unit], np.random.default_rng([options.seed, k]),
                         options.think, budget, records, calendar)
                for k, (c, unit) in enumerate(zip(clients, accounts.values(), strict=True))]
        await asyncio.wait_for(asyncio.gather(*runs),
                               options.seconds + options.timeout + 30.0)
        wall = time.perf_counter() - budget.started
        after = cpu_seconds(server)
        return records, Timing(wall, time.process_time() - cpu,
                               None if after is None or server_cpu is None
                               else after - server_cpu, load, os.getloadavg()[0])
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))


# -- checking and summing up ----------------------------------------------------------

def chunks(ids: list[int], size: int = 500) -> Iterator[list[int]]:
    for k in range(0, len(ids), size):
        yield ids[k:k + size]


def high_water(db_url: str) -> tuple[int, int]:
    """The largest proposal and report ids before the run."""
    engine = database.connect(db_url)
    try:
        with database.sessions(engine)() as db:
            return (db.scalar(select(func.max(Proposal.id))) or 0,
                    db.scalar(select(func.max(Report.id))) or 0)
    finally:
        engine.dispose()


def verify(db_url: str, records: list[Record], names: list[str], before: tuple[int, int]
           ) -> dict[str, Any]:
    """Read the database: what was accepted and is missing, and what was
    stored by the run's accounts although its request was not accepted."""
    ids = {a: sorted({r.id for r in records if r.action == a and r.accepted and r.id})
           for a in ACTIONS}
    engine = database.connect(db_url)
    try:
        with database.sessions(engine)() as db:
            users = list(db.scalars(select(User.id).where(User.name.in_(names))))
            proposals = {pid: state for part in chunks(ids["propose"] + ids["submit"])
                         for pid, state in db.execute(select(Proposal.id, Proposal.state)
                                                      .where(Proposal.id.in_(part)))}
            reports = {rid for part in chunks(ids["report"])
                       for rid in db.scalars(select(Report.id).where(Report.id.in_(part)))}
            stored_p = db.scalar(select(func.count()).select_from(Proposal).where(
                Proposal.id > before[0], Proposal.author_id.in_(users))) or 0
            stored_r = db.scalar(select(func.count()).select_from(Report).where(
                Report.id > before[1], Report.reported_by.in_(users))) or 0
            verdicts = {str(v): int(n) for v, n in db.execute(
                select(Proposal.verdict, func.count()).where(
                    Proposal.id > before[0], Proposal.author_id.in_(users))
                .group_by(Proposal.verdict))}
    finally:
        engine.dispose()
    return {
        "lost_proposals": sum(pid not in proposals for pid in ids["propose"]),
        "lost_submissions": sum(proposals.get(pid) != "submitted" for pid in ids["submit"]),
        "lost_reports": sum(rid not in reports for rid in ids["report"]),
        "stored_proposals": stored_p, "stored_reports": stored_r,
        "unacknowledged_proposals": stored_p - len(ids["propose"]),
        "unacknowledged_reports": stored_r - len(ids["report"]),
        "verdicts": verdicts,
    }


def latency_ms(records: list[Record]) -> dict[str, float | int]:
    if not records:
        return {"count": 0}
    ms = np.array([r.latency for r in records]) * 1000.0
    return {"count": len(ms), "median_ms": float(np.median(ms)),
            "p95_ms": float(np.percentile(ms, 95)), "max_ms": float(ms.max())}


def summarise(records: list[Record], wall: float) -> dict[str, Any]:
    accepted = [r for r in records if r.accepted]
    return {
        "seconds": wall, "requests": len(records), "accepted": len(accepted),
        "requests_per_s": len(records) / wall if wall > 0 else 0.0,
        "accepted_per_s": len(accepted) / wall if wall > 0 else 0.0,
        "latency": {"all": latency_ms(records),
                    **{a: latency_ms([r for r in records if r.action == a]) for a in ACTIONS}},
        "refused": dict(Counter(f"{r.action} {r.status}" for r in records if not r.accepted)),
        "propose_by_verdict": {v: latency_ms([r for r in records if r.verdict == v])
                               for v in sorted({r.verdict for r in records if r.verdict})},
    }


def machine() -> dict[str, Any]:
    """The CPU, cores and Python of this machine."""
    model = ""
    with contextlib.suppress(OSError):
        model = next((line.split(":", 1)[1].strip() for line in
                      Path("/proc/cpuinfo").read_text().splitlines()
                      if line.startswith("model name")), "")
    return {"cpu": model or platform.processor(), "cores": os.cpu_count(),
            "python": platform.python_version()}


def show(result: dict[str, Any]) -> None:
    s, c, t, o = result["summary"], result["check"], result["timing"], result["options"]
    server = "?" if t["server_cpu_s"] is None else f"{t['server_cpu_s']:.1f}"
    print(f"{o['clients']} delegates, think {o['think']} s, {s['seconds']:.1f} s: "
          f"{s['requests']} requests ({s['requests_per_s']:.1f}/s), {s['accepted']} accepted "
          f"({s['accepted_per_s']:.1f}/s); CPU s: server {server}, clients "
          f"{t['client_cpu_s']:.1f}; load average {t['load_before']:.1f} before, "
          f"{t['load_after']:.1f} after")
    for action, lat in s["latency"].items():
        if lat["count"]:
            print(f"  {action:8} {lat['count']:6d}  median {lat['median_ms']:7.1f} ms  "
                  f"p95 {lat['p95_ms']:7.1f} ms  max {lat['max_ms']:7.1f} ms")
    for verdict, lat in s["propose_by_verdict"].items():
        print(f"    {verdict:18} {lat['count']:6d}  median {lat['median_ms']:7.1f} ms  "
              f"p95 {lat['p95_ms']:7.1f} ms")
    for what, count in sorted(s["refused"].items()):
        print(f"  refused: {what}: {count}")
    if any(not what.split()[-1].isdigit() for what in s["refused"]) and result["server_log"]:
        # a request without an HTTP answer: what the server said about it
        print("  the server's log, last lines:\n    " +
              "\n    ".join(result["server_log"].splitlines()[-15:]))
    lost = c["lost_proposals"] + c["lost_submissions"] + c["lost_reports"]
    print(f"  database: {c['stored_proposals']} proposals and {c['stored_reports']} reports "
          f"stored; lost {lost} (proposals {c['lost_proposals']}, submissions "
          f"{c['lost_submissions']}, reports {c['lost_reports']}); stored without an accepted "
          f"answer: {c['unacknowledged_proposals']} proposals, "
          f"{c['unacknowledged_reports']} reports")
    print("  verdicts of the stored proposals: " +
          ", ".join(f"{v} {n}" for v, n in sorted(c["verdicts"].items())))


# -- the run --------------------------------------------------------------------------

async def load(url: str, db_url: str, options: Options, server: int | None
               ) -> dict[str, Any]:
    economy = economy_of_example(demo.EXAMPLE)
    accounts = delegates([str(u) for u in economy.units.index], options.clients)
    add_accounts(db_url, list(accounts))
    await grant(url, accounts)
    work = await workloads(url, economy, accounts)
    before = high_water(db_url)
    records, timing = await run_clients(url, accounts, work, options, server)
    return {"options": asdict(options), "url": url, "machine": machine(),
            "timing": asdict(timing), "summary": summarise(records, timing.seconds),
            "check": verify(db_url, records, list(accounts), before),
            "records": [asdict(r) for r in records]}


def parse() -> Options:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--clients", type=int, default=50, help="concurrent delegates")
    p.add_argument("--seconds", type=float, default=60.0, help="how long they submit")
    p.add_argument("--max-requests", type=int, default=20_000, help="requests in all, at most")
    p.add_argument("--think", type=float, default=0.0,
                   help="mean seconds a delegate waits before each action (0: saturation)")
    p.add_argument("--db", help="database URL (default: a fresh SQLite file; required "
                                "with --url: the running server's database)")
    p.add_argument("--url", help="a demo server already running on 127.0.0.1")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--timeout", type=float, default=30.0, help="seconds a request may take")
    p.add_argument("--workers", type=int, help="the server's worker threads (its default: 40)")
    p.add_argument("--processes", type=int, default=1,
                   help="server processes (serve --processes)")
    p.add_argument("--dated", action="store_true",
                   help="dated reports, day after day through the first period, which the "
                        "plan cycle's monitor watches (default: reports of whole periods)")
    a = p.parse_args()
    if a.url is not None and a.db is None:
        p.error("--url needs --db: the running server's database, to check it afterwards")
    if a.clients < 1 or a.seconds <= 0 or a.max_requests < 1 or a.think < 0:
        p.error("--clients, --seconds and --max-requests must be positive, --think >= 0")
    return Options(a.clients, a.seconds, a.max_requests, a.think, a.db,
                   a.url and check_local(a.url), a.seed, a.timeout, a.workers, a.processes,
                   a.dated)


def main() -> None:
    options = parse()
    with tempfile.TemporaryDirectory(prefix="load_web-") as tmp:
        db_url = options.db or f"sqlite:///{Path(tmp) / 'counterplan.db'}"
        proc, log = None, Path(tmp) / "server.log"
        try:
            if options.url is None:
                url = f"http://127.0.0.1:{free_port()}"
                proc = start_server(db_url, int(url.rsplit(":", 1)[1]), options.workers,
                                    options.processes, log)
            else:
                url = options.url
            wait_ready(url, proc, log if proc else None)
            print(f"server at {url} answers", flush=True)
            result = asyncio.run(load(url, db_url, options, proc.pid if proc else None))
        finally:
            if proc is not None:
                stop_server(proc)
        result["server_log"] = log.read_text(errors="replace")[-20_000:] if proc else ""
    result["db"] = db_url if options.db else "sqlite (fresh, temporary)"
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"load_web-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(result, indent=1))
    show(result)
    print(f"  results: {out}")
    c = result["check"]
    sys.exit(1 if c["lost_proposals"] + c["lost_submissions"] + c["lost_reports"] else 0)


if __name__ == "__main__":
    main()
