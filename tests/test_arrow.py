"""``sim._arrow``: numpy to Arrow and back through buffers, as pyarrow's conversions do, without
pandas; and the commands that rely on it to run without loading pandas."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sim._arrow import arrow_table, is_data_frame, numpy_values, repeated_text

RNG = np.random.default_rng(7)
COLUMNS = {
    "flag": RNG.random(1001) < 0.3,
    "run": np.arange(1001, dtype=np.int64),
    "small": np.arange(1001, dtype=np.int32),
    "value": np.where(RNG.random(1001) < 0.1, np.nan, RNG.random(1001)),
    "single": RNG.random(1001).astype(np.float32),
    "date": np.arange(1001).astype("datetime64[D]").astype("datetime64[ms]"),
    "strided": np.arange(2002.0)[::2],
}


def test_a_table_writes_the_same_parquet_bytes_as_pyarrows_own_conversion(tmp_path):
    ours, theirs = tmp_path / "ours.parquet", tmp_path / "theirs.parquet"
    pq.write_table(arrow_table(COLUMNS), ours)
    pq.write_table(pa.table(COLUMNS), theirs)
    assert ours.read_bytes() == theirs.read_bytes()


@pytest.mark.parametrize("start, length", [(0, 1001), (3, 500), (9, 0), (17, 1), (1000, 1)])
def test_columns_read_back_as_pyarrows_to_numpy_gives_them_at_any_offset(start, length):
    table = arrow_table(COLUMNS)
    for name, values in COLUMNS.items():
        column = table.column(name).slice(start, length)
        got = numpy_values(column)
        assert got.dtype == column.to_numpy().dtype, name
        assert np.array_equal(got, values[start:start + length], equal_nan=values.dtype.kind == "f"), name


def test_a_column_of_several_chunks_and_one_with_nulls_read_back_whole():
    chunked = pa.chunked_array([pa.array([1.0, 2.0]), pa.array([3.0])])
    assert numpy_values(chunked).tolist() == [1.0, 2.0, 3.0]
    for empty in (pa.array([], pa.float64()), pa.array([], pa.bool_()), pa.chunked_array([], pa.int64())):
        expected = pa.chunked_array([empty]) if isinstance(empty, pa.Array) else empty
        assert numpy_values(empty).dtype == expected.to_numpy().dtype and numpy_values(empty).size == 0
    with_nulls = pa.array([1.0, None, 3.0])  # not what a job writes: pyarrow's conversion
    assert np.array_equal(numpy_values(with_nulls), [1.0, np.nan, 3.0], equal_nan=True)


def test_repeated_text_is_a_large_string_array():
    assert repeated_text("isis", 3).equals(pa.array(["isis"] * 3, pa.large_string()))
    assert len(repeated_text("x", 0)) == 0


def test_a_data_frame_is_recognised_without_loading_pandas():
    code = ("import sys; from sim._arrow import is_data_frame; "
            "print(is_data_frame({}), 'pandas' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
    import pandas as pd
    assert is_data_frame(pd.DataFrame({"a": [1]})) and not is_data_frame(np.zeros(2))


def test_a_run_and_its_printed_table_load_no_pandas(tmp_path):
    """``iraqsim run`` writes its tables, prints its key outcomes and sends its figures without
    pandas (~0.3 s to load; docs/performance.md, round 22); the result still reads into pandas."""
    code = ("import sys; from sim.cli import main\n"
            "code = main(['run', 'baseline', '--runs', '300', '--seed', '3', '--out', sys.argv[1]])\n"
            "print('pandas loaded:', 'pandas' in sys.modules, code)")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "r")], capture_output=True,
                         text=True, check=True)
    assert "pandas loaded: False 0" in out.stdout
    assert any(line.startswith("resurgence") and "P = " in line for line in out.stdout.splitlines())
    import sim
    loaded = sim.Results.load(tmp_path / "r")
    run = sim.run(sim.load_scenario("baseline"), runs=300, seed=3, progress=False)
    import pandas as pd
    pd.testing.assert_frame_equal(loaded.quantiles, run.quantiles)
    for variable, band in run.bands.items():
        for column, values in band.items():
            assert np.array_equal(loaded.bands[variable][column], values), (variable, column)
