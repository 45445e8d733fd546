"""Helpers shared by subcommands: output folders and scenario arguments."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ..cli import UserError


def check_writable(out: Path) -> None:
    """Fail with one line if the output folder's parent cannot be created or written."""
    parent = out.resolve().parent
    probe = parent
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise UserError(f"{out}: cannot create the output folder ({probe} is not a folder)")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise UserError(f"{out}: output folder is not writable (no write permission in {probe})")
    if out.exists() and not out.is_dir():
        raise UserError(f"{out}: exists and is not a folder; choose another --out")


def temp_sibling(out: Path) -> Path:
    """A fresh temporary folder next to ``out`` (same filesystem, for an atomic rename)."""
    out.resolve().parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.resolve().parent))
