"""The classroom studio: its state and URL, the scenario it stands for, cancelling superseded
runs, and the page itself in a real browser (headless Chromium driven by Playwright, the studio
started by the test on a free port, no network but the loopback)."""

from __future__ import annotations

import importlib.util
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from sim.cli import main
from sim.studio.jobs import paired_difference, simulate
from sim.studio.state import MAX_RUNS, StudioState


# ---------------------------------------------------------------------- state, URL, scenario
@pytest.mark.parametrize("changes", [
    {}, {"posture": "rapid_exit", "exit_month": 3, "exit_months": 2},
    {"posture": "kurdistan_residual", "residual": 600, "aid": "high", "runs": 20_000, "seed": 7},
    {"base": "exercises/ex2_none", "retaliation": "leadership", "exercise": 2},
])
def test_the_url_holds_the_whole_state(changes):
    state = StudioState().replace(**changes).pin("militia.lethality", 0.03)
    again = StudioState.from_query(state.to_query())
    assert again == state and again.problems == ()
    assert StudioState.from_query("?" + state.to_query()) == state


def test_a_bad_link_opens_the_page_with_what_it_can_and_says_what_it_ignored():
    state = StudioState.from_query("runs=10&posture=stay_forever&troops=many&bogus=1&pin.x.y=2"
                                   "&pin.militia.lethality=9")
    assert state.runs == 1_000 and state.posture == "hold" and state.troops == 2500
    assert dict(state.pinned) == {"militia.lethality": 0.5}  # brought into the allowed range
    text = " ".join(state.problems)
    for word in ("runs", "posture", "troops", "bogus", "pin.x.y", "pin.militia.lethality"):
        assert word in text
    assert StudioState().replace(runs=10**9).runs == MAX_RUNS


def test_the_scenario_applies_the_levers_and_the_pinned_values(tmp_path, capsys):
    state = StudioState().replace(posture="rapid_exit", exit_month=6, exit_months=3,
                                  retaliation="none", aid="high").pin("isis.growth_rate", 0.08)
    sc = state.scenario()
    assert sc.levers.posture.kind == "rapid_exit" and sc.levers.posture.start_month == 6
    assert sc.levers.retaliation.value == "none" and sc.levers.aid.value == "high"
    assert sc.parameters["isis.growth_rate"] == 0.08
    path = tmp_path / "studio.yaml"
    path.write_text(state.scenario_yaml())
    assert main(["validate", str(path)]) == 0  # the downloaded scenario validates
    assert "ok" in capsys.readouterr().out


def test_a_newer_request_cancels_the_running_job_between_blocks():
    state = StudioState().replace(runs=30_000)
    cancel = threading.Event()
    cancel.set()
    assert simulate(state, cancel) is None  # stopped after its first block
    assert simulate(state.replace(runs=1_000), None) is not None
    assert simulate(state, None, time_limit=0.0) is None  # out of time: given up too


def test_a_pinned_choice_is_compared_run_by_run():
    base = simulate(StudioState().replace(runs=2_000))
    exit_ = simulate(StudioState().replace(runs=2_000, posture="rapid_exit", exit_month=0))
    rows = dict(paired_difference(exit_, base))
    assert rows["ISIS resurgence"].startswith("+")  # leaving brings ISIS back, run by run
    assert all(np.isfinite(exit_.outcomes["isis_peak"]))
    other = simulate(StudioState().replace(runs=2_000, seed=1))
    assert "same runs and seed" in paired_difference(other, base)[0][1]


def test_without_the_studio_extra_the_command_says_how_to_install_it(monkeypatch, capsys):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name.startswith("solara") else real(name, *a))
    assert main(["studio", "--no-browser"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "pip install 'iraqsim[studio]'" in err[0]


# ---------------------------------------------------------------------- the page in a browser
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
browser_test = pytest.mark.skipif(
    CHROMIUM is None or importlib.util.find_spec("playwright") is None
    or importlib.util.find_spec("solara") is None,
    reason="needs Chromium (Debian: apt-get install chromium), playwright and the studio extra")


@pytest.fixture(scope="module")
def studio():
    """``iraqsim studio`` on a free port of the loopback, started and stopped by the test."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "sim", "studio", "--no-browser", "--port",
                               str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    started = time.monotonic()
    while time.monotonic() - started < 120:
        try:
            with urllib.request.urlopen(url, timeout=2):
                break
        except OSError:
            if server.poll() is not None:
                pytest.fail(server.stdout.read().decode()[-2000:])
            time.sleep(0.3)
    else:
        server.terminate()
        pytest.fail("the studio did not answer within two minutes")
    yield url
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-background-networking", "--disable-quic",
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"])
        yield b
        b.close()


def _open(browser, url, width=1280):
    context = browser.new_context(viewport={"width": width, "height": 1400}, accept_downloads=True)
    page = context.new_page()
    elsewhere = []
    page.on("request", lambda r: None if r.url.startswith(
        ("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")) else elsewhere.append(r.url))
    page.on("pageerror", lambda e: elsewhere.append(f"page error: {e}"))  # a script that failed
    page.goto(url)
    page.wait_for_selector("#key-outcomes", timeout=120_000)
    return context, page, elsewhere


def _changed(page, selector, before, timeout=60_000):
    page.wait_for_function("([s, b]) => { const e = document.querySelector(s); "
                           "return e && e.innerText !== b; }", arg=[selector, before], timeout=timeout)


@browser_test
def test_a_slider_reruns_the_model_and_the_link_reproduces_the_page(studio, browser, tmp_path):
    context, page, elsewhere = _open(browser, studio + "?runs=4000")
    table, charts = page.inner_text("#key-outcomes"), page.inner_html("#charts")
    assert page.locator("#charts svg").count() == 6 and page.get_by_role("slider").count() >= 2
    page.get_by_role("slider").first.focus()
    for _ in range(8):
        page.keyboard.press("ArrowLeft")  # fewer troops
    _changed(page, "#key-outcomes", table)
    page.wait_for_selector("#status:has-text('up to date')", timeout=60_000)
    assert page.inner_html("#charts") != charts
    assert "troops=1700" in page.url and "runs=4000" in page.url
    shown = page.inner_text("#key-outcomes")
    # the URL is the whole state: a new session opened on it shows the same numbers
    other, copy, elsewhere2 = _open(browser, page.url)
    copy.wait_for_selector("#status:has-text('up to date')", timeout=60_000)
    assert copy.inner_text("#key-outcomes") == shown
    # and the sessions are independent: changing one leaves the other alone
    copy.get_by_role("slider").first.focus()
    copy.keyboard.press("ArrowRight")
    _changed(copy, "#key-outcomes", shown)
    time.sleep(1.0)
    assert page.inner_text("#key-outcomes") == shown
    # the downloaded scenario is one `iraqsim validate` accepts
    with page.expect_download() as download:
        page.click("#download-scenario")
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert main(["validate", str(saved)]) == 0
    assert elsewhere == [] and elsewhere2 == []  # nothing left the loopback
    context.close()
    other.close()


@browser_test
def test_on_a_phone_the_controls_come_before_the_charts(studio, browser):
    context, page, elsewhere = _open(browser, studio + "?runs=2000", width=400)
    controls = page.get_by_text("Troop posture").first.bounding_box()
    table = page.locator("#key-outcomes").bounding_box()
    assert controls["y"] < table["y"]
    assert page.evaluate("document.documentElement.scrollWidth") <= 400
    assert page.locator("#charts svg[aria-label]").count() == 6  # text alternatives
    assert elsewhere == []
    context.close()
