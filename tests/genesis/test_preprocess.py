"""Exported models carry their preprocessing: the record, the datasets' class names, the
training that computes it, and every artefact that carries it (sidecar, ONNX, program, .py).

A user who gets a model from genesis must be able to feed it: the input shape, the channel
order, the mean and std it was normalised with and the class names travel with the weights
(``W.preprocess.json``), in the ONNX model's ``metadata_props``, the program's extra files and
the standalone file's ``PREPROCESS`` / ``preprocess()``. The end-to-end check (a real search on
the canary, its final ONNX and ``.py`` scored from their own metadata) is in
``tests/evolve/test_canary_search.py``.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import os
import struct
import zipfile
from pathlib import Path

import pytest
import torch
from test_cli_train import tiny_arch
from test_data import idx_arrays, write_cifar_folder, write_idx_folder
from test_data_images import _folder
from test_hostile_code import MARK, _payloads

import genesis.data.sources
import genesis.preprocess
from genesis import GenesisError, save_architecture
from genesis.batches import Batches, channel_stats
from genesis.cli import main
from genesis.compiler import compile_architecture
from genesis.data import (
    CIFAR10_CLASSES,
    FASHION_MNIST_CLASSES,
    Dataset,
    canary_dataset,
    load_dataset,
    make_splits,
    synthetic_dataset,
)
from genesis.export import export_onnx, read_onnx_preprocess
from genesis.preprocess import (
    MAX_CLASS_NAME_CHARS,
    MAX_PREPROCESS_BYTES,
    Preprocess,
    float32_round,
    read_sidecar,
    sidecar_path,
    write_sidecar,
)
from genesis.record import TrainResult
from genesis.standalone import export_python, python_source
from genesis.train import Budget, train_architecture

FASHION = Preprocess((1, 28, 28), "grey", (0.2860406,), (0.3530242,), 255.0, FASHION_MNIST_CLASSES)


def _one_line(err: str) -> str:
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


# -- the record ----------------------------------------------------------------------------------
def test_the_record_round_trips_through_json():
    text = json.dumps(FASHION.to_dict())
    assert Preprocess.from_dict(json.loads(text)) == FASHION
    assert Preprocess.from_json(FASHION.to_json()) == FASHION
    assert FASHION.to_json().isascii() and "\n" not in FASHION.to_json()
    assert FASHION.to_dict()["class_names"][0] == "T-shirt/top"


def test_a_statistic_is_recorded_as_the_shortest_decimal_of_its_float32():
    values = torch.rand(2000, generator=torch.Generator().manual_seed(0))
    for v in values.tolist():
        short = float32_round(v)
        assert struct.pack("f", short) == struct.pack("f", v)  # exactly the float32
        digits = repr(short).split("e")[0].replace(".", "").lstrip("0")
        assert len(digits) <= 9  # a float32 needs at most 9 significant digits


def _hostile(change: dict) -> dict:
    return {**FASHION.to_dict(), **change}


HOSTILE = {
    "nan mean": (_hostile({"mean": [float("nan")]}), "finite"),
    "infinite std": (_hostile({"std": [float("inf")]}), "finite"),
    "zero std": (_hostile({"std": [0.0]}), "positive"),
    "text mean": (_hostile({"mean": ["0.5"]}), "finite numbers"),
    "two means for one channel": (_hostile({"mean": [0.5, 0.5]}), "has 2 values"),
    "no std": (_hostile({"std": []}), "has 0 values"),
    "newline in a class name": (_hostile({"class_names": ["a", 'b"""\nimport os']}), "one line"),
    "line separator": (_hostile({"class_names": ["a\u2028b"]}), "one line"),
    "terminal escape": (_hostile({"class_names": ["\x1b[2J"]}), "one line"),
    "long class name": (
        _hostile({"class_names": ["n" * (MAX_CLASS_NAME_CHARS + 1)]}),
        f"MAX_CLASS_NAME_CHARS = {MAX_CLASS_NAME_CHARS}",
    ),
    "class name not text": (_hostile({"class_names": [3]}), "must be a string"),
    "class names not a list": (_hostile({"class_names": "abc"}), "list of strings"),
    "colour order of grey": (_hostile({"channels": "RGB"}), "channels must be 'grey'"),
    "short shape": (_hostile({"input_shape": [1, 28]}), "3 integers"),
    "bool in shape": (_hostile({"input_shape": [True, 28, 28]}), "3 integers"),
    "huge shape": (_hostile({"input_shape": [1, 28, 10**9]}), "MAX_RESOLUTION"),
    "negative scale": (_hostile({"scale": -1}), "scale must be positive"),
    "unknown field": (_hostile({"run": "rm -rf /"}), "unknown field"),
    "missing field": ({"mean": [0.5]}, "missing the field"),
    "not an object": ([1, 2], "JSON object"),
}


@pytest.mark.parametrize("data, match", HOSTILE.values(), ids=HOSTILE.keys())
def test_a_hostile_record_is_refused_with_one_line(data, match):
    with pytest.raises(GenesisError, match=match) as info:
        Preprocess.from_dict(data, "the file")
    assert "\n" not in str(info.value) and str(info.value).startswith("the file")


@pytest.mark.parametrize(
    "text, match",
    [
        (json.dumps({**FASHION.to_dict(), "mean": [float("nan")]}), "finite"),
        ("[" * 100_000 + "]" * 100_000, "not valid JSON"),
        ('{"a": 1', "not valid JSON"),
        ("1" * 5000, "not valid JSON"),  # past Python's digit limit
    ],
    ids=["nan", "deep", "cut", "long-int"],
)
def test_hostile_json_text_is_refused_with_one_line(text, match):
    with pytest.raises(GenesisError, match=match) as info:
        Preprocess.from_json(text, "the file")
    assert "\n" not in str(info.value)


def test_the_class_names_together_are_capped(monkeypatch):
    monkeypatch.setattr(genesis.preprocess, "MAX_CLASS_NAMES_CHARS", 40)
    with pytest.raises(GenesisError, match="MAX_CLASS_NAMES_CHARS = 40"):
        Preprocess.from_dict(FASHION.to_dict())  # 66 characters of names


def test_old_records_without_preprocess_read_as_none():
    record = TrainResult.synthetic(1, 1, 0.5, seed=0, batch_size=1, final=False).to_dict()
    del record["preprocess"]
    assert TrainResult(**record).preprocess is None


# -- datasets name their classes -----------------------------------------------------------------
@pytest.mark.parametrize("name", ["fashion-mnist", "mnist"])
def test_named_idx_datasets_name_their_classes(tmp_path, monkeypatch, name):
    write_idx_folder(tmp_path / name, idx_arrays(), gz=False)  # labels 0..9
    monkeypatch.setattr(genesis.data.sources, "DATA_DIRS", (str(tmp_path),))
    want = FASHION_MNIST_CLASSES if name == "fashion-mnist" else tuple("0123456789")
    assert load_dataset(name).classes == want


def test_other_datasets_name_their_classes(tmp_path):
    write_cifar_folder(tmp_path / "cifar")
    assert load_dataset(str(tmp_path / "cifar")).classes == CIFAR10_CLASSES
    assert CIFAR10_CLASSES[:3] == ("airplane", "automobile", "bird")
    write_idx_folder(tmp_path / "idx", idx_arrays(), gz=True)
    assert load_dataset(str(tmp_path / "idx")).classes == tuple("0123456789")
    assert load_dataset(str(_folder(tmp_path / "imgs")), 8).classes == ("ant", "bird", "cat")
    assert canary_dataset().classes == ("0", "1", "2", "3")
    assert synthetic_dataset(num_classes=3, n_train=4, n_test=2).classes == ("0", "1", "2")


@pytest.mark.parametrize("bad", ["new\nline", "bell\x07", "\u202eevil"], ids=["nl", "bel", "bidi"])
def test_an_image_class_folder_that_is_not_a_printable_line_is_refused(tmp_path, capsys, bad):
    root = _folder(tmp_path / "imgs", classes=("ant", bad))
    with pytest.raises(GenesisError, match="one line of printable characters"):
        load_dataset(str(root), 8)
    arch = save_architecture(tiny_arch(), tmp_path / "a.json")
    argv = ["train", str(arch), "--dataset", str(root), "--resolution", "28", "--out", "o"]
    assert main(argv) == 2
    assert "printable" in _one_line(capsys.readouterr().err)


def test_an_image_class_folder_whose_name_is_not_utf8_is_refused(tmp_path):
    root = _folder(tmp_path / "imgs", classes=("ant", "bee"))
    os.rename(root / "bee", os.fsencode(root) + b"/b\xffe")
    with pytest.raises(GenesisError, match="one line of printable characters"):
        load_dataset(str(root), 8)


def test_a_dataset_needs_one_name_per_class():
    x, y = torch.zeros(2, 1, 2, 2, dtype=torch.uint8), torch.zeros(2, dtype=torch.long)
    with pytest.raises(GenesisError, match="3 classes but 2 class names"):
        Dataset("d", x, y, x, y, 3, classes=("a", "b"))


# -- the training computes it ----------------------------------------------------------------------
@pytest.mark.parametrize("final", [False, True], ids=["search", "final"])
def test_the_record_holds_the_statistics_the_training_normalised_with(final):
    data = synthetic_dataset((3, 8, 8), num_classes=4, n_train=96, n_test=16, seed=2)
    data = dataclasses.replace(data, classes=("a", "b", "c", "d"))
    splits = make_splits(data, val_size=32)
    arch = tiny_arch().replace(input_shape=(3, 8, 8))
    result = train_architecture(
        arch, splits, final=final, budget=Budget(epochs=1), device="cpu", augment=False
    )
    assert result.status == "ok", result.error
    p = Preprocess.from_dict(result.preprocess)
    # recomputed on the very images that training trained on: the same float32, exactly
    mean, std = channel_stats(splits.full_train()[0] if final else splits.train_x)
    assert torch.equal(torch.tensor(p.mean, dtype=torch.float32), mean)
    assert torch.equal(torch.tensor(p.std, dtype=torch.float32), std)
    other = channel_stats(splits.train_x if final else splits.full_train()[0])[0]
    assert not torch.equal(other, mean)  # the two trainings normalise differently
    assert p.input_shape == (3, 8, 8) and p.channels == "RGB" and p.scale == 255
    assert p.class_names == ("a", "b", "c", "d")
    json.dumps(result.to_dict())


# -- artefacts: a trained-like model, its weights and sidecar ------------------------------------
@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Architecture, weights and the preprocessing beside them (canary-like numbers)."""
    root = tmp_path_factory.mktemp("pre")
    arch = tiny_arch().replace(num_classes=4)
    model = compile_architecture(arch, seed=1)
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05 * torch.randn(p.shape, generator=g))
    save_architecture(arch, root / "a.json")
    torch.save(model.eval().state_dict(), root / "w.pt")
    pre = Preprocess((1, 28, 28), "grey", (0.4993091,), (0.2621389,), 255.0, ("n", "e", "s", "w"))
    assert write_sidecar(root / "w.pt", pre) == root / "w.preprocess.json"
    return root / "a.json", root / "w.pt", pre


def test_the_sidecar_is_named_after_the_weights_and_read_back(files, tmp_path):
    assert sidecar_path("final/0123.pt") == Path("final/0123.preprocess.json")
    assert sidecar_path("weights") == Path("weights.preprocess.json")
    assert read_sidecar(files[1]) == files[2]
    assert read_sidecar(tmp_path / "none.pt") is None


def test_export_embeds_the_sidecar_in_every_artefact(files, tmp_path, capsys):
    ort = pytest.importorskip("onnxruntime")
    a, w, pre = files
    out = {k: tmp_path / f"m.{k}" for k in ("onnx", "py", "pt2")}
    argv = ["export", a, "--weights", w, "--onnx", out["onnx"], "--python", out["py"]]
    assert main([*map(str, argv), "--program", str(out["pt2"])]) == 0
    captured = capsys.readouterr()
    assert captured.err == "" and "preprocessing from" in captured.out
    # ONNX: the genesis record, and flat keys any reader can use
    meta = ort.InferenceSession(str(out["onnx"])).get_modelmeta().custom_metadata_map
    assert (
        Preprocess.from_json(meta["genesis.preprocess"]) == pre == read_onnx_preprocess(out["onnx"])
    )
    assert json.loads(meta["mean"]) == [0.4993091] and json.loads(meta["std"]) == [0.2621389]
    assert json.loads(meta["input_shape"]) == [1, 28, 28] and meta["channel_order"] == "grey"
    assert json.loads(meta["class_names"]) == ["n", "e", "s", "w"]
    assert json.loads(meta["scale"]) == 255 and meta["normalisation"].startswith("(pixels / scale")
    # the program's extra file
    with zipfile.ZipFile(out["pt2"]) as z:
        (name,) = [n for n in z.namelist() if n.endswith("genesis.preprocess.json")]
        assert Preprocess.from_json(z.read(name)) == pre
    # the standalone file
    namespace: dict = {}
    exec(compile(out["py"].read_text(), str(out["py"]), "exec"), namespace)  # our own file
    assert Preprocess(**namespace["PREPROCESS"]) == pre


def test_mean_and_std_flags_override_or_stand_alone(files, tmp_path, capsys):
    a, w, pre = files
    out = tmp_path / "m.onnx"
    assert main(["export", str(a), "--weights", str(w), "--onnx", str(out), "--mean", "0.5"]) == 0
    got = read_onnx_preprocess(out)
    assert got.mean == (0.5,) and got.std == pre.std and got.class_names == pre.class_names
    assert main(["export", str(a), "--onnx", str(out), "--mean", "0.5", "--std", "0.25"]) == 0
    got = read_onnx_preprocess(out)
    assert (got.mean, got.std, got.class_names) == ((0.5,), (0.25,), ())
    capsys.readouterr()
    assert main(["export", str(a), "--onnx", str(tmp_path / "x.onnx"), "--std", "0.25"]) == 2
    assert "--std needs --mean" in _one_line(capsys.readouterr().err)
    assert main(["export", str(a), "--onnx", str(out), "--mean", "0.5,0.5", "--std", "1,1"]) == 2
    assert "has 2 values" in _one_line(capsys.readouterr().err)
    assert not (tmp_path / "x.onnx").exists()


def test_an_export_without_preprocessing_says_so(files, tmp_path, capsys):
    ort = pytest.importorskip("onnxruntime")
    a, w, _ = files
    bare = tmp_path / "bare.pt"
    bare.write_bytes(w.read_bytes())  # no sidecar beside it
    onnx_path, py = tmp_path / "m.onnx", tmp_path / "m.py"
    argv = ["export", str(a), "--weights", str(bare), "--onnx", str(onnx_path), "--python", str(py)]
    assert main(argv) == 0
    err = _one_line(capsys.readouterr().err)
    assert err.startswith("warning: ") and "normalisation is unknown" in err
    assert "bare.preprocess.json" in err
    meta = ort.InferenceSession(str(onnx_path)).get_modelmeta().custom_metadata_map
    assert meta["normalisation"] == "unknown" and "mean" not in meta
    assert read_onnx_preprocess(onnx_path) is None
    namespace: dict = {}
    exec(compile(py.read_text(), str(py), "exec"), namespace)
    assert namespace["PREPROCESS"] is None
    with pytest.raises(ValueError, match="not known"):
        namespace["preprocess"](torch.zeros(1, 1, 28, 28, dtype=torch.uint8))


def _sidecar_cases() -> dict:
    good = json.loads(json.dumps({**FASHION.to_dict(), "class_names": ["n", "e", "s", "w"]}))
    return {
        "nan": (json.dumps({**good, "mean": [float("nan")]}), "finite"),
        "wrong length": (json.dumps({**good, "std": [0.1, 0.2]}), "has 2 values"),
        "newline class": (json.dumps({**good, "class_names": ["a\nb"]}), "one line"),
        "not json": ("{{{", "not valid JSON"),
        "not utf-8": (b"\xff\xfe", "not UTF-8"),
        "wrong shape": (json.dumps({**good, "input_shape": [1, 32, 32]}), "is for inputs of shape"),
        "too many classes": (json.dumps({**good, "class_names": list("abcde")}), "names 5 classes"),
        "huge": (None, f"MAX_PREPROCESS_BYTES = {MAX_PREPROCESS_BYTES}"),
        "link": ("link", "symbolic link"),
        "fifo": ("fifo", "a FIFO, not a regular file"),
    }


@pytest.mark.parametrize("case", _sidecar_cases())
def test_a_hostile_sidecar_is_refused_with_one_line_and_nothing_written(
    files, tmp_path, capsys, case
):
    a, w, _ = files
    content, match = _sidecar_cases()[case]
    weights = tmp_path / "w.pt"
    weights.write_bytes(w.read_bytes())
    side = sidecar_path(weights)
    if content is None:  # sparse: refused from its size, before a byte is read
        with open(side, "wb") as f:
            f.truncate(MAX_PREPROCESS_BYTES + 1)
    elif content == "link":
        os.symlink(sidecar_path(w), side)  # a good file, but a link is never followed
    elif content == "fifo":
        os.mkfifo(side)  # no writer: a blocking open would hang
    else:
        side.write_bytes(content if isinstance(content, bytes) else content.encode())
    outs = [tmp_path / "m.onnx", tmp_path / "m.py"]
    argv = ["export", str(a), "--weights", str(weights), "--onnx", str(outs[0])]
    assert main([*argv, "--python", str(outs[1])]) == 2
    err = _one_line(capsys.readouterr().err)
    assert err.startswith("genesis export: error:") and match in err, err
    assert not any(p.exists() for p in outs)


@pytest.fixture(scope="module")
def onnx_file(files, tmp_path_factory) -> tuple[Path, Preprocess]:
    """An ONNX export of the weights with their preprocessing."""
    pytest.importorskip("onnxruntime")
    a, w, pre = files
    arch = genesis.load_architecture(a)
    model = compile_architecture(arch)
    model.load_state_dict(torch.load(w, weights_only=True))
    path = tmp_path_factory.mktemp("onnx") / "m.onnx"
    export_onnx(model, arch, path, preprocess=pre)
    return path, pre


def _retag(path: Path, key: str, value: str) -> None:
    import onnx

    proto = onnx.load(str(path))
    for prop in proto.metadata_props:
        if prop.key == key:
            prop.value = value
    onnx.save(proto, str(path))


@pytest.mark.parametrize(
    "change, match",
    [
        ({"mean": [float("nan")]}, "finite"),
        ({"class_names": ["x\ny"]}, "one line"),
        ({"std": [1.0, 2.0]}, "has 2 values"),
    ],
)
def test_hostile_onnx_metadata_is_refused_with_one_line(onnx_file, tmp_path, change, match):
    pre = onnx_file[1]
    path = tmp_path / "m.onnx"
    path.write_bytes(onnx_file[0].read_bytes())
    _retag(path, "genesis.preprocess", json.dumps({**pre.to_dict(), **change}))
    with pytest.raises(GenesisError, match=match) as info:
        read_onnx_preprocess(path)
    assert "\n" not in str(info.value) and "metadata genesis.preprocess" in str(info.value)


# -- the standalone file -------------------------------------------------------------------------
def test_the_standalone_preprocess_is_the_trainers_normalisation(files, tmp_path):
    a, w, pre = files
    arch = genesis.load_architecture(a)
    model = compile_architecture(arch)
    model.load_state_dict(torch.load(w, weights_only=True))
    path = tmp_path / "m.py"
    export_python(model, arch, path, preprocess=pre)
    namespace: dict = {}
    exec(compile(path.read_text(), str(path), "exec"), namespace)
    prep = namespace["preprocess"]
    g = torch.Generator().manual_seed(5)
    pixels = torch.randint(0, 256, (6, 1, 28, 28), generator=g, dtype=torch.uint8)
    mean, std = torch.tensor(pre.mean), torch.tensor(pre.std)
    want = Batches(pixels, pixels, mean, std, False, False, g).normalise(pixels)
    assert torch.equal(prep(pixels), want)  # bit for bit what the trainer feeds
    assert torch.equal(prep(pixels[:, 0].numpy()), want)  # (N, H, W) NumPy pixels
    torch.testing.assert_close(prep(pixels.float() / 255), want, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match=r"\(N, 1, 28, 28\)"):
        prep(torch.zeros(2, 3, 28, 28, dtype=torch.uint8))
    with pytest.raises(ValueError, match="uint8 pixels or floats"):
        prep(torch.zeros(2, 1, 28, 28, dtype=torch.int32))
    # raw [0, 1] pixels are not what the model was trained on (the canary search shows its
    # accuracy then, tests/evolve/test_canary_search.py)
    with torch.no_grad():
        model.eval()
        assert (model(want) - model(pixels.float() / 255)).abs().max() > 1e-3


def _blanked(source: str) -> str:
    """The module's AST with the constants that hold validated input blanked."""
    tree = ast.parse(source)
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") in (
            "NAME",
            "ARCHITECTURE",
            "PREPROCESS",
        ):
            node.value = ast.Constant("")
    return ast.dump(tree)


def test_hostile_class_names_only_ever_become_string_constants(files, tmp_path):
    a, _, pre = files
    arch = genesis.load_architecture(a)
    model = compile_architecture(arch)
    mark = tmp_path / MARK
    plain = _blanked(python_source(model, arch, preprocess=pre))
    payloads = _payloads(mark)
    for i in range(0, len(payloads), 4):
        names = tuple(payloads[i : i + 4])
        hostile = Preprocess(pre.input_shape, pre.channels, pre.mean, pre.std, 255.0, names)
        source = python_source(model, arch, preprocess=hostile)
        assert _blanked(source) == plain  # the same program; the names in PREPROCESS alone
        tree = ast.parse(source)
        constants = {
            t.id: n.value for n in tree.body if isinstance(n, ast.Assign) for t in n.targets
        }
        assert ast.literal_eval(constants["PREPROCESS"])["class_names"] == names
        assert not any(p in ast.get_docstring(tree) for p in names)
        namespace: dict = {"__name__": "hostile"}
        exec(compile(source, "model.py", "exec"), namespace)
        namespace["build_model"]()
        assert not mark.exists()


def test_a_final_members_file_names_its_hash_and_recipe(files):
    a, _, pre = files
    arch = genesis.load_architecture(a)
    model = compile_architecture(arch)
    h = "0123456789abcdef0123"
    doc = ast.get_docstring(ast.parse(python_source(model, arch, preprocess=pre, member=h)))
    assert doc.startswith(f"RandWireNet {h}:") and f"from architecture {h} " in doc
    t = arch.train
    assert f"batch {t.batch_size}, learning rate {t.lr!r}, {t.epochs} epochs" in doc
    with pytest.raises(GenesisError, match="must be an architecture hash"):
        python_source(model, arch, member="x\nimport os")
