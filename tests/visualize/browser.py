"""What the visualisation tests share to open a report in headless Chromium.

A plain module (not collected as tests): the test files import it by name, pytest putting
this folder on ``sys.path``.
"""

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
