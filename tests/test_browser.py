"""The report opened in a real browser: headless Chromium (Debian package ``chromium``).

Checks that nothing on the page overflows sideways at 400 and 1280 pixels (Playwright drives the
same Chromium for exact window sizes), that the page renders without console messages (the report has no script, so any
console line is an error: a failed resource, a blocked request, a parse problem), that every
image is decoded (``naturalWidth > 0``, read back from the DOM after a probe script), and takes
screenshots at phone and desktop widths. Network access is disabled in the browser, so a
report that needed the network would show broken images. Skipped, with the reason, when
Chromium is not installed (``.ci/run`` installs it where it can).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import pytest

import sim
from sim.scenario.library import scenarios_dir
from sim.reporting.report import build_report, write_report


def _find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


CHROMIUM = _find_chromium()
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="headless browser test needs Chromium (Debian: apt-get install -y chromium; "
           ".ci/run installs it when it can)")

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", "--hide-scrollbars", "--mute-audio",
         "--host-resolver-rules=MAP * ~NOTFOUND",  # no network: the report must not need it
         "--enable-logging=stderr", "--v=0"]

PROBE = """<script>
window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.images);
  var broken = imgs.filter(function (i) { return !(i.complete && i.naturalWidth > 0); });
  document.body.setAttribute('data-images', String(imgs.length));
  document.body.setAttribute('data-broken', String(broken.length));
  document.body.setAttribute('data-widths', imgs.map(function (i) { return i.naturalWidth; }).join(','));
  document.body.setAttribute('data-probe', 'done');
});
</script>
"""


def chromium(*args: str, timeout: float = 90) -> subprocess.CompletedProcess:
    """Run headless Chromium with a fresh profile; returns the completed process."""
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
                              capture_output=True, text=True, timeout=timeout)


def console_lines(stderr: str) -> list[str]:
    """Page console messages in Chromium's log (uncaught errors, console.* calls)."""
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


def probe_page(html_path: Path, tmp: Path) -> tuple[dict, list[str]]:
    """Open a copy of the page with the probe script; return body attributes and console lines."""
    probe = tmp / f"probe-{html_path.name}"
    html = html_path.read_text(encoding="utf-8")
    probe.write_text(html.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    done = chromium("--virtual-time-budget=10000", "--dump-dom", probe.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]

    class Body(HTMLParser):
        attrs: dict = {}

        def handle_starttag(self, tag, attrs):
            if tag == "body":
                Body.attrs = dict(attrs)
    Body().feed(done.stdout)
    return Body.attrs, console_lines(done.stderr)


def screenshot(html_path: Path, png: Path, width: int, height: int) -> Path:
    """Screenshot of the page at a window size."""
    done = chromium(f"--window-size={width},{height}", f"--screenshot={png}",
                    "--virtual-time-budget=10000", html_path.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    return png


@pytest.fixture(scope="module")
def report_file(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("sim.engine.blocks.BLOCK_SIZE", 512)  # a small engine block keeps the test quick
        scenarios = [sim.load_scenario(scenarios_dir() / "baseline.yaml"),
                     sim.load_scenario(scenarios_dir() / "exercises" / "ex1_rapid.yaml")]
        comp = sim.compare(scenarios, runs=500, seed=5, progress=False)
    path = tmp_path_factory.mktemp("browser") / "report.html"
    write_report(build_report(comp), path)
    return path


def test_report_renders_every_image_without_console_errors(report_file, tmp_path):
    attrs, console = probe_page(report_file, tmp_path)
    assert attrs.get("data-probe") == "done", "the page did not finish loading"
    assert console == [], "console messages:\n" + "\n".join(console)
    n_img = len(re.findall(r"<img\b", report_file.read_text(encoding="utf-8")))
    assert int(attrs["data-images"]) == n_img >= 10  # one small panel an outcome and a variable
    assert attrs["data-broken"] == "0"
    assert all(int(w) > 300 for w in attrs["data-widths"].split(","))


OVERFLOW = """() => {
  const vw = document.documentElement.clientWidth, wide = [];
  document.querySelectorAll('body *').forEach((el) => {
    const scroller = el.closest('.table-wrap');
    if (scroller && scroller !== el) return;  // inside a table that scrolls sideways by design
    const r = el.getBoundingClientRect();
    if (r.width > 0 && (r.right > vw + 1 || r.left < -1)) wide.push(el.tagName.toLowerCase() + '.' + el.className);
  });
  return {wide: wide.slice(0, 8), page: document.documentElement.scrollWidth, window: vw};
}"""


def overflow_at(html_path: Path, width: int) -> dict:
    """What reaches past the window's right edge when ``html_path`` is shown ``width`` pixels
    wide, in headless Chromium driven by Playwright (the window is exactly that wide)."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="needs playwright (the test extra)")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox",
                                    "--disable-background-networking", "--disable-quic"])
        try:
            page = browser.new_page(viewport={"width": width, "height": 900})
            page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(
                ("file:", "data:")) else route.abort())  # nothing but the file itself
            page.goto(html_path.as_uri())
            return page.evaluate(OVERFLOW)
        finally:
            browser.close()


@pytest.mark.parametrize("width", [400, 1280])
def test_nothing_overflows_sideways_at_phone_or_desktop_width(report_file, width):
    """At 400 and 1280 pixels no element reaches past the window's edge (wide tables scroll in
    their own box), and the page itself is no wider than the window."""
    got = overflow_at(report_file, width)
    assert got["window"] == width
    assert got["wide"] == [], f"wider than {width}px: {got['wide']}"
    assert got["page"] <= width


def test_the_overflow_check_catches_a_page_too_wide_for_a_phone(tmp_path):
    wide = tmp_path / "wide.html"
    write_report("<!DOCTYPE html><html><body><div class='x' style='width: 900px'>wide</div>"
                 "</body></html>", wide)
    got = overflow_at(wide, 400)
    assert "div.x" in got["wide"] and got["page"] > 400


def test_screenshots_at_phone_and_desktop_width(report_file, tmp_path):
    from PIL import Image
    for width, height in [(390, 2400), (1280, 2400)]:
        png = screenshot(report_file, tmp_path / f"report-{width}.png", width, height)
        with Image.open(png) as im:
            assert im.size == (width, height)
            gray = im.convert("L")
            lo, hi = gray.getextrema()
            assert hi - lo > 100, "the screenshot is blank"
            # nothing overflows sideways on a phone: the right-most column is background
            if width == 390:
                right = gray.crop((width - 3, 0, width, height)).getextrema()
                assert right[0] > 240, "content overflows the phone's width"


def test_the_probe_detects_broken_images_and_console_errors(tmp_path):
    """The browser checks can fail: a page with a broken image and a script error is caught."""
    bad = tmp_path / "bad.html"
    write_report("<!DOCTYPE html><html><body><img src='data:image/png;base64,AAAA'>"
                 "<img src='https://example.org/x.png'>"
                 "<script>console.error('boom'); notDefined();</script></body></html>", bad)
    attrs, console = probe_page(bad, tmp_path)
    assert attrs["data-broken"] == "2"
    assert any("boom" in line for line in console)
    assert any("notDefined" in line for line in console)
