"""A real search (no synthetic fitness) on the canary dataset, from the command line.

The canary's test images show the stripes of the next class (see :mod:`genesis.data`), so a net
trained on train/val scores near 1 on ``val`` and near 0 on ``test``. A search record with a low
accuracy would mean the search scored on ``test``; a final record with a high one would mean the
final step scored on ``val``. The final step's weights and ONNX files are reloaded and checked
against the PyTorch module, and the report's links are followed.

The final ONNX model and standalone file are scored as a user without genesis would score them:
from what they carry alone (the ONNX model's ``metadata_props``; the file's ``preprocess()``, in
a process where genesis cannot be imported), on the canary's raw uint8 test images; both give
``final.json``'s test accuracy, and raw [0, 1] pixels another one.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import subprocess
import sys
import textwrap
from html.parser import HTMLParser
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from genesis import architecture_hash, load_architecture  # noqa: E402
from genesis.batches import channel_stats  # noqa: E402
from genesis.cli import main  # noqa: E402
from genesis.compiler import compile_architecture  # noqa: E402
from genesis.data import canary_dataset, make_splits  # noqa: E402
from genesis.preprocess import read_sidecar  # noqa: E402

CONFIG = """\
[space]
channels = [4]
nodes = [3, 4]
batch_sizes = [32]
[proxy]
val_size = 400
"""

FLAGS = [
    "--dataset", "canary",
    "--classes", "4",  # the canary has 4 classes
    "--population", "2",
    "--generations", "1",
    "--subset", "640",
    "--proxy-epochs", "3",
    "--final-top-k", "1",
    "--final-epochs", "2",
    "--final-batch", "none",  # the canary's 2 epochs are a few steps at the default 256
    "--workers", "2",
    "--device", "cpu",
]  # fmt: skip
# Two workers, not one: each worker takes os.cpu_count() // workers torch threads, and on a
# shared 2-core machine two spinning OpenMP threads per worker train ~20x slower than one.


def genesis(*argv, timeout=300) -> subprocess.CompletedProcess:
    env = dict(os.environ, OMP_NUM_THREADS="1")
    return subprocess.run(
        [sys.executable, "-m", "genesis", *map(str, argv)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("canary")
    (root / "tiny.toml").write_text(CONFIG)
    run = root / "run"
    proc = genesis("evolve", "--config", root / "tiny.toml", *FLAGS, "--out", run)
    assert proc.returncode == 0, proc.stderr
    return run


def records(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "evaluations.jsonl").read_text().splitlines()]


def normalized_test_images():
    """The canary's test images, normalized as the final training normalized its inputs."""
    data = canary_dataset()
    xf = data.train_x.float() / 255  # the final step trains on train + val: the whole train set
    mean, std = xf.mean(dim=(0, 2, 3)), xf.std(dim=(0, 2, 3)).clamp_min(1e-3)
    x = (data.test_x.float() / 255 - mean.view(1, -1, 1, 1)) / std.view(1, -1, 1, 1)
    return x, data.test_y, data.num_classes


def test_the_search_scores_on_val_only(run):
    trained = [e for e in records(run) if e["kind"] == "train"]
    assert len(trained) == 4
    for e in trained:
        r = e["result"]
        assert r["status"] == "ok", r.get("error")
        assert r["split"] == "val" and r["test_accuracy"] is None
        assert r["device"] == "cpu" and r["epochs"] == 3
        # scored on the test split, the canary would show near 0
        assert r["accuracy"] == r["val_accuracy"] >= 0.9
    pareto = json.loads((run / "pareto.json").read_text())
    members = pareto["members"] if isinstance(pareto, dict) else pareto
    assert members and all(m["accuracy"] >= 0.9 for m in members)


def test_the_final_step_scores_on_test(run):
    final = json.loads((run / "final.json").read_text())
    assert len(final) == 1
    (f,) = final
    assert f["status"] == "ok", f["error"]
    assert f["val_accuracy_search"] >= 0.9
    # the canary: trained on train + val, the net reads each test image as the next class
    assert f["test_accuracy"] <= 0.1
    assert f["epochs"] == 2
    assert f["weights"] == f"final/{f['hash']}.pt" and f["onnx"] == f"final/{f['hash']}.onnx"
    assert f["onnx_error"] is None and f["onnx_max_diff"] < 1e-4
    assert f["python"] == f"final/{f['hash']}.py"
    assert f["python_error"] is None and f["python_max_diff"] <= 1e-6


def test_the_final_standalone_source_predicts_what_genesis_does(run):
    """final/H.py beside the ONNX file: plain PyTorch that loads the final weights."""
    (f,) = json.loads((run / "final.json").read_text())
    namespace: dict = {}
    source = (run / f["python"]).read_text()
    assert "import genesis" not in source
    exec(compile(source, f["python"], "exec"), namespace)  # the run's own file
    standalone = namespace["build_model"](str(run / f["weights"]))
    model = compile_architecture(load_architecture(run / f["architecture"]))
    model.load_state_dict(torch.load(run / f["weights"], weights_only=True))
    model.eval()
    x, _, _ = normalized_test_images()
    with torch.no_grad():
        assert (standalone(x[:64]) - model(x[:64])).abs().max().item() <= 1e-6


def test_the_final_weights_reload_and_predict_the_canary(run):
    (f,) = json.loads((run / "final.json").read_text())
    arch = load_architecture(run / f["architecture"])
    model = compile_architecture(arch)
    model.load_state_dict(torch.load(run / f["weights"], weights_only=True))  # fits exactly
    model.eval()
    x, y, k = normalized_test_images()
    with torch.no_grad():
        pred = model(x).argmax(1)
    assert (pred == y).float().mean().item() == pytest.approx(f["test_accuracy"], abs=0.02)
    assert (pred == (y + 1) % k).float().mean() >= 0.9  # the trained net, not a fresh one


def test_the_final_onnx_reloads_and_matches_pytorch(run):
    ort = pytest.importorskip("onnxruntime")
    (f,) = json.loads((run / "final.json").read_text())
    model = compile_architecture(load_architecture(run / f["architecture"]))
    model.load_state_dict(torch.load(run / f["weights"], weights_only=True))
    model.eval()
    x, _, _ = normalized_test_images()
    x = x[:64].contiguous()
    session = ort.InferenceSession(str(run / f["onnx"]), providers=["CPUExecutionProvider"])
    (name,) = [i.name for i in session.get_inputs()]
    (got,) = session.run(None, {name: x.numpy()})
    with torch.no_grad():
        want = model(x).numpy()
    assert got.shape == want.shape == (64, arch_classes(run, f))
    assert abs(got - want).max() < 1e-4
    assert (got.argmax(1) == want.argmax(1)).all()
    meta = session.get_modelmeta().custom_metadata_map
    assert (
        json.loads(meta["genesis.architecture"])["stages"]
        == json.loads((run / f["architecture"]).read_text())["stages"]
    )


def arch_classes(run: Path, f: dict) -> int:
    return load_architecture(run / f["architecture"]).num_classes


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        for key, value in attrs:
            if key in ("href", "src", "xlink:href") and value:
                self.links.append(value)


def links_of(page: Path) -> list[str]:
    parser = _Links()
    parser.feed(page.read_text())
    return [u for u in parser.links if not u.startswith(("data:", "#"))]


def test_the_report_links_only_to_files_that_exist(run, tmp_path):
    assert main(["report", str(run)]) == 0
    links = links_of(run / "report.html")
    (f,) = json.loads((run / "final.json").read_text())
    assert {f["weights"], f["onnx"], f["architecture"]} <= set(links)
    for link in links:
        target = (run / link).resolve()
        assert target.is_relative_to(run.resolve()) and target.is_file(), link
    # without the ONNX file the report drops that link, and keeps the others
    copy = tmp_path / "run"
    subprocess.run(["cp", "-r", str(run), str(copy)], check=True)
    (copy / f["onnx"]).unlink()
    assert main(["report", str(copy)]) == 0
    links = links_of(copy / "report.html")
    assert f["onnx"] not in links and f["weights"] in links
    assert all((copy / link).is_file() for link in links)


# -- what the final files carry: a user scores them without genesis ----------------------------
def test_the_final_preprocessing_is_what_the_final_training_used(run):
    (f,) = json.loads((run / "final.json").read_text())
    beside = read_sidecar(run / f["weights"])  # final/H.preprocess.json
    assert beside is not None and beside.to_dict() == f["preprocess"]
    # the final step trained on the whole training set as the search split it (val_size 400)
    splits = make_splits(canary_dataset(), val_size=400)
    mean, std = channel_stats(splits.full_train()[0])
    assert torch.equal(torch.tensor(beside.mean, dtype=torch.float32), mean)
    assert torch.equal(torch.tensor(beside.std, dtype=torch.float32), std)
    assert beside.class_names == ("0", "1", "2", "3") and beside.channels == "grey"


def raw_test_images():
    """The canary's test images as a user has them: uint8 (N, H, W), and their labels."""
    data = canary_dataset()
    return data.test_x[:, 0].numpy(), data.test_y.numpy()


def test_the_final_onnx_scores_its_test_accuracy_from_its_own_metadata(run):
    ort = pytest.importorskip("onnxruntime")
    import numpy as np

    (f,) = json.loads((run / "final.json").read_text())
    session = ort.InferenceSession(str(run / f["onnx"]), providers=["CPUExecutionProvider"])
    meta = session.get_modelmeta().custom_metadata_map
    # only the file's own metadata, read as any ONNX user reads it
    shape = json.loads(meta["input_shape"])
    mean = np.array(json.loads(meta["mean"]), np.float32).reshape(1, -1, 1, 1)
    std = np.array(json.loads(meta["std"]), np.float32).reshape(1, -1, 1, 1)
    scale = json.loads(meta["scale"])
    assert meta["channel_order"] == "grey" and shape == [1, 28, 28]
    assert json.loads(meta["class_names"]) == ["0", "1", "2", "3"]
    pixels, y = raw_test_images()
    x = pixels.reshape(-1, *shape).astype(np.float32)
    (name,) = [i.name for i in session.get_inputs()]

    def accuracy(batch):
        (logits,) = session.run(None, {name: batch.astype(np.float32)})
        return float((logits.argmax(1) == y).mean()), logits.argmax(1)

    acc, pred = accuracy((x / scale - mean) / std)
    assert acc == pytest.approx(f["test_accuracy"], abs=1e-4)
    assert (pred == (y + 1) % 4).mean() >= 0.9  # the trained net reads the next class
    # raw [0, 1] pixels, as a user without the metadata would feed them: another accuracy
    raw, _ = accuracy(x / 255)
    assert abs(raw - f["test_accuracy"]) > 0.05


def _block() -> str:
    """The import block of tests/genesis/test_standalone.py (BLOCK): genesis unimportable."""
    path = Path(__file__).parents[1] / "genesis" / "test_standalone.py"
    spec = importlib.util.spec_from_file_location("_standalone_tests", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.BLOCK


#: The final .py, its weights and raw uint8 (N, H, W) images: the file's preprocess() and
#: model; prints the predictions, then the genesis modules loaded (none).
SCORER = textwrap.dedent(
    """
    import json
    model_file, weights, images = sys.argv[1:]
    spec = importlib.util.spec_from_file_location("model", model_file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    model = module.build_model(weights)
    with torch.no_grad():
        pred = model(module.preprocess(torch.load(images, weights_only=True))).argmax(1)
    print(json.dumps(pred.tolist()))
    print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in ("genesis", "graphs"))))
    """
)


def test_the_final_standalone_file_scores_its_test_accuracy_without_genesis(run, tmp_path):
    import numpy as np

    (f,) = json.loads((run / "final.json").read_text())
    pixels, y = raw_test_images()
    torch.save(torch.from_numpy(pixels), tmp_path / "images.pt")
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            _block() + SCORER,
            run / f["python"],
            run / f["weights"],
            tmp_path / "images.pt",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    predictions, loaded = proc.stdout.splitlines()
    assert json.loads(loaded) == []  # nothing of genesis was loaded
    pred = np.array(json.loads(predictions))
    assert float((pred == y).mean()) == pytest.approx(f["test_accuracy"], abs=1e-4)
    assert (pred == (y + 1) % 4).mean() >= 0.9


def test_the_final_standalone_file_names_its_member_and_the_recipe_it_trained(run):
    (f,) = json.loads((run / "final.json").read_text())
    h = f["hash"]
    member = load_architecture(run / f["architecture"])
    assert architecture_hash(member) == h and f["python"] == f"final/{h}.py"
    tree = ast.parse((run / f["python"]).read_text())
    doc = ast.get_docstring(tree)
    assert doc.startswith(f"RandWireNet {h}:") and f"from architecture {h} " in doc
    constants = {t.id: n.value for n in tree.body if isinstance(n, ast.Assign) for t in n.targets}
    train = json.loads(ast.literal_eval(constants["ARCHITECTURE"]))["train"]
    # what the final step trained: the member's own batch and rate (--final-batch none), the
    # epochs completed (a final step's batch and scaled rate: tests/evolve/test_evolve_final.py)
    t = member.train
    assert train == f["train"]
    assert (train["batch_size"], train["lr"], train["epochs"]) == (t.batch_size, t.lr, f["epochs"])
    assert t.epochs != f["epochs"]  # not the searched recipe
    assert f"batch {t.batch_size}, learning rate {t.lr!r}, {f['epochs']:g} epochs" in doc
    # the ONNX model embeds the same recipe
    import onnx

    props = {p.key: p.value for p in onnx.load(str(run / f["onnx"])).metadata_props}
    assert json.loads(props["genesis.architecture"])["train"] == train
