"""``iraqsim sweep SCENARIO --lever NAME=VALUES ...``: a grid of choices with common random numbers."""

from __future__ import annotations

import shutil

from sim.analysis.lever_settings import parse_lever_spec
from sim.analysis.sweep import sweep
from sim.cli.analysis_options import add_common_arguments, atomically, check_common, output_folder
from sim.cli.common import writing_bar
from sim.reporting.report_figures import format_number
from sim.scenario.errors import ScenarioError
from sim.scenario.loading import load_scenario

LEVER_HELP = ("lever to sweep, repeatable: NAME=a,b,c or NAME=start:stop:step (inclusive). "
              "Names: retaliation, aid, posture.kind, exit_month (month the exit begins), "
              "posture.<field> (e.g. posture.troops). Example: --lever exit_month=0:36:6 "
              "--lever retaliation=none,proportional,leadership")


def register(sub):
    p = sub.add_parser("sweep")
    p.add_argument("scenario", help="scenario YAML file")
    p.add_argument("--lever", action="append", required=True, metavar="NAME=VALUES", help=LEVER_HELP)
    add_common_arguments(p, "runs per cell (default: the scenario's runs)")
    p.set_defaults(func=main)


def main(args) -> int:

    scenario = load_scenario(args.scenario)
    check_common(args)
    levers = {}
    for spec in args.lever:
        name, values = parse_lever_spec(spec)
        if name in levers:
            raise ScenarioError("--lever", name, "given twice; give each lever once")
        levers[name] = values
    out = output_folder(args, scenario, "sweep")
    with atomically(out) as tmp:
        cells = tmp / ".runs"  # each cell's outcomes stream here (memory does not grow with runs)
        result = sweep(scenario, levers, runs=args.runs, seed=args.seed, workers=args.workers,
                       dask=args.dask, progress=False if args.quiet else None, stream_to=cells)
        bar = writing_bar(result.FILES, args.runs or scenario.runs, args.quiet, unit="step")
        try:
            result.write_into(tmp, progress=bar)
        finally:
            bar(None)
        shutil.rmtree(cells)
    if not args.quiet:
        cols = list(levers) + ["resurgence.mean", "isis_peak.mean", "militia_attacks.mean",
                               "us_fatalities.mean", "departed.mean", "pareto"]
        prov = result.provenance
        print(f"{scenario.name}: {prov['cells']} cells x {prov['runs_per_cell']:,} runs, "
              f"seed {prov['seed']}, {prov['elapsed_seconds']:.1f} s")
        print(result.table[cols].to_string(index=False, float_format=format_number))
        print(f"wrote {out}/ (sweep.csv, sweep.parquet, runs.parquet, robustness.csv, "
              f"robustness.parquet, summary.json, scenario.resolved.yaml, plots/)")
    return 0
