"""One run at a time: an exclusive lock on a file beside the warehouse, held from load to publication.

flock() is released by the kernel when its holder dies (even by kill -9), so a crashed run never
leaves a stale lock. The lock is re-entrant within a process: `segments run` takes it before
Dagster starts, and the job's resource (defs/resources.py) takes it again without blocking itself.
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
import time
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from orchestration.settings import Settings

_held: dict[Path, int] = {}


class RunLockedError(RuntimeError):
    """Another process holds the run lock."""


def lock_path(settings: Settings) -> Path:
    return settings.warehouse.with_name(settings.warehouse.name + ".lock")


@contextmanager
def run_lock(settings: Settings, purpose: str = "segments run", wait_seconds: int | None = None):
    path = lock_path(settings)
    if _held.get(path):
        _held[path] += 1
        try:
            yield
        finally:
            _held[path] -= 1
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    wait_seconds = settings.lock_wait_seconds if wait_seconds is None else wait_seconds
    handle = path.open("a+", encoding="utf-8")
    try:
        _acquire(handle, path, wait_seconds)
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({"pid": os.getpid(), "purpose": purpose,
                                 "since": datetime.now(UTC).isoformat(timespec="seconds")}))
        handle.flush()
        _held[path] = 1
        try:
            yield
        finally:
            _held.pop(path, None)
            fcntl.flock(handle, fcntl.LOCK_UN)
    finally:
        handle.close()


def _acquire(handle, path: Path, wait_seconds: int) -> None:
    deadline = time.monotonic() + wait_seconds
    announced = False
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            holder = _holder(path)
            if time.monotonic() >= deadline:
                raise RunLockedError(
                    f"another run holds the lock {path} ({holder}); nothing was started "
                    "(SEGMENTS_LOCK_WAIT_SECONDS sets how long to wait)") from None
            if not announced:
                print(f"segments: waiting up to {wait_seconds} s for the run holding {path} ({holder})",
                      file=sys.stderr, flush=True)
                announced = True
            time.sleep(0.5)


def _holder(path: Path) -> str:
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
        return f"{info['purpose']}, pid {info['pid']}, since {info['since']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "holder unknown"
