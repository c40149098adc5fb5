"""What the visualisation tests share: opening a report in headless Chromium, and a snapshot
of a folder tree.

A plain module (not collected as tests): the test files import it by name, pytest putting
this folder on ``sys.path``.
"""

import os
import shutil
import subprocess

#: Debian's chromium, headless, as root, with no network of its own (the machine has none).
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium() -> str:
    """The path of Debian's chromium (./setup.sh --test installs it)."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    assert path, "Debian's chromium is needed: ./setup.sh --test installs it"
    return path


def dump_dom(page, profile) -> str:
    """The DOM of ``page`` (a path) after headless Chromium ran its scripts (5 s of virtual
    time), with a fresh browser profile in the folder ``profile``."""
    return subprocess.run(
        [
            chromium(),
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            "--virtual-time-budget=5000",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout


def snapshot(root) -> dict:
    """Path -> (kind, content) of everything under ``root`` (links not followed): to show that
    nothing in or around a run folder changed."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            if os.path.islink(p):
                out[p] = ("link", os.readlink(p))
            elif os.path.isfile(p):
                with open(p, "rb") as f:
                    out[p] = ("file", f.read())
            else:
                out[p] = ("other", None)
    return out
