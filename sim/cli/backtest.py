"""``iraqsim backtest``: replay the history episodes, check every target, and score the model
out of sample against naive baselines (``sim.validation.outofsample``)."""

from __future__ import annotations

import shutil
from pathlib import Path

from sim.cli.common import UserError, check_runs, check_writable
from sim.engine.io import replace_dir, temp_sibling
from sim.validation.backtest import backtest, load_targets, plot_backtest, plot_history
from sim.validation.outofsample import scores
from sim.validation.scoring import summarise


def register(sub):
    p = sub.add_parser("backtest")
    p.add_argument("--runs", type=int, default=5000,
                   help="replicas per episode and of the continuous history (default 5000)")
    p.add_argument("--seed", type=int, help="seed for every episode (default: each episode's own)")
    p.add_argument("--out", default="results/backtest",
                   help="output folder for backtest.png, history.png (the continuous "
                        "history), backtest.csv, backtest.md, "
                        "series.parquet (the curves) and scores.csv (proper scores against "
                        "baselines) (default results/backtest)")
    p.add_argument("--targets", help="targets file (default: seeds/targets.yaml)")
    p.add_argument("--quiet", action="store_true", help="no progress bar and no table")
    p.set_defaults(func=main)


def main(args) -> int:

    check_runs(args.runs)
    if args.seed is not None and args.seed < 0:
        raise UserError(f"--seed must be 0 or more (got {args.seed})")
    targets = load_targets(args.targets)
    out = Path(args.out)
    check_writable(out)
    bt = backtest(runs=args.runs, seed=args.seed, targets=targets,
                  progress=False if args.quiet else None)
    tmp = temp_sibling(out)
    try:
        plot_backtest(bt, tmp / "backtest.png")
        plot_history(bt, tmp / "history.png")
        bt.table().to_csv(tmp / "backtest.csv", index=False)
        bt.series().to_parquet(tmp / "series.parquet", index=False)
        score_rows = scores(bt)
        score_rows.to_csv(tmp / "scores.csv", index=False)
        (tmp / "backtest.md").write_text(bt.markdown() + "\n", encoding="utf-8")
        replace_dir(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if not args.quiet:
        table = bt.table()[["target", "observed", "read as", "model median [90%]", "holds"]]
        with_width = table.to_string(index=False, max_colwidth=58)
        print(f"backtest: {args.runs:,} runs per episode")
        print(with_width)
        print("\nproper scores, mean per episode and target group (lower Brier and log score is "
              "better; CRPS skill > 0 beats persistence; in_50/in_90: share of targets the 50%/90% "
              "band covers):")
        print(summarise(score_rows).to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        print(summary_line(bt) + f"; wrote {out}/ (backtest.png, history.png, backtest.csv, "
              "backtest.md, series.parquet, scores.csv)")
    return 0  # the backtest reports; it does not judge


def summary_line(bt) -> str:
    """How many targets hold, calibration and validation targets counted apart, inputs apart."""
    parts = []
    for label, group in (("calibration targets", [r for r in bt.results if r.target.abc]),
                         ("validation targets (held out)",
                          [r for r in bt.results if not r.target.abc])):
        checked = [r for r in group if r.status in ("holds", "fails")]
        failed = [r.target.id for r in checked if r.status == "fails"]
        if checked:
            parts.append(f"{label}: {len(checked) - len(failed)}/{len(checked)} hold"
                         + (f" (failing: {', '.join(failed)})" if failed else ""))
    inputs = sum(r.status == "input" for r in bt.results)
    absent = sum(r.status == "not modelled" for r in bt.results)
    parts.append(f"{inputs} inputs imposed by the scenarios, {absent} not modelled")
    return "; ".join(parts)
