"""Performance of the Monte Carlo engine on ``baseline.yaml`` (issue 5; see docs/performance.md).

Run with ``python -m pytest benchmarks --benchmark-only [--perf-quick] [--perf-table FILE]``.
Nothing here asserts a time: the numbers go into the table printed at the end.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import zlib

import mesa
import numpy as np
import pytest

import sim
import sim.engine as engine
from sim.engine import blocks
from sim.model.draws import Stream
from sim.model import DrawdownModel, batch_run_seeds
from sim.scenario.library import scenarios_dir

THROUGHPUT = "Throughput (one process, baseline.yaml, 60 months, quantile bands on)"
RATIOS = "Against the alternatives"
MEMORY = "Peak memory (child process: all that iraqsim run writes, plots included)"
SCALING = "Scaling with local worker processes"


#: Rounds of the interleaved measurements (each job keeps its best round). With 5, the
#: ``batch_run`` ratio of the same code read 821-1,310x across three full runs (round 10): each
#: side's best had too few chances to land in a quiet moment of the host. 10 rounds add ~40 s.
ROUNDS = 10


def _best_interleaved(rounds: int, jobs: dict, wall: dict | None = None) -> dict:
    """Run each job once per round, in turn, and keep each one's smallest CPU time (seconds).

    On a shared machine the speed drifts by tens of percent over minutes; alternating the jobs
    and taking each one's best makes a ratio of two of them far steadier than timing one job now
    and the other minutes later. ``wall``, if given, receives each job's smallest wall-clock time.
    """
    best = {name: float("inf") for name in jobs}
    for _ in range(rounds):
        for name, job in jobs.items():
            t, w = time.process_time(), time.perf_counter()
            job()
            best[name] = min(best[name], time.process_time() - t)
            if wall is not None:
                wall[name] = min(wall.get(name, float("inf")), time.perf_counter() - w)
    return best


def _job(baseline, runs, tmp_path, **kw):
    return lambda: sim.run(baseline, runs=runs, seed=1, progress=False, stream_to=tmp_path, **kw)


def _record_throughput(perf, baseline, label, runs, cpu, wall, note=""):
    run_months = runs * baseline.horizon_months
    perf.record(THROUGHPUT, label, seconds=wall, run_months_per_s=run_months / wall,
                per_CPU_second=run_months / cpu, note=note)


def test_throughput(benchmark, perf, baseline, tmp_path):
    """Jobs of 1,000 to 100,000 runs, with quantile bands and (the largest) outcomes only.

    The sizes take turns, ``ROUNDS`` rounds, and each keeps its best round, as the ratios
    below do: one size timed now and the next a minute later would differ by the machine's drift.
    """
    largest = 20_000 if perf.quick else 100_000
    sizes = [1_000, 10_000] + ([] if perf.quick else [largest])
    jobs = {runs: _job(baseline, runs, tmp_path) for runs in sizes}
    jobs["outcomes only"] = _job(baseline, largest, tmp_path, keep_trajectories=False)
    sim.run(baseline, runs=8, seed=1, progress=False)  # warm up imports
    wall = {}
    best = benchmark.pedantic(_best_interleaved, args=(1 if perf.quick else ROUNDS, jobs,
                                                       wall), rounds=1, iterations=1)
    for runs in sizes:
        _record_throughput(perf, baseline, f"{runs:,} runs", runs, best[runs], wall[runs],
                           note=f"one block of {engine.BLOCK_SIZE:,} is the minimum job"
                           if runs < engine.BLOCK_SIZE else "")
    _record_throughput(perf, baseline, f"{largest:,} runs, outcomes only", largest,
                       best["outcomes only"], wall["outcomes only"],
                       note="keep_trajectories=False: no per-month bands")


@pytest.mark.large
def test_throughput_at_a_million_runs(benchmark, perf, baseline, tmp_path):
    """One job of 1,000,000 runs (one round: ~15 s)."""
    wall = {}
    best = benchmark.pedantic(_best_interleaved, args=(1, {1_000_000: _job(baseline, 1_000_000,
                                                                          tmp_path)}, wall),
                              rounds=1, iterations=1)
    _record_throughput(perf, baseline, "1,000,000 runs", 1_000_000, best[1_000_000],
                       wall[1_000_000])


def _engine_jobs(perf, baseline, tmp_path) -> tuple[int, dict]:
    """The engine jobs a ratio is taken against: (runs, {"bands": job, "outcomes only": job})."""
    runs = 20_000 if perf.quick else 100_000
    return runs, {"bands": _job(baseline, runs, tmp_path),
                  "outcomes only": _job(baseline, runs, tmp_path, keep_trajectories=False)}


#: ``mesa.batch_run``'s ``data_collection_period`` for each kind of engine job: what a user of
#: ``batch_run`` must have it return to make that job's results. Quantile bands need every
#: month of every replica; an outcome table needs each replica's final state (the one-replica
#: model tracks its own peaks and first months, as a block does).
BATCH_RUN_RETURNS = {"bands": ("every month", 1), "outcomes only": ("the last month", -1)}


def test_against_mesa_batch_run(benchmark, perf, baseline, tmp_path):
    """The same model, one replica per model, through ``mesa.batch_run``, returning every month
    and only the last month; interleaved with the engine's 100,000-run jobs, best of ``ROUNDS``
    rounds each. Each engine job's like-for-like ratio is against the ``batch_run`` that returns
    what the job needs (``BATCH_RUN_RETURNS``); the table gives both ratios of both rows."""
    replicas = 5 if perf.quick else 40
    seeds, seeding = batch_run_seeds(range(replicas))
    params = {"scenario": [baseline], "n_runs": 1, "collect": True, **seeds}

    def batch(period):
        return lambda: mesa.batch_run(DrawdownModel, params, number_processes=1,
                                      data_collection_period=period,
                                      max_steps=10 * baseline.horizon_months,
                                      display_progress=False, **seeding)

    runs, jobs = _engine_jobs(perf, baseline, tmp_path)
    batches = {f"batch_run {period}": batch(period) for _, period in BATCH_RUN_RETURNS.values()}
    best = benchmark.pedantic(_best_interleaved, args=(1 if perf.quick else ROUNDS,
                                                       {**jobs, **batches}),
                              rounds=1, iterations=1)
    months = baseline.horizon_months
    engine_rate, bare_rate = (runs * months / best[k] for k in ("bands", "outcomes only"))
    for job, (returns, period) in BATCH_RUN_RETURNS.items():
        rate = replicas * months / best[f"batch_run {period}"]
        perf.record(RATIOS, f"mesa batch_run returning {returns}, one replica per model",
                    run_months_per_CPU_s=rate,
                    engine_is=_times(engine_rate / rate, "faster"),
                    outcomes_only_engine_is=_times(bare_rate / rate, "faster"),
                    note=f"like for like: the engine {'with bands' if job == 'bands' else job}; "
                         f"{replicas} replicas, collect=True, data_collection_period={period}; "
                         f"{_engine_note(runs, engine_rate, bare_rate, perf)}")


def _engine_note(runs: int, engine_rate: float, bare_rate: float, perf) -> str:
    """What a ratio row's engine side ran at (its rounds are the ratio's, not the table's above)."""
    return (f"engine: {runs:,} runs at {engine_rate / 1e6:.2f} M run-months per CPU s with bands, "
            f"{bare_rate / 1e6:.2f} M outcomes only; best of {1 if perf.quick else ROUNDS}, "
            "interleaved")


def _times(ratio: float, word: str) -> str:
    """``"12x faster"``, or a dash where the engine row was not measured (``--perf-quick``)."""
    if ratio != ratio:  # NaN
        return "-"
    return f"{ratio:,.0f}x {word}" if ratio >= 100 else f"{ratio:.1f}x {word}"


def _record_draws(scenario, seed=1, block=0):
    """The draws an actual block makes on its random streams, in order: ``(draw, args,
    kwargs)``, each replaying one call the way the model makes it: a ``Stream`` method
    (``sim.model.draws``), called on a ``Stream``, or a Generator method (the exit process's
    single-precision uniforms), called on the Generator."""
    calls = []

    class Recorder:
        def __init__(self, target):
            self._target = target

        def __getattr__(self, name):
            value = getattr(self._target, name)
            if isinstance(value, np.random.Generator):
                return Recorder(value)

            def draw(*args, **kwargs):
                calls.append((getattr(type(self._target), name), args, kwargs))
                return value(*args, **kwargs)
            return draw

    params = scenario.sample_parameters(engine.BLOCK_SIZE, seed, block)
    model = DrawdownModel(scenario, n_runs=engine.BLOCK_SIZE, params=params,
                          rng=blocks.model_rng(seed, block))
    recorders = {id(s): Recorder(s) for s in model.streams.values()}
    model.streams = {name: recorders[id(s)] for name, s in model.streams.items()}
    model.exit_stream = recorders[id(model.exit_stream)]
    for agent in model.agents:
        if hasattr(agent, "stream"):
            agent.stream = recorders[id(agent.stream)]
    model.run()
    model.release()
    return calls


def _replay(calls, generator):
    """Make the recorded draws again from ``generator`` (see ``_record_draws``)."""
    stream = Stream(generator)
    for draw, args, kwargs in calls:
        draw(stream if draw.__qualname__.startswith("Stream.") else generator, *args, **kwargs)


def test_against_the_random_number_floor(benchmark, perf, baseline, tmp_path):
    """Only draw the random numbers a block uses (parameter samples and the model's draws);
    interleaved with the engine's 100,000-run jobs, best of ``ROUNDS`` rounds each."""
    calls = _record_draws(baseline)
    names = sorted(baseline.uncertain_parameters())
    blocks = 10

    def draw_only():
        for _ in range(blocks):
            for name in names:  # parameter sampling: one stream per parameter, as the scenario does
                ss = np.random.SeedSequence(entropy=1, spawn_key=(0, 1, zlib.crc32(name.encode())))
                np.random.default_rng(ss).random(engine.BLOCK_SIZE)
            _replay(calls, np.random.default_rng(np.random.SeedSequence(entropy=1, spawn_key=(0, 0))))

    runs, jobs = _engine_jobs(perf, baseline, tmp_path)
    best = benchmark.pedantic(_best_interleaved, args=(1 if perf.quick else ROUNDS,
                                                       {**jobs, "floor": draw_only}),
                              rounds=1, iterations=1)
    months = baseline.horizon_months
    floor = blocks * engine.BLOCK_SIZE * months / best["floor"]
    engine_rate, bare_rate = (runs * months / best[k] for k in ("bands", "outcomes only"))
    perf.record(RATIOS, "random-number floor (draws only)", run_months_per_CPU_s=floor,
                engine_is=_times(floor / engine_rate, "slower"),
                outcomes_only_engine_is=_times(floor / bare_rate, "slower"),
                note=f"{len(calls)} draw calls per block; "
                     f"{_engine_note(runs, engine_rate, bare_rate, perf)}")


MEMORY_SCRIPT = """
import json, sys, tempfile, time
import sim
from sim.reporting.save import write_into

def kib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])

runs, path, workers = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
sc = sim.load_scenario(path)
before = kib("VmRSS")
t = time.perf_counter()
with tempfile.TemporaryDirectory() as folder:
    res = sim.run(sc, runs=runs, seed=1, stream_to=folder, progress=False, workers=workers)
    write_into(res, folder)  # outcomes, quantile bands, summary, resolved scenario, plots
print(json.dumps({"before": before, "peak": kib("VmHWM"), "seconds": time.perf_counter() - t}))
"""


def peak_memory(runs: int, workers: int = 1) -> dict:
    """Peak resident memory (MiB) and wall time of a fresh process running ``runs`` runs."""
    out = subprocess.run([sys.executable, "-c", MEMORY_SCRIPT, str(runs),
                          str(scenarios_dir() / "baseline.yaml"), str(workers)],
                         capture_output=True, text=True, check=True)
    got = json.loads(out.stdout.strip().splitlines()[-1])
    return {"peak_MiB": got["peak"] / 1024, "after_imports_MiB": got["before"] / 1024,
            "seconds": got["seconds"]}


@pytest.mark.parametrize("runs", [20_000, 100_000,
                                  pytest.param(1_000_000, marks=pytest.mark.large),
                                  pytest.param(10_000_000, marks=pytest.mark.large)])
def test_peak_memory(benchmark, perf, runs):
    if not perf.quick and runs == 20_000:
        pytest.skip("the full table measures 100k, 1M and 10M runs")
    got = benchmark.pedantic(peak_memory, args=(runs,), rounds=1, iterations=1)
    perf.record(MEMORY, f"{runs:,} runs", **got)


def test_worker_scaling(benchmark, perf, baseline, tmp_path):
    """One process against two worker processes, interleaved, best of two rounds each (wall)."""
    runs = 20_000 if perf.quick else 1_000_000
    wall = {1: float("inf"), 2: float("inf")}

    def rounds():
        for _ in range(1 if perf.quick else 2):
            for workers in (1, 2):
                t = time.perf_counter()
                sim.run(baseline, runs=runs, seed=1, progress=False, workers=workers,
                        stream_to=tmp_path)
                wall[workers] = min(wall[workers], time.perf_counter() - t)

    benchmark.pedantic(rounds, rounds=1, iterations=1)
    for workers in (1, 2):
        perf.record(SCALING, f"{workers} worker{'s' if workers > 1 else ''}, {runs:,} runs",
                    seconds=wall[workers],
                    run_months_per_s=runs * baseline.horizon_months / wall[workers],
                    speedup=wall[1] / wall[workers],
                    note="includes starting the worker processes" if workers > 1 else "in this process")
    one, two = _machine_ceiling()
    perf.record(SCALING, "the machine's ceiling: the same pure-Python loop in 1 and 2 processes",
                seconds=two, run_months_per_s="-", speedup=2 * one / two,
                note="what two cores give here to work that shares nothing")


SPIN = "x = 0\nfor i in range(20_000_000):\n    x += i"


def _machine_ceiling(rounds: int = 2) -> tuple[float, float]:
    """Wall seconds of one CPU-bound loop alone, and of two copies running at once (best of
    ``rounds``): on a shared virtual machine two cores are often worth less than two."""
    alone = together = float("inf")
    for _ in range(rounds):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", SPIN], check=True)
        alone = min(alone, time.perf_counter() - t)
        t = time.perf_counter()
        procs = [subprocess.Popen([sys.executable, "-c", SPIN]) for _ in range(2)]
        for proc in procs:
            proc.wait()
        together = min(together, time.perf_counter() - t)
    return alone, together


BLOCKS = ("Block size (one process, 131,072 runs of baseline.yaml per size (32,768 with --perf-quick), "
          "quantile bands on; sizes interleaved, best of 3 rounds)")


SIZES = [1024, 2048, 4096, 8192, 10_000, 16384, 32768]


def test_block_size(benchmark, perf, baseline, monkeypatch):
    """Throughput of ``run_block`` at other block sizes (results differ; only speed is compared).

    The sizes take turns, round after round, and each keeps its best round: the machine's speed
    drifts less within a round than between one size's measurement and the next's.
    """
    total = 2**15 if perf.quick else 2**17
    chosen = engine.BLOCK_SIZE
    best = {size: float("inf") for size in SIZES}

    def rounds():
        for _ in range(2 if perf.quick else 3):
            for size in SIZES:
                monkeypatch.setattr(blocks, "BLOCK_SIZE", size)
                engine.run_block(baseline, 1, 0, summary="histogram")  # warm this size's buffers
                t = time.process_time()
                for b in range(total // size):
                    engine.run_block(baseline, 1, b, summary="histogram")
                best[size] = min(best[size], time.process_time() - t)

    benchmark.pedantic(rounds, rounds=1, iterations=1)
    for size in SIZES:
        run_months = total // size * size * baseline.horizon_months
        perf.record(BLOCKS, f"{size:,}" + (" (chosen)" if size == chosen else ""),
                    run_months_per_CPU_s=run_months / best[size],
                    smallest_job_seconds=best[size] * size / (total // size * size))


FIRST_RESULT = "Time to the first result (iraqsim run baseline --runs 10000, a fresh process)"

PHASES_SCRIPT = """
import json, sys, tempfile, time
from pathlib import Path
t0 = time.perf_counter()
import sim.cli  # what the command imports, as it does: the library, the engine, part of Mesa
from sim._lazy import defer_package_init
for package in sim.cli.DEFERRED_PACKAGES:
    defer_package_init(package)
import mesa.model
import sim.cli.run
t1 = time.perf_counter()
import sim
sc = sim.load_scenario("baseline")
res = sim.run(sc, runs=10_000, seed=1, progress=False)
t2 = time.perf_counter()
summary = res.summary  # the key outcome table printed first
t3 = time.perf_counter()
folder = Path(tempfile.mkdtemp())
res.write_into(folder)
t4 = time.perf_counter()
from sim.reporting import plots
(folder / "plots").mkdir()
plots.plot_outcomes(res, folder / "plots" / "outcomes.png")
t5 = time.perf_counter()
plots.plot_trajectories(res, folder / "plots" / "trajectories.png")
t6 = time.perf_counter()
print(json.dumps({"imports": t1 - t0, "simulation": t2 - t1, "summaries": t3 - t2,
                  "writing": t4 - t3, "outcomes figure": t5 - t4, "trajectories figure": t6 - t5}))
"""


def test_time_to_the_first_result(benchmark, perf, tmp_path):
    """What a user waits for: the whole ``iraqsim run baseline --runs 10000`` of the README
    (its table printed) in a fresh process (best and median of a few), and where the time goes,
    phase by phase, in another fresh process."""
    rounds = 2 if perf.quick else 5
    command = [sys.executable, "-m", "sim", "run", "baseline", "--runs", "10000",
               "--out", str(tmp_path / "r")]
    walls, phases = [], []

    def measure():
        for _ in range(rounds):
            t = time.perf_counter()
            subprocess.run(command, check=True, capture_output=True)
            walls.append(time.perf_counter() - t)
            out = subprocess.run([sys.executable, "-c", PHASES_SCRIPT], check=True,
                                 capture_output=True, text=True).stdout
            phases.append(json.loads(out.strip().splitlines()[-1]))

    benchmark.pedantic(measure, rounds=1, iterations=1)
    best = min(range(rounds), key=lambda i: sum(phases[i].values()))
    perf.record(FIRST_RESULT, "whole command, end to end (best round)", seconds=min(walls))
    perf.record(FIRST_RESULT, "whole command, end to end (median round)",
                seconds=float(np.median(walls)))
    until_table = phases[best]["imports"] + phases[best]["simulation"] + phases[best]["summaries"]
    perf.record(FIRST_RESULT, "until the key outcome table is printed", seconds=until_table)
    for name, seconds in phases[best].items():
        perf.record(FIRST_RESULT, f"phase: {name}", seconds=seconds)


STUDIO = "The classroom studio (a lever change, 10,000 runs, in headless Chromium)"


def test_studio_latency(benchmark, perf, tmp_path):
    """Seconds from a lever change (one key press on the troops slider) to the page's table
    showing the new runs, in a real browser, median of 20 changes."""
    pytest.importorskip("playwright.sync_api")
    pytest.importorskip("solara")
    import shutil
    import socket
    import urllib.request

    from playwright.sync_api import sync_playwright
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "sim", "studio", "--no-browser", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/?runs=10000"
    changes = 5 if perf.quick else 20
    times = []
    try:
        for _ in range(240):
            try:
                urllib.request.urlopen(url, timeout=2).close()
                break
            except OSError:
                time.sleep(0.5)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
            page = browser.new_page()
            page.goto(url)
            page.wait_for_selector("#key-outcomes", timeout=120_000)

            def measure():
                for i in range(changes):
                    before = page.inner_text("#key-outcomes")
                    page.get_by_role("slider").first.focus()
                    t = time.perf_counter()
                    page.keyboard.press("ArrowLeft" if i % 2 else "ArrowRight")
                    page.wait_for_function("(b) => document.querySelector('#key-outcomes').innerText !== b",
                                           arg=before, timeout=60_000)
                    times.append(time.perf_counter() - t)
                    page.wait_for_selector("#status:has-text('up to date')", timeout=60_000)
            benchmark.pedantic(measure, rounds=1, iterations=1)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=20)
    perf.record(STUDIO, f"lever change to updated table and charts, median of {changes}",
                seconds=float(np.median(times)), slowest_seconds=max(times))
