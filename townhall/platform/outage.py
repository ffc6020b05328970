"""Telling a database outage from a bug.

An exception is an outage when it, or what caused it, says the database cannot be reached or
cannot serve now: a refused or reset connection, a connection the server closed, a server
shutting down or refusing new connections, a missing database, a busy or unopenable SQLite file,
a connection pool with nothing left to lend. Those are answered "unavailable, retry after
:data:`RETRY_AFTER` seconds"; every other failure stays a bug, logged with its traceback.

Driver exceptions are recognised by what they carry (an SQLSTATE, an SQLite error name), so this
module imports only the standard library and SQLAlchemy.
"""

from __future__ import annotations

from sqlalchemy import exc as sa_exc

RETRY_AFTER = 5  # seconds: long enough for a restart to begin answering, short for a person

# SQLSTATE classes: 08 connection exception, 57P operator intervention (admin shutdown, crash
# shutdown, cannot connect now), 53 insufficient resources (too many connections, disk full);
# 3D000: the database does not exist (dropped or renamed while we run).
SQLSTATE_PREFIXES = ("08", "57P", "53", "3D000")
# SQLite result codes that mean "the file is not usable now", not "the statement is wrong".
SQLITE_ERRORS = ("SQLITE_CANTOPEN", "SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_IOERR", "SQLITE_FULL")
# OSErrors about files are bugs or configuration, not the network.
NOT_NETWORK = (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError)


def database_unavailable(error: BaseException) -> bool:
    """Whether ``error`` (or an exception in its cause chain) is a database outage."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if _is_outage(current):
            return True
        current = current.__cause__ or current.__context__
    return False


def _is_outage(error: BaseException) -> bool:
    if isinstance(error, sa_exc.TimeoutError):  # the pool had no connection to lend in time
        return True
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, OSError) and not isinstance(error, NOT_NETWORK):
        return True  # refused, reset, unreachable, timed out (TimeoutError is an OSError)
    sqlstate = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
    if isinstance(sqlstate, str) and sqlstate.startswith(SQLSTATE_PREFIXES):
        return True
    sqlite_name = getattr(error, "sqlite_errorname", None)
    if isinstance(sqlite_name, str) and sqlite_name.startswith(SQLITE_ERRORS):
        return True
    # asyncpg names a connection it lost without an SQLSTATE.
    return type(error).__name__ in {"ConnectionDoesNotExistError", "ConnectionFailureError"} or (
        type(error).__name__ == "InterfaceError" and "connection is closed" in str(error)
    )


def describe(error: BaseException) -> str:
    """One short line for the log: the exception's type and the first line of its message."""
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0][:200]}" if text else type(error).__name__
