"""Benchmark harness: collects measurements and prints (or writes) the performance table.

Run (not part of the default test run)::

    python -m pytest benchmarks --benchmark-only --perf-table docs/perf-table.md
    python -m pytest benchmarks --benchmark-only --perf-quick     # small sizes: harness check

Each test records what it measured with ``perf.record(section, label, **values)``; at the end of
the session the table is printed and, with ``--perf-table FILE``, written as Markdown.
"""

from __future__ import annotations

import datetime as _dt
import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

from sim import load_scenario
from sim.scenario.library import scenarios_dir

_RESULTS: dict[str, list[tuple[str, dict]]] = {}


def pytest_addoption(parser):
    group = parser.getgroup("iraqsim performance")
    group.addoption("--perf-quick", action="store_true",
                    help="small sizes only (checks the harness in about a minute)")
    group.addoption("--perf-table", metavar="FILE",
                    help="write the performance table as Markdown to FILE")


class Perf:
    """What a benchmark test gets: the size plan and a recorder."""

    def __init__(self, quick: bool):
        self.quick = quick

    @staticmethod
    def record(section: str, label: str, **values) -> None:
        """Keep one row of the table."""
        _RESULTS.setdefault(section, []).append((label, values))

    @staticmethod
    def get(section: str, label: str) -> dict | None:
        """A row recorded earlier in the session, or ``None``."""
        for lab, values in _RESULTS.get(section, []):
            if lab == label:
                return values
        return None


@pytest.fixture(scope="session")
def perf(request) -> Perf:
    return Perf(request.config.getoption("--perf-quick"))


@pytest.fixture(scope="session")
def baseline():
    """``scenarios/baseline.yaml`` as shipped (60 months)."""
    return load_scenario(scenarios_dir() / "baseline.yaml")


def pytest_collection_modifyitems(config, items):
    """Quick mode drops the large sizes (marked ``large``)."""
    if config.getoption("--perf-quick"):
        skip = pytest.mark.skip(reason="large size; not in --perf-quick")
        for item in items:
            if "large" in item.keywords:
                item.add_marker(skip)


def pytest_configure(config):
    config.addinivalue_line("markers", "large: sizes skipped by --perf-quick")


def _environment() -> str:
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, cwd=Path(__file__).parent).stdout.strip()
    except OSError:  # pragma: no cover
        commit = "?"
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:  # pragma: no cover
        pass
    import mesa
    import numpy
    load = "/".join(f"{x:.1f}" for x in os.getloadavg())
    return (f"{_dt.date.today()} · commit {commit} · {cpu} · {os.cpu_count()} CPUs · "
            f"load average at the end {load} · Python {sys.version.split()[0]} · "
            f"numpy {numpy.__version__} · mesa {mesa.__version__}")


def _fmt(v) -> str:
    if isinstance(v, float):
        if abs(v) >= 1e5:
            return f"{v:,.0f}"
        return f"{v:,.3g}" if abs(v) < 100 else f"{v:,.1f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def perf_table() -> str:
    """The Markdown table of everything recorded this session."""
    lines = [f"Environment: {_environment()}", ""]
    for section, rows in _RESULTS.items():
        keys = []
        for _, values in rows:
            keys += [k for k in values if k not in keys]
        lines += [f"**{section}**", "", "| | " + " | ".join(k.replace("_", " ") for k in keys) + " |",
                  "|---" * (len(keys) + 1) + "|"]
        for label, values in rows:
            lines.append(f"| {label} | " + " | ".join(_fmt(values.get(k, "")) for k in keys) + " |")
        lines.append("")
    return "\n".join(lines)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not _RESULTS:
        return
    table = perf_table()
    terminalreporter.write_sep("=", "iraqsim performance")
    terminalreporter.write_line(table)
    path = config.getoption("--perf-table")
    if path:
        Path(path).write_text(table + "\n")
        terminalreporter.write_line(f"wrote {path}")
