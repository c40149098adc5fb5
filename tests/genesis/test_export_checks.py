"""Export checks that can fail, ``--program`` from the CLI, and the counts ``genesis info`` prints.

An export is only "checked" if a wrong one is refused: a module whose traced graph differs from
what it computes eagerly (a Python counter baked in as a constant at trace time) and an exporter
whose reloaded outputs are off must both raise, remove the file, and make ``genesis export``
exit 2 with one line on stderr.
"""

from __future__ import annotations

import json
import re
import zipfile

import numpy as np
import pytest
import torch
from torch import nn

from genesis import GenesisError, build_architecture, save_architecture
from genesis.cli import main
from genesis.compiler import compile_architecture
from genesis.complexity import count_complexity
from genesis.export import ATOL, RTOL, export_onnx, export_program

onnxruntime = pytest.importorskip("onnxruntime")


@pytest.fixture(scope="module")
def arch():
    return build_architecture("fashion-mnist", seed=4, nodes=5, channels=8)


@pytest.fixture(scope="module")
def files(arch, tmp_path_factory):
    """The architecture JSON and a weights file whose values are not the initial ones."""
    root = tmp_path_factory.mktemp("export")
    model = compile_architecture(arch, seed=3)
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05 * torch.randn(p.shape, generator=g))
    model.train()
    model(torch.randn(16, *arch.input_shape, generator=g))  # moves BN running statistics
    save_architecture(arch, root / "a.json")
    torch.save(model.eval().state_dict(), root / "w.pt")
    return root / "a.json", root / "w.pt"


def trained(arch, files) -> nn.Module:
    model = compile_architecture(arch)
    model.load_state_dict(torch.load(files[1], weights_only=True))
    return model.eval()


#: Calls of each Drifting module, kept outside it: torch.export restores a module's own
#: attributes after tracing, but not this.
CALLS: dict[int, int] = {}


class Drifting(nn.Module):
    """Adds ``step`` x (calls so far): the exporter bakes the count at trace time as a constant."""

    def __init__(self, inner: nn.Module, step: float):
        super().__init__()
        self.inner, self.step = inner, step
        CALLS[id(self)] = 0

    def forward(self, x):
        CALLS[id(self)] += 1
        return self.inner(x) + self.step * CALLS[id(self)]


def test_tolerance_is_stated():
    assert ATOL == 1e-4 and RTOL == 1e-4


@pytest.mark.parametrize("kind", ["onnx", "program"])
def test_an_export_that_computes_something_else_is_refused(arch, files, tmp_path, kind):
    model = Drifting(trained(arch, files), step=1e-2)
    out = tmp_path / ("m.onnx" if kind == "onnx" else "m.pt2")
    export = export_onnx if kind == "onnx" else export_program
    with pytest.raises(GenesisError, match=r"computes something else: .* beyond the tolerance"):
        export(model, arch, out)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []  # no temporary file either


@pytest.mark.parametrize("kind", ["onnx", "program"])
def test_a_drift_within_the_tolerance_passes_and_is_measured(arch, files, tmp_path, kind):
    model = Drifting(trained(arch, files), step=1e-6)
    out = tmp_path / ("m.onnx" if kind == "onnx" else "m.pt2")
    export = export_onnx if kind == "onnx" else export_program
    diff = export(model, arch, out)
    assert out.exists()
    assert 1e-6 <= diff < ATOL  # the baked-in count differs from the eager one by >= 1 step


def test_the_tolerance_can_be_tightened(arch, files, tmp_path):
    model = Drifting(trained(arch, files), step=1e-6)
    with pytest.raises(GenesisError, match=r"atol=1e-07"):
        export_program(model, arch, tmp_path / "m.pt2", atol=1e-7, rtol=0)


def test_cli_program_reloads_and_matches(arch, files, tmp_path, capsys):
    a, w = files
    out = tmp_path / "m.pt2"
    assert main(["export", str(a), "--weights", str(w), "--program", str(out)]) == 0
    line = capsys.readouterr().out.strip()
    m = re.fullmatch(rf"wrote {re.escape(str(out))}: torch\.export program, .* ([0-9.e+-]+)", line)
    assert m and float(m.group(1)) < ATOL
    program = torch.export.load(out).module()
    model = trained(arch, files)
    for batch in (1, 7):  # the batch is dynamic
        x = torch.randn(batch, *arch.input_shape)
        with torch.no_grad():
            np.testing.assert_allclose(program(x).numpy(), model(x).numpy(), atol=ATOL, rtol=RTOL)
    with zipfile.ZipFile(out) as z:
        (name,) = [n for n in z.namelist() if n.endswith("genesis.architecture.json")]
        assert json.loads(z.read(name))["stages"] == arch.to_dict()["stages"]


def _perturbed_ort(monkeypatch, delta):
    real = onnxruntime.InferenceSession.run

    def run(self, names, feeds, *args, **kwargs):
        return [o + delta for o in real(self, names, feeds, *args, **kwargs)]

    monkeypatch.setattr(onnxruntime.InferenceSession, "run", run)


def _perturbed_program(monkeypatch, delta):
    real = torch.export.load

    class Loaded:
        def __init__(self, program):
            self.program = program

        def module(self):
            inner = self.program.module()
            return lambda x: inner(x) + delta

    monkeypatch.setattr(torch.export, "load", lambda *a, **k: Loaded(real(*a, **k)))


@pytest.mark.parametrize("kind", ["onnx", "program"])
def test_cli_export_exits_2_when_outputs_differ(files, tmp_path, capsys, monkeypatch, kind):
    a, w = files
    out = tmp_path / ("m.onnx" if kind == "onnx" else "m.pt2")
    (_perturbed_ort if kind == "onnx" else _perturbed_program)(monkeypatch, 3 * ATOL)
    code = main(["export", str(a), "--weights", str(w), f"--{kind}", str(out)])
    captured = capsys.readouterr()
    assert code == 2
    err = captured.err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("genesis export: error:"), captured.err
    assert "computes something else" in err[0] and "atol=0.0001" in err[0]
    assert re.search(r"differ from PyTorch's by up to 0\.000[23]", err[0])
    assert not out.exists()


@pytest.mark.parametrize("kind", ["onnx", "program"])
def test_cli_export_passes_just_inside_the_tolerance(files, tmp_path, capsys, monkeypatch, kind):
    a, w = files
    out = tmp_path / ("m.onnx" if kind == "onnx" else "m.pt2")
    (_perturbed_ort if kind == "onnx" else _perturbed_program)(monkeypatch, ATOL / 4)
    assert main(["export", str(a), "--weights", str(w), f"--{kind}", str(out)]) == 0
    assert out.exists()


def _count(text: str) -> float:
    """A number as genesis.complexity.format_count writes it: 6.67M, 59.83k, 512."""
    scale = {"": 1, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12}
    m = re.fullmatch(r"([0-9.]+)([kMGT]?)", text)
    assert m, text
    return float(m.group(1)) * scale[m.group(2)]


@pytest.mark.parametrize("preset", ["fashion-mnist", "cifar10"])
def test_info_prints_the_counted_macs_and_params(preset, tmp_path, capsys):
    arch = build_architecture(preset, seed=2, nodes=5)
    save_architecture(arch, tmp_path / "a.json")
    cx = count_complexity(arch)
    params = sum(p.numel() for p in compile_architecture(arch).parameters())
    assert cx.params == params  # the counter agrees with the built module

    assert main(["info", "--json", str(tmp_path / "a.json")]) == 0
    facts = json.loads(capsys.readouterr().out)
    assert (facts["macs"], facts["flops"], facts["params"]) == (cx.macs, 2 * cx.macs, cx.params)
    assert [s["macs"] for s in facts["stages"]] == [s.macs for s in cx.stages]
    assert [s["params"] for s in facts["stages"]] == [s.params for s in cx.stages]

    assert main(["info", str(tmp_path / "a.json")]) == 0
    text = capsys.readouterr().out
    m = re.search(
        r"^(\S+) MACs \(multiply-adds; FLOPs = 2 x MACs = (\S+)\), (\S+) parameters$", text, re.M
    )
    assert m, text
    for shown, exact in zip(m.groups(), (cx.macs, 2 * cx.macs, cx.params), strict=True):
        assert _count(shown) == pytest.approx(exact, rel=5e-3), (shown, exact)
    rows = [line.split() for line in text.splitlines() if re.match(r"^\s+\d+\s+\d+\s+[12]\s", line)]
    assert len(rows) == len(cx.stages)
    for row, stage in zip(rows, cx.stages, strict=True):
        assert _count(row[11]) == pytest.approx(stage.macs, rel=5e-3)
        assert _count(row[12]) == pytest.approx(stage.params, rel=5e-3)
