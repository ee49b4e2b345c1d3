"""Database engine and sessions (SQLAlchemy 2, synchronous).

SQLite in the data folder by default; PostgreSQL through psycopg 3 when
`DATABASE_URL` is `postgresql+psycopg://...`. Route functions that use the
database are plain `def`, so FastAPI runs them in its thread pool.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker


class Base(DeclarativeBase):
    pass


class Database:
    """One engine and session factory for the app's lifetime."""

    def __init__(self, url: str) -> None:
        parsed = make_url(url)
        # A session gives its connection back when its `with` block ends, so
        # a request waiting for a thread never holds one. The pool may then
        # be smaller than FastAPI's thread pool (40 threads) without a
        # deadlock, and a wait longer than pool_timeout is a 503.
        options: dict[str, Any] = {
            "pool_pre_ping": True,
            "pool_size": 10,
            "max_overflow": 10,
            "pool_timeout": 10,
        }
        if parsed.get_backend_name() == "sqlite":
            database = parsed.database
            if database and database != ":memory:":
                # The database contains user data, so only the service's user may read it.
                Path(database).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            # Sessions move between thread-pool threads; each is used by one
            # thread at a time, which is what SQLite's check guards.
            options["connect_args"] = {"check_same_thread": False}
        elif parsed.get_backend_name() == "postgresql":
            # Fail fast while the server is down, so requests get 503 quickly
            # instead of holding a worker thread for the OS connect timeout.
            options["connect_args"] = {"connect_timeout": 3}
            options["pool_timeout"] = 5
        self.engine: Engine = create_engine(parsed, **options)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def create_schema(self) -> None:
        # NOTE: create_all only adds missing tables; a service that changes
        # its tables after the first deploy needs migrations (Alembic).
        Base.metadata.create_all(self.engine)

    def ping(self) -> None:
        """Run `SELECT 1`; raises SQLAlchemy's error when the database is unreachable."""
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    @contextmanager
    def session(self) -> Iterator[Session]:
        """Open a session for one unit of work; its connection is returned on exit.

        Routes use `with database.session() as session:` and build their
        response inside the block. A session from a yield-dependency would
        keep its connection while FastAPI waits for a thread to validate the
        response. Under a burst, every thread then waits for a connection
        that a request without a thread keeps, until the pool times out.
        """
        with self._sessions() as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
