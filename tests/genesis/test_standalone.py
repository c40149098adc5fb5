"""``genesis export --python``: a file that imports only torch and computes what genesis does."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap

import pytest
import torch

from genesis import GenesisError, save_architecture
from genesis.cli import main
from genesis.compiler import compile_architecture
from genesis.presets import build_architecture
from genesis.standalone import export_python, python_source

#: The start of a script for a fresh interpreter where genesis (and its sibling packages)
#: cannot be imported; it fails unless the block holds.
BLOCK = textwrap.dedent(
    """
    import importlib.abc, importlib.util, sys

    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("genesis", "graphs", "evolve", "visualize"):
                raise ImportError(f"{name} is blocked: the file must not need it")
            return None

    sys.meta_path.insert(0, Block())
    try:
        import genesis  # noqa: F401
    except ImportError:
        pass
    else:
        raise SystemExit("genesis is importable: the test proves nothing")
    import torch
    """
)

#: Run where genesis cannot be imported (BLOCK): import the written file, load the weights,
#: run the saved batch, save the logits.
RUNNER = BLOCK + textwrap.dedent(
    """
    model_file, weights, batch, out = sys.argv[1:]
    spec = importlib.util.spec_from_file_location("model", model_file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    model = module.build_model(weights)
    assert not model.training
    with torch.no_grad():
        torch.save(model(torch.load(batch, weights_only=True)), out)
    print(sorted(m for m in sys.modules if m.split(".")[0] in ("genesis", "graphs", "evolve")))
    """
)


def _trained(arch, seed=0):
    """The compiled net with non-trivial weights everywhere (gates, BN statistics)."""
    model = compile_architecture(arch, seed=seed)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "gate" in name or "bias" in name:
                p.copy_(torch.randn(p.shape, generator=g))
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.normal_(0, 0.1, generator=g)
                m.running_var.uniform_(0.5, 1.5, generator=g)
    return model.eval()


ARCHS = {
    "ws-sep": lambda: build_architecture("fashion-mnist", "ws", {"k": 4, "p": 0.75}, seed=0),
    "er-conv": lambda: build_architecture("fashion-mnist", "er", {"p": 0.4}, seed=1, op="conv_3x3"),
    "ba-maxpool-conv": lambda: build_architecture(
        "fashion-mnist", "ba", {"m": 2}, seed=2, op="max_pool_conv_1x1"
    ),
    "avgpool-identity-dropout": lambda: _mixed(),
    "cifar": lambda: build_architecture("cifar10", "ws", {"k": 4, "p": 0.25}, seed=3, nodes=6),
}


def _mixed():
    """Every op of the registry in one network, and a head with dropout and no 1x1 conv."""
    from dataclasses import replace

    from genesis.ops import op_names

    arch = build_architecture("fashion-mnist", "er", {"p": 0.5}, seed=4, nodes=10)
    stages = []
    ops = op_names()
    for k, stage in enumerate(arch.stages):
        G = stage.graph.copy()
        for i, v in enumerate(n for n in G if n not in (G.graph["input"], G.graph["output"])):
            G.nodes[v]["op"] = ops[(i + 3 * k) % len(ops)]
        stages.append(replace(stage, graph=G))
    return arch.replace(stages=tuple(stages), head=replace(arch.head, channels=0, dropout=0.3))


@pytest.mark.parametrize("name", list(ARCHS))
def test_the_file_runs_without_genesis_and_matches_to_1e6(name, tmp_path):
    arch = ARCHS[name]()
    model = _trained(arch)
    path = tmp_path / "model.py"
    assert export_python(model, arch, path) <= 1e-6
    torch.save(model.state_dict(), tmp_path / "w.pt")
    x = torch.randn(5, *arch.input_shape, generator=torch.Generator().manual_seed(9))
    torch.save(x, tmp_path / "x.pt")
    run = subprocess.run(
        [
            sys.executable,
            "-c",
            RUNNER,
            path,
            tmp_path / "w.pt",
            tmp_path / "x.pt",
            tmp_path / "y.pt",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"  # nothing of genesis was loaded
    got = torch.load(tmp_path / "y.pt", weights_only=True)
    with torch.no_grad():
        want = model(x)
    assert got.shape == want.shape and (got - want).abs().max().item() <= 1e-6
    text = path.read_text()
    assert "import genesis" not in text and "from genesis" not in text
    assert "class RandWireNet(nn.Module):" in text and "def build_model(weights=None):" in text
    # readable names: the compiler's, one line per node
    assert re.search(r"self\.s0\.n\d+ = nn\.Sequential\(", text) and "logits = self.head(" in text


def test_the_file_says_what_it_is_and_checks_its_input(tmp_path):
    arch = ARCHS["ws-sep"]()
    path = tmp_path / "net.py"
    export_python(compile_architecture(arch), arch, path)
    namespace: dict = {}
    exec(compile(path.read_text(), str(path), "exec"), namespace)  # our own file: the test
    assert json.loads(namespace["ARCHITECTURE"]) == json.loads(arch.to_json())
    model = namespace["build_model"]()
    with pytest.raises(ValueError, match=r"\(N, 1, 28, 28\)"):
        model(torch.zeros(1, 3, 28, 28))
    assert "from net import build_model" in path.read_text()


def test_a_module_that_is_not_a_standard_layer_is_refused():
    from genesis.ops import register_op, unregister_op

    class Odd(torch.nn.Module):
        def forward(self, x):
            return x * 2

    register_op(
        "odd",
        lambda c_in, c_out, stride, h, w: __import__("genesis").ops.__dict__["_identity_cx"](
            c_in, c_out, stride, h, w
        ),
    )(lambda c_in, c_out, stride: Odd())
    try:
        arch = build_architecture("fashion-mnist", "er", {"p": 0.5}, seed=0, op="odd", nodes=4)
        with pytest.raises(GenesisError, match="cannot write Odd as plain PyTorch"):
            python_source(compile_architecture(arch), arch)
    finally:
        unregister_op("odd")


def test_export_cli_writes_the_file_with_trained_weights(tmp_path, capsys):
    arch = ARCHS["er-conv"]()
    save_architecture(arch, tmp_path / "a.json")
    model = _trained(arch, seed=5)
    torch.save(model.state_dict(), tmp_path / "w.pt")
    argv = ["export", tmp_path / "a.json", "--weights", tmp_path / "w.pt"]
    assert main([str(a) for a in [*argv, "--python", tmp_path / "m.py"]]) == 0
    assert "standalone PyTorch" in capsys.readouterr().out
    namespace: dict = {}
    exec(compile((tmp_path / "m.py").read_text(), "m.py", "exec"), namespace)
    x = torch.randn(2, 1, 28, 28)
    with torch.no_grad():
        assert torch.allclose(
            namespace["build_model"](str(tmp_path / "w.pt"))(x), model(x), atol=1e-6
        )


def test_export_refuses_a_run_folder_file(tmp_path, capsys):
    arch = ARCHS["ws-sep"]()
    save_architecture(arch, tmp_path / "a.json")
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "config.toml").write_text("")
    code = main(
        ["export", str(tmp_path / "a.json"), "--python", str(tmp_path / "run" / "run.json")]
    )
    assert code == 2
    assert "file of the run folder" in capsys.readouterr().err
