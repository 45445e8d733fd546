"""``iraqsim run SCENARIO``: run a scenario and write the output contract (README, "Output contract").

Writes ``outcomes.parquet``, ``quantiles.parquet``, ``summary.json``, ``scenario.resolved.yaml``
and ``plots/{outcomes,trajectories}.png`` into ``--out`` (default ``results/<scenario name>``),
atomically: outcomes stream into a temporary sibling folder that replaces ``--out`` only when
every file is written, so a failed or interrupted run (Ctrl-C) leaves no folder behind and never
damages an earlier result.
"""

from __future__ import annotations

from pathlib import Path

from sim.cli.common import (add_run_options, atomic_output, check_run_options, default_out,
                            earlier_job, note_replaced, scenario_path, with_posterior, writing_bar)
from sim.engine.engine import run
from sim.reporting.drawing import Drawing
from sim.reporting.plots import expected_shapes
from sim.reporting.save import FIGURES, write_into
from sim.scenario.loading import load_scenario

#: Outcomes printed after a run (all are in ``summary.json``).
KEY_OUTCOMES = ["resurgence", "months_to_resurgence", "isis_peak", "militia_attacks", "us_fatalities",
                "exit_demanded", "departed", "escalation", "isf_capability_end", "iran_influence_end", "us_troop_months"]


def register(sub):
    p = sub.add_parser("run",
                       description="Run a scenario's Monte Carlo replicas and write the output "
                                   "contract into a folder, atomically.")
    p.add_argument("scenario", help="scenario YAML file (or a library name, see `iraqsim list`)")
    add_run_options(p)
    p.add_argument("--out", metavar="DIR", help="output folder (default: results/<scenario name>)")
    p.set_defaults(func=main)


def key_outcome_table(results) -> str:
    """The printed table: key outcomes (mean or probability, p05, p50, p95), as text (made
    without pandas, which the rest of the job does not need)."""
    rows = {row[0]: row for row in results.table_rows()}
    lines = [results.TABLE_COLUMNS] + [rows[k] for k in KEY_OUTCOMES if k in rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    return "\n".join("  ".join([line[0].ljust(widths[0])]
                               + [cell.rjust(w) for cell, w in zip(line[1:], widths[1:])]).rstrip()
                     for line in lines)


def main(args) -> int:
    """Run the scenario, print its key outcomes, write the result folder; return the exit code."""
    check_run_options(args)
    scenario = with_posterior(load_scenario(scenario_path(args.scenario)), args)
    out = Path(args.out) if args.out else default_out(scenario.name)
    before = earlier_job(out)
    # the figures' drawing process (started by sim.cli.main) loads matplotlib while the runs
    # compute; it is stopped before a failed job's folder is removed
    with atomic_output(out) as tmp, args.drawing or Drawing() as drawing:
        drawing.prepare(expected_shapes(1))  # its figures' frames are made while the runs compute
        res = run(scenario, runs=args.runs, seed=args.seed, workers=args.workers, dask=args.dask,
                  progress=False if args.quiet else None, stream_to=tmp)
        prov = res.provenance
        if not args.quiet:  # the first result, before the files and figures are written
            print(f"{scenario.name}: {prov['runs']:,} runs, seed {prov['seed']}, "
                  f"{prov['elapsed_seconds']:.1f} s")
            print(key_outcome_table(res), flush=True)
        bar = writing_bar(res.FILES + FIGURES, res.n_runs, args.quiet, unit="file")
        try:
            write_into(res, tmp, progress=bar, drawing=drawing)
        finally:
            bar(None)
    note_replaced(out, before, f"{scenario.name}, {prov['runs']:,} runs, seed {prov['seed']}")
    if not args.quiet:
        print(f"wrote {out}/ (outcomes.parquet, quantiles.parquet, summary.json, "
              "scenario.resolved.yaml, plots/outcomes.png, plots/trajectories.png)")
    return 0
