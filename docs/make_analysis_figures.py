"""Regenerate the figures and numbers of docs/analysis.md.

Run from the repository root::

    python docs/make_analysis_figures.py

It runs the worked examples of docs/analysis.md on ``scenarios/baseline.yaml`` (a minute or two on
two cores), copies their plots to ``docs/figures/analysis/`` and prints the tables quoted in the
text, so the page can be brought up to date whenever the model or its calibration changes.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
FIGURES = ROOT / "docs" / "figures" / "analysis"
SCENARIO = ROOT / "scenarios" / "baseline.yaml"


def salib_example() -> pd.Series:
    """The SALib example of docs/analysis.md, verbatim apart from the print."""
    import numpy as np
    import pandas as pd
    from SALib.analyze import sobol
    from SALib.sample import sobol as sobol_sample

    import sim

    sc = sim.load_scenario("scenarios/baseline.yaml")
    problem = {"num_vars": 2, "names": ["isis.growth_rate", "isf.decay_without_support"],
               "bounds": [[0.035, 0.08], [0.02, 0.05]]}
    x = sobol_sample.sample(problem, 1024, calc_second_order=False, seed=1)
    table = pd.DataFrame(x, columns=problem["names"])
    table["replica"] = np.repeat(np.arange(1024), problem["num_vars"] + 2)  # CRN per base sample
    y = sim.evaluate(sc, table)["isis_peak"].to_numpy()
    si = sobol.analyze(problem, y, calc_second_order=False, seed=1)
    return pd.Series(si["ST"], index=problem["names"], name="ST")


def main() -> int:
    import os

    from sim import load_scenario
    from sim.analysis.discovery import discover
    from sim.analysis.sensitivity import sensitivity
    from sim.analysis.sweep import sweep

    os.chdir(ROOT)
    pd.set_option("display.width", 160)
    pd.set_option("display.max_columns", 20)
    FIGURES.mkdir(parents=True, exist_ok=True)
    sc = load_scenario(SCENARIO)
    work = Path(tempfile.mkdtemp(prefix="analysis-figures-"))
    try:
        print("== SALib example: total Sobol indices of isis_peak")
        print(salib_example().round(3).to_string())

        print("\n== sweep: exit_month=0:36:6 x retaliation=none,proportional,leadership, 4096 runs")
        sw = sweep(sc, {"exit_month": list(range(0, 37, 6)),
                        "retaliation": ["none", "proportional", "leadership"]},
                   runs=4096, seed=sc.seed)
        sw.save(work / "sweep")
        cols = ["exit_month", "retaliation", "resurgence.mean", "isis_peak.mean",
                "militia_attacks.mean", "us_fatalities.mean", "expelled.mean", "pareto"]
        print(sw.table[cols].round(3).to_string(index=False))
        rob = sw.robustness
        print(rob[rob["outcome"].isin(["resurgence", "us_fatalities"])]
              [["exit_month", "retaliation", "outcome", "expected", "worst10", "p90_regret",
                "max_regret", "minimax_regret"]].round(3).to_string(index=False))
        shutil.copy(work / "sweep" / "plots" / "tradeoff.png", FIGURES / "sweep_tradeoff.png")
        shutil.copy(work / "sweep" / "plots" / "levers.png", FIGURES / "sweep_levers.png")

        print("\n== sensitivity: sobol, default sample size")
        se = sensitivity(sc, method="sobol")
        se.save(work / "sens")
        print(se.indices.round(3).to_string(index=False))
        print("noise share:", {k: round(v, 3) for k, v in se.noise.items()},
              f"({se.provenance['evaluations']} evaluations, {se.provenance['elapsed_seconds']} s)")
        for outcome in ("isis_peak", "us_fatalities"):
            shutil.copy(work / "sens" / "plots" / f"{outcome}.png",
                        FIGURES / f"sensitivity_{outcome}.png")
        print("\n== sensitivity: morris, 1,024 trajectories (as quoted in the page)")
        mo = sensitivity(sc, method="morris", samples=1024)
        print(mo.indices.round(3).to_string(index=False))
        print(f"({mo.provenance['evaluations']} evaluations)")

        print("\n== discover: resurgence, two PRIM boxes")
        di = discover(sc, "resurgence", boxes=2)
        di.save(work / "disc")
        print(f"base rate {di.base_rate:.4f} ({di.provenance['elapsed_seconds']} s)")
        print(di.boxes.round(4).to_string(index=False))
        print(di.tree)
        shutil.copy(work / "disc" / "plots" / "peeling.png", FIGURES / "discover_peeling.png")
        shutil.copy(work / "disc" / "plots" / "boxes.png", FIGURES / "discover_boxes.png")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"\nfigures in {FIGURES}")
    return 0


if __name__ == "__main__":
    np.set_printoptions(precision=3)
    sys.exit(main())
