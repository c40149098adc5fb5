"""The ``genesis generate`` and ``genesis info`` verbs, in process and once as a real program."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from genesis import Architecture, architecture_hash, load_architecture
from genesis.cli import main

#: Family flags for every graph family, each valid with the default 8-node stages.
FAMILY_ARGS = {
    "er": ["er", "--p", "0.3"],
    "ws": ["ws", "--k", "4", "--p", "0.5"],
    "ba": ["ba", "--m", "3"],
    "ba-star": ["ba", "--m", "2", "--param", "initial=star"],
    "nx-powerlaw": ["nx:powerlaw_cluster_graph", "--m", "2", "--p", "0.3"],
}


def run(argv, capsys) -> tuple[int, str, str]:
    """``genesis ARGV`` in process: exit code, stdout, stderr."""
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:  # argparse errors and --help
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code: int, out: str, err: str, *needles: str) -> None:
    assert code == 2, (out, err)
    assert out == ""
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1 and err.endswith("\n"), err
    assert lines[0].startswith("genesis"), err
    assert "error" in lines[0]
    for needle in needles:
        assert needle in lines[0], (needle, err)


@pytest.mark.parametrize("family", sorted(FAMILY_ARGS))
def test_generate_writes_a_file_that_loads(family, tmp_path, capsys):
    path = tmp_path / f"{family}.json"
    code, out, err = run(["generate", *FAMILY_ARGS[family], "--seed", "3", "-o", path], capsys)
    assert code == 0, err
    assert out == ""
    assert err.startswith(f"wrote {path}") and "seed 3" in err
    arch = load_architecture(path)
    assert arch.name == "fashion-mnist" and len(arch.stages) == 3
    assert arch.meta["family"] == FAMILY_ARGS[family][0] and arch.meta["seed"] == 3
    assert f"hash {architecture_hash(arch)}" in err
    if family == "ba-star":
        assert arch.meta["params"] == {"m": 2, "initial": "star"}


def test_generate_flags_reach_the_architecture(tmp_path, capsys):
    path = tmp_path / "a.json"
    argv = ["generate", "er", "--p", "0.4", "--nodes", "6", "--stages", "2", "--channels", "8"]
    argv += ["--preset", "cifar10", "--op", "conv_3x3", "--seed", "1", "-o", path]
    code, _, err = run(argv, capsys)
    assert code == 0, err
    arch = load_architecture(path)
    assert arch.input_shape == (3, 32, 32)
    assert [(s.channels, s.num_nodes) for s in arch.stages] == [(8, 6), (16, 6)]
    assert arch.op_names() == {"conv_3x3"}
    assert arch.meta["params"] == {"p": 0.4}


def test_family_defaults_are_randwire_best(tmp_path, capsys):
    for family, params in [("er", {"p": 0.2}), ("ws", {"k": 4, "p": 0.75}), ("ba", {"m": 5})]:
        path = tmp_path / f"{family}.json"
        code, _, err = run(["generate", family, "--seed", "0", "-o", path], capsys)
        assert code == 0, err
        assert load_architecture(path).meta["params"] == params


@pytest.mark.parametrize("family", ["ws", "nx-powerlaw"])
def test_seed_makes_files_byte_identical(family, tmp_path, capsys):
    paths = [tmp_path / f"{i}.json" for i in range(3)]
    seeds = ["11", "11", "12"]
    for path, seed in zip(paths, seeds, strict=True):
        code, _, err = run(["generate", *FAMILY_ARGS[family], "--seed", seed, "-o", path], capsys)
        assert code == 0, err
    first, second, other = (p.read_bytes() for p in paths)
    assert first == second
    assert first != other


def test_generate_without_seed_records_the_one_drawn(tmp_path, capsys):
    path = tmp_path / "a.json"
    code, _, err = run(["generate", "ws", "-o", path], capsys)
    assert code == 0, err
    seed = load_architecture(path).meta["seed"]
    assert isinstance(seed, int) and f"seed {seed}," in err
    again = tmp_path / "b.json"
    assert run(["generate", "ws", "--seed", seed, "-o", again], capsys)[0] == 0
    assert again.read_bytes() == path.read_bytes()


def test_generate_to_stdout(tmp_path, capsys):
    code, out, err = run(["generate", "ba", "--m", "2", "--seed", "4"], capsys)
    assert code == 0 and err == ""
    arch = Architecture.from_json(out)  # stdout is the JSON and nothing else
    assert arch.meta["family"] == "ba" and arch.meta["seed"] == 4
    path = tmp_path / "a.json"
    run(["generate", "ba", "--m", "2", "--seed", "4", "-o", path], capsys)
    assert out == path.read_text(encoding="utf-8")


@pytest.fixture
def arch_file(tmp_path, capsys) -> Path:
    path = tmp_path / "arch.json"
    code, _, err = run(["generate", "ws", "--seed", "2", "--stages", "2", "-o", path], capsys)
    assert code == 0, err
    return path


def test_info_json(arch_file, capsys):
    code, out, err = run(["info", arch_file, "--json"], capsys)
    assert code == 0 and err == ""
    assert len(out.splitlines()) == 1
    facts = json.loads(out)
    assert isinstance(facts, dict)
    arch = load_architecture(arch_file)
    assert facts["hash"] == architecture_hash(arch)
    assert len(facts["stages"]) == len(arch.stages) == 2
    for stage, shown, stats in zip(arch.stages, facts["stages"], arch.stage_stats(), strict=True):
        assert shown["channels"] == stage.channels and shown["stride"] == stage.stride
        for key in ("nodes", "edges", "input_nodes", "output_nodes", "clustering"):
            assert shown[key] == stats[key]
        assert shown["ops"] == {"sep_conv_3x3": stage.num_nodes}
    assert facts["num_classes"] == 10 and facts["input_shape"] == [1, 28, 28]


def test_info_table(arch_file, capsys):
    code, out, err = run(["info", arch_file], capsys)
    assert code == 0 and err == ""
    arch = load_architecture(arch_file)
    lines = out.splitlines()
    assert lines[0].startswith(f"{arch_file}: fashion-mnist, input 1x28x28, 10 classes")
    assert architecture_hash(arch) in lines[0]
    header = next(
        i for i, line in enumerate(lines) if line.split()[:3] == ["stage", "width", "stride"]
    )
    rows = [line.split() for line in lines[header + 1 : header + 1 + len(arch.stages)]]
    for i, (row, stage, stats) in enumerate(
        zip(rows, arch.stages, arch.stage_stats(), strict=True)
    ):
        assert row[:5] == [
            str(i),
            str(stage.channels),
            str(stage.stride),
            str(stats["nodes"]),
            str(stats["edges"]),
        ]
    assert any(line.startswith("train: sgd") for line in lines)


@pytest.mark.parametrize(
    ("argv", "needles"),
    [
        (["generate", "ws", "--k", "3"], ["k=3"]),
        (["generate", "ws", "--p", "1.5"], ["p=1.5"]),
        (["generate", "er", "--p", "-0.1"], ["p=-0.1"]),
        (["generate", "ws", "--p", "nan"], ["nan"]),
        (["generate", "ba", "--m", "8"], ["m=8", "n=8"]),
        (["generate", "ba", "--m", "20", "--nodes", "10"], ["m=20"]),
        (["generate", "ws", "--nodes", "1"], ["nodes", "1"]),
        (["generate", "ws", "--stages", "0"], ["stages"]),
        (["generate", "ws", "--channels", "1"], ["channels"]),
        (["generate", "hypercube"], ["unknown graph family 'hypercube'"]),
        (["generate", "er", "--k", "4"], ["--k", "'er'"]),
        (["generate", "ba", "--p", "0.5"], ["--p", "'ba'"]),
        (["generate", "nx:not_a_generator"], ["not_a_generator"]),
        (["generate", "nx:powerlaw_cluster_graph", "--m", "40", "--p", "0.3"], ["m=40"]),
        (["generate", "nx:complete_graph", "--param", "n=3"], ["['n']"]),
        (["generate", "ws", "--preset", "imagenet"], ["imagenet"]),
        (["generate", "ws", "--op", "conv_9x9"], ["unknown op 'conv_9x9'", "sep_conv_3x3"]),
        (["generate", "ws", "--param", "k"], ["--param"]),
        (["generate", "ws", "--nodes", "many"], ["--nodes"]),
        (["generate", "ws", "--frobnicate"], ["--frobnicate"]),
        (["generate"], ["FAMILY"]),
        (["levitate"], ["levitate"]),
        ([], ["required"]),
    ],
)
def test_bad_generate_input_is_one_line_and_exit_2(argv, needles, capsys):
    assert_one_line_error(*run(argv, capsys), *needles)


def test_unwritable_output_path(capsys):
    code, out, err = run(
        ["generate", "ws", "--seed", "0", "-o", "/proc/nonexistent/x.json"], capsys
    )
    assert_one_line_error(code, out, err, "/proc/nonexistent")


def test_output_path_that_is_a_directory(tmp_path, capsys):
    target = tmp_path / "out"
    target.mkdir()
    code, out, err = run(["generate", "ws", "--seed", "0", "-o", target], capsys)
    assert_one_line_error(code, out, err, "Is a directory")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no temporary file left


@pytest.mark.parametrize(
    ("content", "needles"),
    [
        ('{"schema": "genesis.architecture", "version": 1, ', ["not valid JSON"]),
        ("[]", ["must be a JSON object"]),
        ('{"schema": "genesis.architecture", "version": 99}', ["version 99"]),
    ],
)
def test_info_on_a_bad_file(content, needles, tmp_path, capsys):
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    for extra in ([], ["--json"]):
        assert_one_line_error(*run(["info", path, *extra], capsys), str(path), *needles)


def test_info_on_a_truncated_file(arch_file, capsys):
    text = arch_file.read_text(encoding="utf-8")
    arch_file.write_text(text[: len(text) // 2], encoding="utf-8")
    assert_one_line_error(*run(["info", arch_file], capsys), "truncated or malformed")


def test_info_on_a_missing_file(tmp_path, capsys):
    path = tmp_path / "missing.json"
    assert_one_line_error(*run(["info", path], capsys), "does not exist", str(path))
    assert_one_line_error(*run(["info", tmp_path], capsys), "cannot read")


@pytest.mark.parametrize(
    "bad",
    [["--k", "3"], ["--p", "2"], ["--nodes", "1"], ["--op", "nope"], ["--preset", "nope"]],
)
def test_failed_generate_leaves_an_existing_file_untouched(bad, arch_file, capsys):
    before = arch_file.read_bytes()
    mtime = arch_file.stat().st_mtime_ns
    code, out, err = run(["generate", "ws", *bad, "--seed", "0", "-o", arch_file], capsys)
    assert_one_line_error(code, out, err)
    assert arch_file.read_bytes() == before
    assert arch_file.stat().st_mtime_ns == mtime
    assert sorted(p.name for p in arch_file.parent.iterdir()) == [arch_file.name]


def test_console_script_reports_bad_input_on_one_line(tmp_path):
    script = Path(sys.executable).with_name("genesis")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "genesis"]
    out = tmp_path / "never.json"
    proc = subprocess.run(
        [*command, "generate", "ws", "--k", "3", "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    assert proc.stderr.splitlines() == [
        "genesis generate: error: watts_strogatz needs even k with 2 <= k < n, got k=3, n=8"
    ]
    assert not out.exists()
