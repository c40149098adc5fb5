"""``genesis train``, in process: the record, --final, --out, and bad input as one line."""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
import pytest
import torch

import genesis.data
import genesis.data.cifar
import genesis.data.idx
import genesis.data.images
import genesis.data.sources
import genesis.ops
from genesis import (
    OPS,
    Architecture,
    Stage,
    StemLayer,
    TrainConfig,
    architecture_hash,
    load_architecture,
    register_op,
    save_architecture,
)
from genesis.cli import main
from genesis.compiler import compile_architecture
from genesis.ops import ReLUConvBN
from genesis.preprocess import read_sidecar
from genesis.train import resolve_device
from graphs import to_dag

FILES = {
    "architecture.json",
    "result.json",
    "weights.pt",
    "weights.preprocess.json",
    "tensorboard",
}


def tiny_arch(ops=("conv_3x3", "conv_3x3")) -> Architecture:
    """1x28x28 in, a stride-2 stem and one stride-2 stage of 8 channels: about a second a run."""
    return Architecture(
        input_shape=(1, 28, 28),
        num_classes=10,
        stem=(StemLayer(4, stride=2),),
        stages=(Stage(to_dag(nx.path_graph(len(ops)), op=list(ops)), channels=8, stride=2),),
        train=TrainConfig(batch_size=32, epochs=3),
    )


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny networks gain nothing from intra-op threads, and lose a lot on a busy machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def arch_file(tmp_path) -> Path:
    return save_architecture(tiny_arch(), tmp_path / "arch.json")


class NaNOp(torch.nn.Sequential):
    def forward(self, x):
        return super().forward(x) * float("nan")


@pytest.fixture
def diverging_file(tmp_path) -> Path:
    """An architecture whose second node outputs NaN (op registered for this test only)."""
    register_op("probe_cli_nan", genesis.ops._conv_cx(1))(
        lambda c_in, c_out, stride: NaNOp(*ReLUConvBN(c_in, c_out, stride, k=1))
    )
    yield save_architecture(tiny_arch(("conv_3x3", "probe_cli_nan")), tmp_path / "nan.json")
    OPS.unregister("probe_cli_nan")


def run(argv, capsys) -> tuple[int, str, str]:
    """``genesis ARGV`` in process: exit code, stdout, stderr."""
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:  # argparse errors
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def train(arch_file, *extra) -> list[str]:
    return ["train", arch_file, "--dataset", "synthetic", "--epochs", "1", *extra]


def assert_one_line_error(code: int, out: str, err: str, *needles: str) -> None:
    assert code == 2, (out, err)
    assert out == ""
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1 and err.endswith("\n"), err
    assert lines[0].startswith("genesis train: error: "), err
    for needle in needles:
        assert needle in lines[0], (needle, err)


# -- records --------------------------------------------------------------------------------------
def test_json_record_of_a_search_run(arch_file, capsys):
    code, out, err = run(train(arch_file, "--json"), capsys)
    assert code == 0, err
    assert err == ""
    assert out.endswith("\n") and out.count("\n") == 1
    record = json.loads(out)
    assert record["status"] == "ok" and record["error"] is None
    assert record["split"] == "val"
    assert 0 <= record["accuracy"] <= 1 and record["accuracy"] == record["val_accuracy"]
    assert record["test_accuracy"] is None
    assert record["epochs"] == 1 and record["batch_size"] == 32 and record["seed"] == 0
    assert record["hash"] == architecture_hash(tiny_arch())
    assert record["dataset"] == "synthetic" and record["split_seed"] == 0
    assert record["device"] == str(resolve_device(None))


def test_final_run_reports_test_accuracy(arch_file, capsys):
    code, out, err = run(train(arch_file, "--json", "--final", "--seed", "4"), capsys)
    assert code == 0, err
    record = json.loads(out)
    assert record["status"] == "ok" and record["split"] == "test"
    assert record["accuracy"] == record["test_accuracy"] is not None
    assert record["val_accuracy"] is None and record["seed"] == 4


@pytest.mark.parametrize("existing", [False, True], ids=["new", "empty"])
def test_out_saves_architecture_result_and_loadable_weights(arch_file, tmp_path, capsys, existing):
    out_dir = tmp_path / "runs" / "one"
    if existing:
        out_dir.mkdir(parents=True)
    code, out, err = run(train(arch_file, "--json", "--out", out_dir), capsys)
    assert code == 0, err
    assert {p.name for p in out_dir.iterdir()} == FILES  # and no temporary files left
    arch = load_architecture(out_dir / "architecture.json")
    assert arch == tiny_arch()
    assert json.loads((out_dir / "result.json").read_text()) == json.loads(out)
    state = torch.load(out_dir / "weights.pt", weights_only=True)
    model = compile_architecture(arch)
    initial = {k: v.clone() for k, v in model.state_dict().items()}
    model.load_state_dict(state)  # strict: every key, every shape
    assert all(v.device.type == "cpu" for v in state.values())
    assert any(not torch.equal(initial[k], v) for k, v in state.items())  # trained, not init
    model.eval()
    assert model(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
    # beside the weights, what they expect of their input: the record's, as the training used it
    beside = read_sidecar(out_dir / "weights.pt")
    assert beside is not None and beside.to_dict() == json.loads(out)["preprocess"]
    assert beside.input_shape == (1, 28, 28) and beside.channels == "grey"


def test_human_readable_summary(arch_file, tmp_path, capsys):
    code, out, err = run(train(arch_file, "--out", tmp_path / "o", "--no-augment"), capsys)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("ok: val accuracy 0.") or lines[0].startswith("ok: val accuracy 1.")
    assert "(synthetic)" in lines[0] and "1 epoch in" in lines[0] and "seed 0" in lines[0]
    assert lines[-1] == (
        f"saved {tmp_path / 'o'}/architecture.json, result.json, weights.pt, "
        "weights.preprocess.json"
    )


# -- bad input: exit 2, one line, nothing written -------------------------------------------------
def test_non_empty_out_dir_is_left_alone(arch_file, tmp_path, capsys):
    out_dir = tmp_path / "taken"
    out_dir.mkdir()
    (out_dir / "result.json").write_text("precious\n")
    (out_dir / "notes.txt").write_text("mine\n")
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in out_dir.iterdir()}
    code, out, err = run(train(arch_file, "--json", "--out", out_dir), capsys)
    assert_one_line_error(code, out, err, "exists and is not empty", str(out_dir))
    after = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in out_dir.iterdir()}
    assert after == before


def test_out_that_is_a_file_is_left_alone(arch_file, tmp_path, capsys):
    target = tmp_path / "file"
    target.write_text("keep\n")
    code, out, err = run(train(arch_file, "--out", target), capsys)
    assert_one_line_error(code, out, err, "exists and is not empty")
    assert target.read_text() == "keep\n"


def test_missing_dataset_folder(arch_file, tmp_path, capsys):
    code, out, err = run(["train", arch_file, "--dataset", tmp_path / "nope"], capsys)
    assert_one_line_error(code, out, err, "unknown dataset", str(tmp_path / "nope"))
    (tmp_path / "empty").mkdir()
    code, out, err = run(["train", arch_file, "--dataset", tmp_path / "empty"], capsys)
    assert_one_line_error(code, out, err, "lacks train-images-idx3-ubyte")


def test_fashion_mnist_not_installed(arch_file, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(genesis.data.sources, "DATA_DIRS", ("", str(tmp_path)))
    code, out, err = run(["train", arch_file], capsys)  # the default dataset
    assert_one_line_error(code, out, err, "apt-get install dataset-fashion-mnist")


def test_bad_device(arch_file, monkeypatch, capsys):
    code, out, err = run(train(arch_file, "--device", "bogus"), capsys)
    assert_one_line_error(code, out, err, "unknown device 'bogus'")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    code, out, err = run(train(arch_file, "--device", "cuda"), capsys)
    assert_one_line_error(code, out, err, "no CUDA device")


def test_shape_mismatch(arch_file, capsys):
    code, out, err = run(["train", arch_file, "--dataset", "synthetic:3x32x32"], capsys)
    assert_one_line_error(code, out, err, "(3, 32, 32)", "expects (1, 28, 28)")


@pytest.mark.parametrize(
    "flags, needle",
    [
        (["--epochs", "0"], "budget epochs must be a positive number"),
        (["--time-limit", "-1"], "budget time_limit must be a positive number"),
        (["--val-size", "0"], "give a validation size (--val-size) of 1.."),
        (["--subset", "0"], "subset must be a positive number"),
        (["--dataset", "synthetic:1x28"], "CxHxW"),
    ],
)
def test_bad_flags(arch_file, capsys, flags, needle):
    code, out, err = run([*train(arch_file), *flags], capsys)
    assert_one_line_error(code, out, err, needle)


def test_missing_architecture_file(tmp_path, capsys):
    code, out, err = run(train(tmp_path / "none.json"), capsys)
    assert_one_line_error(code, out, err, "does not exist")


# -- a failed candidate: exit 1, the record still printed -----------------------------------------
def test_diverging_architecture_exits_1_with_its_record(diverging_file, tmp_path, capsys):
    out_dir = tmp_path / "div"
    code, out, err = run(train(diverging_file, "--json", "--out", out_dir), capsys)
    assert code == 1, err
    assert "Traceback" not in err
    record = json.loads(out)
    assert record["status"] == "diverged" and record["accuracy"] is None
    assert record["error"].startswith("loss became nan")
    assert {p.name for p in out_dir.iterdir()} == FILES - {"weights.pt", "weights.preprocess.json"}
    assert json.loads((out_dir / "result.json").read_text()) == record


def test_diverging_architecture_human_readable(diverging_file, capsys):
    code, out, err = run(train(diverging_file), capsys)
    assert code == 1, err
    lines = out.splitlines()
    assert lines[0].startswith("diverged: val accuracy - (synthetic)")
    assert lines[1].startswith("note: loss became nan")
