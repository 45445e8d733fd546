"""Mergeable trajectory summaries and the outcome summary (issue 5)."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

import sim.engine as engine
from sim.model.outcomes import TRAJECTORY_VARIABLES
import sim.engine.columns as columns
from sim.engine.columns import _ColumnReader, column_statistics, column_tail_mean, outcome_summary
from sim.engine.quantiles import linear_quantiles
from sim.engine.summary import (BINS, EXACT_BUDGET_BYTES, QUANTILES, TrajectorySummary, _edges,
                                summarise_block, use_exact)

from conftest import scenario

VARIABLES = list(TRAJECTORY_VARIABLES)


@pytest.fixture(scope="module")
def model_block():
    """Trajectories of one full block of the model (36 months)."""
    return engine.run_block(scenario(horizon_months=36), 5, 0).trajectories


def both_modes(traj, split=(slice(None),)):
    """Exact and histogram summaries of ``traj``, added in the given run slices."""
    v, t, n = traj.shape
    names = VARIABLES[:v]
    out = []
    for exact in (True, False):
        s = TrajectorySummary(names, t, n, exact=exact)
        for part in split:
            s.add(traj[:, :, part])
        out.append(s)
    return out


def bin_width(var_name, values):
    var = TRAJECTORY_VARIABLES[var_name]
    edges = _edges(var)
    k = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, BINS - 1)
    return edges[k + 1] - edges[k]


def test_histogram_quantiles_within_one_bin_of_exact_on_model_output(model_block):
    exact, hist = both_modes(model_block)
    qe, qh = exact.quantiles(), hist.quantiles()
    for i, name in enumerate(VARIABLES):
        err = np.abs(qh[i] - qe[i])
        assert np.all(err <= bin_width(name, qe[i]) + 1e-9), name


def test_histogram_quantiles_of_smooth_distributions_are_close():
    rng = np.random.default_rng(3)
    n = 20_000
    traj = np.stack([np.full((4, n), 2500.0),  # us_troops: overwritten below
                     rng.beta(2, 5, (4, n)),                    # isf_capability
                     rng.lognormal(np.log(3000), 0.8, (4, n))]  # isis_fighters_iraq (log bins)
                    ).astype(np.float32)
    traj[0] = rng.uniform(0, 5000, (4, n))
    exact, hist = both_modes(traj)
    for i, name in enumerate(VARIABLES[:3]):
        err = np.abs(hist.quantiles()[i] - exact.quantiles()[i])
        assert np.all(err <= 0.25 * bin_width(name, exact.quantiles()[i])), name


def test_a_value_many_runs_share_comes_out_exactly():
    n = 5000
    troops = np.full((1, 3, n), 2500.0, dtype=np.float32)
    troops[0, 1, :400] = 0.0          # month 1: 8% of runs expelled
    troops[0, 2, :] = np.where(np.arange(n) % 2, 2500.0, 1000.0)
    exact, hist = both_modes(troops)
    np.testing.assert_array_equal(hist.quantiles(), exact.quantiles())


def test_merging_blocks_equals_one_summary_of_all_runs(model_block):
    one_exact, one_hist = both_modes(model_block)
    parts = (slice(0, 1000), slice(1000, 1001), slice(1001, None))
    many_exact, many_hist = both_modes(model_block, parts)
    np.testing.assert_array_equal(many_exact.quantiles(), one_exact.quantiles())
    np.testing.assert_array_equal(many_hist.hist, one_hist.hist)
    np.testing.assert_allclose(many_hist.quantiles(), one_hist.quantiles(), rtol=1e-6)  # float32 data
    np.testing.assert_allclose(many_hist.means(), one_exact.means(), rtol=1e-12)


def test_means_minima_and_maxima_are_exact_in_histogram_mode(model_block):
    _, hist = both_modes(model_block)
    np.testing.assert_allclose(hist.means(), model_block.mean(axis=2, dtype=np.float64), rtol=1e-9)
    np.testing.assert_array_equal(hist.mins, model_block.min(axis=2))
    np.testing.assert_array_equal(hist.maxs, model_block.max(axis=2))


def test_values_outside_the_declared_range_keep_exact_extremes():
    isf = [-5.0, 0.2, 0.4, 0.6, 3.0]  # isf_capability is declared 0..1
    vals = np.array([[[2500.0] * 5], [isf]], dtype=np.float32)
    exact, hist = both_modes(vals)
    q = hist.quantiles()[1, 0]
    assert np.all(np.diff(q) >= 0)
    assert hist.mins[1, 0] == -5.0 and hist.maxs[1, 0] == 3.0
    np.testing.assert_allclose(q, exact.quantiles()[1, 0], rtol=1e-6)  # one run per bin: exact


def test_mode_follows_the_memory_budget():
    per_run = 60 * len(VARIABLES) * 4
    assert use_exact(EXACT_BUDGET_BYTES // per_run, 60, len(VARIABLES))
    assert not use_exact(EXACT_BUDGET_BYTES // per_run + 1, 60, len(VARIABLES))
    small = TrajectorySummary(VARIABLES, 60, 10**5)
    large = TrajectorySummary(VARIABLES, 60, 10**8)
    assert not small.exact and not large.exact
    size = lambda s: sum(a.nbytes for a in vars(s).values() if isinstance(a, np.ndarray))  # noqa: E731
    assert size(small) == size(large)


def test_histogram_part_is_much_smaller_than_the_trajectories(model_block):
    part = summarise_block(model_block, VARIABLES, exact=False)
    bins, counts, bin_sums, bin_squares = part.histogram()
    shipped = sum(a.nbytes for a in (bins, counts, bin_sums, bin_squares))
    assert shipped < model_block.nbytes
    assert counts.sum() == model_block.shape[0] * model_block.shape[1] * model_block.shape[2]


def test_summary_refuses_more_runs_than_it_was_sized_for(model_block):
    s = TrajectorySummary(VARIABLES, model_block.shape[1], 10, exact=False)
    with pytest.raises(ValueError, match="sized for 10"):
        s.add(model_block)


def test_quantile_order_matches_quantile_names(model_block):
    exact, _ = both_modes(model_block[:, :, :101])
    i = VARIABLES.index("isis_fighters_iraq")
    expected = np.quantile(model_block[i, 10, :101], QUANTILES)
    np.testing.assert_allclose(exact.quantiles()[i, 10], expected, rtol=1e-6)





@pytest.mark.parametrize("n", [1, 2, 3, 20, 101, 4_999])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_linear_quantiles_are_numpys_bit_for_bit(n, dtype):
    rng = np.random.default_rng(n)
    values = rng.lognormal(3.0, 2.0, (4, 3, n)).astype(dtype)
    values[1] = np.round(values[1] / 40)  # many ties
    values[2] = -values[2]
    values[3, 0, n // 2] = np.nan  # one slice with a missing value
    expected = np.moveaxis(np.quantile(values, QUANTILES, axis=2), 0, -1)
    got = linear_quantiles(values, QUANTILES)
    assert got.dtype == expected.dtype and got.shape == expected.shape
    assert got.tobytes() == expected.tobytes()
    assert np.isnan(got[3, 0]).all() and not np.isnan(got[:3]).any()
    in_place = values.copy()
    assert linear_quantiles(in_place, QUANTILES, in_place=True).tobytes() == expected.tobytes()
    assert np.array_equal(in_place, np.sort(values, axis=2), equal_nan=True)  # sorted where it was


def test_exact_summary_quantiles_are_numpys_bit_for_bit(model_block):
    exact, _ = both_modes(model_block)
    expected = np.moveaxis(np.quantile(model_block.astype(np.float32), QUANTILES, axis=2), 0, -1)
    assert exact.quantiles().tobytes() == expected.tobytes()
    assert exact.quantiles().tobytes() == expected.tobytes()  # again, from its sorted store

COLUMNS = {
    "smooth": lambda rng, n: rng.normal(3.0, 2.0, n),
    "mostly zero": lambda rng, n: np.where(rng.random(n) < 0.9, 0.0, rng.random(n)),
    "counts": lambda rng, n: rng.poisson(3.0, n).astype(float),
    "far outlier": lambda rng, n: np.r_[rng.random(n - 1), 1e15],
    "mostly missing": lambda rng, n: np.where(rng.random(n) < 0.7, np.nan, rng.lognormal(0, 2, n)),
    "constant": lambda rng, n: np.full(n, 2500.0),
}


@pytest.mark.parametrize("kind", list(COLUMNS))
@pytest.mark.parametrize("n", [1, 5, 150_000])
@pytest.mark.parametrize("kept", [True, False], ids=["kept", "streamed"])
def test_streamed_column_statistics_equal_numpy(kind, n, kept, monkeypatch):
    if not kept:  # a column too large to keep: order statistics by counting passes
        monkeypatch.setattr(columns, "OUTCOME_CACHE_VALUES", 0)
    monkeypatch.setattr(columns, "OUTCOME_COLLECT_LIMIT", 64)  # force the bin-splitting path
    x = COLUMNS[kind](np.random.default_rng(n), n)
    v = x[~np.isnan(x)]
    st = column_statistics(_ColumnReader(pd.DataFrame({"c": x}), "c"))
    assert st["n"] == v.size
    if v.size:
        np.testing.assert_array_equal([st[q] for q in (0.05, 0.5, 0.95)],
                                      np.quantile(v, [0.05, 0.5, 0.95]))
        np.testing.assert_allclose([st["mean"], st["sd"]], [v.mean(), v.std()], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("kind", list(COLUMNS))
@pytest.mark.parametrize("n", [1, 7, 150_000])
@pytest.mark.parametrize("share", [0.1, 1.0])
@pytest.mark.parametrize("kept", [True, False], ids=["kept", "streamed"])
def test_streamed_tail_mean_equals_the_mean_of_the_sorted_tail(kind, n, share, kept, monkeypatch):
    if not kept:
        monkeypatch.setattr(columns, "OUTCOME_CACHE_VALUES", 0)
    monkeypatch.setattr(columns, "OUTCOME_COLLECT_LIMIT", 64)  # force the bin-splitting path
    x = COLUMNS[kind](np.random.default_rng(n + 1), n)
    v = np.sort(x[~np.isnan(x)])
    if not v.size:
        return
    k = max(1, int(np.ceil(share * v.size)))
    got = column_tail_mean(_ColumnReader(pd.DataFrame({"c": -x}), "c"), k)  # the k smallest of x
    np.testing.assert_allclose(-got, v[:k].mean(), rtol=1e-12)
    with pytest.raises(ValueError, match="k must be"):
        column_tail_mean(_ColumnReader(pd.DataFrame({"c": x}), "c"), v.size + 1)


@pytest.mark.parametrize("budget", [10_000, 100])
def test_a_small_column_is_read_from_the_file_once_a_large_one_on_every_pass(budget, tmp_path, monkeypatch):
    import pyarrow as pa
    import pyarrow.parquet as pq
    x = np.random.default_rng(3).lognormal(0, 1, 1000)
    pq.write_table(pa.table({"c": x}), tmp_path / "t.parquet", row_group_size=100)
    monkeypatch.setattr(columns, "OUTCOME_CHUNK", 64)
    monkeypatch.setattr(columns, "OUTCOME_CACHE_VALUES", budget)
    reads = []
    real = pq.ParquetFile.read_row_group
    monkeypatch.setattr(pq.ParquetFile, "read_row_group", lambda self, i, **k: (reads.append(i), real(self, i, **k))[1])
    reader = columns.outcome_reader(tmp_path / "t.parquet", "c")
    st = column_statistics(reader, (0.05, 0.5, 0.95))
    np.testing.assert_array_equal([st[q] for q in (0.05, 0.5, 0.95)], np.quantile(x, [0.05, 0.5, 0.95]))
    passes = len(reads) // 10
    assert len(reads) % 10 == 0 and (passes == 1 if budget >= x.size else passes >= 4)
    assert all(not chunk.flags.writeable for chunk in reader.chunks())  # kept chunks cannot change


def test_outcome_summary_from_parquet_equals_from_frame(tmp_path):
    runs = 2 * columns.OUTCOME_CHUNK + 123
    res = engine.run(scenario(horizon_months=3), runs=runs, seed=2, progress=False,
                     stream_to=tmp_path, keep_trajectories=False)
    path = tmp_path / "outcomes.parquet"
    from_file = outcome_summary(path)
    frame = pd.read_parquet(path)
    assert from_file == outcome_summary(frame)  # same numbers whatever the row groups
    assert res.summary["outcomes"] == from_file
    assert from_file["resurgence"]["kind"] == "probability"
    assert from_file["resurgence"]["probability"] == pytest.approx(frame["resurgence"].mean())
    peak = frame["isis_peak"].to_numpy()
    assert from_file["isis_peak"]["p50"] == np.quantile(peak, 0.5)


def reference_coordinates(values, var):
    """Each value's bin coordinate (0..BINS) in numpy float32, on the variable's declared range."""
    if var.log:
        low, high = np.log(var.low), np.log(var.high)
        out = np.log(np.fmax(values, np.float32(var.low)))
        out -= np.float32(low)
        out *= np.float32(BINS / (high - low))
        return out
    low, high = float(var.low), float(var.high)
    out = np.multiply(values, np.float32(BINS / (high - low)))
    out -= np.float32(low * BINS / (high - low))
    return out


def reference_histogram_part(traj, names):
    """The numpy (``bincount``) binning the compiled ``histogram_month`` must reproduce."""
    n_var, months, runs = traj.shape
    offsets = (np.arange(months, dtype=np.intp) * BINS)[:, None]
    bins, counts, sums, squares = [], [], [], []
    for i, name in enumerate(names):
        scratch = reference_coordinates(traj[i], TRAJECTORY_VARIABLES[name])
        np.fmax(scratch, np.float32(0), out=scratch)
        np.fmin(scratch, np.float32(BINS - 1), out=scratch)
        flat = scratch.astype(np.intp) + offsets
        values = traj[i].astype(np.float64).ravel()
        count = np.bincount(flat.ravel(), minlength=months * BINS)
        nz = np.flatnonzero(count)
        bins.append(nz + i * months * BINS)
        counts.append(count[nz])
        sums.append(np.bincount(flat.ravel(), weights=values, minlength=months * BINS)[nz])
        squares.append(np.bincount(flat.ravel(), weights=values * values, minlength=months * BINS)[nz])
    return [np.concatenate(a) for a in (bins, counts, sums, squares)]


def test_compiled_binning_collects_every_bin_of_a_decreasing_map():
    """The scan for non-empty bins covers a linear variable's bins from its minimum's to its
    maximum's, in either order: here the map runs from bin BINS - 1 down to 0 as values grow."""
    from sim.engine.binning import histogram_month
    x = np.random.default_rng(5).random(3000) * 10.0
    scale, shift = np.float32(-BINS / 10.0), np.float32(-BINS)
    coords = np.clip(x.astype(np.float32) * scale - shift, 0, BINS - 1).astype(np.intp)
    want = np.bincount(coords, minlength=BINS)
    acc = np.zeros((BINS, 3))
    sums, mins, maxs = np.zeros((1, 1)), np.zeros((1, 1), np.float32), np.zeros((1, 1), np.float32)
    index, count, total, _ = histogram_month(np.zeros((1, x.size), np.float32), (x,),
                                             np.array([False]), np.array([shift]),
                                             np.array([scale]), BINS, 0, 1, acc, sums, mins, maxs)
    np.testing.assert_array_equal(index, np.flatnonzero(want))
    np.testing.assert_array_equal(count, want[want > 0])
    assert total.sum() == pytest.approx(x.astype(np.float32).sum(dtype=np.float64))
    assert not acc.any()  # every bin collected is cleared for the next month


@pytest.mark.parametrize("runs", [slice(None), slice(0, 777)])
def test_compiled_binning_is_bit_identical_to_bincount(model_block, runs):
    traj = model_block.copy()[:, :, runs]  # a strided view for the short slice, as run_block passes
    traj[0, 3, :5] = [np.nan, -1.0, 1e9, np.inf, -np.inf]  # out of range and NaN: first/last bin
    traj[1, 4, 7] = np.inf  # an infinity without a NaN
    traj[1, 5, 7:9] = [np.inf, -np.inf]  # both infinities: the sum is NaN, the minimum and maximum are not
    names = VARIABLES[:traj.shape[0]]
    for _ in range(2):  # twice: the reused accumulators are left zero after each variable
        part = summarise_block(traj, names, exact=False)
        got_part = part.histogram()
        order = np.argsort(got_part[0])  # binned month by month; the reference, variable by variable
        for got, want in zip(got_part,
                             reference_histogram_part(traj, names)):
            np.testing.assert_array_equal(got[order], want)
        # the month sums, minima and maxima come from the same pass (NaN where a value is NaN)
        np.testing.assert_array_equal(part.mins, traj.min(axis=2))
        np.testing.assert_array_equal(part.maxs, traj.max(axis=2))
        with np.errstate(invalid="ignore"):  # inf - inf in the reference sum
            want_sums = traj.sum(axis=2, dtype=np.float64)
        np.testing.assert_allclose(part.sums, want_sums, rtol=1e-12)


def test_outcome_spread_is_the_same_whatever_the_threads_of_the_linear_algebra_library():
    # A BLAS dot product splits a long vector among its threads, so its last bits depended on
    # the machine's cores: the summary's sd must not (it is a plain numpy sum now).
    import subprocess
    import sys
    probe = ("import numpy as np, pandas as pd\n"
             "from sim.engine.columns import _ColumnReader, column_statistics\n"
             "x = np.random.default_rng(5).lognormal(3, 2, 60_000)\n"
             "st = column_statistics(_ColumnReader(pd.DataFrame({'c': x}), 'c'), ())\n"
             "print(float(st['sd']).hex())\n")
    spreads = set()
    for threads in ("1", "2", "4"):
        env = dict(os.environ, OPENBLAS_NUM_THREADS=threads, OMP_NUM_THREADS=threads)
        done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                              env=env, timeout=120, check=True)
        spreads.add(done.stdout.strip())
    assert len(spreads) == 1, spreads


def test_an_exact_summary_keeps_a_part_holding_every_run_and_copies_otherwise(model_block):
    # One block holding the whole job (the command line's usual job) is kept, not copied; parts
    # that each hold some runs are copied into place; ``add`` never keeps the caller's array.
    # Either way the quantiles are numpy's.
    traj = np.ascontiguousarray(model_block[:, :, :2000])
    v, t, n = traj.shape
    names = VARIABLES[:v]
    expected = np.moveaxis(np.quantile(traj, QUANTILES, axis=2), 0, -1)

    whole = TrajectorySummary(names, t, n, exact=True)
    part = summarise_block(traj, names, exact=True)
    whole.merge(part)
    assert whole.values is part.values
    np.testing.assert_array_equal(whole.quantiles(), expected)

    halves = TrajectorySummary(names, t, n, exact=True)
    first, second = (summarise_block(np.ascontiguousarray(traj[:, :, s]), names, exact=True)
                     for s in (slice(0, 700), slice(700, None)))
    halves.merge(first)
    halves.merge(second)
    assert halves.values is not first.values and halves.values is not second.values
    np.testing.assert_array_equal(halves.values, traj)
    np.testing.assert_array_equal(halves.quantiles(), expected)

    added = TrajectorySummary(names, t, n, exact=True)
    added.add(traj)
    assert not np.shares_memory(added.values, traj)
    np.testing.assert_array_equal(added.quantiles(), expected)
