"""Where the evidence base and the scenario library are, in a source tree or an installed package."""

from __future__ import annotations

from pathlib import Path

_REPO = Path(__file__).resolve().parent.parent


def _locate(name: str) -> Path:
    repo = _REPO / name
    if repo.is_dir() and (_REPO / "pyproject.toml").is_file():
        return repo
    from . import _data
    return Path(_data.__file__).resolve().parent / name


def seeds_dir() -> Path:
    """Folder holding ``claims.yaml``, ``targets.yaml`` and calibration outputs."""
    return _locate("seeds")


def scenarios_dir() -> Path:
    """Folder holding the scenario library (``baseline.yaml`` and the rest)."""
    return _locate("scenarios")
