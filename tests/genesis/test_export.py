"""ONNX and torch.export artefacts: outputs match PyTorch's, the architecture travels with them."""

import json
import zipfile

import numpy as np
import onnxruntime
import pytest
import torch

from genesis import GenesisError, build_architecture, save_architecture
from genesis.cli import main
from genesis.compiler import compile_architecture
from genesis.export import export_onnx, export_program, load_weights, read_onnx_architecture


@pytest.fixture(scope="module")
def arch():
    return build_architecture("fashion-mnist", seed=4, nodes=5)


def trained_like(arch):
    """A model whose weights are not the initial ones (gates, BN statistics included)."""
    model = compile_architecture(arch, seed=3)
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05 * torch.randn(p.shape, generator=g))
    model.train()
    model(torch.randn(16, *arch.input_shape, generator=g))  # moves BN running statistics
    return model.eval()


def test_onnx_matches_pytorch_with_dynamic_batch(arch, tmp_path):
    model = trained_like(arch)
    out = tmp_path / "m.onnx"
    diff = export_onnx(model, arch, out)
    assert diff is not None and diff < 1e-4
    session = onnxruntime.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    for batch in (1, 5):
        x = torch.randn(batch, *arch.input_shape)
        (got,) = session.run(None, {session.get_inputs()[0].name: x.numpy()})
        with torch.no_grad():
            np.testing.assert_allclose(got, model(x).numpy(), atol=1e-4)
    assert read_onnx_architecture(out) == arch


def test_program_matches_and_embeds_json(arch, tmp_path):
    model = trained_like(arch)
    out = tmp_path / "m.pt2"
    assert export_program(model, arch, out) < 1e-5
    with zipfile.ZipFile(out) as z:
        names = [n for n in z.namelist() if n.endswith("genesis.architecture.json")]
        assert names
        assert json.loads(z.read(names[0]))["stages"] == arch.to_dict()["stages"]


def test_cli_export_with_weights(arch, tmp_path, capsys):
    model = trained_like(arch)
    save_architecture(arch, tmp_path / "a.json")
    torch.save(model.state_dict(), tmp_path / "w.pt")
    rc = main(
        [
            "export",
            str(tmp_path / "a.json"),
            "--weights",
            str(tmp_path / "w.pt"),
            "--onnx",
            str(tmp_path / "a.onnx"),
        ]
    )
    assert rc == 0
    assert "max |diff|" in capsys.readouterr().out
    session = onnxruntime.InferenceSession(
        str(tmp_path / "a.onnx"), providers=["CPUExecutionProvider"]
    )
    x = torch.randn(2, *arch.input_shape)
    (got,) = session.run(None, {session.get_inputs()[0].name: x.numpy()})
    with torch.no_grad():
        np.testing.assert_allclose(got, model(x).numpy(), atol=1e-4)


def test_weights_load_safely(arch, tmp_path):
    model = compile_architecture(arch)

    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    torch.save({"x": Evil()}, tmp_path / "evil.pt")
    with pytest.raises(GenesisError, match="cannot read weights file"):
        load_weights(model, tmp_path / "evil.pt")
    (tmp_path / "junk.pt").write_text("not a checkpoint")
    with pytest.raises(GenesisError, match="cannot read weights file"):
        load_weights(model, tmp_path / "junk.pt")
    other = compile_architecture(build_architecture("fashion-mnist", seed=5, nodes=6))
    torch.save(other.state_dict(), tmp_path / "other.pt")
    with pytest.raises(GenesisError, match="does not fit this architecture"):
        load_weights(model, tmp_path / "other.pt")
    with pytest.raises(GenesisError, match="does not exist"):
        load_weights(model, tmp_path / "missing.pt")


def test_cli_export_bad_input(arch, tmp_path, capsys):
    save_architecture(arch, tmp_path / "a.json")
    assert main(["export", str(tmp_path / "a.json")]) == 2
    (tmp_path / "junk.pt").write_text("junk")
    assert (
        main(
            [
                "export",
                str(tmp_path / "a.json"),
                "--weights",
                str(tmp_path / "junk.pt"),
                "--onnx",
                str(tmp_path / "x.onnx"),
            ]
        )
        == 2
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all(line.startswith("genesis export: error:") for line in err)
    assert not (tmp_path / "x.onnx").exists()
