"""The caps of :mod:`genesis.limits`: each refused at once, with one line naming it."""

from __future__ import annotations

import copy
import json
import os
import time

import pytest

from genesis import Architecture, GenesisError, build_architecture, load_architecture
from genesis.cli import main
from genesis.limits import (
    MAX_CHANNELS,
    MAX_CLASSES,
    MAX_EDGES,
    MAX_INPUT_CHANNELS,
    MAX_KERNEL,
    MAX_NODES,
    MAX_RESOLUTION,
    MAX_STAGES,
    MAX_STEM_LAYERS,
    read_text_file,
)


@pytest.fixture
def base() -> dict:
    return build_architecture(seed=0).to_dict()


def _chain(n: int) -> dict:
    """A stage graph of ``n`` compute nodes in a chain."""
    return {
        "input": 0,
        "output": n + 1,
        "nodes": [{"id": i, "op": "sep_conv_3x3"} for i in range(1, n + 1)],
        "edges": [[i, i + 1] for i in range(n + 1)],
    }


def _dense(n: int, edges: int) -> dict:
    """A stage graph of ``n`` compute nodes with at least ``edges`` edges (forward pairs)."""
    pairs = [[u, v] for u in range(1, n + 1) for v in range(u + 1, n + 1)][:edges]
    return {
        "input": 0,
        "output": n + 1,
        "nodes": [{"id": i, "op": "sep_conv_3x3"} for i in range(1, n + 1)],
        "edges": [[0, i] for i in range(1, n + 1)] + pairs + [[i, n + 1] for i in range(1, n + 1)],
    }


def test_a_5000_node_stage_is_refused_at_once(base, tmp_path, capsys):
    data = copy.deepcopy(base)
    data["stages"][0]["graph"] = _chain(5000)
    path = tmp_path / "big.json"
    path.write_text(json.dumps(data, indent=2))
    assert path.stat().st_size > 200_000
    start = time.perf_counter()
    code = main(["info", str(path)])
    elapsed = time.perf_counter() - start
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "MAX_NODES = 256" in err and "5000 compute nodes" in err
    assert elapsed < 1.0, elapsed


def test_a_stage_at_the_node_cap_loads(base):
    data = copy.deepcopy(base)
    data["stages"][0]["graph"] = _chain(MAX_NODES)
    assert Architecture.from_dict(data).stages[0].num_nodes == MAX_NODES
    data["stages"][0]["graph"] = _chain(MAX_NODES + 1)
    with pytest.raises(
        GenesisError, match=f"257 compute nodes; the cap is MAX_NODES = {MAX_NODES}"
    ):
        Architecture.from_dict(data)


def test_the_edge_cap(base):
    data = copy.deepcopy(base)
    data["stages"][0]["graph"] = _dense(100, MAX_EDGES)
    with pytest.raises(GenesisError, match=f"edges; the cap is MAX_EDGES = {MAX_EDGES}"):
        Architecture.from_dict(data)


def _set(data, path, value):
    for key in path[:-1]:
        data = data[key]
    data[path[-1]] = value


@pytest.mark.parametrize(
    "path, value, needle",
    [
        (("num_classes",), 10**9, f"the cap is MAX_CLASSES = {MAX_CLASSES}"),
        (("input_shape", 0), MAX_INPUT_CHANNELS + 1, "MAX_INPUT_CHANNELS"),
        (("input_shape", 1), MAX_RESOLUTION + 1, f"MAX_RESOLUTION = {MAX_RESOLUTION}"),
        (("input_shape", 2), MAX_RESOLUTION + 1, "MAX_RESOLUTION"),
        (("stem", 0, "channels"), MAX_CHANNELS + 1, f"MAX_CHANNELS = {MAX_CHANNELS}"),
        (("stem", 0, "kernel"), MAX_KERNEL + 2, f"MAX_KERNEL = {MAX_KERNEL}"),
        (("stages", 0, "channels"), MAX_CHANNELS + 1, "stage channels is 4097"),
        (("head", "channels"), MAX_CHANNELS + 1, "head channels is 4097"),
    ],
)
def test_each_value_cap(base, path, value, needle):
    data = copy.deepcopy(base)
    _set(data, path, value)
    with pytest.raises(GenesisError, match=needle):
        Architecture.from_dict(data)
    _set(data, path, 2 if path[-1] != "kernel" else 3)
    Architecture.from_dict(data)  # below the cap: fine


def test_count_caps(base):
    data = copy.deepcopy(base)
    data["stages"] = data["stages"][:1] * (MAX_STAGES + 1)
    with pytest.raises(GenesisError, match=f"17 stages; the cap is MAX_STAGES = {MAX_STAGES}"):
        Architecture.from_dict(data)
    data = copy.deepcopy(base)
    data["stem"] = data["stem"] * (MAX_STEM_LAYERS + 1)
    with pytest.raises(GenesisError, match=f"the cap is MAX_STEM_LAYERS = {MAX_STEM_LAYERS}"):
        Architecture.from_dict(data)


def test_build_architecture_refuses_before_drawing():
    with pytest.raises(GenesisError, match="nodes is 100000; the cap is MAX_NODES"):
        build_architecture(nodes=100_000, seed=0)
    with pytest.raises(GenesisError, match="stages is 1000; the cap is MAX_STAGES"):
        build_architecture(stages=1000, seed=0)
    with pytest.raises(GenesisError, match="channels is 10000000; the cap is MAX_CHANNELS"):
        build_architecture(channels=10_000_000, seed=0)


def test_strict_json(base, tmp_path):
    text = json.dumps(base)
    dup = text.replace('"num_classes": 10', '"num_classes": 10, "num_classes": 3')
    with pytest.raises(GenesisError, match="gives the key 'num_classes' twice"):
        Architecture.from_json(dup)
    huge = text.replace('"num_classes": 10', '"num_classes": ' + "1" * 5000)
    with pytest.raises(GenesisError, match="Exceeds the limit .* digits"):
        Architecture.from_json(huge)
    data = copy.deepcopy(base)
    data["name"] = "\ud800"
    with pytest.raises(GenesisError, match="lone surrogate"):
        Architecture.from_json(json.dumps(data))
    data = copy.deepcopy(base)
    data["meta"] = {"note": ["fine", {"\udcff": 1}]}
    with pytest.raises(GenesisError, match="lone surrogate"):
        Architecture.from_dict(data)


def test_reads_are_bounded_and_regular(tmp_path):
    with pytest.raises(GenesisError, match="'/dev/zero': not a regular file"):
        load_architecture("/dev/zero")
    link = tmp_path / "zero.json"
    link.symlink_to("/dev/zero")
    with pytest.raises(GenesisError, match="not a regular file"):
        load_architecture(link)
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    with pytest.raises(GenesisError, match="not a regular file"):
        load_architecture(fifo)  # opened non-blocking: no hang without a writer
    big = tmp_path / "big.json"
    big.write_bytes(b" " * 101)
    with pytest.raises(GenesisError, match="it has 101 bytes; the cap is MAX_FILE_BYTES = 100"):
        read_text_file(big, "architecture file", max_bytes=100)
    assert read_text_file(big, "architecture file", max_bytes=101) == " " * 101


def _one_line(code, out, err, *needles):
    assert code == 2, err
    assert "Traceback" not in err and err.count("\n") == 1, err
    for needle in needles:
        assert needle in err, (needle, err)


@pytest.mark.parametrize(
    "change, needle",
    [
        (lambda t: t.replace('"num_classes": 10', '"num_classes": ' + "9" * 5000), "digits"),
        (lambda t: t.replace('"name": "fashion-mnist"', '"name": "\\ud800"'), "lone surrogate"),
        (lambda t: t.replace('"version": 1', '"version": 1, "version": 1'), "twice"),
    ],
)
def test_the_listed_tracebacks_are_one_line(base, tmp_path, capsys, change, needle):
    path = tmp_path / "a.json"
    path.write_text(change(json.dumps(base)))
    for verb in (["info"], ["info", "--json"], ["render"]):
        code = main([*verb, str(path)])
        _one_line(code, *capsys.readouterr(), needle)


def test_export_with_a_billion_classes_is_one_line(base, tmp_path, capsys):
    data = copy.deepcopy(base)
    data["num_classes"] = 10**9
    path = tmp_path / "a.json"
    path.write_text(json.dumps(data))
    code = main(["export", str(path), "--onnx", str(tmp_path / "a.onnx")])
    _one_line(code, *capsys.readouterr(), "MAX_CLASSES")
    assert not (tmp_path / "a.onnx").exists()


def test_render_weights_with_nan_gates_is_one_line(tmp_path, capsys):
    torch = pytest.importorskip("torch")
    from genesis.compiler import compile_architecture
    from visualize.render import edge_weights

    arch = build_architecture(seed=0)
    state = compile_architecture(arch).state_dict()
    gates = [k for k in state if ".gate" in k]
    assert gates
    state[gates[0]] = torch.full_like(state[gates[0]], float("nan"))
    with pytest.raises(GenesisError, match="non-finite gate"):
        edge_weights(arch, state)
    arch_path = tmp_path / "a.json"
    arch_path.write_text(arch.to_json())
    torch.save(state, tmp_path / "w.pt")
    code = main(
        [
            "render",
            str(arch_path),
            "--weights",
            str(tmp_path / "w.pt"),
            "-o",
            str(tmp_path / "x.dot"),
        ]
    )
    _one_line(code, *capsys.readouterr(), "non-finite gate")
    state[gates[0]] = torch.full_like(state[gates[0]], -1e6)  # far below: weight 0, no overflow
    assert min(edge_weights(arch, state).values()) == 0.0


def test_info_json_never_prints_nan(base, tmp_path, capsys):
    data = copy.deepcopy(base)
    data["stages"][1]["origin"] = {"p": float("nan")}
    path = tmp_path / "a.json"
    path.write_text(json.dumps(data))
    assert main(["info", "--json", str(path)]) == 0
    out = capsys.readouterr().out
    assert "NaN" not in out
    assert json.loads(out)["stages"][1]["origin"] == {"p": None}
