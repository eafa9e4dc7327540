"""The HTML report renders in a real browser (headless Chromium) with a silent console.

Why ``--dump-dom`` + ``--enable-logging=stderr`` rather than selenium/playwright: it needs
only Debian's ``chromium`` (installed by ``.ci/run``) and the standard library, no driver
whose version must match the browser and no Node. Chromium logs every console message
(``console.*`` calls and uncaught exceptions) as an ``INFO:CONSOLE`` line on stderr; the
log does not carry the message level, so any console line counts as a failure: the report
contains no script, so its console must be silent. ``--dump-dom`` prints the DOM after the
page has loaded, which shows that the page rendered and what it shows. A negative control
checks that the harness does see console errors.

Skips only when Chromium is absent and not in CI; in CI (``CI=true``) a missing browser fails.
"""

import os
import re
import shutil
import subprocess

import pytest

from allocator import load_instance, solve
from allocator.report import write_report

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
CONSOLE = re.compile(r":CONSOLE(?:\(\d+\)|:\d+)?\]\s*(.*)")


def _need_chromium():
    if CHROMIUM is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true but chromium is not installed (.ci/run installs Debian's chromium)")
        pytest.skip("chromium not installed (apt-get install chromium)")


def open_in_chromium(path, tmp_path) -> tuple[str, list[str]]:
    """(DOM after load, console messages) of a local HTML file in headless Chromium."""
    _need_chromium()
    profile = tmp_path / "chromium-profile"
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
           "--no-first-run", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0",
           "--dump-dom", path.resolve().as_uri()]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr[-2000:]
    console = [m.group(1) for line in p.stderr.splitlines() if (m := CONSOLE.search(line))]
    return p.stdout, console


def test_harness_sees_console_errors(tmp_path):
    """Negative control: a page that logs an error and throws is caught."""
    bad = tmp_path / "bad.html"
    bad.write_text('<!DOCTYPE html><html><body><p id="x">hello</p><script>'
                   'console.error("deliberate-error"); no_such_function();</script></body></html>')
    dom, console = open_in_chromium(bad, tmp_path)
    assert '<p id="x">hello</p>' in dom
    assert any("deliberate-error" in c for c in console), console
    assert any("no_such_function" in c for c in console), console


def test_report_renders_without_console_errors(tmp_path):
    from tests.conftest import INSTANCES

    res = solve(load_instance(INSTANCES / "tiny"))
    folder = res.write(tmp_path / "res")
    report = write_report(folder)
    dom, console = open_in_chromium(report, tmp_path)
    assert console == [], console
    # headline figures as the browser shows them (instances/tiny/README.md: 184.5 = 177.0 + 7.5)
    assert re.search(r'id="headline-objective">184\.5<', dom)
    assert re.search(r'id="headline-in-horizon">177\.0<', dom)
    assert re.search(r'id="headline-terminal">7\.5<', dom)
    assert re.search(r'id="status" class="ok">optimal<', dom)
    assert dom.count("<img") == 5 and "the resource DEL envelope binds" in dom.replace("The", "the")
