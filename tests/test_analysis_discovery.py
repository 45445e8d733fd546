"""Scenario discovery: PRIM peeling and CART boxes on planted data and on the model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import sim
from sim.analysis.discovery import (cart_boxes, case_mask, choose_step, discover, in_box,
                                    parse_case, prim_peel, quasi_p_values)
from sim.scenario import ScenarioError, scenario_from_dict


def planted(n=4000, seed=0):
    """Cases concentrate in x0 > 0.7 and x1 < 0.4 (90% inside, 3% outside); x2 is noise."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, 3))
    inside = (x[:, 0] > 0.7) & (x[:, 1] < 0.4)
    y = np.where(inside, rng.random(n) < 0.9, rng.random(n) < 0.03)
    return x, y, inside


def test_prim_recovers_a_planted_box():
    x, y, _ = planted()
    peel = prim_peel(x, y, alpha=0.05, min_mass=0.05)
    step = choose_step(peel, min_coverage=0.7)
    lo, hi = peel["lower"][step], peel["upper"][step]
    assert lo[0] == pytest.approx(0.7, abs=0.05) and hi[1] == pytest.approx(0.4, abs=0.05)
    assert peel["density"][step] > 0.8 and peel["coverage"][step] >= 0.7
    # density rises and coverage falls along the trajectory's start
    assert peel["density"][step] > peel["density"][0] == pytest.approx(y.mean())
    assert peel["coverage"][0] == 1 and peel["mass"][0] == 1
    qp = quasi_p_values(x, y, lo, hi, [0, 1])
    assert qp[0] < 1e-6 and qp[1] < 1e-6


def test_prim_leaves_a_noise_parameter_unrestricted_or_insignificant():
    x, y, _ = planted()
    peel = prim_peel(x, y)
    step = choose_step(peel, 0.7)
    lo, hi = peel["lower"][step], peel["upper"][step]
    if lo[2] > x[:, 2].min() or hi[2] < x[:, 2].max():
        assert quasi_p_values(x, y, lo, hi, [2])[2] > 0.01


def test_prim_stops_at_the_minimum_mass():
    x, y, _ = planted()
    peel = prim_peel(x, y, alpha=0.1, min_mass=0.2)
    assert peel["mass"].min() >= 0.2
    assert len(peel["mass"]) > 3


def test_cart_finds_the_planted_box_as_its_densest_leaf():
    x, y, inside = planted()
    leaves, text = cart_boxes(x, y, ["a", "b", "c"], max_depth=3)
    best = max(leaves, key=lambda lf: lf["density"])
    assert best["density"] > 0.8
    members = in_box(x, best["lower"], best["upper"])
    assert (members & inside).sum() / members.sum() > 0.9
    assert "a <=" in text or "a >" in text


def test_cases_parse_and_mask():
    df = pd.DataFrame({"resurgence": [True, False], "isis_peak": [5.0, 50.0],
                       "months_to_resurgence": [3.0, np.nan]})
    assert case_mask(df, *parse_case("resurgence")).tolist() == [True, False]
    assert case_mask(df, *parse_case("isis_peak>10")).tolist() == [False, True]
    assert case_mask(df, *parse_case("months_to_resurgence<=12")).tolist() == [True, False]
    for bad, words in [("isis_peak", "give a threshold"), ("resurgence>1", "without a threshold"),
                       ("resurgense", "did you mean 'resurgence'"), ("a>>2", "expected an outcome")]:
        with pytest.raises(ScenarioError, match=words):
            parse_case(bad)


def test_discover_on_the_model_points_at_isis_growth():
    # quiet ISIS noise so growth and attrition, not luck, decide the peak; lethality is a decoy
    sc = scenario_from_dict({"name": "disc", "horizon_months": 36, "seed": 4, "parameters": {
        "isis.noise": 0.01,
        "isis.growth_rate": {"dist": "uniform", "low": 0.02, "high": 0.12},
        "militia.lethality": {"dist": "uniform", "low": 0.02, "high": 0.1}}})
    peaks = sim.run(sc, runs=2000, keep_trajectories=False, progress=False).outcomes["isis_peak"]
    threshold = float(np.quantile(peaks, 0.8))
    res = discover(sc, f"isis_peak>{threshold}", runs=2000, progress=False)
    assert res.base_rate == pytest.approx(0.2, abs=0.01)
    prim = res.boxes[res.boxes["method"] == "prim"].set_index("parameter")
    assert prim.loc["isis.growth_rate", "low"] > 0.05          # high growth is the bad corner
    assert prim["density"].iloc[0] > 2 * res.base_rate
    cart = res.boxes[(res.boxes["method"] == "cart") & (res.boxes["box"] == 1)]
    assert "isis.growth_rate" in set(cart["parameter"])
    assert res.trajectory["chosen"].sum() == 1
    with pytest.raises(ScenarioError, match="never the case"):
        discover(sc, "isis_peak>1e6", runs=500, progress=False)


def test_discover_needs_uncertain_parameters():
    with pytest.raises(ScenarioError, match="no uncertain parameters"):
        discover(scenario_from_dict({"horizon_months": 12}), "resurgence", runs=10)
