"""The one place that says which Chromium the browser tests and benchmarks drive.

`VITREEM_CHROMIUM` names it (default: Debian's `/usr/bin/chromium`; Playwright's own browser download
is not reachable on the build machines). `make test` runs `python -m vitreem.testing.browser` before any
test: it checks the browser starts, installs Debian's package when it can (root with apt-get, the
default path only), and otherwise stops with the one command that fixes it. Browser tests are never
skipped: a missing browser stops the run before it starts.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass

ENV = "VITREEM_CHROMIUM"
DEFAULT = "/usr/bin/chromium"
# Debian's packages: the browser, and the fonts the PDF and page tests render Vietnamese with. Liberation
# Serif 1.x (fonts-liberation) lacks the precomposed Vietnamese letters (ạ, ộ, ữ…), so official documents
# would fall back to a second family: fonts-liberation2 (2.x) has them.
PACKAGES = ("chromium", "fonts-dejavu-core", "fonts-liberation", "fonts-liberation2")
VIETNAMESE_SERIF = "/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf"
INSTALL_COMMAND = "sudo apt-get install -y " + " ".join(PACKAGES)


def chromium_path() -> str:
    return os.environ.get(ENV) or DEFAULT


def launch_args() -> list[str]:
    """Flags for a headless run on a closed network (no sandbox as root, no background traffic)."""
    return ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", "--disable-quic"]


@dataclass
class Found:
    ok: bool
    path: str
    message: str


def _version(path: str) -> str | None:
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        return None
    try:
        out = subprocess.run([path, "--headless", "--no-sandbox", "--version"], capture_output=True, text=True,
                             timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return (out.stdout.strip() or None) if out.returncode == 0 else None


def _can_install() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get") is not None


def _install() -> bool:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    steps = [["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", *PACKAGES]]
    return all(subprocess.run(step, env=env, stdout=subprocess.DEVNULL, check=False).returncode == 0 for step in steps)


def ensure(*, path: str | None = None, install: bool = True) -> Found:
    """Find a working Chromium at `path` (default: `chromium_path()`); install Debian's package when
    the default path is missing and this process may (`install` and root with apt-get)."""
    explicit = path is not None or bool(os.environ.get(ENV))
    path = path or chromium_path()
    version = _version(path)
    if version and not os.path.exists(VIETNAMESE_SERIF) and install and _can_install():
        print("Liberation Serif 2 (Vietnamese letters) is missing: installing Debian's fonts-liberation2 …", flush=True)
        _install()
    if version and not os.path.exists(VIETNAMESE_SERIF):
        return Found(False, path, f"The document tests need Liberation Serif 2 ({VIETNAMESE_SERIF}). To fix it, run: "
                                  f"{INSTALL_COMMAND}")
    if version:
        return Found(True, path, f"{version} ({path})")
    if not explicit and path == DEFAULT and install and _can_install():
        print(f"Chromium is missing at {path}: installing Debian's packages {' '.join(PACKAGES)} …", flush=True)
        if _install() and (version := _version(path)):
            return Found(True, path, f"{version} ({path}), installed")
    if explicit:
        fix = f"point {ENV} at a Chromium executable, or unset it and run: {INSTALL_COMMAND}"
    else:
        fix = f"run: {INSTALL_COMMAND}  (or set {ENV}=/path/to/chromium)"
    what = "does not exist" if not os.path.exists(path) else "does not start"
    return Found(False, path, f"The browser tests need Chromium, and {path} {what}. To fix it, {fix}")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    found = ensure(install="--no-install" not in argv)
    stream = sys.stdout if found.ok else sys.stderr
    print(("browser: " if found.ok else "ERROR: ") + found.message, file=stream)
    return 0 if found.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
