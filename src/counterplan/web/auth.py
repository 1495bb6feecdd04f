"""Accounts, sessions, CSRF tokens, passwords and login throttling.

Passwords are hashed with Argon2id, RFC 9106's low-memory parameters
(t = 3, 64 MiB, 4 lanes: argon2-cffi's defaults), or another of argon2-cffi's
profiles named by $COUNTERPLAN_PASSWORD_PROFILE (the test suite names
CHEAPEST: the same code at a tiny cost).  A hash keeps its parameters, so a
password set under one profile is checked under it, and made again under
the current one at its next login.  A session is a
random token in an HttpOnly, SameSite=Lax cookie (Secure when the app is
served over TLS); the database keeps only its SHA-256, so a copy of the
database logs nobody in.  Every state-changing request carries the session's
CSRF token: a hidden ``csrf`` field in forms, the ``X-CSRF-Token`` header in
the JSON API.  Before login, the token is a random cookie the form must echo
(double submit).

Throttling (docs/web.md, "Logging in"): every login attempt is first counted,
in its own committed transaction, against its client address and against the
name, or, from a browser where that name logged in before (its device
cookie), against that device instead of the name; only then is the password
checked.  Each key may fail a few times in a window, then waits 5 s, 10 s,
20 s, ... (at most 15 minutes) before each further try.  Counting first makes
the count atomic (concurrent attempts each get their own number), and the
device key means a stranger failing on a name cannot lock its owner out of a
browser the owner has used.  An unknown name costs the same Argon2 check as a
known one.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from importlib import resources

from argon2 import Parameters, PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker
from starlette.requests import Request
from starlette.responses import Response

from counterplan.errors import CounterplanError
from counterplan.web.models import AuthSession, LoginDevice, LoginThrottle, User, now
from counterplan.web.rights import Refused

SESSION_COOKIE = "counterplan_session"
CSRF_COOKIE = "counterplan_csrf"
#: A browser where a user logged in (see the module's docstring).
DEVICE_COOKIE = "counterplan_device"
SESSION_DAYS = 7
DEVICE_DAYS = 180
#: Failed logins a key may have in THROTTLE_WINDOW before it must wait before each try.
FREE_FAILURES = {"name": 5, "device": 5, "addr": 50}
THROTTLE_WINDOW = dt.timedelta(minutes=15)
FIRST_WAIT = dt.timedelta(seconds=5)
MAX_WAIT = dt.timedelta(minutes=15)
MIN_PASSWORD = 8
MAX_PASSWORD = 1024

PROFILE_VARIABLE = "COUNTERPLAN_PASSWORD_PROFILE"
DEFAULT_PROFILE = "RFC_9106_LOW_MEMORY"


class UnknownPasswordProfile(CounterplanError):
    """$COUNTERPLAN_PASSWORD_PROFILE names no argon2-cffi profile."""


def password_hasher(name: str | None = None) -> PasswordHasher:
    """The Argon2id hasher of the profile ``name`` (default: the environment's,
    else RFC 9106's low-memory one)."""
    name = name or os.environ.get(PROFILE_VARIABLE) or DEFAULT_PROFILE
    profile = getattr(profiles, name, None)
    if not isinstance(profile, Parameters):
        known = ", ".join(n for n in dir(profiles) if isinstance(getattr(profiles, n), Parameters))
        raise UnknownPasswordProfile(f"${PROFILE_VARIABLE} is {name!r}, which is not one of "
                                     f"argon2-cffi's profiles ({known}); leave it unset for "
                                     f"{DEFAULT_PROFILE}")
    return PasswordHasher.from_parameters(profile)


_hasher = password_hasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


@functools.cache
def _dummy_hash() -> str:
    """A hash no password matches, checked for unknown names (same work)."""
    return hash_password(secrets.token_urlsafe(32))


@functools.cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords, lower case (common-passwords.txt
    says where it comes from)."""
    text = resources.files("counterplan.web").joinpath("common-passwords.txt").read_text(
        encoding="utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines()
                     if line.strip() and not line.startswith("#"))


def check_new_password(password: str, name: str = "") -> None:
    """Refuse a password that is too short, too long, common, or the name."""
    if len(password) < MIN_PASSWORD:
        raise Refused(422, f"the password is {len(password)} characters long; "
                           f"give at least {MIN_PASSWORD}")
    if len(password) > MAX_PASSWORD:
        raise Refused(422, f"the password is {len(password)} characters long; "
                           f"give at most {MAX_PASSWORD}")
    if password.lower() in common_passwords():
        raise Refused(422, "that password is on the list of common passwords that attackers "
                           "try first; choose another (a few unrelated words make a good one)")
    if len(name) >= 3 and name.lower() in password.lower():
        raise Refused(422, "the password contains the account's name; choose another")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def same(a: str | None, b: str | None) -> bool:
    # as bytes: compare_digest refuses str with non-ASCII characters (a forged token)
    return bool(a) and bool(b) and hmac.compare_digest(str(a).encode(), str(b).encode())


@dataclass(frozen=True)
class Login:
    """A session opened: its cookie token and CSRF token, and the device
    cookie to set (a new one, or the one the browser sent)."""

    user: User
    token: str
    csrf: str
    device: str


def _wait(failures: int, free: int) -> dt.timedelta:
    """How long a key waits after its ``failures``-th failure in the window:
    nothing before the ``free``-th, then 5 s, 10 s, 20 s, ... at most MAX_WAIT."""
    extra = failures - free + 1
    return dt.timedelta(0) if extra <= 0 else min(FIRST_WAIT * 2 ** (extra - 1), MAX_WAIT)


def _device_of(db: Session, name: str, device: str | None) -> str | None:
    """The hash of ``device`` when it is a device cookie of the user ``name``."""
    if not device:
        return None
    found = db.scalar(select(LoginDevice.token_hash).join(User, User.id == LoginDevice.user_id)
                      .where(LoginDevice.token_hash == token_hash(device), User.name == name,
                             LoginDevice.created_at > now() - dt.timedelta(days=DEVICE_DAYS)))
    return None if found is None else str(found)


def throttle_keys(db: Session, name: str, client: str, device: str | None) -> list[str]:
    """The keys an attempt is counted against: its address, and its device
    cookie (when it is one of this name's) or else the name."""
    known = _device_of(db, name, device)
    return sorted({f"addr:{client[:190]}", f"device:{known}" if known else f"name:{name[:64]}"})


def count_attempt(db: Session, keys: list[str]) -> None:
    """Count one attempt against each key, atomically, or refuse it (429)
    when a key must still wait; prune rows older than the window.

    Each key's row is locked by the UPDATE (PostgreSQL) or the database's one
    writer (SQLite), so concurrent attempts are counted one after another."""
    moment = now()
    db.execute(delete(LoginThrottle).where(LoginThrottle.last_at < moment - THROTTLE_WINDOW))
    insert = postgresql.insert if db.get_bind().dialect.name == "postgresql" else sqlite.insert
    for key in keys:  # in sorted order: no two attempts wait on each other in a cycle
        db.execute(insert(LoginThrottle).values(key=key, failures=0, last_at=moment,
                                                next_at=moment - THROTTLE_WINDOW)
                   .on_conflict_do_nothing(index_elements=["key"]))
        counted = db.execute(
            update(LoginThrottle)
            .where(LoginThrottle.key == key, LoginThrottle.next_at <= moment)
            .values(failures=LoginThrottle.failures + 1, last_at=moment)
            .returning(LoginThrottle.failures)).scalar_one_or_none()
        if counted is None:
            ready = db.scalar(select(LoginThrottle.next_at).where(LoginThrottle.key == key))
            seconds = max(1, int(((ready or moment) - moment).total_seconds() + 0.999))
            raise Refused(429, f"too many failed logins from here or for this name: wait "
                               f"{seconds} seconds and try again")
        wait = _wait(counted, FREE_FAILURES[key.split(":", 1)[0]])
        if wait:  # (an attempt that read the clock earlier may still be waiting its turn)
            db.execute(update(LoginThrottle).where(LoginThrottle.key == key)
                       .values(next_at=moment + wait))


def _forgive(db: Session, keys: list[str]) -> None:
    """After a right password: the name's or device's failures are forgotten,
    and the address's count loses the attempt just made."""
    for key in keys:
        if key.startswith("addr:"):
            db.execute(update(LoginThrottle).where(LoginThrottle.key == key,
                                                   LoginThrottle.failures > 0)
                       .values(failures=LoginThrottle.failures - 1))
        else:
            db.execute(delete(LoginThrottle).where(LoginThrottle.key == key))


def _check(factory: sessionmaker[Session], name: str, password: str, client: str,
           device: str | None) -> tuple[User, list[str]]:
    """Count the attempt (committed at once), then check the password; the
    same Argon2 work whether or not the name exists."""
    with factory() as db, db.begin():
        keys = throttle_keys(db, name, client, device)
        count_attempt(db, keys)
        user = db.scalar(select(User).where(User.name == name))
    stored = _dummy_hash() if user is None else user.password_hash
    if not verify_password(stored, password) or user is None:
        raise Refused(401, "wrong name or password")
    return user, keys


def attempt_login(factory: sessionmaker[Session], name: str, password: str,
                  client: str = "", device: str | None = None) -> Login:
    """Log in ``name`` from the address ``client`` (and the browser's device
    cookie, if any), throttled; open a session."""
    user, keys = _check(factory, name, password, client, device)
    # a hash set under another profile is made again under this one, so that
    # known and unknown names (the dummy hash) keep costing the same
    rehashed = hash_password(password) if _hasher.check_needs_rehash(user.password_hash) \
        else None
    with factory() as db, db.begin():
        _forgive(db, keys)
        if rehashed is not None:
            db.execute(update(User).where(User.id == user.id).values(password_hash=rehashed))
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        db.add(AuthSession(token_hash=token_hash(token), user_id=user.id, csrf=csrf,
                           expires_at=now() + dt.timedelta(days=SESSION_DAYS)))
        known = device if device and _device_of(db, name, device) else None
        if known is None:
            known = secrets.token_urlsafe(32)
            db.add(LoginDevice(token_hash=token_hash(known), user_id=user.id))
    return Login(user, token, csrf, known)


def client_address(request: Request) -> str:
    """The address a request comes from (behind a proxy, as uvicorn's
    --proxy-headers and --forwarded-allow-ips make it)."""
    return request.client.host if request.client else ""


def login_request(factory: sessionmaker[Session], request: Request, name: str, password: str
                  ) -> Login:
    """:func:`attempt_login` from the request's address and device cookie."""
    return attempt_login(factory, name, password, client_address(request),
                         request.cookies.get(DEVICE_COOKIE))


def set_device_cookie(response: Response, login: Login, secure: bool) -> None:
    """The device cookie of a browser where ``login.user`` logged in."""
    response.set_cookie(DEVICE_COOKIE, login.device, max_age=DEVICE_DAYS * 86400,
                        httponly=True, samesite="lax", secure=secure, path="/")


def change_password(factory: sessionmaker[Session], user: User, current: str, new: str,
                    client: str = "", keep: str | None = None) -> None:
    """A logged-in user's new password, once the current one checks out
    (throttled as a login); every other session of the user ends."""
    _check(factory, user.name, current, client, None)
    with factory() as db, db.begin():
        set_password(db, user, new, keep)


def set_password(db: Session, user: User, new: str, keep: str | None = None) -> None:
    """Give ``user`` the password ``new`` and end its sessions but ``keep``'s;
    its failed logins are forgotten."""
    check_new_password(new, user.name)
    db.execute(update(User).where(User.id == user.id).values(password_hash=hash_password(new)))
    db.execute(delete(AuthSession).where(
        AuthSession.user_id == user.id,
        AuthSession.token_hash != (token_hash(keep) if keep else "")))
    db.execute(delete(LoginThrottle).where(LoginThrottle.key == f"name:{user.name}"))


def session_of(db: Session, token: str | None) -> tuple[User, AuthSession] | None:
    if not token:
        return None
    row = db.execute(select(User, AuthSession).join(AuthSession, AuthSession.user_id == User.id)
                     .where(AuthSession.token_hash == token_hash(token),
                            AuthSession.expires_at > now())).first()
    return None if row is None else (row[0], row[1])


@dataclass(frozen=True)
class Caller:
    """A logged-in user, with the session's CSRF token and its cookie token."""

    user: User
    csrf: str
    token: str


def caller_of(factory: sessionmaker[Session], token: str | None) -> Caller | None:
    """Who sends the session cookie ``token``; None when nobody is logged in."""
    if not token:
        return None
    with factory() as db:
        found = session_of(db, token)
    return None if found is None else Caller(found[0], found[1].csrf, token)


def log_out(db: Session, token: str | None) -> None:
    if token:
        db.execute(delete(AuthSession).where(AuthSession.token_hash == token_hash(token)))


def add_user(db: Session, name: str, password: str) -> User:
    name = name.strip()
    if not name or len(name) > 64 or any(c.isspace() for c in name):
        raise Refused(422, f"the name {name!r} is not usable: give 1 to 64 characters "
                           "without spaces")
    check_new_password(password, name)
    if db.scalar(select(User).where(User.name == name)) is not None:
        raise Refused(409, f"there is already a user called {name!r}")
    user = User(name=name, password_hash=hash_password(password))
    db.add(user)
    db.flush()
    return user
