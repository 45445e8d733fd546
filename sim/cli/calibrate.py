"""``iraqsim calibrate``: rejection ABC of the structural parameters against the history episodes."""

from __future__ import annotations

from pathlib import Path


def register(sub):
    p = sub.add_parser("calibrate", help="calibrate uncertain parameters to the history episodes "
                       "(rejection ABC); writes the posterior sample and a diagnostic plot")
    p.add_argument("--draws", type=int, default=1_500_000,
                   help="prior draws, each replaying the three episodes (default 1,500,000: "
                        "the committed posterior; about 3 minutes)")
    p.add_argument("--seed", type=int, default=2024, help="seed (default 2024)")
    p.add_argument("--out", help="posterior file (default: seeds/posterior.parquet)")
    p.add_argument("--figure", help="prior-vs-posterior plot "
                   "(default: docs/figures/calibration/prior_posterior.png)")
    p.add_argument("--quiet", action="store_true", help="no progress bar and no summary")
    p.set_defaults(func=main)


def main(args) -> int:
    from sim.cli.common import UserError
    from sim.engine.blocks import BLOCK_SIZE
    from sim.engine.progress import job_progress
    from sim.scenario.library import seeds_dir
    from sim.validation.calibrate import calibrate, plot_calibration

    if args.draws < 1:
        raise UserError(f"--draws must be at least 1 (got {args.draws})")
    if args.seed < 0:
        raise UserError(f"--seed must be 0 or more (got {args.seed})")
    out = Path(args.out) if args.out else seeds_dir() / "posterior.parquet"
    figure = Path(args.figure) if args.figure else _default_figure()
    for path in (out, figure):
        _check_file(path, UserError)
    blocks = -(-args.draws // BLOCK_SIZE)
    bar = job_progress(blocks, args.draws, False if args.quiet else None)
    try:
        cal = calibrate(args.draws, args.seed, on_block=bar)
    finally:
        bar(None)
    if cal.accepted == 0:
        raise UserError(f"no draw out of {args.draws:,} matched every target; nothing was "
                        "written (use more --draws)")
    cal.save(out)
    plot_calibration(cal, figure)
    if not args.quiet:
        print(f"rejection ABC: {cal.accepted:,} of {cal.draws:,} draws accepted "
              f"({cal.acceptance_rate:.3%}), seed {cal.seed}")
        print(cal.summary().to_string(float_format=lambda v: f"{v:.3g}"))
        print(f"wrote {out} and {figure}")
    return 0


def _default_figure() -> Path:
    from sim.scenario.library import seeds_dir
    return seeds_dir().parent / "docs" / "figures" / "calibration" / "prior_posterior.png"


def _check_file(path: Path, error) -> None:
    """Fail with one line if ``path`` cannot be written as a file."""
    import os
    if path.is_dir():
        raise error(f"{path}: is a folder; give a file name")
    probe = path.resolve().parent
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir() or not os.access(probe, os.W_OK | os.X_OK):
        raise error(f"{path}: cannot be written (no write permission in {probe})")
