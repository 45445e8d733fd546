"""numpy arrays to Arrow and back, through their buffers: no copy for numbers, and no pandas.

pyarrow's own conversions (``pa.array``, ``pa.table``, ``to_numpy``) first ask whether the
object is a pandas one, which imports pandas (~0.3 s) the first time. ``iraqsim run`` writes
and reads its outcome table through these two functions instead, so it loads pandas only for
what needs it, after its figures are on their way (docs/performance.md, round 22). Both give
exactly what pyarrow's conversions give for the columns a job writes (booleans, integers and
floats without nulls, NaN kept as a value); anything else goes through pyarrow's conversions.
"""

from __future__ import annotations

import sys

import numpy as np
import pyarrow as pa


def is_data_frame(obj) -> bool:
    """Whether ``obj`` is a pandas DataFrame, without loading pandas (if pandas is not loaded,
    nothing is one)."""
    pd = sys.modules.get("pandas")
    return pd is not None and isinstance(obj, pd.DataFrame)


def arrow_array(values: np.ndarray) -> pa.Array:
    """A 1-D numpy array of booleans, integers, floats or datetimes as an Arrow array (as
    ``pa.array``)."""
    values = np.ascontiguousarray(values)
    if values.ndim != 1 or values.dtype.kind not in "biufM" or values.dtype.byteorder == ">":
        return pa.array(values)
    if values.dtype.kind == "M":
        unit, step = np.datetime_data(values.dtype)
        if step != 1 or unit not in ("s", "ms", "us", "ns"):
            return pa.array(values)
        return pa.Array.from_buffers(pa.timestamp(unit), len(values),
                                     [None, pa.py_buffer(values.view(np.int64))])
    if values.dtype.kind == "b":
        bits = np.packbits(values, bitorder="little")
        return pa.Array.from_buffers(pa.bool_(), len(values), [None, pa.py_buffer(bits)])
    return pa.Array.from_buffers(pa.from_numpy_dtype(values.dtype), len(values),
                                 [None, pa.py_buffer(values)])


def repeated_text(text: str, n: int) -> pa.Array:
    """``text`` ``n`` times, as an Arrow ``large_string`` array."""
    data = text.encode()
    offsets = np.arange(n + 1, dtype=np.int64) * len(data)
    return pa.Array.from_buffers(pa.large_string(), n,
                                 [None, pa.py_buffer(offsets), pa.py_buffer(data * n)])


def arrow_table(columns: dict) -> pa.Table:
    """Named 1-D numpy arrays (or Arrow arrays) as an Arrow table (as ``pa.table(columns)``)."""
    return pa.Table.from_arrays([v if isinstance(v, pa.Array) else arrow_array(v)
                                 for v in columns.values()], names=list(columns))


def numpy_values(column: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """An Arrow column of booleans, integers or floats without nulls as a numpy array (as
    ``column.to_numpy()``); read-only when it shares Arrow's memory."""
    if isinstance(column, pa.ChunkedArray):
        parts = [numpy_values(chunk) for chunk in column.chunks]
        if len(parts) == 1:
            return parts[0]
        return np.concatenate(parts) if parts else np.empty(0, column.type.to_pandas_dtype())
    kind = column.type
    if column.null_count or not (pa.types.is_boolean(kind) or pa.types.is_integer(kind)
                                 or pa.types.is_floating(kind)):
        return column.to_numpy(zero_copy_only=False)
    data = column.buffers()[1]
    n, offset = len(column), column.offset
    if n == 0 or data is None:
        return np.empty(0, dtype=bool if pa.types.is_boolean(kind) else kind.to_pandas_dtype())
    if pa.types.is_boolean(kind):
        bits = np.unpackbits(np.frombuffer(data, dtype=np.uint8), bitorder="little")
        return bits[offset:offset + n].astype(bool)
    dtype = np.dtype(kind.to_pandas_dtype())
    return np.frombuffer(data, dtype=dtype, count=n, offset=offset * dtype.itemsize)
