"""``iraqsim studio``: serve the classroom studio, a local page where choices re-run live.

Starts the Solara server on ``--host`` (default 127.0.0.1: this machine only) and ``--port``,
opens the page in the browser unless ``--no-browser``, and stops on Ctrl-C. Every asset is
served locally, so a classroom needs no internet. ``--host 0.0.0.0`` lets a class on the same
network connect: anyone who can reach the laptop can then use the page (docs/studio.md).
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
import urllib.request
import webbrowser

from sim.cli.common import UserError

INSTALL = "the studio needs its extra: pip install 'iraqsim[studio]'"


def register(sub):
    p = sub.add_parser("studio", description="Serve the classroom studio: a local web page where "
                       "every choice re-runs thousands of replicas live (docs/studio.md).")
    p.add_argument("--port", type=int, default=8765, help="port (default 8765)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1, this machine only; 0.0.0.0 "
                        "serves the local network: see docs/studio.md for the risk)")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser")
    p.set_defaults(func=main)


def main(args) -> int:
    """Run the server until it stops (or Ctrl-C); return its exit code."""
    if importlib.util.find_spec("solara") is None or importlib.util.find_spec("solara_assets") is None:
        raise UserError(INSTALL)
    if not 1 <= args.port <= 65535:
        raise UserError(f"--port must be 1 to 65535 (got {args.port})")
    app = importlib.util.find_spec("sim.studio.app").origin
    command = [sys.executable, "-m", "solara", "run", app, "--production", "--no-open",
               "--host", args.host, "--port", str(args.port), "--log-level", "warning"]
    env = {**os.environ, "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",
           "SOLARA_CHECK_VERSION": "False"}
    url = f"http://{'127.0.0.1' if args.host in ('0.0.0.0', '::') else args.host}:{args.port}/"
    server = subprocess.Popen(command, env=env)
    try:
        if _wait_until_up(url, server) and not args.no_browser:
            webbrowser.open(url)
        print(f"iraqsim studio: {url} (Ctrl-C to stop)", flush=True)
        return server.wait()
    finally:
        if server.poll() is None:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()


def _wait_until_up(url: str, server: subprocess.Popen, timeout: float = 120.0) -> bool:
    """Whether the page answers before ``timeout`` seconds (False if the server exited)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and server.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return True
        except OSError:
            time.sleep(0.3)
    return False
