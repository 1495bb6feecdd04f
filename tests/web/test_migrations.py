"""The migrations build exactly the tables the code declares, on SQLite and
PostgreSQL, and the command-line administration of accounts."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from counterplan.web import db as database
from counterplan.web.models import Base
from test_cli import run as cli  # the entry point, in this process


def test_the_migrations_match_the_models(db_url: str) -> None:
    engine = database.connect(db_url)
    database.migrate(engine)  # already at head: nothing to do, nothing breaks
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert diff == []


def test_a_database_at_an_older_revision_is_brought_to_the_newest(tmp_path: Path) -> None:
    """``migrate`` skips Alembic only for a database already at the head: one
    left at an earlier revision (here the schema before self-government) is
    upgraded, and then matches the models."""
    engine = database.connect(f"sqlite:///{tmp_path / 'old.db'}")
    with engine.begin() as connection:
        config = database.alembic_config(engine)
        config.attributes["connection"] = connection
        command.upgrade(config, "0004")
    with engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == "0004"
    database.migrate(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection)
        assert context.get_current_revision() == database.newest_revision() != "0004"
        assert compare_metadata(context, Base.metadata) == []
    engine.dispose()


def test_users_from_the_command_line(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'plan.db'}"
    added = cli("users", "add", "alice", "--db", db, "--password", "a-long-password",
                 cwd=tmp_path)
    assert added.returncode == 0 and "added alice" in added.stdout
    again = cli("users", "add", "alice", "--db", db, "--password", "a-long-password",
                 cwd=tmp_path)
    assert again.returncode == 1
    assert "already a user called 'alice'" in again.stderr and "Traceback" not in again.stderr
    short = cli("users", "add", "bob", "--db", db, "--password", "short", cwd=tmp_path)
    assert short.returncode == 1 and "at least 8" in short.stderr
    listed = cli("users", "list", "--db", db, cwd=tmp_path)
    assert listed.stdout.split() == ["alice", "(no", "roles)"]
    gone = cli("users", "remove", "nobody", "--db", db, cwd=tmp_path)
    assert gone.returncode == 1 and "no user called 'nobody'" in gone.stderr
    removed = cli("users", "remove", "alice", "--db", db, cwd=tmp_path)
    assert removed.returncode == 0
    assert cli("users", "list", "--db", db, cwd=tmp_path).stdout == ""


def test_a_wrong_database_url_is_a_clear_error(tmp_path: Path) -> None:
    bad = cli("users", "list", "--db", "mysql+nothing://x", cwd=tmp_path)
    assert bad.returncode == 1
    assert "cannot use the database URL" in bad.stderr and "Traceback" not in bad.stderr
    down = cli("users", "list", "--db", "postgresql://nobody@127.0.0.1:1/none", cwd=tmp_path)
    assert down.returncode == 1
    assert "cannot open the database" in down.stderr and "Traceback" not in down.stderr
