"""``iraqsim discover SCENARIO --outcome CASE``: scenario discovery with PRIM and CART."""

from __future__ import annotations

from sim.analysis.discovery import discover, parse_case
from sim.cli.analysis_options import add_common_arguments, check_common, output_folder, write_atomically
from sim.scenario.loading import load_scenario


def register(sub):
    p = sub.add_parser("discover")
    p.add_argument("scenario", help="scenario YAML file")
    p.add_argument("--outcome", default="resurgence", metavar="CASE",
                   help="yes/no outcome (resurgence, departed, ...) or a threshold such as "
                   "'isis_peak>20000' (default: resurgence)")
    p.add_argument("--boxes", type=int, default=1, help="PRIM boxes to find (default 1)")
    p.add_argument("--min-coverage", type=float, default=0.5,
                   help="the chosen PRIM box is the densest with at least this coverage (0.5)")
    p.add_argument("--peel-alpha", type=float, default=0.05, help="PRIM peeling share (0.05)")
    p.add_argument("--min-mass", type=float, default=0.05,
                   help="smallest share of runs a PRIM box may hold (0.05)")
    p.add_argument("--max-depth", type=int, default=3, help="CART tree depth (3)")
    add_common_arguments(p)
    p.set_defaults(func=main)


def main(args) -> int:

    scenario = load_scenario(args.scenario)
    check_common(args)
    parse_case(args.outcome)
    out = output_folder(args, scenario, "discover")
    result = discover(scenario, args.outcome, runs=args.runs, seed=args.seed, boxes=args.boxes,
                      alpha=args.peel_alpha, min_mass=args.min_mass,
                      min_coverage=args.min_coverage, max_depth=args.max_depth,
                      workers=args.workers, dask=args.dask, progress=False if args.quiet else None,
                      source=args.scenario)
    write_atomically(result, out)
    if not args.quiet:
        prov = result.provenance
        print(f"{scenario.name}: {args.outcome} in {prov['cases']:,} of {prov['runs']:,} runs "
              f"(base rate {result.base_rate:.3f}), {prov['elapsed_seconds']:.1f} s")
        for box in result.describe():
            limits = "; ".join(f"{k} {lo:.4g}..{hi:.4g}" for k, (lo, hi) in box["limits"].items())
            print(f"{box['method']} box {box['box']}: coverage {box['coverage']:.2f}, density "
                  f"{box['density']:.2f}, mass {box['mass']:.2f}: {limits or 'no restriction'}")
        print(f"wrote {out}/ (boxes.csv, peeling.csv, runs.parquet, tree.txt, summary.json, "
              f"scenario.resolved.yaml, plots/)")
    return 0
