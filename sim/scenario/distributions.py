"""Distributions a scenario may give an uncertain parameter, and joint posterior draws.

Each distribution turns uniforms into values by its quantile function (``ppf``), so a run's
draw depends only on its uniform: common random numbers across scenarios. ``{from: posterior}``
draws whole rows of a calibration posterior, keeping the correlations the calibration found.
"""

from __future__ import annotations

import functools
import zlib
from pathlib import Path
from typing import Annotated, Literal, Union

import numpy as np
import pyarrow.parquet as pq
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sim.model.special import ndtri

from sim._arrow import numpy_values
from sim.model.parameters import PARAMETERS
from sim.scenario.beta import beta_ppf
from sim.scenario.errors import ScenarioError
from sim.scenario.library import seeds_dir


class _Dist(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    def ppf(self, u: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def support(self) -> tuple[float, float]:
        """Smallest and largest value the distribution can give (before clipping)."""
        return (-np.inf, np.inf)


class Uniform(_Dist):
    """Uniform between ``low`` and ``high``."""

    dist: Literal["uniform"]
    low: float
    high: float

    @model_validator(mode="after")
    def _order(self):
        if not self.low < self.high:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")
        return self

    def ppf(self, u):
        return self.low + (self.high - self.low) * u

    def support(self):
        return (self.low, self.high)


class Normal(_Dist):
    """Normal with ``mean`` and ``sd``; draws are clipped to the parameter's bounds."""

    dist: Literal["normal"]
    mean: float
    sd: float = Field(gt=0)

    def ppf(self, u):
        return self.mean + self.sd * ndtri(u)


class TruncNormal(_Dist):
    """Normal with ``mean`` and ``sd`` truncated to ``low``..``high``."""

    dist: Literal["truncnormal"]
    mean: float
    sd: float = Field(gt=0)
    low: float
    high: float

    @model_validator(mode="after")
    def _order(self):
        if not self.low < self.high:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")
        return self

    def ppf(self, u):
        from scipy.stats import truncnorm
        a, b = (self.low - self.mean) / self.sd, (self.high - self.mean) / self.sd
        return truncnorm.ppf(u, a, b, loc=self.mean, scale=self.sd)

    def support(self):
        return (self.low, self.high)


class Triangular(_Dist):
    """Triangular with ``low`` <= ``mode`` <= ``high``."""

    dist: Literal["triangular"]
    low: float
    mode: float
    high: float

    @model_validator(mode="after")
    def _order(self):
        if not (self.low <= self.mode <= self.high and self.low < self.high):
            raise ValueError(f"need low <= mode <= high and low < high "
                             f"(got {self.low}, {self.mode}, {self.high})")
        return self

    def ppf(self, u):
        # scipy.stats.triang's quantile, written out: the same operations, so the same values
        # (a test compares them), without importing scipy.stats (slow to import)
        c = (self.mode - self.low) / (self.high - self.low)
        u = np.asarray(u, dtype=np.float64)
        q = np.where(u < c, np.sqrt(c * u), 1 - np.sqrt((1 - c) * (1 - u)))
        return q * (self.high - self.low) + self.low

    def support(self):
        return (self.low, self.high)


class LogNormal(_Dist):
    """Lognormal with ``median`` and log-sd ``sigma``; draws are clipped to the bounds."""

    dist: Literal["lognormal"]
    median: float = Field(gt=0)
    sigma: float = Field(gt=0)

    def ppf(self, u):
        return self.median * np.exp(self.sigma * ndtri(u))

    def support(self):
        return (0.0, np.inf)



class Beta(_Dist):
    """Beta(``a``, ``b``) scaled to ``low``..``high`` (default 0..1)."""

    dist: Literal["beta"]
    a: float = Field(gt=0)
    b: float = Field(gt=0)
    low: float = 0.0
    high: float = 1.0

    @model_validator(mode="after")
    def _order(self):
        if not self.low < self.high:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")
        return self

    def ppf(self, u):
        return self.low + (self.high - self.low) * beta_ppf(u, self.a, self.b)

    def support(self):
        return (self.low, self.high)


class Choice(_Dist):
    """One of ``values``, with optional ``weights`` (normalised)."""

    dist: Literal["choice"]
    values: list[float] = Field(min_length=1)
    weights: list[Annotated[float, Field(ge=0)]] | None = None

    @model_validator(mode="after")
    def _weights(self):
        if self.weights is not None:
            if len(self.weights) != len(self.values):
                raise ValueError("weights must have one entry per value")
            if sum(self.weights) <= 0:
                raise ValueError("weights must not all be zero")
        return self

    def ppf(self, u):
        w = np.asarray(self.weights if self.weights is not None else [1.0] * len(self.values), float)
        cdf = np.cumsum(w / w.sum())
        idx = np.minimum(np.searchsorted(cdf, u, side="right"), len(self.values) - 1)
        return np.asarray(self.values, float)[idx]

    def support(self):
        return (min(self.values), max(self.values))


Distribution = Annotated[Union[Uniform, Normal, TruncNormal, Triangular, LogNormal, Beta, Choice],
                         Field(discriminator="dist")]
DIST_KINDS = ["uniform", "normal", "truncnormal", "triangular", "lognormal", "beta", "choice"]


#: The posterior the package ships (``seeds/posterior.parquet``), which ``{from: posterior}``
#: means unless the scenario names another (its ``posterior`` key).
SHIPPED_POSTERIOR = "posterior.parquet"


class FromPosterior(BaseModel):
    """Draw the parameter from a calibration posterior (``{from: posterior}``).

    Every parameter marked this way is drawn *jointly*: each run takes one row of the posterior
    sample (a Parquet table with one column per parameter name), so the correlations the
    calibration found are kept. The sample is ``seeds/<file>`` (the one the package ships), or
    the file a scenario names in its ``posterior`` key (``iraqsim calibrate`` writes one).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    from_: Literal["posterior"] = Field(alias="from")
    file: str = Field(default=SHIPPED_POSTERIOR, pattern=r"^[A-Za-z0-9_.-]+\.parquet$")

    def support(self):
        return (-np.inf, np.inf)

    def path(self, posterior: str | None = None) -> Path:
        """The posterior file drawn from: ``posterior`` (a scenario's own) if given and this
        parameter names the shipped sample, else ``seeds/<file>``."""
        if posterior is not None and self.file == SHIPPED_POSTERIOR:
            return Path(posterior)
        return seeds_dir() / self.file

    def marginal_ppf(self, name: str, u: np.ndarray, posterior: str | None = None) -> np.ndarray:
        """Quantiles of parameter ``name``'s marginal in the posterior sample (for designs such
        as Sobol or Morris that need one variable at a time; the joint correlations are lost)."""
        column = posterior_table(self.path(posterior))[name]
        return np.quantile(column, np.clip(u, 0.0, 1.0))


class PosteriorSample:
    """A posterior sample: one read-only float64 array of draws per parameter, all as long.

    ``sample[name]`` is a parameter's draws, ``name in sample`` says whether it has them,
    ``sample.columns`` names them in the file's order and ``sample.rows`` counts the draws."""

    def __init__(self, columns: dict[str, np.ndarray]):
        self.columns = list(columns)
        self._values = columns
        self.rows = len(next(iter(columns.values()))) if columns else 0

    def __contains__(self, name: str) -> bool:
        return name in self._values

    def __getitem__(self, name: str) -> np.ndarray:
        return self._values[name]


def posterior_table(path: str | Path) -> PosteriorSample:
    """The posterior sample in ``path`` (read once per process while the file is unchanged)."""
    path = Path(path)
    if not path.is_file():
        raise ScenarioError(path, "", "posterior file not found; `iraqsim calibrate` writes one")
    stat = path.stat()
    return _read_posterior(str(path), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=4)
def _read_posterior(path: str, mtime_ns: int, size: int) -> PosteriorSample:
    """Read a posterior table; cached by path, modification time and size (every block needs it).
    Read with pyarrow alone: loading a scenario does not load pandas (``sim.engine.arrow``)."""
    table = pq.ParquetFile(path).read()
    columns = {}
    for name, column in zip(table.column_names, table.columns):
        values = np.array(numpy_values(column), dtype=np.float64)
        values.flags.writeable = False  # shared by every caller of the cache
        columns[name] = values
    return PosteriorSample(columns)


def sample_posterior(specs: dict, n: int, seed: int, block: int,
                     posterior: str | None = None) -> dict[str, np.ndarray]:
    """Joint draws of posterior rows: one row index per run, shared by all such parameters.

    ``posterior``: a scenario's own posterior file, used for the parameters that name the
    shipped one. The rows' random stream depends on the name in the scenario (``file``), not on
    where the sample lives, so two posteriors of the same size are compared run by run.
    """
    out = {}
    by_file: dict[str, list[str]] = {}
    for name, spec in specs.items():
        by_file.setdefault(spec.file, []).append(name)
    for file, names in sorted(by_file.items()):
        path = specs[names[0]].path(posterior)
        table = posterior_table(path)
        missing = [nm for nm in names if nm not in table]
        if missing:
            raise ScenarioError(path, f"parameters.{missing[0]}", "not in the posterior sample; "
                                f"it holds: {', '.join(map(str, table.columns))}")
        ss = np.random.SeedSequence(entropy=seed, spawn_key=(block, 2, zlib.crc32(file.encode())))
        rows = np.random.default_rng(ss).integers(0, table.rows, n)
        for nm in names:
            par = PARAMETERS[nm]
            out[nm] = np.clip(table[nm][rows], par.low, par.high)
    return out
