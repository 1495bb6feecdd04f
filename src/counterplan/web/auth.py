"""Accounts, sessions, CSRF tokens and login throttling.

Passwords are hashed with Argon2id (argon2-cffi's defaults).  A session is a
random token in an HttpOnly, SameSite=Lax cookie (Secure when the app is
served over TLS); the database keeps only its SHA-256, so a copy of the
database logs nobody in.  Every state-changing request carries the session's
CSRF token: a hidden ``csrf`` field in forms, the ``X-CSRF-Token`` header in
the JSON API.  Before login, the token is a random cookie the form must echo
(double submit).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from counterplan.web.models import AuthSession, LoginFailure, User, now
from counterplan.web.rights import Refused

SESSION_COOKIE = "counterplan_session"
CSRF_COOKIE = "counterplan_csrf"
SESSION_DAYS = 7
#: At most this many failed logins for one name in THROTTLE_WINDOW.
THROTTLE_FAILURES = 5
THROTTLE_WINDOW = dt.timedelta(minutes=15)
MIN_PASSWORD = 8

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def check_new_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise Refused(422, f"the password is {len(password)} characters long; "
                           f"give at least {MIN_PASSWORD}")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def same(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))


@dataclass(frozen=True)
class Login:
    user: User
    token: str
    csrf: str


def log_in(db: Session, name: str, password: str) -> Login:
    """Check a name and password (throttled per name); open a session."""
    since = now() - THROTTLE_WINDOW
    failures = db.scalar(select(func.count()).select_from(LoginFailure)
                         .where(LoginFailure.name == name, LoginFailure.at >= since)) or 0
    if failures >= THROTTLE_FAILURES:
        raise Refused(429, f"too many failed logins for {name!r}: wait "
                           f"{int(THROTTLE_WINDOW.total_seconds() // 60)} minutes and try again")
    user = db.scalar(select(User).where(User.name == name))
    if user is None or not verify_password(user.password_hash, password):
        raise Refused(401, "wrong name or password")
    db.execute(delete(LoginFailure).where(LoginFailure.name == name))
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    db.add(AuthSession(token_hash=token_hash(token), user_id=user.id, csrf=csrf,
                       expires_at=now() + dt.timedelta(days=SESSION_DAYS)))
    return Login(user, token, csrf)


def attempt_login(factory: sessionmaker[Session], name: str, password: str) -> Login:
    """:func:`log_in` in its own transaction; a failure is counted in another,
    so that the refusal cannot roll the count back."""
    try:
        with factory() as db, db.begin():
            return log_in(db, name, password)
    except Refused as exc:
        if exc.status == 401:
            with factory() as db, db.begin():
                db.add(LoginFailure(name=name[:64]))
        raise


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
    check_new_password(password)
    if db.scalar(select(User).where(User.name == name)) is not None:
        raise Refused(409, f"there is already a user called {name!r}")
    user = User(name=name, password_hash=hash_password(password))
    db.add(user)
    db.flush()
    return user
