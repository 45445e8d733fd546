"""``iraqsim calibrate``: rejection ABC of the structural parameters against the history episodes.

Writes ``posterior.parquet`` and ``prior_posterior.png`` into ``--out`` (default
``results/calibration/``), atomically, and never into the installed package or the checkout:
scenarios keep drawing from the shipped posterior until one names the new file (its
``posterior:`` key, or ``iraqsim run --posterior FILE``).
"""

from __future__ import annotations

from pathlib import Path

from sim.cli.common import UserError, atomic_output
from sim.engine.blocks import BLOCK_SIZE
from sim.engine.progress import job_progress
from sim.validation.calibrate import SHIPPED_DRAWS, calibrate, plot_calibration
from sim.validation.targets import EPISODES


def register(sub):
    p = sub.add_parser("calibrate")
    p.add_argument("--draws", type=int, default=SHIPPED_DRAWS,
                   help="prior draws, each replaying the three episodes (default "
                        f"{SHIPPED_DRAWS:,}, as for the shipped posterior; about a quarter of an "
                        "hour of one CPU)")
    p.add_argument("--leave-out", metavar="EPISODE", choices=EPISODES,
                   help="fit without this episode's targets (out-of-sample validation: "
                        f"{', '.join(EPISODES)})")
    p.add_argument("--seed", type=int, default=2024, help="seed (default 2024)")
    p.add_argument("--out", metavar="DIR", default="results/calibration",
                   help="output folder for posterior.parquet and prior_posterior.png "
                        "(default results/calibration)")
    p.add_argument("--quiet", action="store_true", help="no progress bar and no summary")
    p.set_defaults(func=main)


def main(args) -> int:
    """Calibrate and write the folder; return the exit code."""

    if args.draws < 1:
        raise UserError(f"--draws must be at least 1 (got {args.draws})")
    if args.seed < 0:
        raise UserError(f"--seed must be 0 or more (got {args.seed})")
    out = Path(args.out)
    with atomic_output(out) as tmp:
        bar = job_progress(-(-args.draws // BLOCK_SIZE), args.draws, False if args.quiet else None)
        try:
            cal = calibrate(args.draws, args.seed, on_block=bar, leave_out=args.leave_out)
        finally:
            bar(None)
        cal.save(tmp / "posterior.parquet")
        plot_calibration(cal, tmp / "prior_posterior.png")
    if not args.quiet:
        without = f", without {cal.leave_out}" if cal.leave_out else ""
        print(f"rejection ABC: {cal.accepted:,} of {cal.draws:,} draws accepted "
              f"({cal.acceptance_rate:.3%}), seed {cal.seed}{without}")
        print(cal.summary().to_string(float_format=lambda v: f"{v:.3g}"))
        print(f"wrote {out}/ (posterior.parquet, prior_posterior.png). Scenarios still draw from "
              f"the shipped posterior; to use this one: iraqsim run SCENARIO --posterior "
              f"{out / 'posterior.parquet'} (or the scenario key posterior: FILE)")
    return 0
