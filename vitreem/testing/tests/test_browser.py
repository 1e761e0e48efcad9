"""The browser-finding step that `make test` runs before any test (issue 17)."""

import os
import subprocess
import sys

from vitreem.testing import browser


def test_a_path_that_does_not_exist_is_a_clear_error(tmp_path):
    missing = str(tmp_path / "no-chromium-here")
    found = browser.ensure(path=missing)
    assert not found.ok
    assert missing in found.message and "does not exist" in found.message
    assert browser.ENV in found.message  # says how to fix it


def test_the_command_stops_with_the_message_and_a_failing_status(tmp_path):
    missing = str(tmp_path / "chromium")
    env = {**os.environ, browser.ENV: missing}
    out = subprocess.run([sys.executable, "-m", "vitreem.testing.browser"], env=env, capture_output=True,
                         text=True, timeout=60, check=False)
    assert out.returncode == 1
    assert out.stderr.startswith("ERROR: ") and missing in out.stderr


def test_a_file_that_is_not_a_browser_does_not_start(tmp_path):
    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\nexit 3\n")
    fake.chmod(0o755)
    found = browser.ensure(path=str(fake))
    assert not found.ok and "does not start" in found.message


def test_the_path_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv(browser.ENV, "/opt/somewhere/chromium")
    assert browser.chromium_path() == "/opt/somewhere/chromium"
    monkeypatch.delenv(browser.ENV)
    assert browser.chromium_path() == browser.DEFAULT


def test_the_configured_browser_starts():
    # The same check `make test` runs first: on the build machine the browser is there.
    found = browser.ensure(install=False)
    assert found.ok, found.message
