"""Sending a file written on the fly without holding it in memory: it is written to a temporary
file first (the database work is done inside the request), then sent in blocks. The file is
removed once it has been read to the end, or when the server closes the response early (the
client gone), or at once when writing it fails."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import suppress

from flask import Response

from workflow.ledger.names import content_disposition

BLOCK = 64 * 1024  # bytes sent at a time
SPOOL_DIR: str | None = None  # None: the system's temporary folder (tests point it elsewhere)


class Spooled:
    """A written temporary file as a WSGI body: its blocks, then it is gone. WSGI servers call
    close() on a body they stop sending (werkzeug's ClosingIterator passes it on)."""

    def __init__(self, path: str):
        self.path = path
        self.handle = open(path, "rb")  # noqa: SIM115 — closed by close()

    def __iter__(self) -> Iterator[bytes]:
        try:
            while block := self.handle.read(BLOCK):
                yield block
        finally:
            self.close()

    def close(self) -> None:
        self.handle.close()
        remove(self.path)


def spooled(write, filename: str, mimetype: str) -> Response:
    """A download named `filename` of what `write(out)` writes to a binary file `out`."""
    descriptor, path = tempfile.mkstemp(prefix="filingbot-download-", dir=SPOOL_DIR)
    try:
        with os.fdopen(descriptor, "wb") as out:
            write(out)
        body = Spooled(path)
    except BaseException:
        remove(path)
        raise
    response = Response(body, mimetype=mimetype)
    response.content_length = os.path.getsize(path)
    response.headers["Content-Disposition"] = content_disposition(filename)
    return response


def remove(path: str) -> None:
    with suppress(FileNotFoundError):
        os.unlink(path)
