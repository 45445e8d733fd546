"""``iraqsim compare A.yaml B.yaml ...``: several scenarios with common random numbers.

Every scenario is run with the same runs and seed (``sim.compare``), so run ``i`` of each
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

import shutil
from pathlib import Path

from sim.cli.common import (UserError, add_run_options, atomic_output, check_run_options,
                            default_out, earlier_job, note_replaced, scenario_path, with_posterior,
                            writing_bar)
from sim.engine.compare import compare
from sim.reporting.drawing import Drawing
from sim.reporting.plots import expected_shapes
from sim.reporting.save import FIGURES, write_into
from sim.scenario.loading import load_scenario


def register(sub):
    p = sub.add_parser("compare",
                       description="Run two or more scenarios with the same runs and seed (common "
                                   "random numbers) and write a side-by-side table and overlaid plots.")
    p.add_argument("scenarios", nargs="+", metavar="SCENARIO",
                   help="two or more scenario files (or library names, see `iraqsim list`)")
    add_run_options(p, what="the first scenario's")
    p.add_argument("--out", metavar="DIR", help="output folder (default: results/<a>-vs-<b>)")
    p.set_defaults(func=main)


def main(args) -> int:
    """Run the comparison and write its folder; return the exit code."""

    check_run_options(args)
    if len(args.scenarios) < 2:
        raise UserError("compare needs at least two scenarios (e.g. iraqsim compare "
                        "scenarios/baseline.yaml scenarios/phased_exit.yaml)")
    scenarios = [with_posterior(load_scenario(scenario_path(a)), args) for a in args.scenarios]
    out = Path(args.out) if args.out else default_out(*[s.name for s in scenarios])
    before = earlier_job(out)
    # the figures' drawing process (started by sim.cli.main) loads matplotlib while the runs
    # compute; it is stopped before a failed job's folder is removed
    with atomic_output(out) as tmp, args.drawing or Drawing() as drawing:
        drawing.prepare(expected_shapes(len(scenarios)))  # made while the runs compute
        runs = tmp / ".runs"  # each scenario's outcomes stream here (bounded memory)
        comparison = compare(scenarios, runs=args.runs, seed=args.seed, workers=args.workers,
                             dask=args.dask, progress=False if args.quiet else None, stream_to=runs)
        bar = writing_bar(comparison.FILES + FIGURES, comparison.results[0].n_runs, args.quiet,
                          unit="step")
        try:
            write_into(comparison, tmp, progress=bar, drawing=drawing)
        finally:
            bar(None)
        shutil.rmtree(runs)
    first = comparison.results[0].provenance
    note_replaced(out, before, f"{' vs '.join(r.scenario.name for r in comparison.results)}, "
                               f"{first['runs']:,} runs, seed {first['seed']}")
    if not args.quiet:
        print(f"{' vs '.join(comparison.names)}: {first['runs']:,} runs each, seed {first['seed']} "
              "(common random numbers)")
        print("probabilities in %, numbers as median [p05-p95]")
        print(comparison.side_by_side().to_string())
        print(f"wrote {out}/ (comparison.csv, comparison.parquet, outcomes.parquet, quantiles.parquet, "
              "summary.json, scenarios/, plots/outcomes.png, plots/trajectories.png)")
    return 0
