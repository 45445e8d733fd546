"""Print the numbers of docs/validation.md that come from runs, to bring the page up to date.

Run from the repository root::

    python docs/make_validation_numbers.py              # forward tables (~20 s)
    python docs/make_validation_numbers.py --backtest   # and the backtest narrative (~2 min more)
    python docs/make_validation_numbers.py --scores     # and the out-of-sample scores

The backtest *table* itself is written by ``iraqsim backtest --runs 5000``
(``results/backtest/backtest.md``); this script prints what the page says about the runs around
it, and the forward-looking tables of section "Forward runs": the library scenarios and the
baseline's regional-war assumption, 4,096 runs each, seed 5. Re-run it whenever the model, the
engine's block size or the calibration changes (the numbers change with any of them).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RUNS, SEED = 4096, 5
LIBRARY = [("baseline (hold 2,500)", "baseline"), ("rapid exit in 3 months", "rapid_exit"),
           ("over the horizon (out in 6 months)", "over_the_horizon"),
           ("phased exit (1,500 by month 20, none by month 32, high aid)", "phased_exit"),
           ("Kurdistan residual (900 troops after a year)", "kurdistan_residual"),
           ("conditions-based (500 fewer every 6 months if ISF >= 0.6 and ISIS <= 2,500)",
            "conditions_based")]
WARS = [(1, 1.0), (4, 1.0), (9, 1.0), (9, 1.5)]


def _median(x) -> float:
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    return float(np.median(x)) if x.size else float("nan")


def _whole(x: float) -> str:
    """A count as the page writes it: rounded half up (a median of 352.5 attacks is 353)."""
    return f"{np.floor(x + 0.5):.0f}"


def forward_table() -> None:
    """The library scenarios' table (resurgence, exit, will, attacks/deaths, ISF)."""
    import sim
    print("| scenario | P(resurgence, 10,000 fighters) | median months to it (runs where it happens) "
          "| P(exit demand) | P(an exit ends the presence) | P(US will collapses) "
          "| median militia attacks / US deaths over 5 years | median ISF capability at the end |")
    print("|---|---|---|---|---|---|---|---|")
    for label, name in LIBRARY:
        o = sim.run(sim.load_scenario(ROOT / "scenarios" / f"{name}.yaml"), runs=RUNS, seed=SEED,
                    progress=False, keep_trajectories=False).outcomes
        print(f"| {label} | {o['resurgence'].mean():.2f} | {_whole(_median(o['months_to_resurgence']))} "
              f"| {o['exit_demanded'].mean():.2f} | {o['departed'].mean():.2f} "
              f"| {o['will_collapse'].mean():.2f} "
              f"| {_whole(_median(o['militia_attacks']))} / {_whole(_median(o['us_fatalities']))} "
              f"| {_median(o['isf_capability_end']):.2f} |")
        if name == "baseline":
            stay = o["us_troops_end"].to_numpy() > 0
            gone = ~stay
            print(f"    baseline: US stays in {stay.mean():.0%} of runs; resurgence where it stays "
                  f"{o['resurgence'][stay].mean():.2f}, where it left {o['resurgence'][gone].mean():.2f}; "
                  f"ISIS peak where it stays max {o['isis_peak'][stay].max():,.0f}, "
                  f"median end {_median(o['isis_end'][stay]):,.0f}")
        if name == "conditions_based":
            print(f"    conditions-based: median troops at the end {_median(o['us_troops_end']):,.0f}")


def war_table() -> None:
    """The baseline re-run with the 2024 regional war of other lengths and intensities."""
    import sim
    base = sim.load_scenario(ROOT / "scenarios" / "baseline.yaml")
    print("| regional war in 2024 | P(resurgence) | P(exit demand) | P(an exit ends the presence) "
          "| P(US will collapses) | P(US troops still in Iraq at the end) "
          "| median militia attacks / US deaths |")
    print("|---|---|---|---|---|---|---|")
    for months, intensity in WARS:
        events = [e.model_copy(update={"months": months, "intensity": intensity})
                  if getattr(e, "kind", None) == "regional_war" else e for e in base.events]
        o = sim.run(base.with_changes(events=events), runs=RUNS, seed=SEED, progress=False,
                    keep_trajectories=False).outcomes
        label = f"{months} month{'s' if months > 1 else ''} at {intensity:.1f}"
        print(f"| {label} | {o['resurgence'].mean():.2f} | {o['exit_demanded'].mean():.2f} "
              f"| {o['departed'].mean():.2f} "
              f"| {o['will_collapse'].mean():.2f} | {(o['us_troops_end'] > 0).mean():.2f} "
              f"| {_whole(_median(o['militia_attacks']))} / {_whole(_median(o['us_fatalities']))} |")


def backtest_narrative() -> None:
    """What the page says around the backtest table (median paths, decision timing)."""
    from sim.validation.backtest import backtest
    for seed in (None, 1, 2):
        bt = backtest(runs=5000, seed=seed, progress=False)
        print(f"backtest seed {seed}: every target holds: {bt.all_hold}")
        for r in bt.results:
            if r.status in ("holds", "fails") and np.isfinite(r.share):
                print(f"  {r.target.id}: median {r.median:.4g}, share in range {r.share:.3f}")
        if seed is not None:
            continue
        e = bt.episodes["iraq_2011"]
        lab = [str(d)[:7] for d in e.scenario.month_dates()]
        isis = np.median(e.trajectory("isis_fighters_iraq"), axis=1)
        isf = np.median(e.trajectory("isf_capability"), axis=1)
        peak = int(np.argmax(isis))
        y2011 = [i for i, m in enumerate(lab) if m.startswith("2011") and i > 0]
        print(f"  iraq_2011 median ISIS: low in 2011 {isis[y2011].min():,.0f}, Dec 2013 "
              f"{isis[lab.index('2013-12')]:,.0f}, peak {lab[peak]} {isis[peak]:,.0f}, Dec 2017 "
              f"{isis[lab.index('2017-12')]:,.0f}, end 2019 {isis[-1]:,.0f}")
        late = ", ".join(f"{lab[i]} {isf[i]:.2f}" for i in y2011[-3:])
        print(f"  iraq_2011 median ISF: {late}; Aug 2014 "
              f"{isf[lab.index('2014-08')]:.2f}, end 2017 {isf[lab.index('2017-12')]:.2f}; "
              f"exit demanded in {e.outcomes['exit_demanded'].mean():.0%} of runs")
        ret = np.asarray(e.outcomes["months_to_departure"]) + np.asarray(e.outcomes["months_to_return"])
        ret = ret[np.isfinite(ret)]
        troops = e.trajectory("us_troops")
        pre2014 = troops[lab.index("2012-01"):lab.index("2014-01")].max(axis=0) > 0
        print(f"  iraq_2011 return: invited back in {e.outcomes['reinvited'].mean():.1%} of runs, "
              f"median return {lab[int(np.median(ret))]} (5-95%: {lab[int(np.quantile(ret, .05))]}"
              f" - {lab[int(np.quantile(ret, .95))]}); US troops back before 2014 in "
              f"{pre2014.mean():.1%}; will collapsed in {e.outcomes['will_collapse'].mean():.1%}")
        e2 = bt.episodes["strike_crisis_2020"]
        lab2 = [str(d)[:7] for d in e2.scenario.month_dates()]
        m0, mv = lab2.index("2020-01"), np.asarray(e2.outcomes["months_to_vote"])
        troops = e2.trajectory("us_troops")
        attacks = np.median(e2.trajectory("militia_attacks"), axis=1)
        print(f"  2020 vote in the strike month {np.mean(mv == m0):.0%}, in it or the next "
              f"{np.mean((mv >= m0) & (mv <= m0 + 1)):.0%}, before {np.mean(mv < m0):.0%}; exit "
              f"demanded {e2.outcomes['exit_demanded'].mean():.0%}, agreed "
              f"{e2.outcomes['agreement'].mean():.0%}, forced {e2.outcomes['forced_exit'].mean():.0%}"
              f", departed {e2.outcomes['departed'].mean():.0%}; troops kept through 2023 "
              f"{np.mean(troops[m0:].min(axis=0) > 0):.0%}; median attacks May / Dec 2019 "
              f"{attacks[lab2.index('2019-05')]:.0f} / {attacks[lab2.index('2019-12')]:.0f}")
        e3 = bt.episodes["proxy_war_2023"]
        lab3 = [str(d)[:7] for d in e3.scenario.month_dates()]
        m3, me = lab3.index("2024-01"), np.asarray(e3.outcomes["months_to_demand"])
        o3 = e3.outcomes
        agreed = np.asarray(o3["months_to_agreement"])
        agreed = agreed[np.isfinite(agreed)]
        attacks3 = np.median(e3.trajectory("militia_attacks"), axis=1)
        print(f"  2024 exit demand in Jan-Feb 2024 {np.mean((me >= m3) & (me <= m3 + 1)):.0%}; "
              f"agreement in {o3['agreement'].mean():.0%} (median {lab3[int(np.median(agreed))]}, "
              f"Jul-Nov 2024 in {np.mean((agreed >= m3 + 6) & (agreed <= m3 + 10)) * o3['agreement'].mean():.0%} of runs), "
              f"forced exit {o3['forced_exit'].mean():.0%} (will collapse "
              f"{o3['will_collapse'].mean():.0%}), exit complete by 2026-12 {o3['departed'].mean():.0%}, "
              f"invited back {o3['reinvited'].mean():.0%}; median attacks Nov 2023 / Jan / Mar 2024 "
              f"{attacks3[lab3.index('2023-11')]:.0f} / {attacks3[lab3.index('2024-01')]:.0f} / "
              f"{attacks3[lab3.index('2024-03')]:.0f}")
        history_narrative(bt.episodes["iraq_2011_2026"])


def history_narrative(h) -> None:
    """The continuous history: its story in medians, the exits before 2014 and the joins."""
    lab = [str(d)[:7] for d in h.scenario.month_dates()]
    o = h.outcomes

    def med(var, month):
        return float(np.median(h.trajectory(var)[lab.index(month)]))

    def band(var, month):
        x = h.trajectory(var)[lab.index(month)]
        return f"{np.quantile(x, .05):.3g}..{np.quantile(x, .95):.3g}"

    stage = h.trajectory("exit_stage")
    troops = h.trajectory("us_troops")
    i12, i14, i16 = lab.index("2012-01"), lab.index("2014-01"), lab.index("2016-01")
    demanded_early = np.asarray(o["months_to_demand"]) < i14
    back_early = troops[i12:i14].max(axis=0) > 0
    not_back = troops[i14:i16].max(axis=0) == 0
    print(f"  history: median ISIS fighters in Iraq 2013-12 {med('isis_fighters_iraq', '2013-12'):,.0f}"
          f", 2014-12 {med('isis_fighters_iraq', '2014-12'):,.0f}, 2017-12 "
          f"{med('isis_fighters_iraq', '2017-12'):,.0f}, 2019-04 {med('isis_fighters_iraq', '2019-04'):,.0f}"
          f", 2022-07 {med('isis_fighters_iraq', '2022-07'):,.0f}, 2026-12 "
          f"{med('isis_fighters_iraq', '2026-12'):,.0f}")
    print(f"  history: members 2023-07 median {med('isis_members', '2023-07'):,.0f} "
          f"(90%: {band('isis_members', '2023-07')}); territory 2014-12 median "
          f"{med('isis_territory', '2014-12'):.2f} ({band('isis_territory', '2014-12')}), 2017-12 "
          f"{med('isis_territory', '2017-12'):.3f}; peak median {np.median(o['territory_peak']):.2f}")
    print(f"  history: exit demanded before 2014 in {demanded_early.mean():.1%} of runs; US troops "
          f"back before 2014 in {back_early.mean():.1%}; not back by 2016 in {not_back.mean():.1%}; "
          f"returned at some point {np.mean(stage.max(axis=0) == 6):.1%}")
    print(f"  history: forced exit {o['forced_exit'].mean():.0%}, will collapse "
          f"{o['will_collapse'].mean():.0%}, agreement after 2011 "
          f"{np.mean(np.asarray(o['exit_demanded'])):.0%} demanded; troops 2020-01 median "
          f"{med('us_troops', '2020-01'):,.0f} ({band('us_troops', '2020-01')}); troops never zero "
          f"2020-2023 {np.mean(troops[lab.index('2020-01'):lab.index('2023-12') + 1].min(axis=0) > 0):.0%}")
    for var in ("isis_fighters_iraq", "isis_fighters_syria", "isf_capability",
                "withdrawal_pressure", "us_will"):
        print(f"  join {var}: 2019-04 {band(var, '2019-04')}, 2022-07 {band(var, '2022-07')}")


def scores_table() -> None:
    """The out-of-sample scores of docs/validation.md: the backtest's scores.csv, summarised."""
    from sim.validation.backtest import backtest
    from sim.validation.outofsample import scores
    from sim.validation.scoring import summarise
    bt = backtest(runs=5000, progress=False)
    table = scores(bt)
    summary = summarise(table)
    print("| episode | targets | forecaster | targets | Brier | log score | CRPS skill vs persistence "
          "| 50% band covers | 90% band covers |")
    print("|---|---|---|---|---|---|---|---|---|")
    for _, r in summary.iterrows():
        skill = "" if np.isnan(r["crps_skill"]) else f"{r['crps_skill']:.2f}"
        print(f"| {r['episode']} | {r['role']} | {r['forecaster']} | {r['targets']} "
              f"| {r['brier']:.3f} | {r['log_score']:.2f} | {skill} | {r['in_50']:.0%} "
              f"| {r['in_90']:.0%} |")
    print()
    wide = table.pivot(index="target", columns="forecaster", values="p_range")
    print("per target, the probability each forecaster gave the observed range:")
    print(wide.round(3).to_string())


def main(argv: list[str]) -> int:
    forward_table()
    print()
    war_table()
    if "--backtest" in argv:
        print()
        backtest_narrative()
    if "--scores" in argv:
        print()
        scores_table()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
