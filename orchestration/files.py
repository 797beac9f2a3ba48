"""Files other runs may read or write at the same time."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path


def replace_whole(destination: Path, write: Callable[[Path], object]) -> None:
    """Replace `destination` whole or not at all: `write` fills a file of this process beside it, which then
    takes its place in one step, so a reader sees the old file or the new one, never a part."""
    partial = destination.with_name(f"{destination.name}.{os.getpid()}.tmp")
    write(partial)
    os.replace(partial, destination)


def copy_whole(source: Path, destination: Path) -> None:
    replace_whole(destination, lambda partial: shutil.copyfile(source, partial))
