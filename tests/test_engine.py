"""The Monte Carlo engine (issue 5): blocks, seeding, executors, streaming, progress, errors."""

from __future__ import annotations

import concurrent.futures
import os
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

import sim.engine as engine
from sim.engine import executors, io
import sim.engine.summary as summary
from sim import load_scenario
from sim.cli import main
from sim.scenario.errors import ArgumentError
from sim.scenario.library import scenarios_dir

from conftest import scenario

B = engine.BLOCK_SIZE
JOB = B + 1000  # two blocks, the last one short


@pytest.fixture(scope="module")
def short_baseline():
    """baseline.yaml cut to 24 months (two blocks of it take well under a second)."""
    return load_scenario(scenarios_dir() / "baseline.yaml").with_changes(horizon_months=24)


@pytest.fixture(scope="module")
def streamed(short_baseline, tmp_path_factory):
    """The same two-block job in this process, in 2 processes and on Dask.

    The 2-process job leaves every block to the workers (this process would otherwise compute
    both while they start), so the comparison is between executors.
    """
    out = {}
    for label, kw in [("inline", {}), ("processes", {"workers": 2}),
                      ("dask", {"dask": "local", "workers": 2})]:
        folder = tmp_path_factory.mktemp(label)
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(executors, "WORK_WHILE_WORKERS_START", False)
            res = engine.run(short_baseline, runs=JOB, seed=7, stream_to=folder, progress=False,
                             **kw)
        out[label] = (res, folder / "outcomes.parquet")
    return out


def test_outcomes_parquet_identical_for_workers_1_2_and_dask(streamed):
    inline = streamed["inline"][1].read_bytes()
    for label in ("processes", "dask"):
        res, path = streamed[label]
        assert res.provenance["executor"].split(":")[0] == label
        assert path.read_bytes() == inline, label
    table = pq.read_table(streamed["inline"][1])
    assert table.num_rows == JOB
    assert table.column("run").to_pylist() == list(range(JOB))


def test_quantile_bands_identical_across_executors(streamed):
    bands = {k: res.quantiles for k, (res, _) in streamed.items()}
    pd.testing.assert_frame_equal(bands["inline"], bands["processes"], check_exact=True)
    pd.testing.assert_frame_equal(bands["inline"], bands["dask"], check_exact=True)


def test_run_i_of_2000_equals_run_i_of_5000_and_of_a_two_block_job(short_baseline, streamed):
    small = engine.run(short_baseline, runs=2000, seed=7, progress=False).outcomes
    medium = engine.run(short_baseline, runs=5000, seed=7, progress=False).outcomes
    large = pd.read_parquet(streamed["inline"][1])
    pd.testing.assert_frame_equal(small, medium.iloc[:2000], check_exact=True)
    pd.testing.assert_frame_equal(medium, large.iloc[:5000], check_exact=True)


def test_a_block_does_not_depend_on_the_others(short_baseline, streamed):
    """Block 1 computed alone (as any worker would) equals rows B.. of the whole job."""
    alone = engine.run_block(short_baseline, 7, 1, n=JOB - B, keep_trajectories=False)
    job = pd.read_parquet(streamed["inline"][1]).iloc[B:].reset_index(drop=True)
    pd.testing.assert_frame_equal(pd.DataFrame(alone.columns), job, check_exact=True)


def test_the_seed_changes_every_block(short_baseline):
    a = engine.run_block(short_baseline, 1, 0, n=50, keep_trajectories=False).columns
    b = engine.run_block(short_baseline, 2, 0, n=50, keep_trajectories=False).columns
    c = engine.run_block(short_baseline, 1, 1, n=50, keep_trajectories=False).columns
    assert not np.array_equal(a["isis_peak"], b["isis_peak"])
    assert not np.array_equal(a["isis_peak"], c["isis_peak"])


def test_blocks_cut_runs_at_the_fixed_block_size():
    assert engine.blocks_for(1) == [(0, 1)]
    assert engine.blocks_for(B) == [(0, B)]
    assert engine.blocks_for(2 * B + 3) == [(0, B), (1, B), (2, 3)]
    assert sum(n for _, n in engine.blocks_for(123_457)) == 123_457


def test_provenance_records_block_size_executor_and_throughput(streamed):
    prov = streamed["processes"][0].provenance
    assert prov["block_size"] == B
    assert prov["executor"] == "processes:2"
    assert prov["runs"] == JOB and prov["seed"] == 7
    assert prov["run_months_per_second"] > 0
    assert prov["quantiles"] == "exact"


def _pid_after(seconds, i):
    """A stand-in block for the executor test: wait, then say where it ran."""
    time.sleep(seconds)
    return i, os.getpid()


def _spy_terminations(monkeypatch) -> list:
    """Record the worker processes ``executors._terminate_workers`` stops."""
    stopped = []
    real = executors._terminate_workers

    def spy(pool):
        stopped.extend(pool._processes.values())
        real(pool)
    monkeypatch.setattr(executors, "_terminate_workers", spy)
    return stopped


#: The workers' warm-up futures of the pool under test (in the test's process only).
_WARM_UPS: list = []


class _RecordingPool(concurrent.futures.ProcessPoolExecutor):
    """A process pool that lets the test see its workers' warm-up tasks."""

    def submit(self, fn, *args, **kwargs):
        future = super().submit(fn, *args, **kwargs)
        if fn is executors._warm_up:
            _WARM_UPS.append(future)
        return future


def _pid_once_a_worker_is_ready(seconds, i):
    """A stand-in block that, in the test's process, ends only once a worker has warmed up (so
    the hand-over happens after it, however slowly the machine starts processes)."""
    if _WARM_UPS:  # empty in a worker, which imports this module afresh
        concurrent.futures.wait(_WARM_UPS, timeout=600, return_when=concurrent.futures.FIRST_COMPLETED)
    return _pid_after(seconds, i)


def test_this_process_computes_blocks_until_a_worker_has_started(monkeypatch):
    stopped = _spy_terminations(monkeypatch)
    monkeypatch.setattr(executors, "ProcessPoolExecutor", _RecordingPool)
    _WARM_UPS.clear()
    try:
        got = list(executors._processes([(0.01, i) for i in range(30)], _pid_once_a_worker_is_ready, 2))
    finally:
        _WARM_UPS.clear()
    assert not stopped  # workers that computed blocks end normally
    assert [i for i, _ in got] == list(range(30))  # in task order, wherever they ran
    pids = [pid for _, pid in got]
    assert pids[0] == os.getpid()  # before any worker was ready, this process computed
    assert os.getpid() not in pids[1:]  # once one was, every other block went to the workers


def test_workers_that_only_warmed_up_are_stopped_instead_of_waited_for(monkeypatch):
    stopped = _spy_terminations(monkeypatch)
    got = list(executors._processes([(0.0, i) for i in range(2)], _pid_after, 2))
    assert got == [(0, os.getpid()), (1, os.getpid())]  # both done here before a worker was ready
    assert len(stopped) == 2 and all(p.exitcode is not None and p.exitcode < 0 for p in stopped)


def test_a_running_dask_scheduler_by_address_gives_the_same_outcomes(short_baseline, streamed, tmp_path,
                                                                     monkeypatch):
    """``--dask tcp://HOST:PORT``: the test starts the scheduler and a worker itself, and every
    block goes to that worker. The worker has two threads, as ``dask worker`` has one per core,
    so it computes blocks two at a time in one process."""
    distributed = pytest.importorskip("distributed")
    monkeypatch.setattr(executors, "WORK_WHILE_WORKERS_START", False)
    monkeypatch.setattr(summary, "EXACT_BUDGET_BYTES", 1024)  # histogram parts, from scratch arrays
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=True,
                                  dashboard_address=None,  # nor port 8787 (a second run's)
                                  scheduler_kwargs={"dashboard_address": "127.0.0.1:0"}) as cluster:
        res = engine.run(short_baseline, runs=3 * B, seed=7, stream_to=tmp_path, progress=False,
                         dask=cluster.scheduler_address)
        assert cluster.scheduler_address.startswith("tcp://")
    assert res.provenance["executor"] == f"dask:{cluster.scheduler_address}"
    here = engine.run(short_baseline, runs=3 * B, seed=7, progress=False)
    pd.testing.assert_frame_equal(res.outcomes, here.outcomes, check_exact=True)
    pd.testing.assert_frame_equal(res.quantiles, here.quantiles, check_exact=True)


def test_blocks_computed_at_once_in_threads_of_one_process_give_the_same_parts():
    """What a Dask worker with several threads does: each block needs its own scratch arrays
    (they were shared by the process, and concurrent blocks corrupted its heap)."""
    sc = scenario(horizon_months=60)
    alone = [engine.run_block(sc, 3, b, summary="histogram").summary for b in range(4)]
    with ThreadPoolExecutor(4) as pool:
        together = [r.summary for r in pool.map(
            lambda b: engine.run_block(sc, 3, b, summary="histogram"), range(4))]
    for a, b in zip(alone, together):
        for got, want in zip(a.histogram(), b.histogram()):
            np.testing.assert_array_equal(got, want)
        for field in ("sums", "mins", "maxs"):
            np.testing.assert_array_equal(getattr(a, field), getattr(b, field))


def test_on_dask_too_this_process_computes_blocks_until_a_worker_has_warmed_up():
    pytest.importorskip("distributed")
    got = list(executors._dask([(0.1, i) for i in range(60)], _pid_after, "local", 2))
    assert [i for i, _ in got] == list(range(60))
    pids = [pid for _, pid in got]
    assert pids[0] == os.getpid() and pids[-1] != os.getpid()


def test_more_workers_than_blocks_runs_in_this_process():
    res = engine.run(scenario(horizon_months=3), runs=10, seed=1, workers=4, progress=False)
    assert res.provenance["executor"] == "inline"
    assert len(res.outcomes) == 10


def test_histogram_mode_past_the_budget_keeps_exact_outcomes(monkeypatch, short_baseline, streamed):
    monkeypatch.setattr(summary, "EXACT_BUDGET_BYTES", 1024)
    res = engine.run(short_baseline, runs=JOB, seed=7, progress=False)
    assert res.provenance["quantiles"] == "histogram"
    pd.testing.assert_frame_equal(res.outcomes, pd.read_parquet(streamed["inline"][1]), check_exact=True)
    exact = streamed["inline"][0].quantiles
    np.testing.assert_allclose(res.quantiles["mean"], exact["mean"], rtol=1e-9, atol=1e-12)


def test_progress_bar_on_request_and_quiet_otherwise(capsys):
    sc = scenario(horizon_months=2)
    engine.run(sc, runs=2 * B, seed=1)  # pytest's stderr is not a terminal: quiet
    assert capsys.readouterr().err == ""
    engine.run(sc, runs=2 * B, seed=1, progress=True)
    err = capsys.readouterr().err
    assert "inline" in err and "run" in err
    engine.run(sc, runs=2 * B, seed=1, progress=False)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("address", ["foo", "nonsense://x", "tcp://", "tcp://127.0.0.1:notaport"])
def test_bad_dask_address_is_an_error_naming_the_argument(address):
    with pytest.raises(ArgumentError, match="^dask: ") as caught:
        engine.run(scenario(horizon_months=2), runs=5, seed=1, dask=address)
    assert caught.value.argument == "dask" and "--" not in str(caught.value)  # a Python argument


def test_cli_bad_dask_address_one_line_exit_2_nothing_written(tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["run", str(scenarios_dir() / "baseline.yaml"), "--runs", "5", "--out", str(out),
                 "--dask", "nonsense", "--quiet"])
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "--dask" in err and "Traceback" not in err
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_quiet_dask_local_job_prints_nothing_even_when_it_ends_before_the_workers_warm_up(tmp_path):
    """Cancelled warm-up tasks at shutdown made the workers log warnings on stderr, and so did the
    scheduler's HTTP server when another cluster held its default port (8787, held here)."""
    import socket
    import subprocess
    import sys
    pytest.importorskip("distributed")
    short = tmp_path / "short.yaml"
    short.write_text(f"name: short\nextends: {scenarios_dir() / 'baseline.yaml'}\nhorizon_months: 3\n")
    with socket.socket() as busy:
        try:
            busy.bind(("0.0.0.0", 8787))
            busy.listen()
        except OSError:  # already held by another process: the same case
            pass
        done = subprocess.run([sys.executable, "-m", "sim", "run", str(short), "--runs",
                               str(2 * engine.BLOCK_SIZE), "--dask", "local", "--workers", "2",
                               "--quiet", "--out", str(tmp_path / "out")],
                              capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout == "" and done.stderr == "", done.stderr[-2000:]
    assert (tmp_path / "out" / "outcomes.parquet").is_file()


def test_parquet_row_groups_are_bounded(tmp_path, monkeypatch):
    sink = io.ParquetSink(tmp_path / "o.parquet", row_group_runs=100)
    for start in range(0, 250, 50):
        sink.add({"run": np.arange(start, start + 50), "x": np.ones(50)})
    sink.close()
    meta = pq.ParquetFile(tmp_path / "o.parquet").metadata
    assert meta.num_rows == 250
    assert [meta.row_group(i).num_rows for i in range(meta.num_row_groups)] == [100, 100, 50]


def test_a_sink_keeps_the_table_of_a_one_row_group_file_only(tmp_path):
    one = io.ParquetSink(tmp_path / "one.parquet", row_group_runs=100)
    one.add({"run": np.arange(60), "x": np.ones(60)})
    one.close()
    assert one.table.equals(pq.read_table(tmp_path / "one.parquet"))
    two = io.ParquetSink(tmp_path / "two.parquet", row_group_runs=100)
    for start in range(0, 150, 50):
        two.add({"run": np.arange(start, start + 50), "x": np.ones(50)})
    two.close()
    assert two.table is None  # the file holds two row groups: its readers read the file


def test_a_streamed_job_summarises_the_table_it_wrote_without_reading_the_file(short_baseline,
                                                                               tmp_path):
    """The figures and the summary of a job read the one row group it still holds, not the file:
    the same numbers as the file read back gives."""
    res = engine.run(short_baseline, runs=300, seed=5, stream_to=tmp_path, progress=False)
    path = tmp_path / "outcomes.parquet"
    kept = path.read_bytes()
    path.write_bytes(b"not a parquet file")  # a reader of the file would fail now
    held = res.summary["outcomes"]
    column = np.concatenate(list(res.outcome_reader("isis_peak").chunks()))
    path.write_bytes(kept)
    from_file = engine.Results(res.scenario, path, None, res.provenance)
    assert held == from_file.summary["outcomes"]
    assert np.array_equal(column, np.concatenate(list(from_file.outcome_reader("isis_peak").chunks())))


# ---------------------------------------------------------------------- performance edits
def reference_poisson_from_uniform(u, lam):
    """The replica-by-replica CDF inversion the fast ``poisson_from_uniform`` must reproduce."""
    from scipy.special import ndtri

    from sim.model.kernels import POISSON_NORMAL_ABOVE
    lam = np.maximum(lam, 0.0)
    big = lam > POISSON_NORMAL_ABOVE
    k = np.zeros_like(lam)
    term = np.exp(-np.where(big, 0.0, lam))
    cdf = term.copy()
    more = (u > cdf) & ~big
    while more.any():
        k += more
        term *= lam / np.maximum(k, 1.0)
        cdf += np.where(more, term, 0.0)
        more &= u > cdf
    if big.any():
        approx = np.floor(lam + np.sqrt(lam) * ndtri(np.clip(u, 1e-12, 1 - 1e-12)) + 0.5)
        k = np.where(big, np.maximum(approx, 0.0), k)
    return k


@pytest.mark.parametrize("n", [1, 7, 100, 5000])
@pytest.mark.parametrize("mean", [0.0, 0.3, 2.0, 6.0, 20.0, 29.99, 45.0])
def test_fast_poisson_inversion_is_bit_identical_to_the_reference(n, mean):
    from sim.model.kernels import poisson_from_uniform
    rng = np.random.default_rng(int(mean * 100) + n)
    lam = rng.gamma(2.0, mean / 2.0, n) if mean else np.zeros(n)
    u = rng.random(n)
    lam[::17], lam[::23], lam[::29] = 0.0, 30.0, np.nan  # zero, the normal switch, a NaN
    np.testing.assert_array_equal(poisson_from_uniform(u, lam), reference_poisson_from_uniform(u, lam))


def test_fast_poisson_zeros_without_the_exponential_are_exact_at_the_edge():
    """Uniforms a hair under and over exp(-rate), where the shortcut's bound is tightest, and
    rates on both sides of the bound's limit: the counts are the reference's."""
    from sim.model.kernels import POISSON_BOUND_BELOW, poisson_from_uniform
    rng = np.random.default_rng(7)
    lam = np.concatenate([rng.random(200_000) * 1.2 * POISSON_BOUND_BELOW,
                          [0.0, POISSON_BOUND_BELOW, np.nextafter(POISSON_BOUND_BELOW, 2.0)]])
    for gap in (1e-9, 1e-12, 1e-15, 0.0, -1e-15, -1e-12):
        u = np.clip(np.exp(-lam) - gap, 0.0, np.nextafter(1.0, 0.0))
        np.testing.assert_array_equal(poisson_from_uniform(u, lam),
                                      reference_poisson_from_uniform(u, lam))


def test_fast_poisson_inversion_ends_where_the_reference_would_loop_forever():
    from sim.model.kernels import poisson_from_uniform
    u = np.full(3, np.nextafter(1.0, 0.0))  # above every float CDF the sum can reach
    k = poisson_from_uniform(u, np.array([0.5, 2.0, 10.0]))
    assert np.all(np.isfinite(k)) and np.all(k >= 0)


def test_model_outcomes_unchanged_by_the_fast_poisson(monkeypatch):
    from sim.model.actors import militia, united_states

    def reference(u, lam, out=None):
        k = reference_poisson_from_uniform(u, lam)
        if out is not None:
            out[:] = k
        return k if out is None else out

    sc = load_scenario(scenarios_dir() / "baseline.yaml").with_changes(horizon_months=18)
    fast = engine.run_block(sc, 3, 0, n=600, keep_trajectories=True)
    for module in (militia, united_states):  # the actors that draw Poisson counts
        monkeypatch.setattr(module, "poisson_from_uniform", reference)
    slow = engine.run_block(sc, 3, 0, n=600, keep_trajectories=True)
    for name, col in fast.columns.items():
        np.testing.assert_array_equal(col, slow.columns[name], err_msg=name)
    np.testing.assert_array_equal(fast.trajectories, slow.trajectories)


@pytest.mark.parametrize("shape", [(0,), (1,), (3,), (5,), (2, 1023), (2, 10_000), (3, 4097)])
def test_streams_draw_numpys_numbers_and_leave_the_same_generator_state(shape):
    """``Stream`` gives the uniforms, normals and raw draws numpy's Generator gives, in order,
    and leaves it where numpy would (sizes around the four lanes and the block's)."""
    from sim.model.draws import Stream
    for seed in (11, 2**63 + 5):
        ours, numpys = (np.random.default_rng(np.random.SeedSequence(seed)) for _ in range(2))
        stream = Stream(ours)
        assert stream._state is not None  # the compiled path, not the fallback
        for _ in range(2):  # consecutive fills: the state after one is where the next starts
            np.testing.assert_array_equal(stream.uniforms(np.empty(shape)), numpys.random(shape))
            np.testing.assert_array_equal(stream.normals(np.empty(shape)),
                                          numpys.standard_normal(shape))
            np.testing.assert_array_equal(stream.raw(shape[-1]),
                                          numpys.bit_generator.random_raw(shape[-1]))
            # numpy's own methods continue from where the stream left the Generator
            np.testing.assert_array_equal(ours.random(3, dtype=np.float32),
                                          numpys.random(3, dtype=np.float32))
        assert ours.bit_generator.state == numpys.bit_generator.state


def test_stream_normals_cover_the_ziggurats_rare_cases():
    """Enough normals that the wedges and the tail (|z| > 3.44, one in ~1,700) are drawn, each
    equal to numpy's; a stream over another bit generator falls back to numpy."""
    from sim.model.draws import Stream
    ours, numpys = (np.random.default_rng(5) for _ in range(2))
    got = Stream(ours).normals(np.empty(200_000))
    np.testing.assert_array_equal(got, numpys.standard_normal(200_000))
    assert (np.abs(got) > 3.442619855899).sum() > 50
    other = np.random.Generator(np.random.Philox(3))
    stream = Stream(other)
    assert stream._state is None
    np.testing.assert_array_equal(stream.uniforms(np.empty(7)),
                                  np.random.Generator(np.random.Philox(3)).random(7))


def test_streams_ask_numpy_where_its_state_layout_is_not_known(monkeypatch):
    """For a numpy whose PCG64 layout is not known (3 and later), no pointer is followed: the
    draws come from numpy's own methods, the same numbers."""
    from sim.model import draws
    monkeypatch.setattr(draws, "_KNOWN_LAYOUT", False)
    ours, numpys = (np.random.default_rng(4) for _ in range(2))
    stream = draws.Stream(ours)
    assert stream._state is None
    np.testing.assert_array_equal(stream.normals(np.empty(50)), numpys.standard_normal(50))
    np.testing.assert_array_equal(stream.raw(5), numpys.bit_generator.random_raw(5))


def test_stream_normals_fall_back_to_numpy_if_the_draws_made_ahead_run_out(monkeypatch):
    """The ziggurat's rejections could (in theory) use more draws than were made ahead: the
    compiled loop then leaves the state alone and numpy draws the values instead."""
    from sim.model import draws
    monkeypatch.setattr(draws, "_fill_normals", lambda state, out: False)
    ours, numpys = (np.random.default_rng(9) for _ in range(2))
    np.testing.assert_array_equal(draws.Stream(ours).normals(np.empty(100)),
                                  numpys.standard_normal(100))
    assert ours.bit_generator.state == numpys.bit_generator.state


def test_model_outcomes_unchanged_by_the_compiled_draws(monkeypatch):
    """A block drawn through numpy's own methods has the same results, bit for bit."""
    from sim.model import draws
    sc = load_scenario(scenarios_dir() / "baseline.yaml").with_changes(horizon_months=18)
    fast = engine.run_block(sc, 3, 0, keep_trajectories=True)
    monkeypatch.setattr(draws, "_state_words", lambda bit_generator: None)  # numpy's methods
    slow = engine.run_block(sc, 3, 0, keep_trajectories=True)
    for name, col in fast.columns.items():
        np.testing.assert_array_equal(col, slow.columns[name], err_msg=name)
    np.testing.assert_array_equal(fast.trajectories, slow.trajectories)


@pytest.mark.parametrize("dist", [{"dist": "beta", "a": 4, "b": 4},
                                  {"dist": "beta", "a": 0.5, "b": 2, "low": -1, "high": 3},
                                  {"dist": "triangular", "low": 2, "mode": 3, "high": 7},
                                  {"dist": "triangular", "low": 0, "mode": 0, "high": 1}])
@pytest.mark.filterwarnings("ignore:Error in function boost")  # scipy.stats warns near 0
def test_distribution_quantiles_equal_scipy_stats(dist):
    """Beta and triangular quantiles computed without scipy.stats give its values.

    A Beta's quantile must also invert its CDF. Where scipy.stats' own Beta quantile does not
    (for Beta(0.5, 2) far in the lower tail, u below ~1e-8), ours is checked against the CDF only.
    """
    from pydantic import TypeAdapter
    from scipy import special, stats

    from sim.scenario import Distribution
    from sim.scenario.beta import beta_ppf
    d = TypeAdapter(Distribution).validate_python(dist)
    k = np.arange(1, 500)
    u = np.concatenate([[0.0], k * 2.0**-53, 1 - k * 2.0**-53, np.random.default_rng(1).random(5000)])
    got = d.ppf(u)
    if dist["dist"] == "beta":
        a, b, lo, hi = dist["a"], dist["b"], dist.get("low", 0.0), dist.get("high", 1.0)

        def inverts(q):  # the CDF of q gives u back, relative to the nearer tail
            lower = u < 0.5
            cdf = np.where(lower, special.betainc(a, b, q), special.betaincc(a, b, q))
            tail = np.where(lower, u, 1 - u)
            return np.abs(cdf - tail) <= 1e-6 * tail

        q = beta_ppf(u, a, b)
        assert inverts(q).all()
        np.testing.assert_array_equal(got, lo + (hi - lo) * q)
        # within a few units in the last place of Boost's quantile (the table, beta_table)
        boost = special.betaincinv(a, b, u)
        assert (np.abs(q - boost) <= 32 * np.spacing(boost)).all()
        q_stats = stats.beta.ppf(u, a, b)
        accurate = inverts(q_stats)
        assert accurate[1 + 2 * k.size:].all()  # scipy.stats is right on every random draw
        # other SciPy releases differ from 1.17 in the last bits (1.14: up to 2e-15)
        np.testing.assert_allclose(q[accurate], q_stats[accurate], rtol=1e-13, atol=0)
    else:
        c = (dist["mode"] - dist["low"]) / (dist["high"] - dist["low"])
        want = stats.triang.ppf(u, c, loc=dist["low"], scale=dist["high"] - dist["low"])
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("a, b", [(4, 4), (0.5, 2), (2, 30)])
def test_beta_quantile_table_is_used_and_agrees_with_boost(a, b):
    """Most draws take the table's interpolant, not Boost's inverse, and land within a few units
    in the last place of it; a value does not depend on the other values of its array."""
    from scipy import special

    from sim.scenario.beta import BETA_TABLE_INTERVALS, beta_ppf, beta_table
    _, used = beta_table(float(a), float(b))
    assert used.mean() > 0.7 and not used[0] and not used[-1]  # the ends: Boost
    u = np.random.default_rng(5).random(20_000)
    inside = used[(u * BETA_TABLE_INTERVALS).astype(int)]
    q = beta_ppf(u, a, b)
    boost = special.betaincinv(a, b, u)
    assert inside.mean() > 0.7
    assert (np.abs(q - boost) <= 32 * np.spacing(boost)).all()
    assert (q[inside] != boost[inside]).any()  # the table's own values, not Boost's
    np.testing.assert_array_equal(q[::7], beta_ppf(u[::7], a, b))
    np.testing.assert_array_equal(beta_ppf(u, 1, 1), u)  # the uniform: exact


@pytest.mark.filterwarnings("ignore:Error in function boost")
def test_beta_quantile_has_a_value_where_betaincinv_gives_up():
    """Far below any sampler's uniforms, betaincinv returns NaN; the quantile comes from scipy.stats'."""
    from scipy import special, stats

    from sim.scenario.beta import beta_ppf
    u = np.array([1e-300, 0.25])
    q = beta_ppf(u, 2, 4)
    assert np.isfinite(q).all() and q[1] == special.betaincinv(2.0, 4.0, 0.25)
    if np.isnan(special.betaincinv(2.0, 4.0, u[0])):  # so in SciPy 1.17 and 1.18
        assert q[0] == stats.beta.ppf(u[0], 2, 4)


def test_a_block_of_the_baseline_does_not_import_scipy_stats():
    """Sampling the baseline's Beta stays in scipy.special: a worker starts ~0.6 s sooner."""
    import subprocess
    import sys
    code = ("import sys, sim; from sim.engine import run_block; "
            "sc = sim.load_scenario(sys.argv[1]).with_changes(horizon_months=3); "
            "run_block(sc, 1, 0, n=10, summary='histogram'); print('scipy.stats' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code, str(scenarios_dir() / "baseline.yaml")],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_worker_processes_import_only_what_a_block_needs():
    """A spawned worker imports ``sim.engine``: no plotting, analysis or Dask libraries."""
    import subprocess
    import sys
    code = ("import sys, sim.engine; heavy = {'matplotlib', 'sklearn', 'SALib', 'distributed', "
            "'dask', 'jinja2'}; print(sorted(heavy & {m.split('.')[0] for m in sys.modules}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
