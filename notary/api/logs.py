"""Log lines on stderr: text for a person, or JSON for a log shipper (``serve --log-format json``).

JSON mode writes one object per line: ``time`` (UTC, ISO 8601), ``level``, ``logger``, ``message``,
every ``extra`` field of the record, and ``exc`` (the traceback, as one string) when there is one.
A small formatter over ``logging`` and orjson (already a dependency) rather than python-json-logger:
twenty lines, no new package.

JSON mode also writes an access line per request (``AccessLines``). Not through ``logging``: a
record costs ~40 µs per request (measured: a LogRecord, then a handoff to a writer thread per
record), a line built here ~3 µs, and a thread writes them out in batches.
"""
from __future__ import annotations

import atexit
import collections
import logging
import multiprocessing.util
import os
import select
import sys
import threading
from datetime import datetime, timezone

import orjson

_RECORD_FIELDS = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName"}
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
FLUSH_SECONDS = 0.1
MAX_WAITING = 100_000  # lines; beyond (stderr blocked for long) the oldest are dropped, memory stays bounded


def _time(created: float) -> str:
    return datetime.fromtimestamp(created, timezone.utc).isoformat(timespec="milliseconds")


def _dumps(line: dict) -> bytes:
    try:
        return orjson.dumps(line, default=str)
    except TypeError:  # an integer beyond 64 bits, a dict with non-string keys ...
        return orjson.dumps({k: v if isinstance(v, (str, float, bool, type(None))) else str(v)
                             for k, v in line.items()})


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        line = {"time": _time(record.created), "level": record.levelname, "logger": record.name,
                "message": record.getMessage()}
        line.update((k, v) for k, v in vars(record).items() if k not in _RECORD_FIELDS)
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exc"] = record.exc_text
        return _dumps(line).decode()


class AccessLines:
    """JSON access lines: ``add`` builds one on the event loop; a thread writes what waits every
    ``FLUSH_SECONDS`` under the stderr handler's lock (whole lines, never mixed into a record)."""

    def __init__(self, handler: logging.StreamHandler) -> None:
        self.handler = handler
        self._waiting: collections.deque[bytes] = collections.deque(maxlen=MAX_WAITING)
        self._second, self._prefix = -1, ""  # the time up to the second, formatted once a second
        self._thread = threading.Thread(target=self._run, name="access-log", daemon=True)
        self._thread.start()
        atexit.register(self.flush)
        multiprocessing.util.Finalize(self, self.flush, exitpriority=0)  # a worker process skips atexit

    def add(self, created: float, method: str, path: str, route: str, status: int, seconds: float,
            client: str | None) -> None:
        second = int(created)
        if second != self._second:
            self._second, self._prefix = second, _time(second)[:20]  # "2026-11-26T09:26:23."
        self._waiting.append(_dumps({
            "time": f"{self._prefix}{int((created - second) * 1000):03d}+00:00", "level": "INFO",
            "logger": "lianzheng.access",
            "message": f"{method} {path} {status}", "method": method, "path": path, "route": route,
            "status": status, "duration_ms": round(seconds * 1000, 3), "client": client}))

    def _run(self) -> None:
        while True:
            threading.Event().wait(FLUSH_SECONDS)
            self.flush()

    def flush(self) -> None:
        lines = []
        try:
            while True:
                lines.append(self._waiting.popleft())
        except IndexError:
            pass
        if lines:
            with self.handler.lock:  # type: ignore[union-attr]
                self._write(lines)

    def _write(self, lines: list[bytes]) -> None:
        """Whole lines in writes of at most PIPE_BUF bytes: the workers of ``serve --workers N``
        share one pipe, and only such writes are never interleaved with another process's."""
        stream = self.handler.stream
        try:
            fd = stream.fileno()
        except (AttributeError, OSError, ValueError):  # not a file (a test's capture)
            stream.write(b"\n".join(lines).decode() + "\n")
            stream.flush()
            return
        stream.flush()
        chunk = bytearray()
        for line in lines:
            if chunk and len(chunk) + len(line) + 1 > select.PIPE_BUF:
                _write_all(fd, chunk)
                chunk.clear()
            chunk += line + b"\n"
        if chunk:
            _write_all(fd, chunk)


def _write_all(fd: int, data: bytes | bytearray) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


_access: AccessLines | None = None


def configure_logging(log_format: str) -> None:
    """Set up the root logger of this process for ``log_format`` (``text`` or ``json``)."""
    global _access
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.setLevel(logging.INFO)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per chain call otherwise
    stderr = logging.StreamHandler(sys.stderr)
    stderr.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    root.addHandler(stderr)
    if log_format == "json" and _access is None:
        _access = AccessLines(stderr)


def access_lines() -> AccessLines:
    """Where JSON access lines go (stderr, set up here if ``configure_logging`` was not called)."""
    if _access is None:
        configure_logging("json")
    assert _access is not None
    return _access
