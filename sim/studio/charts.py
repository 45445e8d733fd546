"""Charts as SVG text: fan charts over time and outcome distributions, drawn by the browser.

A lever change redraws every chart; SVG written here takes a fraction of a millisecond where a
matplotlib figure takes a tenth of a second or more, and it stays sharp at any width. Each chart
carries a title and a text alternative (``aria-label``) that states its numbers, and the page
puts the key-outcome table beside the charts.
"""

from __future__ import annotations

import datetime as _dt
import math
from html import escape

import numpy as np

W, H = 440, 250
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 30, 34


def _nice_ticks(low: float, high: float, n: int = 5) -> list[float]:
    if not math.isfinite(low) or not math.isfinite(high) or high <= low:
        return [low]
    step = 10 ** math.floor(math.log10((high - low) / n))
    for m in (1, 2, 2.5, 5, 10):
        if (high - low) / (step * m) <= n:
            step *= m
            break
    first = math.ceil(low / step) * step
    return [first + i * step for i in range(int((high - first) / step) + 1)]


def _fmt(v: float) -> str:
    if abs(v) >= 10_000:
        return f"{v / 1000:,.0f}k"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    return f"{v:.2g}" if v else "0"


class _Frame:
    """Maps data to pixels and writes the axes of one chart."""

    def __init__(self, x0, x1, y0, y1, log=False):
        self.x0, self.x1, self.log = x0, x1, log
        self.y0, self.y1 = (math.log10(y0), math.log10(y1)) if log else (y0, y1)

    def x(self, v):
        return LEFT + (v - self.x0) / max(self.x1 - self.x0, 1e-12) * (W - LEFT - RIGHT)

    def y(self, v):
        v = math.log10(max(v, 1e-9)) if self.log else v
        return H - BOTTOM - (v - self.y0) / max(self.y1 - self.y0, 1e-12) * (H - TOP - BOTTOM)

    def axes(self, xticks, yticks, xlabel, ylabel) -> list[str]:
        out = [f'<line x1="{LEFT}" y1="{H - BOTTOM}" x2="{W - RIGHT}" y2="{H - BOTTOM}" stroke="#444"/>',
               f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{H - BOTTOM}" stroke="#444"/>']
        for v, text in yticks:
            y = self.y(v)
            out.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{W - RIGHT}" y2="{y:.1f}" stroke="#e4e7ec"/>')
            out.append(f'<text x="{LEFT - 5}" y="{y + 4:.1f}" text-anchor="end">{escape(text)}</text>')
        for v, text in xticks:
            x = self.x(v)
            out.append(f'<text x="{x:.1f}" y="{H - BOTTOM + 15}" text-anchor="middle">{escape(text)}</text>')
        out.append(f'<text x="{(LEFT + W - RIGHT) / 2:.0f}" y="{H - 4}" text-anchor="middle">{escape(xlabel)}</text>')
        out.append(f'<text transform="translate(12,{(TOP + H - BOTTOM) / 2:.0f}) rotate(-90)" '
                   f'text-anchor="middle">{escape(ylabel)}</text>')
        return out


def _svg(title: str, alt: str, body: list[str]) -> str:
    return (f'<svg viewBox="0 0 {W} {H}" width="100%" role="img" aria-label="{escape(alt)}" '
            f'style="font: 11px system-ui, sans-serif; max-width: {W}px">'
            f'<title>{escape(title)}</title>'
            f'<text x="{LEFT}" y="16" style="font-weight: 600; font-size: 13px">{escape(title)}</text>'
            + "".join(body) + "</svg>")


def fan_chart(title: str, unit: str, dates: list[_dt.date], series: list[dict],
              index: bool = False, log: bool = False) -> str:
    """Median and bands over calendar time, one colour a series.

    ``series``: ``{"name", "color", "p05", "p25", "p50", "p75", "p95"}`` (arrays by month); the
    90% band is drawn for the first series only, so several stay readable.
    """
    t = np.array([d.toordinal() for d in dates], dtype=float)
    lows = np.concatenate([s["p05"] for s in series[:1]] + [s["p25"] for s in series])
    highs = np.concatenate([s["p95"] for s in series[:1]] + [s["p75"] for s in series])
    if index:
        y0, y1 = 0.0, 1.0
    elif log:
        y0, y1 = max(float(np.nanmin(lows)), 1.0) * 0.8, float(np.nanmax(highs)) * 1.25
    else:
        y0, y1 = 0.0, max(float(np.nanmax(highs)) * 1.1, 1e-9)
    log = log and y1 / y0 > 20
    frame = _Frame(t[0], t[-1], y0, y1, log)
    body = []
    for k, s in enumerate(series):
        bands = [("p05", "p95", 0.15)] if k == 0 else []
        bands.append(("p25", "p75", 0.3))
        for lo, hi, alpha in bands:
            pts = [f"{frame.x(a):.1f},{frame.y(b):.1f}" for a, b in zip(t, s[hi])]
            pts += [f"{frame.x(a):.1f},{frame.y(b):.1f}" for a, b in zip(t[::-1], s[lo][::-1])]
            body.append(f'<polygon points="{" ".join(pts)}" fill="{s["color"]}" fill-opacity="{alpha}"/>')
        line = " ".join(f"{frame.x(a):.1f},{frame.y(b):.1f}" for a, b in zip(t, s["p50"]))
        body.append(f'<polyline points="{line}" fill="none" stroke="{s["color"]}" stroke-width="2"/>')
    years = sorted({d.year for d in dates if d.month == 1})
    step = 1 if len(years) <= 8 else 2
    xticks = [(float(_dt.date(y, 1, 1).toordinal()), str(y)) for y in years[::step]]
    if log:
        yt = [10.0 ** e * m for e in range(math.floor(math.log10(y0)), math.ceil(math.log10(y1)) + 1)
              for m in (1, 3) if y0 <= 10.0 ** e * m <= y1]
    else:
        yt = _nice_ticks(y0, y1)
    axes = frame.axes(xticks, [(v, _fmt(v)) for v in yt], "", unit + (" (log scale)" if log else ""))
    alt = f"{title} ({unit}), {dates[0]:%b %Y} to {dates[-1]:%b %Y}. " + "; ".join(
        f"{s['name']}: median {_fmt(float(s['p50'][0]))} to {_fmt(float(s['p50'][-1]))}, "
        f"middle half of runs at the end {_fmt(float(s['p25'][-1]))} to {_fmt(float(s['p75'][-1]))}"
        for s in series)
    return _svg(title, alt, axes + body)


def distribution(title: str, unit: str, series: list[dict], log: bool = False) -> str:
    """Share of runs in each bin of an outcome, one step line a series.

    ``series``: ``{"name", "color", "values"}``; the x axis is shared, on a log scale if asked
    and every value is positive.
    """
    values = [np.asarray(s["values"], dtype=float) for s in series]
    pooled = np.concatenate([v[np.isfinite(v)] for v in values])
    if pooled.size == 0 or pooled.min() == pooled.max():
        value = _fmt(float(pooled[0])) if pooled.size else "none"
        return _svg(title, f"{title}: {value} in every run", [
            f'<text x="{W / 2}" y="{H / 2}" text-anchor="middle">{escape(value)} {escape(unit)} in every run</text>'])
    log = log and pooled.min() > 0
    lo, hi = float(np.quantile(pooled, 0.005)), float(np.quantile(pooled, 0.995))
    if hi <= lo:
        lo, hi = float(pooled.min()), float(pooled.max())
    edges = np.geomspace(lo, hi * 1.0001, 31) if log else np.linspace(lo, hi, 31)
    shares = [np.histogram(np.clip(v[np.isfinite(v)], lo, hi), bins=edges)[0] * 100.0 / max(v.size, 1)
              for v in values]
    top = max(float(max(s.max() for s in shares)) * 1.1, 1.0)
    frame = _Frame(math.log10(lo) if log else lo, math.log10(hi) if log else hi, 0.0, top)
    xs = np.log10(edges) if log else edges
    body = []
    for s, share in zip(series, shares):
        pts = [f"{frame.x(xs[0]):.1f},{frame.y(0):.1f}"]
        for i, h in enumerate(share):
            pts += [f"{frame.x(xs[i]):.1f},{frame.y(h):.1f}", f"{frame.x(xs[i + 1]):.1f},{frame.y(h):.1f}"]
        pts.append(f"{frame.x(xs[-1]):.1f},{frame.y(0):.1f}")
        body.append(f'<polyline points="{" ".join(pts)}" fill="{s["color"]}" fill-opacity="0.12" '
                    f'stroke="{s["color"]}" stroke-width="1.8"/>')
    if log:
        xt = [(math.log10(v), _fmt(v)) for v in (10.0 ** e * m for e in range(math.floor(math.log10(lo)),
              math.ceil(math.log10(hi)) + 1) for m in (1, 3)) if lo <= v <= hi]
    else:
        xt = [(v, _fmt(v)) for v in _nice_ticks(lo, hi)]
    axes = frame.axes(xt, [(v, f"{v:.0f}%") for v in _nice_ticks(0, top, 4)],
                      unit + (" (log scale)" if log else ""), "% of runs")
    alt = f"{title} ({unit}). " + "; ".join(
        f"{s['name']}: median {_fmt(float(np.nanmedian(v)))}, 90% of runs "
        f"{_fmt(float(np.nanquantile(v, 0.05)))} to {_fmt(float(np.nanquantile(v, 0.95)))}"
        for s, v in zip(series, values) if np.isfinite(v).any())
    return _svg(title, alt, axes + body)
