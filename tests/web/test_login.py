"""Logging in under attack, and passwords, on SQLite and PostgreSQL:
concurrent wrong passwords are counted one by one, a stranger cannot lock
the owner out of a browser the owner has used, one address cannot spray
names, unknown names cost the same Argon2 work, old failures are pruned;
password change (API, page, command line) and the list of common passwords."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from counterplan.web import auth
from counterplan.web.auth import DEVICE_COOKIE, FREE_FAILURES
from test_cli import run as cli  # the entry point, in this process

from livehttp import LiveUser, at_once
from liveserver import serve
from webtests import PASSWORD, User, Web, count

WRONG = {"name": "office", "password": "not-the-password"}


def test_concurrent_wrong_passwords_are_counted_one_by_one(db_url: str) -> None:
    with serve(db_url) as base:
        clients = [LiveUser(base) for _ in range(30)]
        answers = at_once([lambda c=c: c.post("/api/login", WRONG) for c in clients])
    statuses = [status for status, _ in answers]
    checked = statuses.count(401)
    assert set(statuses) <= {401, 429}
    # five free failures, then each try waits 5 s, 10 s, ...: a few more at most
    assert FREE_FAILURES["name"] <= checked <= FREE_FAILURES["name"] + 2, statuses


def _client(web: Web, address: str) -> TestClient:
    return TestClient(web.app, client=(address, 50000))


def test_a_stranger_cannot_lock_the_owner_out_of_a_known_browser(web: Web) -> None:
    owner = _client(web, "10.0.0.1")
    assert owner.post("/api/login", json={"name": "office", "password": PASSWORD}
                      ).status_code == 200
    assert owner.cookies.get(DEVICE_COOKIE)
    stranger = _client(web, "10.0.0.2")
    for _ in range(FREE_FAILURES["name"]):
        assert stranger.post("/api/login", json=WRONG).status_code == 401
    refused = stranger.post("/api/login", json={"name": "office", "password": PASSWORD})
    assert refused.status_code == 429
    assert re.search(r"wait [1-5] seconds", refused.json()["error"])
    # a new browser of the owner waits too; the browser the owner used does not
    assert _client(web, "10.0.0.1").post(
        "/api/login", json={"name": "office", "password": PASSWORD}).status_code == 429
    assert owner.post("/api/login", json={"name": "office", "password": PASSWORD}
                      ).status_code == 200
    # the device cookie is the office's alone: for another name it counts nothing
    assert owner.post("/api/login", json={"name": "agro-delegate", "password": PASSWORD}
                      ).status_code == 200


def test_one_address_cannot_spray_names(web: Web) -> None:
    sprayer, other = _client(web, "10.0.0.3"), _client(web, "10.0.0.4")
    for k in range(FREE_FAILURES["addr"]):
        answer = sprayer.post("/api/login", json={"name": f"guess{k}", "password": "x" * 8})
        assert answer.status_code == 401
    assert sprayer.post("/api/login", json={"name": "agro-member1", "password": PASSWORD}
                        ).status_code == 429
    assert other.post("/api/login", json={"name": "agro-member1", "password": PASSWORD}
                      ).status_code == 200


class CountingHasher(auth.PasswordHasher):
    """The real Argon2 hasher, counting its checks."""

    checks = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        CountingHasher.checks += 1
        return super().verify(hash, password)


def test_unknown_names_cost_the_same_work(web: Web, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth, "_hasher", CountingHasher())
    client = web.anonymous()
    for name in ("nobody-here", "office"):
        before = CountingHasher.checks
        answer = client.post("/api/login", json={"name": name, "password": "wrong-password"})
        assert answer.status_code == 401
        assert answer.json()["error"] == "wrong name or password"
        assert CountingHasher.checks == before + 1


def test_old_failures_are_pruned(web: Web) -> None:
    client = web.anonymous()
    for _ in range(3):
        client.post("/api/login", json=WRONG)
    assert count(web, "login_throttle") == 2  # the name and the address
    old = auth.now() - auth.THROTTLE_WINDOW - dt.timedelta(minutes=1)
    with web.app.state.counterplan.tx() as db:
        db.execute(sa.update(auth.LoginThrottle).values(last_at=old, next_at=old))
    client.post("/api/login", json={"name": "agro-member1", "password": "wrong-password"})
    with web.app.state.counterplan.tx() as db:
        keys = sorted(db.scalars(sa.select(auth.LoginThrottle.key)))
        failures = sorted(db.scalars(sa.select(auth.LoginThrottle.failures)))
    assert keys == ["addr:testclient", "name:agro-member1"] and failures == [1, 1]


def _password(user: User, current: str, new: str) -> Any:
    return user.post("/api/password", json={"current": current, "new": new})


def test_change_password_through_the_api(web: Web) -> None:
    member = web.as_("agro-member1")
    other = User.log_in(web.app, "agro-member1")
    assert _password(member, "wrong-password", "a fresh phrase").status_code == 401
    common = _password(member, PASSWORD, "Password123")
    assert common.status_code == 422 and "common passwords" in common.json()["error"]
    named = _password(member, PASSWORD, "my agro-member1 pass")
    assert named.status_code == 422 and "name" in named.json()["error"]
    assert _password(member, PASSWORD, "a fresh phrase").status_code == 200
    assert member.get("/api/me").status_code == 200  # this session stays
    assert other.get("/api/me").status_code == 401  # the others end
    assert web.anonymous().post("/api/login", json={
        "name": "agro-member1", "password": PASSWORD}).status_code == 401
    User.log_in(web.app, "agro-member1", "a fresh phrase")
    assert web.anonymous().post("/api/password", json={
        "current": "a fresh phrase", "new": "x" * 12}).status_code == 401


def test_change_password_on_its_page(web: Web) -> None:
    client = web.anonymous()
    page = client.get("/login")
    token = page.cookies.get("counterplan_csrf") or client.cookies.get("counterplan_csrf")
    client.post("/login", data={"name": "agro-member2", "password": PASSWORD, "csrf": token})
    form = client.get("/account/password")
    assert form.status_code == 200 and 'name="new"' in form.text
    csrf = form.text.split('name="csrf" value="')[1].split('"')[0]
    short = client.post("/account/password", data={"current": PASSWORD, "new": "short",
                                                    "again": "short", "csrf": csrf})
    assert short.status_code == 422 and "at least 8" in short.text
    differ = client.post("/account/password", data={"current": PASSWORD, "new": "one phrase x",
                                                     "again": "another one", "csrf": csrf})
    assert differ.status_code == 422 and "differ" in differ.text
    done = client.post("/account/password", data={
        "current": PASSWORD, "new": "a page phrase", "again": "a page phrase", "csrf": csrf},
        follow_redirects=False)
    assert done.status_code == 303
    User.log_in(web.app, "agro-member2", "a page phrase")


def test_users_passwd_from_the_command_line(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'plan.db'}"
    assert cli("users", "add", "alice", "--db", db, "--password", "first phrase",
                cwd=tmp_path).returncode == 0
    common = cli("users", "passwd", "alice", "--db", db, "--password", "qwerty123",
                  cwd=tmp_path)
    assert common.returncode == 1 and "common passwords" in common.stderr
    assert "Traceback" not in common.stderr
    nobody = cli("users", "passwd", "bob", "--db", db, "--password", "second phrase",
                  cwd=tmp_path)
    assert nobody.returncode == 1 and "no user called 'bob'" in nobody.stderr
    done = cli("users", "passwd", "alice", "--db", db, "--password", "second phrase",
                cwd=tmp_path)
    assert done.returncode == 0 and "changed the password of alice" in done.stdout
    engine = sa.create_engine(db)
    with engine.connect() as c:
        stored = c.execute(sa.text("SELECT password_hash FROM users")).scalar_one()
    engine.dispose()
    assert auth.verify_password(stored, "second phrase")


def test_the_common_list_is_shipped_and_used() -> None:
    common = auth.common_passwords()
    assert len(common) > 5000 and "password123" in common and "qwerty123" in common
    with pytest.raises(auth.Refused, match="common passwords"):
        auth.check_new_password("Sunshine2024")
    auth.check_new_password("counterplan-demo")  # the demo's own passes


def test_deployed_passwords_cost_rfc_9106s_argon2id(monkeypatch: pytest.MonkeyPatch) -> None:
    """The suite hashes at argon2-cffi's CHEAPEST cost (tests/conftest.py); a
    deployment without the variable gets RFC 9106's low-memory Argon2id, and
    its hashes say so."""
    monkeypatch.delenv(auth.PROFILE_VARIABLE, raising=False)
    stored = auth.password_hasher().hash("a long enough password")
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    cheap = auth.password_hasher("CHEAPEST").hash("a long enough password")
    assert cheap.startswith("$argon2id$v=19$m=8,t=1,p=1$")
    assert auth.verify_password(cheap, "a long enough password")  # checked at its own cost
    assert not auth.verify_password(stored, "another password")


def test_an_unknown_password_profile_is_a_named_error(tmp_path: Path) -> None:
    env = {**os.environ, auth.PROFILE_VARIABLE: "RFC_9106_MEDIUM"}
    out = subprocess.run([sys.executable, "-m", "counterplan.cli", "users", "add", "alice",
                          "--password", "a long enough password", "--db",
                          f"sqlite:///{tmp_path / 'none.db'}"], capture_output=True, text=True,
                         env=env, timeout=120)
    assert out.returncode == 1
    assert "RFC_9106_MEDIUM" in out.stderr and "RFC_9106_LOW_MEMORY" in out.stderr
    assert "Traceback" not in out.stderr
    assert not (tmp_path / "none.db").exists()


def test_a_hash_of_another_profile_is_made_again_at_login(web: Web) -> None:
    """After the profile changes, each password is hashed under the new one at
    its next login, so that a known name costs what an unknown one does."""
    from counterplan.web.models import User as Account

    old = auth.password_hasher("RFC_9106_LOW_MEMORY").hash(PASSWORD)  # the suite: CHEAPEST
    with web.app.state.counterplan.tx() as db:
        db.execute(sa.update(Account).where(Account.name == "agro-member1")
                   .values(password_hash=old))
    answer = web.anonymous().post("/api/login", json={"name": "agro-member1",
                                                      "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    with web.app.state.counterplan.tx() as db:
        now_stored = db.scalar(sa.select(Account.password_hash)
                               .where(Account.name == "agro-member1"))
    assert now_stored != old
    assert not auth._hasher.check_needs_rehash(now_stored)
    assert auth.verify_password(now_stored, PASSWORD)
