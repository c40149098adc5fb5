"""Fuzzing the whole command line: every verb, fed mutated files, exits 0 or 2, never a traceback.

Architecture files and configs are mutated the way a hostile or careless sender would: values
of the wrong type, missing keys, huge values, NaN and infinity, other encodings, duplicate keys,
a lone surrogate, symlinks to ``/dev/zero``, a FIFO, a folder. Each case runs through
:func:`genesis.cli.main` in this process under an alarm (a hang fails the test rather than the
suite), with a fixed seed so a failure replays.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import random
import signal
from pathlib import Path
from typing import Any

import pytest

from genesis import build_architecture
from genesis.cli import main

#: Seconds any one case may take before it counts as a hang.
CASE_SECONDS = 60

HOSTILE = [
    None,
    "",
    "abc",
    "\ud800",
    -1,
    0,
    1,
    2.5,
    10**30,
    1e308,
    float("nan"),
    float("inf"),
    -float("inf"),
    True,
    [],
    {},
    [1, 2, 3],
    {"a": 1},
    "x" * 10_000,
]


@contextlib.contextmanager
def _deadline(seconds: int):
    def fire(signum, frame):
        raise TimeoutError(f"a CLI case ran past {seconds} s")

    old = signal.signal(signal.SIGALRM, fire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def run(argv: list[Any], capsys) -> tuple[int, str, str]:
    """``genesis ARGV`` in process, under the deadline: exit code, stdout, stderr."""
    with _deadline(CASE_SECONDS):
        try:
            code = main([str(a) for a in argv])
        except SystemExit as exc:  # argparse errors
            code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def check(argv: list[Any], capsys, allowed=(0, 2)) -> int:
    code, out, err = run(argv, capsys)
    assert code in allowed, (argv, code, err[-2000:])
    assert "Traceback" not in err, (argv, err[-2000:])
    if code == 2:
        lines = err.strip().splitlines()
        assert lines and "error" in lines[-1], (argv, err)
        assert len(lines[-1]) < 2000, (argv, err[:300])
    return code


def _paths(data: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path to a value inside nested dicts and lists."""
    out = [prefix] if prefix else []
    if isinstance(data, dict):
        for key, value in data.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(data, list):
        for i, value in enumerate(data[:4]):
            out += _paths(value, (*prefix, i))
    return out


def _set(data: Any, path: tuple, value: Any, delete: bool = False) -> None:
    for key in path[:-1]:
        data = data[key]
    if delete and isinstance(data, dict):
        del data[path[-1]]
    elif delete and isinstance(data, list):
        data.pop(path[-1])
    else:
        data[path[-1]] = value


def _dump(data: Any) -> str:
    """JSON text; NaN and infinity as Python's json writes them, surrogates escaped."""
    return json.dumps(data)


def mutated_architectures(rng: random.Random, base: dict, count: int) -> list[bytes]:
    """``count`` hostile variants of the architecture ``base``, as file contents."""
    paths = _paths(base)
    out = []
    for _ in range(count):
        data = copy.deepcopy(base)
        kind = rng.random()
        path = rng.choice(paths)
        if kind < 0.6:
            _set(data, path, copy.deepcopy(rng.choice(HOSTILE)))
        elif kind < 0.75:
            _set(data, path, None, delete=True)
        elif kind < 0.85:  # a huge stage, list or number
            stage = data["stages"][0]["graph"]
            n = rng.choice([300, 5000])
            stage["nodes"] = [{"id": i, "op": "sep_conv_3x3"} for i in range(1, n + 1)]
            stage["output"] = n + 1
            stage["edges"] = [[0, 1]] + [[i, i + 1] for i in range(1, n + 1)]
        else:  # text-level: a duplicate key, a 5000-digit integer
            text = _dump(data)
            text = text.replace(
                '"num_classes": 10',
                rng.choice(['"num_classes": 10, "num_classes": 3', '"num_classes": ' + "7" * 5000]),
            )
            out.append(text.encode("utf-8"))
            continue
        out.append(_dump(data).encode("utf-8"))
    text = _dump(base)
    out += [
        text.encode("utf-16"),
        b"\xef\xbb\xbf" + text.encode("utf-8"),  # a byte-order mark
        text.encode("utf-8")[: len(text) // 2],  # truncated
        b"\xff\xfe\x00garbage",
        b"",
        b"[" * 100_000,  # nested too deeply
        b"null",
        b'"just a string"',
    ]
    return out


def special_files(tmp_path: Path) -> list[Path]:
    """A symlink to /dev/zero, a FIFO, a folder and a missing file, made in ``tmp_path``."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    out = []
    zero = tmp_path / "zero.json"
    zero.symlink_to("/dev/zero")
    out.append(zero)
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    out.append(fifo)
    folder = tmp_path / "folder.json"
    folder.mkdir()
    out += [folder, tmp_path / "missing.json"]
    return out


@pytest.fixture(scope="module")
def base() -> dict:
    return build_architecture(seed=0).to_dict()


def test_info_and_render_on_mutated_architectures(base, tmp_path, capsys):
    rng = random.Random(0)
    files = []
    for i, content in enumerate(mutated_architectures(rng, base, 120)):
        path = tmp_path / f"a{i}.json"
        path.write_bytes(content)
        files.append(path)
    files += special_files(tmp_path)
    codes = []
    for path in files:
        codes.append(check(["info", path], capsys))
        check(["info", "--json", path], capsys)
    for path in files[::6]:
        check(["render", path, "-o", tmp_path / "out.dot"], capsys)
    assert codes.count(0) >= 5 and codes.count(2) >= 50, codes  # both paths were exercised


def test_info_json_is_strict_json(base, tmp_path, capsys):
    data = copy.deepcopy(base)
    data["stages"][0]["origin"] = {"p": float("nan"), "q": float("inf")}
    data["meta"] = {"x": float("nan")}
    path = tmp_path / "nan.json"
    path.write_text(json.dumps(data))
    code, out, err = run(["info", "--json", path], capsys)
    assert code == 0, err

    def refuse(name):
        raise AssertionError(f"info --json printed {name}")

    facts = json.loads(out, parse_constant=refuse)
    assert facts["stages"][0]["origin"] == {"p": None, "q": None}


GENERATE_FLAGS = {
    "--nodes": ["0", "1", "-3", "100000", "x", "8"],
    "--stages": ["0", "1000", "2"],
    "--channels": ["1", "10000000", "16"],
    "--p": ["nan", "inf", "-1", "2", "0.5"],
    "--k": ["0", "3", "1000", "4"],
    "--m": ["0", "1000", "2"],
    "--op": ["nope", "\udcff", "sep_conv_3x3"],
    "--seed": ["-1", str(2**70), "x", "1"],
    "--preset": ["nope", "cifar10"],
    "--param": ["n=3", "L=0", "x", "alpha=nan", "seed=1", "p=[1,2]", "k=1e400"],
}
FAMILIES = ["er", "ws", "ba", "nope", "nx:waxman_graph", "nx:hypercube_graph", "nx:not_a_thing"]


def test_generate_with_random_flags(tmp_path, capsys):
    rng = random.Random(1)
    codes = []
    for i in range(80):
        argv: list[Any] = ["generate", rng.choice(FAMILIES)]
        for flag in rng.sample(sorted(GENERATE_FLAGS), rng.randint(0, 3)):
            argv += [flag, rng.choice(GENERATE_FLAGS[flag])]
        argv += ["-o", tmp_path / f"g{i}.json"]
        codes.append(check(argv, capsys))
    argv = ["generate", "ws", "--seed", "1", "-o", tmp_path / "sub" / "x\udcff.json"]
    check(argv, capsys)
    assert 0 in codes and 2 in codes


CONFIG_VALUES = [
    '"abc"',
    "nan",
    "inf",
    "-inf",
    "-1",
    "0",
    "9223372036854775807",
    "1e308",
    "true",
    "[]",
    '["x"]',
    "[1, 2, 3]",
    "{a = 1}",
    '"none"',
    '"\\udcff"',
]


def mutated_configs(rng: random.Random, count: int) -> list[str]:
    from evolve.config import EvolveConfig

    tables = EvolveConfig().to_dict()
    out = []
    for _ in range(count):
        table = rng.choice(sorted(tables))
        key = rng.choice(sorted(tables[table]))
        value = rng.choice(CONFIG_VALUES)
        out.append(f"[{table}]\n{key} = {value}\n")
    out += [
        "[search]\npopulation = 2\npopulation = 3\n",  # TOML refuses duplicate keys
        "[nope]\n",
        "search = 3\n",
        "[search]\nnope = 1\n",
        "[search\n",
        "\xff\xfe",
    ]
    return out


def test_evolve_and_tune_refuse_bad_configs_before_the_run_folder(base, tmp_path, capsys):
    rng = random.Random(2)
    arch = tmp_path / "arch.json"
    arch.write_text(json.dumps(base))
    small = ["--fitness", "synthetic", "--population", "2", "--generations", "0"]
    for i, text in enumerate(mutated_configs(rng, 30)):
        cfg = tmp_path / f"c{i}.toml"
        cfg.write_bytes(text.encode("utf-8", "surrogateescape"))
        out = tmp_path / f"run{i}"
        verb = ["evolve"] if i % 4 else ["tune", arch]
        code = check([*verb, "--config", cfg, "--out", out, *small, "--final-top-k", "0"], capsys)
        if code == 2:
            assert not out.exists(), (text, "a refused config left a run folder")
    for special in special_files(tmp_path / "special"):
        code = check(["evolve", "--config", special, "--out", tmp_path / "r", *small], capsys)
        assert code == 2 and not (tmp_path / "r").exists()


ENGINE_FLAGS = {
    "--device": ["tpu", "cuda:x", "cpu"],
    "--workers": ["0", "100000", "1"],
    "--population": ["0", "1", "1000000", "2"],
    "--generations": ["-1", "1000000000", "0"],
    "--budget-evals": ["0", "1000000000", "2"],
    "--subset": ["0", "-1"],
    "--seed": ["-1", "x"],
    "--max-macs": ["nan", "-1", "inf"],
    "--proxy-epochs": ["nan", "0", "1e300"],
    "--search-seconds": ["nan", "-1"],
    "--final-epochs": ["nan", "0"],
    "--strategy": ["nope", "random", "constrained"],
}


def test_evolve_with_random_flags(tmp_path, capsys):
    rng = random.Random(3)
    for i in range(15):
        argv: list[Any] = ["evolve", "--fitness", "synthetic", "--final-top-k", "0"]
        argv += ["--population", "2", "--generations", "0"]
        for flag in rng.sample(sorted(ENGINE_FLAGS), rng.randint(1, 2)):
            argv += [flag, rng.choice(ENGINE_FLAGS[flag])]
        out = tmp_path / f"run{i}"
        code = check([*argv, "--out", out], capsys)
        if code == 2:
            assert not out.exists(), (argv, "a refused flag left a run folder")


def test_export_train_and_runs_on_bad_input(base, tmp_path, capsys):
    files = special_files(tmp_path)
    big = copy.deepcopy(base)
    big["num_classes"] = 10**9
    (tmp_path / "big.json").write_text(json.dumps(big))
    files.append(tmp_path / "big.json")
    good = tmp_path / "good.json"
    good.write_text(json.dumps(base))
    for path in files:
        check(["export", path, "--onnx", tmp_path / "x.onnx"], capsys)
        check(["train", path, "--dataset", "synthetic", "--epochs", "0.01"], capsys)
    for weights in [*special_files(tmp_path / "w"), good]:
        check(["render", good, "--weights", weights, "-o", tmp_path / "w.dot"], capsys)
        check(["export", good, "--weights", weights, "--program", tmp_path / "x.pt2"], capsys)
    for flags in (
        ["--epochs", "nan"],
        ["--device", "tpu"],
        ["--subset", "0"],
        ["--val-size", "-1"],
    ):
        check(["train", good, "--dataset", "synthetic", *flags], capsys)
    tiny = ["--dataset", "synthetic", "--epochs", "0.05", "--subset", "64", "--device", "cpu"]
    assert check(["train", good, *tiny, "--out", tmp_path / "trained"], capsys) == 0
    weights = tmp_path / "trained" / "weights.pt"
    assert check(["render", good, "--weights", weights, "-o", tmp_path / "t.dot"], capsys) == 0
    for run_dir in [*special_files(tmp_path / "r"), good]:
        check(["report", run_dir, "-o", tmp_path / "r.html"], capsys)
        check(["compare", run_dir, run_dir], capsys)
        check(["evolve", "--resume", run_dir], capsys)
        check(["tune", "--resume", run_dir], capsys)
