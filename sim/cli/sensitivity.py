"""``iraqsim sensitivity SCENARIO``: Sobol or Morris indices of outcomes (SALib)."""

from __future__ import annotations

from sim.analysis.sensitivity import DEFAULT_OUTCOMES, DEFAULT_SAMPLES, check_outcomes, sensitivity
from sim.cli.analysis_options import add_common_arguments, check_common, output_folder, write_atomically
from sim.scenario.loading import load_scenario


def register(sub):
    p = sub.add_parser("sensitivity")
    p.add_argument("scenario", help="scenario YAML file")
    p.add_argument("--outcome", action="append", metavar="NAME",
                   help=f"outcome to analyse, repeatable (default: {', '.join(DEFAULT_OUTCOMES)})")
    p.add_argument("--method", default="sobol", help="sobol (default) or morris")
    p.add_argument("--samples", type=int, help="Sobol base samples (a power of two) or Morris "
                   f"trajectories (default: {DEFAULT_SAMPLES}, one engine block per design matrix)")
    p.add_argument("--parameter", action="append", metavar="NAME",
                   help="analyse only these uncertain parameters (repeatable; default: all)")
    add_common_arguments(p, runs_help=None)
    p.set_defaults(func=main)


def main(args) -> int:

    scenario = load_scenario(args.scenario)
    check_common(args)
    outcomes = check_outcomes(args.outcome or DEFAULT_OUTCOMES)
    out = output_folder(args, scenario, "sensitivity")
    result = sensitivity(scenario, outcomes, method=args.method, samples=args.samples,
                         seed=args.seed, parameters=args.parameter, workers=args.workers, dask=args.dask,
                         progress=False if args.quiet else None, source=args.scenario)
    write_atomically(result, out)
    if not args.quiet:
        prov = result.provenance
        print(f"{scenario.name}: {prov['method']}, {prov['evaluations']:,} evaluations, "
              f"seed {prov['seed']}, {prov['elapsed_seconds']:.1f} s")
        print(result.indices.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        print("share of variance from the model's own randomness: "
              + ", ".join(f"{k} {v:.0%}" for k, v in result.noise.items()))
        print(f"wrote {out}/ (indices.csv, indices.parquet, experiments.parquet, summary.json, "
              f"scenario.resolved.yaml, plots/)")
    return 0
