"""Bounded memory (issue 5): peak memory does not grow with runs; models are freed after blocks."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import weakref

import mesa
import pytest

import sim.engine as engine
from sim.engine import blocks
from sim.model import DrawdownModel
from sim.scenario.library import scenarios_dir

from conftest import scenario

#: A child process's resident memory in KiB: ``rss_kib("VmRSS")`` now, ``rss_kib("VmHWM")`` its peak.
RSS_HELPER = """
def rss_kib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
"""

#: Runs in a child process: a streamed job with its summary and quantile bands, then the peak
#: resident memory (VmHWM) and the resident memory before the job (after imports).
PEAK_MEMORY_SCRIPT = """
import json, sys, tempfile
import sim
""" + RSS_HELPER + """
runs, months, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
sc = sim.load_scenario(path).with_changes(horizon_months=months)
sim.run(sc, runs=8, seed=3, progress=False)  # warm up lazy imports and caches
before = rss_kib("VmRSS")
with tempfile.TemporaryDirectory() as folder:
    res = sim.run(sc, runs=runs, seed=3, stream_to=folder, progress=False)
    res.summary, res.quantiles
    assert res.summary["provenance"]["runs"] == runs
print(json.dumps({"before": before, "peak": rss_kib("VmHWM")}))
"""


def peak_memory_mib(runs: int, months: int = 24) -> dict:
    """Peak and pre-job resident memory (MiB) of a child process running ``runs`` runs."""
    out = subprocess.run([sys.executable, "-c", PEAK_MEMORY_SCRIPT, str(runs), str(months),
                          str(scenarios_dir() / "baseline.yaml")],
                         capture_output=True, text=True, check=True, timeout=300)
    kib = json.loads(out.stdout.strip().splitlines()[-1])
    return {k: v / 1024 for k, v in kib.items()}


@pytest.mark.slow
def test_peak_memory_does_not_grow_with_runs():
    small = peak_memory_mib(20_000)
    large = peak_memory_mib(200_000)  # ten times the runs, past the exact-quantile budget
    assert large["peak"] < 1.5 * small["peak"], (small, large)
    # the job's own growth (peak minus the process before the job) is bounded too: outcomes
    # kept in memory instead of streamed would alone add ~45 MiB for 200,000 runs
    grow_small, grow_large = small["peak"] - small["before"], large["peak"] - large["before"]
    assert grow_large < 1.5 * grow_small + 16, (small, large)


def test_models_are_freed_after_each_block(monkeypatch):
    made = []

    class Tracked(DrawdownModel):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(weakref.ref(self))

    monkeypatch.setattr(blocks, "DrawdownModel", Tracked)
    sc = scenario(horizon_months=2)
    engine.run(sc, runs=2 * engine.BLOCK_SIZE + 5, seed=1, progress=False)
    gc.collect()
    assert len(made) == 3  # one model per block
    assert all(ref() is None for ref in made)
    assert not any(isinstance(m, Tracked) for m in list(getattr(mesa.Agent, "_ids", {})))


def test_release_drops_the_model_from_mesas_agent_registry():
    if not hasattr(mesa.Agent, "_ids"):
        pytest.skip("mesa >= 3.5 keeps no class-level registry of models")
    m = DrawdownModel(scenario(horizon_months=2), n_runs=4, seed=1)
    assert m in mesa.Agent._ids
    m.release()
    assert m not in mesa.Agent._ids
    assert len(m.agents) == 0


#: Runs an ``iraqsim`` command in a child process after a small warm-up command, and prints the
#: resident memory before it and its peak.
CLI_MEMORY_SCRIPT = """
import json, sys
from sim.cli import main
""" + RSS_HELPER + """
warm_up, job = json.loads(sys.argv[1]), json.loads(sys.argv[2])
assert main(warm_up) == 0
before = rss_kib("VmRSS")
assert main(job) == 0
print(json.dumps({"before": before, "peak": rss_kib("VmHWM")}))
"""


def cli_growth_mib(command, runs: int, out) -> float:
    """How much an ``iraqsim`` command of ``runs`` runs grows a child process's memory (MiB):
    its peak minus the process after a warm-up run of the same command."""
    job = [*command, "--runs", str(runs), "--quiet", "--out", str(out)]
    warm_up = [*command, "--runs", "50", "--quiet", "--out", str(out)]
    done = subprocess.run([sys.executable, "-c", CLI_MEMORY_SCRIPT, json.dumps(warm_up),
                           json.dumps(job)], capture_output=True, text=True, check=True, timeout=300)
    kib = json.loads(done.stdout.strip().splitlines()[-1])
    return (kib["peak"] - kib["before"]) / 1024


def short_scenario(tmp_path, name: str, months: int = 6):
    """A library scenario cut to ``months`` months, written to ``tmp_path``."""
    import yaml
    sc = yaml.safe_load((scenarios_dir() / f"{name}.yaml").read_text())
    sc["horizon_months"] = months
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(sc))
    return str(path)


@pytest.mark.slow
def test_sweep_memory_does_not_grow_with_runs(tmp_path):
    """Each cell streams to its file and every table is read back in chunks: ten times the runs
    per cell (two cells) takes about the same memory. Both sizes fill the buffers that stop at
    a size (row groups of 65,536 runs); the 2,000,000 runs kept in memory would add ~300 MiB."""
    import pandas as pd
    command = ["sweep", short_scenario(tmp_path, "baseline"), "--lever", "exit_month=0,12"]
    small = cli_growth_mib(command, 100_000, tmp_path / "small")
    large = cli_growth_mib(command, 1_000_000, tmp_path / "large")
    assert large < 1.5 * small + 16, (small, large)
    runs = pd.read_parquet(tmp_path / "large" / "runs.parquet", columns=["cell", "replica"])
    assert len(runs) == 2_000_000 and not (tmp_path / "large" / ".runs").exists()
