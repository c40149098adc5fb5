"""The files of a final step's member say what trained them and what they expect of their input.

The final step rewrites a member's ``train`` config (its own batch, its learning rate scaled)
before training it, which changes the genome's hash. Its worker writes ``final/H.py`` under
the member's hash H with the recipe that actually trained the weights, the preprocessing
beside the weights (``final/H.preprocess.json``) and in the files it exports. A real search
on the canary checks the same end to end, ONNX model included
(tests/evolve/test_canary_search.py).
"""

from __future__ import annotations

import ast
import json
from dataclasses import replace

import pytest

from evolve.config import ProxyConfig
from evolve.evaluate import evaluate_task, make_task, trained_recipe
from genesis import Architecture, architecture_hash, build_architecture
from genesis.preprocess import read_sidecar

#: A tiny proxy: the synthetic set (512 training images, 1x28x28), 64 for validation.
PROXY = ProxyConfig(dataset="synthetic", val_size=64, epochs=1.0, rungs=(), device="cpu")


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny networks gain nothing from intra-op threads, and lose a lot on a busy machine."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def member() -> Architecture:
    return build_architecture("fashion-mnist", seed=0, nodes=5, channels=4)


def _constants(source: str) -> tuple[str, dict]:
    tree = ast.parse(source)
    values = {t.id: n.value for n in tree.body if isinstance(n, ast.Assign) for t in n.targets}
    return ast.get_docstring(tree), values


def test_a_final_members_files_name_its_hash_and_the_recipe_that_trained_it(member, tmp_path):
    h = architecture_hash(member)
    # what final.py hands the worker: the member at the final step's batch, its rate scaled
    recipe = member.replace(train=replace(member.train, batch_size=64, lr=0.05))
    assert architecture_hash(recipe) != h
    paths = {k: tmp_path / f"{h}.{k}" for k in ("pt", "py")}  # ONNX: the canary search's
    task = make_task(
        recipe,
        0,
        PROXY,
        final=True,
        epochs=1.0,
        weights_path=str(paths["pt"]),
        python_path=str(paths["py"]),
        member=h,
    )
    record = evaluate_task(task, "cpu")
    assert record["status"] == "ok" and record.get("python_error") is None, record
    trained = trained_recipe(recipe, record).train
    assert (trained.batch_size, trained.lr, trained.epochs) == (64, 0.05, 1)
    doc, constants = _constants(paths["py"].read_text())
    assert doc.startswith(f"RandWireNet {h}:") and f"from architecture {h} " in doc
    assert "batch 64, learning rate 0.05, 1 epochs" in doc
    embedded = json.loads(ast.literal_eval(constants["ARCHITECTURE"]))
    assert embedded["train"] == json.loads(recipe.replace(train=trained).to_json())["train"]
    assert embedded["train"]["epochs"] == 1 != member.train.epochs
    # the preprocessing: in the record, beside the weights, in the .py
    beside = read_sidecar(paths["pt"])
    assert beside is not None and beside.to_dict() == record["preprocess"]
    assert ast.literal_eval(constants["PREPROCESS"])["mean"] == beside.mean


def test_a_study_task_keeps_the_preprocessing_beside_its_weights_only(member, tmp_path):
    weights = tmp_path / "s0-g0-t0.pt"
    task = make_task(member, 0, PROXY, epochs=1.0, weights_path=str(weights))
    record = evaluate_task(task, "cpu")
    assert record["status"] == "ok"
    assert record["preprocess"] is None  # a log of many records does not repeat it
    beside = read_sidecar(weights)
    assert beside is not None and beside.input_shape == (1, 28, 28)
    assert beside.class_names == tuple(str(k) for k in range(10))
