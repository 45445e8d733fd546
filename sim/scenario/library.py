"""Where the evidence base and the scenario library are, in a source tree or an installed package."""

from __future__ import annotations

from pathlib import Path

import sim._data

#: The source tree (when running from a checkout): the folder holding pyproject.toml.
_REPO = Path(__file__).resolve().parents[2]


def _locate(name: str) -> Path:
    repo = _REPO / name
    if repo.is_dir() and (_REPO / "pyproject.toml").is_file():
        return repo
    return Path(sim._data.__file__).resolve().parent / name


def seeds_dir() -> Path:
    """Folder holding ``claims.yaml``, ``targets.yaml`` and calibration outputs."""
    return _locate("seeds")


def scenarios_dir() -> Path:
    """Folder holding the scenario library (``baseline.yaml`` and the rest)."""
    return _locate("scenarios")
