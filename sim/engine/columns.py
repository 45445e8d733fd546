"""The outcome table summarised column by column, in bounded memory.

The outcome table has one row per run (``run``, ``param.<name>``, the outcome columns). Its
columns are read ``OUTCOME_CHUNK`` values at a time, from a DataFrame, from the pyarrow Table a
job still holds (a file of one row group) or straight from the Parquet file it streamed, and
summarised exactly (numpy's linear quantiles) in a few passes:
``column_statistics`` (n, mean, sd, min, max, quantiles), ``column_tail_mean``,
``column_histogram``, and ``outcome_summary`` (every outcome of ``summary.json``). Memory is one
column at most, never the table.
"""

from __future__ import annotations

import os

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from sim._arrow import is_data_frame, numpy_values
from sim.model.outcomes import OUTCOME_COLUMNS

#: Rows read at a time when summarising outcomes (a Parquet file is read batch by batch).
OUTCOME_CHUNK = 65_536
#: Bins of the counting pass that locates each order statistic of an outcome column.
OUTCOME_BINS = 65_536
#: Most values collected from one bin before it is split again instead.
OUTCOME_COLLECT_LIMIT = 1 << 18


#: Values of one column kept in memory between passes (32 MB): a column up to this size is read
#: from the file once, a larger one again on every pass, so memory stays bounded.
OUTCOME_CACHE_VALUES = 1 << 22


class _ColumnReader:
    """Reads one outcome column chunk by chunk, from a DataFrame or a Parquet file, any number of
    times, so that no pass holds more than ``OUTCOME_CHUNK`` values (plus, for a column of at
    most ``OUTCOME_CACHE_VALUES`` values, the column itself, kept after the first full pass)."""

    def __init__(self, source, name: str):
        self.source, self.name = source, name
        self._kept = None

    def chunks(self):
        """Yield the column's non-NaN values as read-only float64 arrays of at most ``OUTCOME_CHUNK``."""
        if self._kept is not None:
            yield from self._kept
            return
        kept, size = [], 0
        for part in self._read():
            part.flags.writeable = False
            if kept is not None:
                size += part.size
                if size <= OUTCOME_CACHE_VALUES:
                    kept.append(part)
                else:
                    kept = None
            yield part
        self._kept = kept

    def kept(self) -> list | None:
        """The column's chunks if a full pass has kept them in memory, else ``None``."""
        return self._kept

    def _read(self):
        for part in column_chunks(self.source, self.name):
            missing = np.isnan(part)
            yield part[~missing] if missing.any() else part


def column_chunks(source, name: str):
    """Yield one column of a table (a DataFrame, a pyarrow Table or an open
    ``pyarrow.parquet.ParquetFile``) as
    float64 copies of exactly ``OUTCOME_CHUNK`` values (the last shorter), NaN included: the
    chunks of two tables with the same number of rows line up row for row."""
    if is_data_frame(source):
        groups = (source[name].to_numpy(),)
    elif isinstance(source, pa.Table):
        groups = (numpy_values(source.column(name)),)
    else:  # row group by row group (iter_batches would buffer the whole column)
        groups = (numpy_values(source.read_row_group(i, columns=[name]).column(0))
                  for i in range(source.num_row_groups))
    for part in _rechunk(groups, OUTCOME_CHUNK):
        yield np.array(part, dtype=np.float64)  # a copy: the source is never exposed


def _rechunk(arrays, size: int):
    """Yield the concatenation of ``arrays`` in pieces of exactly ``size`` (the last shorter), so
    sums come out the same however the source was split (row groups, one DataFrame column)."""
    pending, have = [], 0
    for a in arrays:
        while a.size:
            take = min(size - have, a.size)
            pending.append(a[:take])
            have, a = have + take, a[take:]
            if have == size:
                yield pending[0] if len(pending) == 1 else np.concatenate(pending)
                pending, have = [], 0
    if have:
        yield pending[0] if len(pending) == 1 else np.concatenate(pending)


def _order_statistics(reader: _ColumnReader, ranks: list[int], lo: float, hi: float, n: int) -> dict:
    """The values of rank ``r`` (0-based, ascending) of a column, exactly, in bounded memory.

    A counting pass over ``OUTCOME_BINS`` bins of ``[lo, hi]`` finds the bin of each rank; a
    second pass collects the distinct values (with counts) in those bins only. A bin too full
    to collect is split the same way, which ends because each split narrows it 65,536-fold.
    A column the reader already keeps in memory (``OUTCOME_CACHE_VALUES``) is partitioned
    instead (``numpy.partition``: the same values, without the passes).
    """
    kept = reader.kept()
    if kept is not None:  # the column is in memory already: select the ranks directly
        values = np.concatenate(kept) if kept else np.empty(0)
        wanted = sorted(set(ranks))
        values.partition(wanted)
        return {r: float(values[r]) for r in wanted}
    out: dict[int, float] = {}
    # (low, high, rank offset, count) of each value range still to search, with its ranks
    todo = [((lo, hi, 0), sorted(set(ranks)))]
    while todo:
        (a, b, offset), wanted = todo.pop()
        if a == b:
            out.update({r: a for r in wanted})
            continue
        width = (b - a) / OUTCOME_BINS
        counts = np.zeros(OUTCOME_BINS, dtype=np.int64)
        for x in reader.chunks():
            x = x[(x >= a) & (x <= b)]
            counts += np.bincount(_outcome_bins(x, a, width), minlength=OUTCOME_BINS)
        cum = np.cumsum(counts)
        by_bin: dict[int, list[int]] = {}
        for r in wanted:
            by_bin.setdefault(int(np.searchsorted(cum, r - offset, side="right")), []).append(r)
        collect = {}
        for k, rs in by_bin.items():
            start = offset + (int(cum[k - 1]) if k else 0)
            edge_lo = a + k * width
            edge_hi = b if k == OUTCOME_BINS - 1 else a + (k + 1) * width
            if counts[k] > OUTCOME_COLLECT_LIMIT and edge_hi > edge_lo and np.nextafter(edge_lo, np.inf) < edge_hi:
                todo.append(((edge_lo, edge_hi, start), rs))
            else:
                collect[k] = (start, rs)
        if not collect:
            continue
        values = {k: [] for k in collect}
        keys = np.fromiter(collect, dtype=np.int64)
        for x in reader.chunks():
            x = x[(x >= a) & (x <= b)]
            idx = _outcome_bins(x, a, width)
            for k in keys[np.isin(keys, idx)]:
                values[int(k)].append(np.unique(x[idx == k], return_counts=True))
        for k, (start, rs) in collect.items():
            v = np.concatenate([u for u, _ in values[k]])
            c = np.concatenate([c for _, c in values[k]])
            v, inverse = np.unique(v, return_inverse=True)
            c = np.bincount(inverse, weights=c).astype(np.int64)
            ends = start + np.cumsum(c)
            for r in rs:
                out[r] = float(v[np.searchsorted(ends, r, side="right")])
    return out


def _outcome_bins(x: np.ndarray, low: float, width: float) -> np.ndarray:
    """Counting-pass bin of each value of ``x`` (all within the searched range)."""
    idx = np.floor((x - low) / width) if width > 0 else np.zeros_like(x)
    return np.clip(idx, 0, OUTCOME_BINS - 1).astype(np.intp)


def column_statistics(reader: _ColumnReader, quantiles=(0.05, 0.5, 0.95)) -> dict:
    """n, mean, sd (population), min, max and quantiles (numpy's linear method) of a column's
    non-NaN values, in bounded memory: a few passes of ``OUTCOME_CHUNK`` values each."""
    n, total, lo, hi = 0, 0.0, np.inf, -np.inf
    for x in reader.chunks():
        if x.size:
            n += x.size
            total += float(np.sum(x))
            lo, hi = min(lo, float(x.min())), max(hi, float(x.max()))
    if n == 0:
        return {"n": 0}
    mean = total / n
    squares = 0.0
    for x in reader.chunks():  # numpy's sum, not a BLAS dot: its threads change the last bits
        d = x - mean
        squares += float(np.sum(d * d))
    stats = {"n": n, "mean": mean, "sd": float(np.sqrt(squares / n)), "min": lo, "max": hi}
    if quantiles:
        positions = [q * (n - 1) for q in quantiles]
        ranks = sorted({int(np.floor(h)) for h in positions} | {int(np.ceil(h)) for h in positions})
        at = _order_statistics(reader, ranks, lo, hi, n)
        for q, h in zip(quantiles, positions):
            below, above = at[int(np.floor(h))], at[int(np.ceil(h))]
            t, diff = h - np.floor(h), above - below  # numpy's lerp, to the last bit
            stats[q] = float(above - diff * (1 - t) if t >= 0.5 else below + diff * t)
    return stats


def column_tail_mean(reader: _ColumnReader, k: int, stats: dict | None = None) -> float:
    """Mean of the ``k`` largest non-NaN values of a column, in bounded memory (a few passes).

    ``stats``: the column's ``column_statistics`` if already computed (for its n, min, max).
    """
    stats = stats if stats is not None else column_statistics(reader, quantiles=())
    n = stats["n"]
    if not 1 <= k <= n:
        raise ValueError(f"k must be between 1 and the {n} values, got {k}")
    t = _order_statistics(reader, [n - k], stats["min"], stats["max"], n)[n - k]
    above, count = 0.0, 0
    for x in reader.chunks():
        big = x[x > t]
        above += float(np.sum(big))
        count += big.size
    return (above + (k - count) * t) / k


class PooledReader:
    """The chunks of several column readers one after the other (a column pooled across tables)."""

    def __init__(self, readers):
        self.readers = list(readers)

    def chunks(self):
        for reader in self.readers:
            yield from reader.chunks()

    def kept(self) -> None:
        """A pooled column is never kept in memory as one (its order statistics take passes)."""
        return None


def column_histogram(reader: _ColumnReader, edges: np.ndarray, transform=None) -> np.ndarray:
    """Counts of a column's non-NaN values (mapped by ``transform`` if given) in the bins
    ``edges`` (``numpy.histogram``'s), one chunk at a time."""
    counts = np.zeros(len(edges) - 1, dtype=np.int64)
    for x in reader.chunks():
        counts += np.histogram(x if transform is None else transform(x), bins=edges)[0]
    return counts


def column_is_integral(reader: _ColumnReader) -> bool:
    """Whether every non-NaN value of a column is (close to) a whole number."""
    return all(np.allclose(x, np.round(x)) for x in reader.chunks())


def outcome_reader(outcomes, name: str) -> _ColumnReader:
    """A chunked reader of one outcome column of a table (a DataFrame or a pyarrow Table) or of
    the Parquet file at a path."""
    if is_data_frame(outcomes) or isinstance(outcomes, pa.Table):
        return _ColumnReader(outcomes, name)
    return _ColumnReader(pq.ParquetFile(os.fspath(outcomes)), name)


def _outcome_readers(outcomes):
    """Yield (name, reader) for each outcome column present (a Parquet file is opened once)."""
    if is_data_frame(outcomes):
        source, present = outcomes, set(outcomes.columns)
    elif isinstance(outcomes, pa.Table):
        source, present = outcomes, set(outcomes.column_names)
    else:
        source = pq.ParquetFile(os.fspath(outcomes))
        present = set(source.schema_arrow.names)
    for name in OUTCOME_COLUMNS:
        if name in present:
            yield name, _ColumnReader(source, name)


def outcome_summary(outcomes) -> dict:
    """Per outcome column: mean, sd, p05, p50, p95; booleans as probabilities.

    Month columns (``months_to_*``) are summarised over the runs where the event happened, with
    ``n`` saying how many did. Quantiles are exact (numpy's linear method).

    Args:
        outcomes: The outcome table, or the path of its Parquet file. Either way columns are read
            in chunks of ``OUTCOME_CHUNK`` rows, a few passes each, so memory does not grow with
            the number of runs.
    """
    out = {}
    for name, reader in _outcome_readers(outcomes):
        kind, desc = OUTCOME_COLUMNS[name]
        if kind == "bool":
            st = column_statistics(reader, quantiles=())
            p = st.get("mean", float("nan"))
            out[name] = {"kind": "probability", "probability": p, "mean": p,
                         "sd": st.get("sd", float("nan")), "description": desc}
            continue
        st = column_statistics(reader)
        stats = {"kind": "month" if kind == "month" else "value", "description": desc, "n": st["n"]}
        if st["n"]:
            stats.update(mean=st["mean"], sd=st["sd"], p05=st[0.05], p50=st[0.5], p95=st[0.95])
        else:
            stats.update(mean=None, sd=None, p05=None, p50=None, p95=None)
        out[name] = stats
    return out
