"""Every command the README and the docs mark runnable runs as written.

A shell block preceded by the line ``<!-- runnable -->`` holds plain ``genesis ...`` commands
(one a line, ``#`` comments allowed). The commands of one page run in order in one fresh
folder, with ``HOME`` there (``~/my-images`` is a 3-class folder of 180 small PNG images), each
as written plus flags that make its trainings tiny (appended, so they override the same flags
in the command: fewer and shorter trainings, never another verb or file). Each must exit 0.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MARK = "<!-- runnable -->"
GENESIS = str(Path(sys.executable).parent / "genesis")

#: Flags appended to each verb: the same commands, on tiny trainings.
_TRAIN = ["--subset", "128", "--val-size", "64"]
TINY: dict[tuple[str, ...], list[str]] = {
    ("evolve",): [
        *_TRAIN,
        *("--population", "2", "--budget-evals", "2", "--rungs", "none"),
        *("--proxy-epochs", "0.1", "--final-epochs", "0.05", "--final-batch", "none"),
        *("--final-seconds", "none", "--search-seconds", "none", "--workers", "1"),
    ],
    ("tune",): [*_TRAIN, "--budget-evals", "2", "--workers", "1", "--final-epochs", "0.05"],
    ("train",): [*_TRAIN, "--epochs", "0.05"],
    ("study", "generators"): [*_TRAIN, "--epochs", "0.1", "--graph-seeds", "1", "--workers", "1"],
    ("study", "ops"): [*_TRAIN, "--epochs", "0.1", "--graph-seeds", "1", "--workers", "1"],
    ("study", "damage"): ["--examples", "50"],
}

#: Flags a resumed run still takes (it keeps its own config for everything else).
RESUMABLE = ["--workers", "1"]


def pages() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def runnable_blocks(text: str) -> list[list[str]]:
    """The command lines of each block marked runnable, in order."""
    blocks, lines = [], text.splitlines()
    for i, line in enumerate(lines):
        if line.strip() != MARK:
            continue
        fence = lines[i + 1].strip() if i + 1 < len(lines) else ""
        assert fence in ("```sh", "```bash", "```console"), f"{MARK} not before a shell block"
        commands = []
        for body in lines[i + 2 :]:
            if body.strip().startswith("```"):
                break
            if body.strip() and not body.strip().startswith("#"):
                commands.append(body.strip())
        blocks.append(commands)
    return blocks


def tiny(argv: list[str]) -> list[str]:
    """``argv`` (after ``genesis``) with the flags that make its trainings tiny."""
    if "--help" in argv or "--version" in argv:
        return argv
    for verb, flags in sorted(TINY.items(), key=lambda kv: -len(kv[0])):
        if tuple(argv[: len(verb)]) == verb:
            if "--resume" in argv:
                return [*argv, *RESUMABLE] if verb != ("study", "damage") else argv
            return [*argv, *flags]
    return argv


def _images(home: Path) -> None:
    """``~/my-images``: 3 classes of 60 PNG images of 36x36, told apart by their brightness."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    for k, name in enumerate(("cats", "dogs", "owls")):
        folder = home / "my-images" / name
        folder.mkdir(parents=True)
        for i in range(60):
            pixels = rng.integers(0, 80, (36, 36, 3)) + 80 * k
            Image.fromarray(pixels.astype(np.uint8)).save(folder / f"{i}.png")


def _runnable_pages() -> list[Path]:
    return [p for p in pages() if runnable_blocks(p.read_text(encoding="utf-8"))]


@pytest.mark.slow
@pytest.mark.parametrize("page", _runnable_pages(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_runnable_command_runs_as_written(page, tmp_path):
    blocks = runnable_blocks(page.read_text(encoding="utf-8"))
    _images(tmp_path)
    env = dict(os.environ, HOME=str(tmp_path), OMP_NUM_THREADS="1", RAY_USAGE_STATS_ENABLED="0")
    for block in blocks:
        for line in block:
            argv = shlex.split(line, comments=True)
            assert argv and argv[0] == "genesis", f"{page.name}: not a genesis command: {line}"
            # the shell would expand ~ to HOME: here, the test's folder
            argv = [str(tmp_path) + a[1:] if a.startswith("~/") else a for a in argv[1:]]
            proc = subprocess.run(
                [GENESIS, *tiny(argv)],
                cwd=tmp_path,
                env=env,
                capture_output=True,
                text=True,
                timeout=600,
            )
            assert proc.returncode == 0, (
                f"{page.name}: `{line}` exited {proc.returncode}:\n" + (proc.stderr[-3000:])
            )


def test_the_pages_mark_the_commands_a_newcomer_runs():
    """README and docs together mark the tour, an image folder, an export, a search, a report."""
    commands = [c for page in pages() for b in runnable_blocks(page.read_text()) for c in b]
    text = "\n".join(commands)
    for needle in ("genesis generate", "genesis info", "genesis export", "genesis train"):
        assert needle in text, needle
    assert re.search(r"genesis evolve .*--dataset ~/my-images", text), "no image-folder search"
    assert "genesis report" in text and "genesis render" in text


def test_tiny_overrides_each_training_verb_and_keeps_resumes_plain():
    assert tiny(["evolve", "--out", "runs/a"])[-2:] == ["--workers", "1"]
    assert tiny(["evolve", "--resume", "runs/a"]) == ["evolve", "--resume", "runs/a", *RESUMABLE]
    assert tiny(["study", "damage", "--study", "runs/s"])[-2:] == ["--examples", "50"]
    assert tiny(["info", "a.json"]) == ["info", "a.json"]
