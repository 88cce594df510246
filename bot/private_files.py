"""Files that hold secrets are readable by the bot's own user only.

The SQLite database holds the shared access token, phone numbers and every filing; the
instance folder holds it (by default), the sandbox emulator's store and, later, the session
key. So the instance folder is 0700 and a SQLite database file 0600, with its `-wal` and `-shm`
files (SQLite gives those the database file's mode when it creates them, so the database file
must be private before the first connection)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

DIRECTORY_MODE = 0o700
FILE_MODE = 0o600
SQLITE_COMPANIONS = ("", "-wal", "-shm", "-journal")


def private_directory(path: str | Path, *, tighten: bool = True) -> Path:
    """Create `path` (and missing parents) as 0700; with `tighten`, make an existing one 0700."""
    path = Path(path)
    missing = not path.exists()
    path.mkdir(mode=DIRECTORY_MODE, parents=True, exist_ok=True)
    if missing or tighten:
        _chmod(path, DIRECTORY_MODE)  # mkdir's mode is filtered through the umask
    return path


def private_sqlite_file(path: str | Path) -> None:
    """Create the SQLite database file as 0600 if missing; make it and its WAL/SHM files 0600.

    A folder the bot had to create for it is 0700; an existing folder is left as it is (it may
    be shared, such as /var/lib), unlike the instance folder (see `private_directory`)."""
    path = Path(path)
    private_directory(path.parent, tighten=False)
    # O_CREAT with 0600 and no O_TRUNC: never touches the content of an existing database.
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, FILE_MODE))
    for suffix in SQLITE_COMPANIONS:
        companion = path.with_name(path.name + suffix)
        if companion.exists():
            _chmod(companion, FILE_MODE)


def sqlite_path(url: str) -> str | None:
    """The file of a `sqlite:///path` URL; None for other databases and in-memory SQLite."""
    if not url.startswith("sqlite:"):
        return None
    path = url.split("sqlite:///", 1)[-1] if "sqlite:///" in url else ""
    path = path.split("?", 1)[0]
    if not path or path == ":memory:" or path.startswith("file:"):
        return None
    return path


def _chmod(path: Path, mode: int) -> None:
    try:
        if path.stat().st_mode & 0o777 != mode:
            os.chmod(path, mode)
    except PermissionError:  # not ours (a shared folder): say so once, do not stop the app
        log.warning("could not make %s private (mode %o): not owned by this user", path, mode)
