"""Scenario discovery: which combinations of uncertain parameters lead to a bad outcome.

Two methods on the same runs (the scenario's uncertain-parameter draws and a yes/no *case* per
run, e.g. ``resurgence`` or ``isis_peak>20000``):

* **PRIM** (Friedman & Fisher 1999), peeling only: starting from the box holding every run,
  repeatedly cut a share ``alpha`` of the runs off one side of one parameter, choosing the cut
  that raises the share of cases in the box most per run removed, until the box holds less than
  ``min_mass`` of the runs. Each step's box is a point on the *peeling trajectory*, a trade-off
  between **coverage** (share of all cases inside the box) and **density** (share of the box's
  runs that are cases). The chosen box is the densest one with at least ``min_coverage``
  coverage; further boxes are found the same way on the runs outside the earlier boxes
  (covering). Each restricted limit gets a quasi-p-value (a one-sided binomial test of the
  box's density against the box without that limit), as in EMA Workbench.
  The PyPI package ``prim`` is not used: it is GPL-3 licensed (this project is MIT) and needs
  ``mplcursors``; the algorithm is short and is tested here against boxes planted in data.
* **CART** (scikit-learn ``DecisionTreeClassifier``): leaves whose density is above the base
  rate, each a box given by the splits on its path.
"""

from __future__ import annotations

import difflib
import json
import operator
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from sklearn.tree import DecisionTreeClassifier, export_text

from sim._version import __version__
from sim.analysis.plots import plot_box_limits, plot_peeling
from sim.engine.engine import run
from sim.engine.io import jsonable, software_versions, write_atomically
from sim.model.outcomes import OUTCOME_COLUMNS
from sim.scenario.errors import ArgumentError, ScenarioError
from sim.scenario.schema import Scenario

_OPS = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt}


# ---------------------------------------------------------------------- the case of interest
def parse_case(spec: str, source: str = "case") -> tuple[str, str | None, float | None]:
    """Parse a case: a yes/no outcome (``resurgence``) or a threshold (``isis_peak>20000``).

    Returns:
        (outcome, operator or None, threshold or None).

    Raises:
        ScenarioError: naming the outcome and what is allowed.
    """
    m = re.fullmatch(r"\s*([a-z_]+)\s*(?:(>=|<=|>|<)\s*([-+0-9.eE]+))?\s*", spec)
    if not m:
        raise ArgumentError(source, spec, "expected an outcome (e.g. resurgence) or a threshold "
                            "(e.g. isis_peak>20000)")
    name, op, value = m.groups()
    if name not in OUTCOME_COLUMNS:
        near = difflib.get_close_matches(name, list(OUTCOME_COLUMNS), n=1)
        hint = f"did you mean {near[0]!r}? " if near else ""
        raise ArgumentError(source, name, f"unknown outcome; {hint}allowed: "
                            f"{', '.join(OUTCOME_COLUMNS)}")
    kind = OUTCOME_COLUMNS[name][0]
    if op is None:
        if kind != "bool":
            raise ArgumentError(source, name, f"is a number; give a threshold, e.g. {name}>"
                                f"{'24' if kind == 'month' else '1000'}")
        return name, None, None
    try:
        threshold = float(value)
    except ValueError:
        raise ArgumentError(source, spec, f"threshold {value!r} is not a number") from None
    if kind == "bool":
        raise ArgumentError(source, name, "is yes/no; give it without a threshold")
    return name, op, threshold


def case_mask(outcomes: pd.DataFrame, name: str, op: str | None, threshold: float | None) -> np.ndarray:
    """The case of interest per run (NaN months, i.e. never happened, are not cases)."""
    v = outcomes[name].to_numpy()
    if op is None:
        return v.astype(bool)
    v = v.astype(float)
    return np.where(np.isfinite(v), _OPS[op](v, threshold), False)


# ---------------------------------------------------------------------- PRIM
def prim_peel(x: np.ndarray, y: np.ndarray, alpha: float = 0.05, min_mass: float = 0.05,
              total_cases: int | None = None, total_runs: int | None = None) -> dict:
    """Peel a box around the cases ``y`` in the data ``x`` (runs x parameters).

    Args:
        x: Parameter values, one row per run.
        y: Case of interest per run (bool).
        alpha: Share of the box's runs removed by each peel.
        min_mass: Stop before the box holds less than this share of ``total_runs``.
        total_cases: Cases coverage is relative to (default: ``y.sum()``).
        total_runs: Runs mass is relative to (default: ``len(y)``).

    Returns:
        ``{"lower": (steps, params), "upper": (steps, params), "coverage", "density", "mass",
        "restricted": arrays over steps}``; step 0 is the box holding every run.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=bool)
    n, d = x.shape
    total_cases = int(y.sum()) if total_cases is None else int(total_cases)
    total_runs = n if total_runs is None else int(total_runs)
    full_lo, full_hi = x.min(axis=0), x.max(axis=0)
    lo, hi = full_lo.copy(), full_hi.copy()
    inside = np.ones(n, dtype=bool)
    steps = []

    def record():
        k, c = int(inside.sum()), int(y[inside].sum())
        steps.append((lo.copy(), hi.copy(), c / max(total_cases, 1), c / max(k, 1), k / total_runs,
                      int(((lo > full_lo) | (hi < full_hi)).sum())))

    record()
    while True:
        idx = np.flatnonzero(inside)
        k = idx.size
        mean_now = y[idx].mean()
        best = None
        for j in range(d):
            xj = x[idx, j]
            order = np.sort(xj)
            cut = max(1, int(np.floor(alpha * k)))
            for side in ("lower", "upper"):
                if side == "lower":
                    keep = xj > order[cut - 1]
                else:
                    keep = xj < order[k - cut]
                kept = int(keep.sum())
                if kept == k or kept < min_mass * total_runs or kept == 0:
                    continue
                gain = (y[idx][keep].mean() - mean_now) / (k - kept)
                if best is None or gain > best[0]:
                    best = (gain, j, side, keep)
        if best is None:
            break
        _, j, side, keep = best
        new_idx = idx[keep]
        if side == "lower":
            lo[j] = x[new_idx, j].min()
        else:
            hi[j] = x[new_idx, j].max()
        inside[:] = False
        inside[new_idx] = True
        record()
    lower, upper, cov, dens, mass, restricted = map(np.array, zip(*steps))
    return {"lower": lower, "upper": upper, "coverage": cov, "density": dens, "mass": mass,
            "restricted": restricted, "full_lower": full_lo, "full_upper": full_hi}


def choose_step(peel: dict, min_coverage: float) -> int:
    """The densest step whose coverage is at least ``min_coverage`` (the first one on ties)."""
    ok = np.flatnonzero(peel["coverage"] >= min_coverage)
    if ok.size == 0:
        return 0
    return int(ok[np.argmax(peel["density"][ok])])


def in_box(x: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Rows of ``x`` inside the box (limits inclusive)."""
    return np.all((x >= lower) & (x <= upper), axis=1)


def quasi_p_values(x: np.ndarray, y: np.ndarray, lower: np.ndarray, upper: np.ndarray,
                   dims: list[int]) -> dict[int, float]:
    """One-sided binomial test per restricted limit: is the box denser than without it?"""
    from scipy.stats import binom
    box = in_box(x, lower, upper)
    n, c = int(box.sum()), int(y[box].sum())
    out = {}
    for j in dims:
        lo, hi = lower.copy(), upper.copy()
        lo[j], hi[j] = -np.inf, np.inf
        wider = in_box(x, lo, hi)
        rate = y[wider].mean() if wider.any() else 0.0
        out[j] = float(binom.sf(c - 1, n, rate)) if n else 1.0
    return out


# ---------------------------------------------------------------------- CART
def cart_boxes(x: np.ndarray, y: np.ndarray, names: list[str], max_depth: int = 3,
               min_leaf: float = 0.02, seed: int = 0):
    """Leaves of a classification tree as boxes, with coverage, density and mass.

    Returns:
        (list of leaf dicts with ``lower``, ``upper``, ``coverage``, ``density``, ``mass``,
        ``runs``; the tree as text).
    """
    n, d = x.shape
    tree = DecisionTreeClassifier(max_depth=max_depth, min_samples_leaf=max(1, int(min_leaf * n)),
                                  random_state=seed).fit(x, y)
    t = tree.tree_
    leaves, total = [], max(int(y.sum()), 1)
    leaf_of = tree.apply(x)

    def walk(node, lo, hi):
        if t.children_left[node] == -1:
            members = leaf_of == node
            k, c = int(members.sum()), int(y[members].sum())
            leaves.append({"node": int(node), "lower": lo.copy(), "upper": hi.copy(),
                           "coverage": c / total, "density": c / max(k, 1), "mass": k / n, "runs": k})
            return
        j, thr = t.feature[node], t.threshold[node]
        h = hi.copy()
        h[j] = min(h[j], thr)
        walk(t.children_left[node], lo, h)
        lo2 = lo.copy()
        lo2[j] = max(lo2[j], thr)
        walk(t.children_right[node], lo2, hi)

    walk(0, np.full(d, -np.inf), np.full(d, np.inf))
    return leaves, export_text(tree, feature_names=list(names), show_weights=True)


# ---------------------------------------------------------------------- the analysis
@dataclass
class DiscoveryResult:
    """Boxes of uncertain-parameter space where the case of interest concentrates.

    Attributes:
        scenario: The scenario analysed.
        case: The case of interest as written (``resurgence``, ``isis_peak>20000``).
        boxes: One row per (box, restricted parameter): ``method`` (prim or cart), ``box``,
            ``parameter``, ``low``, ``high``, ``qp_value`` (PRIM), ``coverage``, ``density``,
            ``mass``, ``runs``. A box restricting nothing has one row with no parameter.
        trajectory: PRIM peeling steps: ``box``, ``step``, ``coverage``, ``density``, ``mass``,
            ``restricted``, ``chosen``.
        runs: The runs analysed: ``param.*`` columns and ``case``.
        tree: The CART tree as text.
        base_rate: Share of runs that are cases.
        provenance: Version, scenario hash, seed, runs, settings, timing.
    """

    scenario: Scenario
    case: str
    boxes: pd.DataFrame
    trajectory: pd.DataFrame
    runs: pd.DataFrame
    tree: str
    base_rate: float
    provenance: dict = field(default_factory=dict)

    def save(self, directory, plots: bool = True) -> Path:
        """Write ``boxes.csv``/``.parquet``, ``peeling.csv``/``.parquet``, ``runs.parquet``,
        ``tree.txt``, ``summary.json``, ``scenario.resolved.yaml`` and ``plots/peeling.png``,
        ``plots/boxes.png`` into ``directory`` atomically."""
        return write_atomically(directory, lambda tmp: self.write_into(tmp, plots=plots))

    def write_into(self, folder: Path, plots: bool = True) -> None:
        """Write every file into an existing (temporary) folder."""
        folder = Path(folder)
        self.boxes.to_parquet(folder / "boxes.parquet", index=False)
        self.boxes.to_csv(folder / "boxes.csv", index=False)
        self.trajectory.to_parquet(folder / "peeling.parquet", index=False)
        self.trajectory.to_csv(folder / "peeling.csv", index=False)
        self.runs.to_parquet(folder / "runs.parquet", index=False)
        (folder / "tree.txt").write_text(self.tree)
        (folder / "summary.json").write_text(json.dumps(jsonable(
            {"case": self.case, "base_rate": self.base_rate, "boxes": self.describe(),
             "provenance": self.provenance}), indent=2))
        (folder / "scenario.resolved.yaml").write_text(
            yaml.safe_dump(self.scenario.resolved(), sort_keys=False))
        if plots:
            (folder / "plots").mkdir(exist_ok=True)
            plot_peeling(self.trajectory, self.boxes, self.base_rate, folder / "plots" / "peeling.png")
            params = [c for c in self.runs if c.startswith("param.")]
            ranges = {c.removeprefix("param."): (float(self.runs[c].min()), float(self.runs[c].max()))
                      for c in params}
            plot_box_limits(self.boxes, ranges, folder / "plots" / "boxes.png")

    def describe(self) -> list[dict]:
        """The boxes in words: per box its statistics and limits (``name: low .. high``)."""
        out = []
        for (method, box), part in self.boxes.groupby(["method", "box"], sort=False):
            first = part.iloc[0]
            limits = {r.parameter: [r.low, r.high] for r in part.itertuples() if isinstance(r.parameter, str)}
            out.append({"method": method, "box": int(box), "coverage": first["coverage"],
                        "density": first["density"], "mass": first["mass"], "limits": limits})
        return out


def discover(scenario: Scenario, case: str = "resurgence", runs: int | None = None,
             seed: int | None = None, *, boxes: int = 1, alpha: float = 0.05,
             min_mass: float = 0.05, min_coverage: float = 0.5, max_depth: int = 3,
             workers: int = 1, dask: str | None = None, progress: bool | None = None,
             source: str = "scenario") -> DiscoveryResult:
    """Run the scenario and find the parameter boxes where the case of interest concentrates.

    Args:
        scenario: The scenario; its uncertain parameters are the search space.
        case: A yes/no outcome or a threshold on one (``isis_peak>20000``).
        runs: Runs (default: the scenario's).
        seed: Seed (default: the scenario's).
        boxes: PRIM boxes to find (covering: each next box on the runs outside earlier ones).
        alpha: PRIM peeling share.
        min_mass: PRIM stops before a box holds less than this share of the runs.
        min_coverage: The chosen PRIM box is the densest with at least this coverage.
        max_depth: Depth of the CART tree.
        workers: Local worker processes.
        dask: ``"local"`` or a Dask scheduler address: compute on a Dask cluster (see
            ``sim.run``); results are the same.
        progress: Show a progress bar (default: only on a terminal).
        source: Name of the scenario file, for error messages.

    Raises:
        ScenarioError: for a bad case, a scenario without uncertain parameters, or a case that
            never or always happens (nothing to discover).
    """
    name, op, threshold = parse_case(case)
    uncertain = sorted(scenario.uncertain_parameters())
    if not uncertain:
        raise ScenarioError(source, "parameters", "the scenario has no uncertain parameters; "
                            "give at least one a distribution to search over")
    for label, value, lo, hi in (("alpha", alpha, 0.0, 0.5), ("min_mass", min_mass, 0.0, 1.0),
                                 ("min_coverage", min_coverage, 0.0, 1.0)):
        if not lo < value <= hi:
            raise ArgumentError(label, str(value), f"must be above {lo:g} and at most {hi:g}")
    if boxes < 1 or max_depth < 1:
        raise ArgumentError("boxes" if boxes < 1 else "max_depth", "", "must be at least 1")
    seed = int(scenario.seed if seed is None else seed)
    started = time.perf_counter()
    res = run(scenario, runs=runs, seed=seed, progress=progress, workers=workers, dask=dask,
              keep_trajectories=False)
    df = res.outcomes
    y = case_mask(df, name, op, threshold)
    n_cases = int(y.sum())
    if n_cases == 0 or n_cases == len(y):
        raise ArgumentError("case", case, f"is {'never' if n_cases == 0 else 'always'} the "
                            f"case in {len(y)} runs; nothing to discover (change the threshold, "
                            f"the scenario or the runs)")
    cols = [f"param.{p}" for p in uncertain]
    x = df[cols].to_numpy(dtype=float)

    box_rows, traj_rows = [], []
    remaining = np.ones(len(y), dtype=bool)
    for b in range(1, boxes + 1):
        if not y[remaining].any():
            break
        peel = prim_peel(x[remaining], y[remaining], alpha, min_mass,
                         total_cases=n_cases, total_runs=len(y))
        # later boxes: the same coverage demand, relative to the cases still uncovered
        step = choose_step(peel, min_coverage * y[remaining].sum() / n_cases)
        for s in range(len(peel["coverage"])):
            traj_rows.append({"box": b, "step": s, "coverage": peel["coverage"][s],
                              "density": peel["density"][s], "mass": peel["mass"][s],
                              "restricted": int(peel["restricted"][s]), "chosen": s == step})
        lo, hi = peel["lower"][step], peel["upper"][step]
        dims = [j for j in range(len(cols)) if lo[j] > peel["full_lower"][j]
                or hi[j] < peel["full_upper"][j]]
        qp = quasi_p_values(x[remaining], y[remaining], lo, hi, dims)
        inside = remaining & in_box(x, lo, hi)
        stats = {"coverage": peel["coverage"][step], "density": peel["density"][step],
                 "mass": peel["mass"][step], "runs": int(inside.sum())}
        for j in dims or [None]:
            box_rows.append({"method": "prim", "box": b,
                             "parameter": None if j is None else uncertain[j],
                             "low": np.nan if j is None else lo[j],
                             "high": np.nan if j is None else hi[j],
                             "qp_value": np.nan if j is None else qp[j], **stats})
        remaining &= ~inside

    leaves, tree_text = cart_boxes(x, y, uncertain, max_depth=max_depth, seed=seed % 2**32)
    base_rate = n_cases / len(y)
    good = sorted((lf for lf in leaves if lf["density"] > base_rate), key=lambda lf: -lf["density"])
    for i, lf in enumerate(good, start=1):
        dims = [j for j in range(len(cols)) if np.isfinite(lf["lower"][j]) or np.isfinite(lf["upper"][j])]
        stats = {k: lf[k] for k in ("coverage", "density", "mass", "runs")}
        for j in dims or [None]:
            box_rows.append({"method": "cart", "box": i,
                             "parameter": None if j is None else uncertain[j],
                             "low": np.nan if j is None else max(lf["lower"][j], x[:, j].min()),
                             "high": np.nan if j is None else min(lf["upper"][j], x[:, j].max()),
                             "qp_value": np.nan, **stats})
    elapsed = time.perf_counter() - started

    runs_df = df[cols].copy()
    runs_df.insert(0, "run", df["run"].to_numpy())
    runs_df["case"] = y
    provenance = {"package": "iraqsim", "version": __version__, "scenario": scenario.name,
                  "scenario_sha256": scenario.sha256(), "seed": seed, "runs": int(len(y)),
                  "cases": n_cases, "peel_alpha": alpha, "min_mass": min_mass,
                  "min_coverage": min_coverage, "max_depth": max_depth,
                  "elapsed_seconds": round(elapsed, 3), **software_versions()}
    return DiscoveryResult(scenario, case, pd.DataFrame(box_rows), pd.DataFrame(traj_rows),
                           runs_df, tree_text, base_rate, provenance)
