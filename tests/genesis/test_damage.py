"""Graph damage: cut edges read as weights of zero; ``genesis study damage`` on one trained net."""

from __future__ import annotations

import copy
import csv
import json
from pathlib import Path

import pytest
import torch

from genesis import GenesisError, save_architecture
from genesis.cli import main
from genesis.compiler import compile_architecture, cut_edges
from genesis.damage import damage_rows, removals
from genesis.presets import build_architecture
from graphs import compute_nodes


def _call(argv):
    try:
        return main([str(a) for a in argv])
    except SystemExit as exc:
        return exc.code


def _csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _arch():
    # stage 1 of this graph has a node (5) that is the output node's only input
    return build_architecture(
        "fashion-mnist", "ws", {"k": 2, "p": 0.5}, seed=1, nodes=5, channels=8
    )


def _trained_model(arch):
    """The compiled net with random, non-trivial weights (gates and BN statistics too)."""
    model = compile_architecture(arch, seed=3)
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "gate" in name:
                p.copy_(torch.randn(p.shape, generator=g))
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.normal_(0, 0.1, generator=g)
                m.running_var.uniform_(0.5, 1.5, generator=g)
    return model.eval()


X = torch.randn(4, 1, 28, 28, generator=torch.Generator().manual_seed(1))


def test_cutting_nothing_changes_nothing_and_the_modules_are_shared():
    arch = _arch()
    model = _trained_model(arch)
    same = cut_edges(model, arch, [])
    assert torch.equal(same(X), model(X))
    with torch.no_grad():  # one set of parameters: a change shows in both
        model.head[-1].bias.add_(1.0)
    assert torch.equal(same(X), model(X))
    assert sum(1 for _ in same.parameters()) == sum(1 for _ in model.parameters())


def test_a_removed_node_is_a_node_whose_output_is_zero():
    """Cutting every out-edge of v equals silencing v's module (an independent reading: a
    forward hook replacing its output with zeros)."""
    arch = _arch()
    model = _trained_model(arch)
    for k, stage in enumerate(arch.stages):
        for v in compute_nodes(stage.graph):
            edges = [(k, v, w) for w in stage.graph.successors(v)]
            damaged = cut_edges(model, arch, edges)(X)
            module = model.get_submodule(f"s{k}.n{v}")
            handle = module.register_forward_hook(lambda m, i, o: torch.zeros_like(o))
            try:
                silenced = model(X)
            finally:
                handle.remove()
            assert torch.allclose(damaged, silenced, atol=1e-6), (k, v)
            assert not torch.allclose(damaged, model(X)), (k, v)


def test_a_cut_edge_is_an_edge_of_weight_zero():
    """Into a gated node, cutting (u, v) equals driving u's gate to -inf (sigmoid 0)."""
    arch = _arch()
    model = _trained_model(arch)
    checked = 0
    for k, stage in enumerate(arch.stages):
        G = stage.graph
        for u, v in G.edges:
            preds = sorted(G.predecessors(v))
            if v == G.graph["output"] or len(preds) < 2:
                continue
            ref = copy.deepcopy(model)
            with torch.no_grad():
                getattr(ref.get_submodule(f"s{k}"), f"gate{v}")[preds.index(u)] = -1e9
            assert torch.allclose(cut_edges(model, arch, [(k, u, v)])(X), ref(X), atol=1e-6)
            checked += 1
    assert checked >= 3


def test_an_edge_not_in_the_graph_is_refused():
    arch = _arch()
    model = _trained_model(arch)
    with pytest.raises(GenesisError, match="not an edge"):
        cut_edges(model, arch, [(0, 6, 0)])
    with pytest.raises(GenesisError, match="not an edge"):
        cut_edges(model, arch, [(7, 0, 1)])


def test_removals_cover_every_compute_node_and_every_edge():
    arch = _arch()
    found = removals(arch)
    for k, stage in enumerate(arch.stages):
        G = stage.graph
        nodes = [r for r in found if r.stage == k and r.kind == "node"]
        edges = [r for r in found if r.stage == k and r.kind == "edge"]
        assert [r.node for r in nodes] == list(compute_nodes(G))
        assert {(r.source, r.node) for r in edges} == set(G.edges)
        for r in nodes:
            assert r.out_degree == G.out_degree(r.node) and r.in_degree == G.in_degree(r.node)
            assert set(r.edges) == {(k, r.node, w) for w in G.successors(r.node)}
        for r in edges:
            assert r.in_degree == G.in_degree(r.node) and r.out_degree == G.out_degree(r.source)
    assert len(removals(arch, edges=False)) == sum(len(compute_nodes(s.graph)) for s in arch.stages)


def test_damage_rows_score_each_removal_against_the_undamaged_net():
    arch = _arch()
    model = _trained_model(arch)
    base = model(X).detach()
    seen = []

    def score(m):  # 1 minus how far the logits moved from the undamaged net's
        return 1.0 - (m(X) - base).abs().max().item()

    rows = damage_rows(arch, model, score, progress=lambda i, n: seen.append((i, n)))
    assert rows[0]["kind"] == "none" and rows[0]["accuracy"] == 1.0 and rows[0]["drop"] == 0.0
    assert len(rows) == 1 + len(removals(arch)) and seen[-1] == (len(rows) - 1,) * 2
    assert all(abs(r["drop"] - (1.0 - r["accuracy"])) < 1e-9 for r in rows)
    assert all(r["drop"] > 0 for r in rows[1:])  # every removal reaches the logits
    # the output node's only input, removed: the stage's output is zero, the net is lost
    G = arch.stages[1].graph
    (sole,) = list(G.predecessors(G.graph["output"]))
    row = next(r for r in rows if r["kind"] == "node" and r["stage"] == 1 and r["node"] == sole)
    assert row["drop"] > 0


# -- the command -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """An architecture trained on the canary for real (6 epochs, a few seconds)."""
    folder = tmp_path_factory.mktemp("damage")
    arch_path = folder / "arch.json"
    save_architecture(_arch(), arch_path)
    out = folder / "trained"
    argv = ["train", arch_path, "--dataset", "canary", "--epochs", "6", "--val-size", "200"]
    argv += ["--allow-class-mismatch"]
    assert _call([*argv, "--out", out]) == 0
    return arch_path, out


def test_damage_of_a_trained_net_from_the_command_line(trained, tmp_path, capsys):
    arch_path, out = trained
    record = json.loads((out / "result.json").read_text())
    assert record["accuracy"] > 0.9  # it learned: removals have something to break
    argv = ["study", "damage", arch_path, "--weights", out / "weights.pt"]
    argv += ["--dataset", "canary", "--val-size", "200", "--out", tmp_path / "d"]
    assert _call(argv) == 0, capsys.readouterr().err
    printed = capsys.readouterr().out
    assert "node removals: 15" in printed and "damage_nodes.png" in printed
    rows = _csv(tmp_path / "d" / "damage.csv")
    arch = _arch()
    assert len(rows) == 1 + len(removals(arch)) and {r["split"] for r in rows} == {"val"}
    # removing nothing changes nothing: the undamaged score is the training's own record
    assert rows[0]["kind"] == "none" and float(rows[0]["drop"]) == 0.0
    assert float(rows[0]["accuracy"]) == pytest.approx(record["accuracy"], abs=1e-9)
    for r in rows[1:]:
        assert float(r["drop"]) == pytest.approx(record["accuracy"] - float(r["accuracy"]))
    # the output node's only input: removing it changes the accuracy
    G = arch.stages[1].graph
    (sole,) = list(G.predecessors(G.graph["output"]))
    node = next(
        r for r in rows if r["kind"] == "node" and r["stage"] == "1" and r["node"] == str(sole)
    )
    assert float(node["accuracy"]) != float(rows[0]["accuracy"])
    # a node that feeds only the output node: removing it is removing that one edge
    for k, stage in enumerate(arch.stages):
        G = stage.graph
        for v in compute_nodes(G):
            if list(G.successors(v)) == [G.graph["output"]]:
                n = next(
                    r
                    for r in rows
                    if r["kind"] == "node" and r["stage"] == str(k) and r["node"] == str(v)
                )
                e = next(
                    r
                    for r in rows
                    if r["kind"] == "edge" and r["stage"] == str(k) and r["source"] == str(v)
                )
                assert n["accuracy"] == e["accuracy"]
    for name in ("damage_nodes.png", "damage_edges.png"):
        assert (tmp_path / "d" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_examples_and_one_kind_of_removal(trained, tmp_path, capsys):
    arch_path, out = trained
    argv = ["study", "damage", arch_path, "--weights", out / "weights.pt", "--dataset", "canary"]
    argv += ["--val-size", "200", "--examples", "50", "--nodes-only", "--out", tmp_path / "d"]
    assert _call(argv) == 0, capsys.readouterr().err
    rows = _csv(tmp_path / "d" / "damage.csv")
    assert {r["kind"] for r in rows} == {"none", "node"}
    assert all(
        round(float(r["accuracy"]) * 50, 6) == round(float(r["accuracy"]) * 50) for r in rows
    )


@pytest.mark.parametrize(
    "extra, match",
    [
        ([], "give ARCH and --weights"),
        (["--weights", "missing.pt"], "does not exist"),
        (["--weights", "arch.json"], "as a torch state_dict"),
        (["--study", "."], "drop ARCH"),
        (["--weights", "w.pt", "--examples", "0"], "--examples must be"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(trained, tmp_path, capsys, monkeypatch, extra, match):
    arch_path, out = trained
    monkeypatch.chdir(arch_path.parent)
    (arch_path.parent / "w.pt").write_bytes((out / "weights.pt").read_bytes())
    assert _call(["study", "damage", "arch.json", *extra]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and match in err[0] and "Traceback" not in err[0]


def test_an_output_folder_with_files_is_not_touched(trained, tmp_path, capsys):
    arch_path, out = trained
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "mine.txt").write_text("keep")
    argv = ["study", "damage", arch_path, "--weights", out / "weights.pt", "--dataset", "canary"]
    assert _call([*argv, "--out", tmp_path / "d"]) == 2
    assert "not empty" in capsys.readouterr().err
    assert sorted(p.name for p in (tmp_path / "d").iterdir()) == ["mine.txt"]
