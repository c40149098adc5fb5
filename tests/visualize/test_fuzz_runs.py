"""Fuzzing run folders: ``genesis report`` and ``compare`` on mutated copies of a real run.

A seeded generator damages a finished synthetic run the ways a file from someone else may be
damaged (wrong types, missing keys, huge values, NaN, bad encodings, symlinks, FIFOs,
truncation). Each command must exit 0 or 2 with no traceback, and nothing outside the folder
may change.
"""

import json
import os
import random
import shutil
import signal

import pytest
from browser import snapshot

from genesis.cli import main

CASES = 40  # mutated folders (about a second each)
SECONDS = 60  # a case still running after this is a hang (a FIFO read, /dev/zero): it fails
HOSTILE_VALUES = [
    None,
    True,
    -1,
    0,
    10**400,
    1e308,
    float("nan"),
    float("inf"),
    "",
    "x" * 100_000,
    "<script>document.title='PWNED'</script>",
    "../../outside/victim.txt",
    "/etc/passwd",
    "javascript:alert(1)",
    "\udcff",  # a lone surrogate (json.dumps writes it escaped)
    "\x1b[2J\x00",
    [],
    {},
    [[[[[[[[]]]]]]]],
    {"hash": "0" * 20},
]


def _nodes(value, path=()):
    """Every (path, value) inside a JSON value."""
    yield path, value
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _nodes(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _nodes(v, (*path, i))


def _mutate_json(value, rng):
    """``value`` with one node replaced by a hostile value, deleted, or its type changed."""
    nodes = list(_nodes(value))
    path, _old = rng.choice(nodes)
    if not path:
        return rng.choice(HOSTILE_VALUES)
    parent = value
    for key in path[:-1]:
        parent = parent[key]
    action = rng.random()
    if action < 0.25:
        del parent[path[-1]]
    elif action < 0.35 and isinstance(parent, dict):
        parent[str(rng.choice(HOSTILE_VALUES))[:50]] = rng.choice(HOSTILE_VALUES)
    else:
        parent[path[-1]] = rng.choice(HOSTILE_VALUES)
    return value


def _dump(value):
    return json.dumps(value).encode("utf-8", errors="surrogatepass")


def _mutate_file(path, rng, outside):
    """One damage to the file at ``path`` (described, for the failure message)."""
    data = path.read_bytes()
    action = rng.choice(
        ["json", "json", "json", "truncate", "bytes", "symlink", "dev-zero", "fifo", "empty"]
    )
    if action == "json":
        try:
            if path.suffix == ".jsonl":
                lines = data.decode().splitlines()
                i = rng.randrange(len(lines))
                lines[i] = _dump(_mutate_json(json.loads(lines[i]), rng)).decode("utf-8", "replace")
                path.write_text("\n".join(lines) + "\n")
            else:
                path.write_bytes(_dump(_mutate_json(json.loads(data), rng)))
            return f"{path.name}: a JSON value"
        except ValueError:  # not JSON (a TOML or CSV file, or damaged before): damage bytes
            action = "bytes"
    if action in ("symlink", "dev-zero", "fifo"):
        path.unlink()
        if action == "symlink":
            path.symlink_to(outside / "victim.txt")
        elif action == "dev-zero":
            path.symlink_to("/dev/zero")
        else:
            os.mkfifo(path)
        return f"{path.name}: {action}"
    if action == "truncate":
        path.write_bytes(data[: rng.randrange(len(data) + 1)])
    elif action == "bytes":
        i = rng.randrange(len(data) + 1)
        path.write_bytes(data[:i] + bytes(rng.randrange(256) for _ in range(8)) + data[i:])
    else:
        path.write_bytes(b"")
    return f"{path.name}: {action}"


@pytest.fixture
def deadline():
    """Fail a case that hangs instead of hanging the suite (SIGALRM interrupts a blocked read)."""

    def expire(signum, frame):
        raise TimeoutError(f"genesis did not answer within {SECONDS} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(SECONDS)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


@pytest.fixture(scope="module")
def base_run(tmp_path_factory, make_run):
    return make_run(tmp_path_factory.mktemp("fuzzbase") / "run")


@pytest.mark.parametrize("case", range(CASES))
def test_report_and_compare_survive_a_damaged_folder(base_run, tmp_path, capsys, deadline, case):
    rng = random.Random(case)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "victim.txt").write_text("keep me")
    run = tmp_path / "run"
    shutil.copytree(base_run, run)
    (run / "report.html").unlink(missing_ok=True)
    done = []
    for _ in range(rng.randint(1, 3)):
        files = sorted(
            p for p in run.rglob("*") if p.is_file() and not p.is_symlink() and p.suffix != ".pkl"
        )
        done.append(_mutate_file(rng.choice(files), rng, outside))
    if rng.random() < 0.2:  # a folder out of the run
        shutil.rmtree(run / "architectures")
        (run / "architectures").symlink_to(outside)
        done.append("architectures -> outside")
    before = {**snapshot(outside), **snapshot(base_run)}

    for argv in (["report", str(run)], ["compare", str(run), str(base_run)]):
        code = main(argv)
        err = capsys.readouterr().err
        lines = [line for line in err.splitlines() if not line.startswith("warning: ")]
        assert code in (0, 2), (argv[0], done, err)
        assert "Traceback" not in err and len(lines) <= (1 if code == 2 else 0), (done, err)
    assert {**snapshot(outside), **snapshot(base_run)} == before, done
