"""Graphviz renderings of architectures."""

import re

import pytest
import torch

from genesis import GenesisError, build_architecture, save_architecture
from genesis.cli import main
from genesis.compiler import compile_architecture
from graphs import compute_nodes
from visualize import render
from visualize.render import OP_COLORS, architecture_graph, edge_weights, render_architecture


@pytest.fixture(scope="module")
def arch():
    return build_architecture("fashion-mnist", "er", {"p": 0.4}, seed=3)


def gated_state(arch, seed=0):
    model = compile_architecture(arch)
    state = model.state_dict()
    g = torch.Generator().manual_seed(seed)
    return {
        k: (torch.randn(v.shape, generator=g) * 3 if ".gate" in k else v) for k, v in state.items()
    }


def test_dot_has_one_cluster_per_stage_stem_head_and_op_colors(arch):
    src = architecture_graph(arch).source
    for k in range(len(arch.stages)):
        assert f"subgraph cluster_s{k}" in src
    assert "subgraph cluster_stem" in src and "head" in src
    assert OP_COLORS["sep_conv_3x3"] in src
    # input and output nodes are drawn apart from compute nodes
    assert src.count("doublecircle") == len(arch.stages)
    n_nodes = sum(s.num_nodes for s in arch.stages)
    assert len(re.findall(r"s\d+_\d+ \[label=\d+", src)) == n_nodes
    n_edges = sum(s.graph.number_of_edges() for s in arch.stages)
    assert len(re.findall(r"s(\d+)_\d+ -> s\1_\d+", src)) == n_edges  # within a stage


def test_every_op_gets_its_color():
    arch = build_architecture("fashion-mnist", seed=0, op="max_pool_3x3")
    src = architecture_graph(arch).source
    assert OP_COLORS["max_pool_3x3"] in src and OP_COLORS["sep_conv_3x3"] not in src


def test_edge_weights_follow_sigmoid_of_gates(arch):
    state = gated_state(arch)
    weights = edge_weights(arch, state)
    for k, stage in enumerate(arch.stages):
        G = stage.graph
        for v in compute_nodes(G):
            preds = sorted(G.predecessors(v))
            if len(preds) > 1:
                gate = state[f"s{k}.gate{v}"]
                for u, w in zip(preds, gate, strict=True):
                    assert weights[(k, u, v)] == pytest.approx(torch.sigmoid(w).item())
            else:
                assert (k, preds[0], v) not in weights
    src = architecture_graph(arch, weights).source
    widths = [float(x) for x in re.findall(r'-> s\d+_\d+ \[[^]]*penwidth="?([\d.]+)', src)]
    assert len(widths) == len(weights) and max(widths) > 2 * min(widths)


def test_weights_that_do_not_fit_are_rejected(arch):
    other = build_architecture("fashion-mnist", "er", {"p": 0.4}, seed=4)
    with pytest.raises(GenesisError, match="weights do not fit"):
        edge_weights(arch, gated_state(other))


@pytest.mark.parametrize(
    "fmt, magic", [("png", b"\x89PNG"), ("svg", b"<?xml"), ("pdf", b"%PDF"), ("dot", b"digraph")]
)
def test_render_formats(arch, tmp_path, fmt, magic):
    out = render_architecture(arch, tmp_path / f"a.{fmt}", rankdir="TB")
    assert out.read_bytes().startswith(magic)


def test_legible_for_32_node_stages(tmp_path):
    arch = build_architecture("randwire-small", seed=0)
    out = render_architecture(arch, tmp_path / "big.svg")
    svg = out.read_text()
    assert svg.count('class="node"') >= 3 * 32


def test_missing_dot_says_how_to_install(arch, tmp_path, monkeypatch):
    monkeypatch.setattr(render.shutil, "which", lambda name: None)
    with pytest.raises(GenesisError, match="apt-get install graphviz"):
        render_architecture(arch, tmp_path / "a.png")
    assert render_architecture(arch, tmp_path / "a.dot").exists()  # DOT needs no binary


def test_bad_extension_and_rankdir(arch, tmp_path):
    with pytest.raises(GenesisError, match=r"must end in \.png"):
        render_architecture(arch, tmp_path / "a.gif")
    with pytest.raises(GenesisError, match="rankdir"):
        architecture_graph(arch, rankdir="XY")


def test_cli_render_with_weights(arch, tmp_path, capsys):
    save_architecture(arch, tmp_path / "a.json")
    torch.save(gated_state(arch), tmp_path / "w.pt")
    assert (
        main(
            [
                "render",
                str(tmp_path / "a.json"),
                "--weights",
                str(tmp_path / "w.pt"),
                "-o",
                str(tmp_path / "a.svg"),
            ]
        )
        == 0
    )
    assert "sigmoid(w)" in (tmp_path / "a.svg").read_text()
    assert main(["render", str(tmp_path / "a.json")]) == 0
    assert (tmp_path / "a.png").read_bytes().startswith(b"\x89PNG")
    assert main(["render", str(tmp_path / "a.json"), "-o", str(tmp_path / "x.gif")]) == 2
    assert main(["render", str(tmp_path / "missing.json")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all(line.startswith("genesis render: error:") for line in err)
