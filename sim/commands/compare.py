"""``iraqsim compare A.yaml B.yaml ...``: several scenarios with common random numbers.

Every scenario is run with the same runs and seed (``sim.compare.compare``), so run ``i`` of each
shares its luck: the differences are due to the choices. Writes, atomically, into ``--out``
(default ``results/<a>-vs-<b>``):

* ``comparison.csv`` and ``comparison.parquet`` — one row per outcome and scenario: kind,
  mean (the probability for yes/no outcomes), sd, p05, p50, p95, the number of runs in which a
  timing outcome happens, and the change of the mean against the first scenario;
* ``outcomes.parquet`` — every run of every scenario, with a ``scenario`` column;
* ``quantiles.parquet`` — the trajectory bands of every scenario, with a ``scenario`` column;
* ``summary.json`` — each scenario's summary and provenance;
* ``scenarios/<name>.resolved.yaml`` — each scenario with every default filled in;
* ``plots/outcomes.png`` (overlaid distributions) and ``plots/trajectories.png`` (overlaid fans).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import yaml

from ._common import (add_run_options, atomic_output, check_run_options, default_out, scenario_path,
                      writing_bar)


def register(sub):
    p = sub.add_parser("compare", help="run several scenarios with common random numbers, side by side",
                       description="Run two or more scenarios with the same runs and seed (common "
                                   "random numbers) and write a side-by-side table and overlaid plots.")
    p.add_argument("scenarios", nargs="+", metavar="SCENARIO",
                   help="two or more scenario files (or library names, see `iraqsim list`)")
    add_run_options(p, what="the first scenario's")
    p.add_argument("--out", metavar="DIR", help="output folder (default: results/<a>-vs-<b>)")
    p.set_defaults(func=main)


def comparison_table(comparison) -> pd.DataFrame:
    """Tidy side-by-side table: one row per (outcome, scenario).

    Columns: ``outcome``, ``scenario``, ``kind`` (probability, value or month), ``mean`` (the
    probability for yes/no outcomes), ``sd``, ``p05``, ``p50``, ``p95``, ``n`` (runs in which a
    timing outcome happens) and ``change_vs_first`` (mean minus the first scenario's mean).
    """
    rows = []
    for name, res in zip(comparison.names, comparison.results):
        for outcome, s in res.summary["outcomes"].items():
            value = s["probability"] if s["kind"] == "probability" else s.get("mean")
            rows.append({"outcome": outcome, "scenario": name, "kind": s["kind"], "mean": value,
                         "sd": s.get("sd"), "p05": s.get("p05"), "p50": s.get("p50"),
                         "p95": s.get("p95"), "n": s.get("n")})
    table = pd.DataFrame(rows)
    for col in ("mean", "sd", "p05", "p50", "p95", "n"):
        table[col] = pd.to_numeric(table[col], errors="coerce").astype(float)
    first = table[table["scenario"] == comparison.names[0]].set_index("outcome")["mean"]
    table["change_vs_first"] = table["mean"] - table["outcome"].map(first)
    order = {o: i for i, o in enumerate(dict.fromkeys(table["outcome"]))}
    return table.sort_values(["outcome", "scenario"], key=lambda c: c.map(order) if c.name == "outcome"
                             else c.map({n: i for i, n in enumerate(comparison.names)})).reset_index(drop=True)


def _cell(row) -> str:
    if pd.isna(row["mean"]):
        return "never"
    if row["kind"] == "probability":
        return f"{100 * row['mean']:.1f}%"
    fmt = (lambda v: f"{v:,.3g}") if abs(row["p95"]) < 10 else (lambda v: f"{v:,.0f}")
    happens = f" n={int(row['n'])}" if row["kind"] == "month" and not pd.isna(row["n"]) else ""
    return f"{fmt(row['p50'])} [{fmt(row['p05'])}-{fmt(row['p95'])}]{happens}"


def side_by_side(table: pd.DataFrame) -> pd.DataFrame:
    """The printed table: outcomes as rows, scenarios as columns.

    Yes/no outcomes show their probability; numbers show ``median [p05-p95]``; timing outcomes
    also show in how many runs they happen (``n=``).
    """
    cells = table.assign(cell=table.apply(_cell, axis=1))
    wide = cells.pivot(index="outcome", columns="scenario", values="cell")
    return wide.loc[list(dict.fromkeys(table["outcome"])), list(dict.fromkeys(table["scenario"]))]


#: Steps of ``write_comparison`` (its ``progress`` counts them).
COMPARISON_FILES = 7


def write_comparison(comparison, folder: Path, progress=None) -> pd.DataFrame:
    """Write every comparison file into an existing (temporary) folder; return the tidy table.

    ``progress``: called with 1 after each of ``COMPARISON_FILES`` steps.
    """
    from ..plots import plot_comparison, plot_comparison_trajectories
    from ..results import jsonable

    done = progress or (lambda n: None)
    folder = Path(folder)
    table = comparison_table(comparison)
    table.to_csv(folder / "comparison.csv", index=False)
    table.to_parquet(folder / "comparison.parquet", index=False)
    done(1)
    comparison.write_outcomes(folder / "outcomes.parquet")
    done(1)
    quantiles = pd.concat([r.quantiles.assign(scenario=n) for n, r in zip(comparison.names, comparison.results)],
                          ignore_index=True)
    quantiles.to_parquet(folder / "quantiles.parquet", index=False)
    done(1)
    summary = {"scenarios": comparison.names,
               "common_random_numbers": True,
               "results": {n: r.summary for n, r in zip(comparison.names, comparison.results)}}
    (folder / "summary.json").write_text(json.dumps(jsonable(summary), indent=2))
    done(1)
    (folder / "scenarios").mkdir()
    for n, r in zip(comparison.names, comparison.results):
        (folder / "scenarios" / f"{n}.resolved.yaml").write_text(
            yaml.safe_dump(r.scenario.resolved(), sort_keys=False))
    done(1)
    (folder / "plots").mkdir()
    plot_comparison(comparison, folder / "plots" / "outcomes.png")
    done(1)
    plot_comparison_trajectories(comparison, folder / "plots" / "trajectories.png")
    done(1)
    return table


def main(args) -> int:
    """Run the comparison and write its folder; return the exit code."""
    from .. import load_scenario
    from ..cli import UserError
    from ..compare import compare

    check_run_options(args)
    if len(args.scenarios) < 2:
        raise UserError("compare needs at least two scenarios (e.g. iraqsim compare "
                        "scenarios/baseline.yaml scenarios/phased_exit.yaml)")
    scenarios = [load_scenario(scenario_path(a)) for a in args.scenarios]
    out = Path(args.out) if args.out else default_out(*[s.name for s in scenarios])
    with atomic_output(out) as tmp:
        runs = tmp / ".runs"  # each scenario's outcomes stream here (bounded memory)
        comparison = compare(scenarios, runs=args.runs, seed=args.seed, workers=args.workers,
                             dask=args.dask, progress=False if args.quiet else None, stream_to=runs)
        bar = writing_bar(COMPARISON_FILES, comparison.results[0].n_runs, args.quiet, unit="step")
        try:
            table = write_comparison(comparison, tmp, progress=bar)
        finally:
            bar(None)
        shutil.rmtree(runs)
    if not args.quiet:
        first = comparison.results[0].provenance
        print(f"{' vs '.join(comparison.names)}: {first['runs']:,} runs each, seed {first['seed']} "
              "(common random numbers)")
        print("probabilities in %, numbers as median [p05-p95]")
        print(side_by_side(table).to_string())
        print(f"wrote {out}/ (comparison.csv, comparison.parquet, outcomes.parquet, quantiles.parquet, "
              "summary.json, scenarios/, plots/outcomes.png, plots/trajectories.png)")
    return 0
