"""``iraqsim run SCENARIO``: run a scenario and write the output contract."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from ._common import check_writable, temp_sibling


def register(sub):
    p = sub.add_parser("run", help="run a scenario and write outcomes, quantiles, summary and plots")
    p.add_argument("scenario", help="scenario YAML file")
    p.add_argument("--runs", type=int, help="number of replicas (default: the scenario's runs)")
    p.add_argument("--seed", type=int, help="seed (default: the scenario's seed)")
    p.add_argument("--out", help="output folder (default: results/<scenario name>)")
    p.add_argument("--workers", type=int, default=1, help="local worker processes")
    p.add_argument("--dask", metavar="ADDRESS", help="'local' or a Dask scheduler address")
    p.add_argument("--quiet", action="store_true", help="no progress bar and no table")
    p.set_defaults(func=main)


def main(args) -> int:
    from .. import load_scenario, run
    from ..cli import UserError
    from ..results import replace_dir

    scenario = load_scenario(args.scenario)
    if args.runs is not None and args.runs < 1:
        raise UserError(f"--runs must be at least 1 (got {args.runs})")
    if args.workers < 1:
        raise UserError(f"--workers must be at least 1 (got {args.workers})")
    out = Path(args.out or Path("results") / scenario.name)
    check_writable(out)
    tmp = temp_sibling(out)
    try:
        res = run(scenario, runs=args.runs, seed=args.seed, workers=args.workers, dask=args.dask,
                  progress=None if not args.quiet else False, stream_to=tmp)
        res.write_into(tmp)
        replace_dir(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if not args.quiet:
        print(f"{scenario.name}: {res.provenance['runs']:,} runs, seed {res.provenance['seed']}, "
              f"{res.provenance['elapsed_seconds']:.1f} s")
        print(res.table().to_string())
        print(f"wrote {out}/ (outcomes.parquet, quantiles.parquet, summary.json, "
              f"scenario.resolved.yaml, plots/)", file=sys.stdout)
    return 0
