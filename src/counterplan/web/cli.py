"""Commands of the web application: serve, users add/list/remove/passwd,
export and restore.  Glue only: each parses, calls the app or a service, and prints."""

from __future__ import annotations

import getpass
import os
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session, sessionmaker

from counterplan.errors import CounterplanError
from counterplan.web.db import DEFAULT_URL

users_app = typer.Typer(no_args_is_help=True, help="Administer the web application's accounts.")

Db = Annotated[str, typer.Option("--db", help="database URL: sqlite:///FILE or "
                                              "postgresql://USER:PASSWORD@HOST/NAME")]


def _state(url: str) -> tuple[Engine, sessionmaker[Session]]:
    from counterplan.web import db

    engine = db.connect(url)
    db.migrate(engine)
    return engine, db.sessions(engine)


def in_memory(url: str) -> bool:
    """A SQLite database that lives in one process's memory."""
    return url.startswith("sqlite") and url.split("///", 1)[-1] in ("", ":memory:", url)


def serve(db: Db = DEFAULT_URL,
          host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
          port: Annotated[int, typer.Option(help="port to listen on")] = 8000,
          demo: Annotated[bool, typer.Option(
              "--demo", help="start on the bundled Brazil example with demo accounts "
                             "(in counterplan-demo.db unless --db is given)")] = False,
          secure_cookies: Annotated[bool, typer.Option(
              "--secure-cookies", help="mark cookies Secure (serve behind TLS)")] = False,
          workers: Annotated[int, typer.Option(help="worker threads for requests")] = 40,
          processes: Annotated[int, typer.Option(
              min=1, help="server processes, each with its own threads (SQLite in a file or "
                     "PostgreSQL)")] = 1,
          ) -> None:
    """Run the web application (FastAPI on uvicorn)."""
    import uvicorn

    from counterplan.cli_support import refuse_busy_port
    from counterplan.web.app import Settings, create_app, settings_environment

    refuse_busy_port(host, port)
    if demo and db == DEFAULT_URL:
        db = "sqlite:///counterplan-demo.db"
    if processes > 1 and in_memory(db):
        raise CounterplanError(
            f"--processes {processes} needs a database in a file or on a server: each process "
            f"would have its own {db!r}. Serve with --db sqlite:///FILE or "
            "--db postgresql://USER:PASSWORD@HOST/NAME, or leave out --processes")
    settings = Settings(db_url=db, secure_cookies=secure_cookies, workers=workers)
    app = create_app(settings)
    if demo:
        from counterplan.web import demo as seeding

        with app.state.counterplan.tx() as session:
            wanted = seeding.seed(session)
        typer.echo(f"demo plan {seeding.PLAN!r}: every account's password is "
                   f"{seeding.PASSWORD!r}")
        units = sorted({unit for _, _, unit in wanted if unit})
        typer.echo("  accounts: office (the planning office), and for each unit U: "
                   "U-delegate, U-member1, U-member2")
        typer.echo(f"  units: {', '.join(units)}")
    typer.echo(f"counterplan on http://{host}:{port}/ (database {db.split('@')[-1]})"
               + (f", {processes} processes" if processes > 1 else ""))
    if processes == 1:
        uvicorn.run(app, host=host, port=port, log_level="warning")
        return
    app.state.counterplan.engine.dispose()  # each process opens its own connections
    os.environ.update(settings_environment(settings))
    uvicorn.run("counterplan.web.app:app_from_environment", factory=True, workers=processes,
                host=host, port=port, log_level="warning")


def _password(password: str | None) -> str:
    if password is not None:
        return password
    from_env = os.environ.get("COUNTERPLAN_PASSWORD")
    if from_env:
        return from_env
    first = getpass.getpass("password: ")
    if first != getpass.getpass("again: "):
        raise CounterplanError("the two passwords differ; nothing was changed")
    return first


@users_app.command("add")
def users_add(name: str, db: Db = DEFAULT_URL,
              password: Annotated[str | None, typer.Option(
                  help="the password (else $COUNTERPLAN_PASSWORD, else asked)")] = None,
              ) -> None:
    """Add an account."""
    from counterplan.web.auth import add_user
    from counterplan.web.rights import Refused

    _, factory = _state(db)
    try:
        with factory() as session, session.begin():
            add_user(session, name, _password(password))
    except Refused as exc:
        raise CounterplanError(exc.message) from None
    typer.echo(f"added {name}")


@users_app.command("passwd")
def users_passwd(name: str, db: Db = DEFAULT_URL,
                 password: Annotated[str | None, typer.Option(
                     help="the new password (else $COUNTERPLAN_PASSWORD, else asked)")] = None,
                 ) -> None:
    """Set an account's password; its sessions end and its failed logins are forgotten."""
    from counterplan.web.auth import set_password
    from counterplan.web.models import User
    from counterplan.web.rights import Refused

    _, factory = _state(db)
    try:
        with factory() as session, session.begin():
            user = session.scalar(select(User).where(User.name == name))
            if user is None:
                raise CounterplanError(f"no user called {name!r}; `counterplan users list` "
                                       "shows them")
            set_password(session, user, _password(password))
    except Refused as exc:
        raise CounterplanError(f"{exc.message}; the password of {name} was not changed"
                               ) from None
    typer.echo(f"changed the password of {name}; its sessions have ended")


@users_app.command("list")
def users_list(db: Db = DEFAULT_URL) -> None:
    """List the accounts and their roles."""
    from counterplan.web.models import Membership, Plan, User

    _, factory = _state(db)
    with factory() as session:
        for user in session.scalars(select(User).order_by(User.name)):
            roles = session.execute(select(Plan.name, Membership.role, Membership.unit_id)
                                    .join(Plan, Plan.id == Membership.plan_id)
                                    .where(Membership.user_id == user.id)).all()
            shown = ", ".join(f"{p}:{r}" + (f":{u}" if u else "") for p, r, u in roles)
            typer.echo(f"{user.name}\t{shown or '(no roles)'}")


@users_app.command("remove")
def users_remove(name: str, db: Db = DEFAULT_URL) -> None:
    """Remove an account (its sessions and roles go with it; what it wrote stays)."""
    from counterplan.web.models import AuthSession, Membership, User

    _, factory = _state(db)
    with factory() as session, session.begin():
        user = session.scalar(select(User).where(User.name == name))
        if user is None:
            raise CounterplanError(f"no user called {name!r}; `counterplan users list` "
                                   "shows them")
        session.execute(delete(AuthSession).where(AuthSession.user_id == user.id))
        session.execute(delete(Membership).where(Membership.user_id == user.id))
        session.delete(user)
    typer.echo(f"removed {name}")


def export(out: Annotated[Path, typer.Argument(
               help="folder to write: new, empty, or an earlier archive (replaced)")],
           db: Db = DEFAULT_URL) -> None:
    """Write the web application's whole state to a folder: accounts, plans as
    plan folders, counter-plans, votes as totals, reports (docs/web-archive.md)."""
    from counterplan.web import archive
    from counterplan.web import db as database

    engine = database.connect(db)
    try:
        counts = archive.export(engine, out)
    finally:
        engine.dispose()
    typer.echo(f"wrote {out}: {archive.summary(counts)}")


def restore(folder: Annotated[Path, typer.Argument(
                help="archive folder written by `counterplan export`")],
            db: Db = DEFAULT_URL) -> None:
    """Restore an archive into a new, empty database (checked first, then
    written in one transaction)."""
    from counterplan.web import archive
    from counterplan.web import db as database

    engine = database.connect(db)
    try:
        counts = archive.restore(engine, folder)
    finally:
        engine.dispose()
    typer.echo(f"restored {folder} into {db.split('@')[-1]}: {archive.summary(counts)}")
