"""genesis oneshot: the supernet's costs, derivation, the MAC term, resume, the CLI."""

from __future__ import annotations

import functools
import json

import networkx as nx
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from evolve.config import load_config
from evolve.oneshot import OneshotConfig, OneshotRunConfig, build_template
from evolve.oneshotrun import STATE, run_oneshot
from genesis import Architecture, GenesisError, load_architecture
from genesis.cli import main
from genesis.complexity import count_complexity
from genesis.runfolder import RunFolder
from genesis.supernet import Supernet
from graphs import validate_dag
from graphs.candidates import candidate_graph

OPS = ("sep_conv_3x3", "conv_3x3", "max_pool_conv_1x1", "avg_pool_conv_1x1", "identity")


def tiny(**oneshot) -> OneshotRunConfig:
    """A run of a few seconds: one 3-node stage of width 2 on 128 synthetic examples."""
    values = {"channels": 2, "nodes": 3, "stages": 1, "epochs": 2, "warmup_epochs": 0}
    return OneshotRunConfig().with_overrides(
        oneshot={"batch_size": 32, **values, **oneshot},
        proxy={"dataset": "synthetic", "subset": 128, "val_size": 32},
        final={"epochs": 1.0, "seconds": None, "export_onnx": False},
    )


def run(cfg: OneshotRunConfig, path, on_epoch=None) -> dict:
    folder = RunFolder(path)
    if not (folder.path / "config.toml").exists():
        folder.create(cfg)
    return run_oneshot(cfg, folder, on_epoch=on_epoch)


@functools.cache
def supernet(graph: str = "complete", nodes: int = 5, stages: int = 3) -> Supernet:
    cfg = OneshotConfig(channels=4, nodes=nodes, stages=stages, graph=graph, graph_samples=2)
    return Supernet(build_template(cfg), OPS)


def randomize(net: Supernet, seed: int, scale: float = 2.0) -> None:
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for a in net.arch_parameters():
            a.copy_(torch.randn(a.shape, generator=g) * scale)


@pytest.mark.parametrize("graph", ["complete", "ws"])
def test_one_hot_costs_are_the_derived_networks_counts(graph):
    net = supernet(graph, nodes=6)
    for seed in range(20):
        randomize(net, seed)
        for k in (1, 2, 3):
            arch = net.derive(k)
            macs, params = net.expected_costs(*net.one_hot(net.choice(k)))
            cx = count_complexity(arch)
            assert (int(macs), int(params)) == (cx.macs, cx.params)


def test_expected_macs_are_differentiable_and_between_the_extremes():
    net = supernet()
    randomize(net, 0, scale=0.0)
    macs, _ = net.expected_costs()
    macs.backward()
    assert all(a.grad is not None and a.grad.abs().sum() > 0 for a in net.arch_parameters())
    for a in net.arch_parameters():
        a.grad = None
    cheap = [torch.zeros_like(q) for q in net.op_probs()]
    for q in cheap:
        q[:, OPS.index("identity")] = 1.0
    dear = [torch.zeros_like(q) for q in net.op_probs()]
    for q in dear:
        q[:, OPS.index("conv_3x3")] = 1.0
    low, _ = net.expected_costs(cheap)
    high, _ = net.expected_costs(dear)
    assert low < macs < high


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    top_k=st.integers(1, 4),
    graph=st.sampled_from(["complete", "er", "ba"]),
    scale=st.sampled_from([0.0, 0.01, 1.0, 10.0]),
)
def test_derivation_always_gives_a_valid_architecture(seed, top_k, graph, scale):
    net = supernet(graph, nodes=6, stages=2)
    randomize(net, seed, scale)
    arch = net.derive(top_k, meta={"origin": "oneshot"})
    again = Architecture.from_json(arch.to_json())
    assert again == arch
    for stage in arch.stages:
        G = stage.graph
        validate_dag(G)
        src, dst = G.graph["input"], G.graph["output"]
        for v in G:
            if v not in (src, dst) and not G.has_edge(src, v):
                assert 1 <= G.in_degree(v) <= top_k
            if v != dst:
                assert nx.has_path(G, v, dst)
        assert len(stage.origin["edge_weights"]) == G.number_of_edges() - G.out_degree(src)


def test_candidate_graph_caps_and_union():
    assert sorted(candidate_graph(2).edges) == [(0, 1), (1, 2), (1, 3), (2, 3)]
    G = candidate_graph(8, "er", samples=3, seed=1)
    validate_dag(G)
    assert all(G.has_edge(v, 9) for v in range(1, 9))
    with pytest.raises(GenesisError, match="MAX_SUPERNET_NODES = 32"):
        candidate_graph(33)
    with pytest.raises(GenesisError, match="MAX_GRAPH_SAMPLES = 64"):
        candidate_graph(4, "er", samples=65)


def test_the_mac_term_moves_the_derived_macs_toward_the_target(tmp_path):
    common = {"arch_lr": 0.05, "mac_weight": 5.0}
    low = run(tiny(target_macs=2e4, **common), tmp_path / "low")
    high = run(tiny(target_macs=2e6, **common), tmp_path / "high")
    assert low["macs"] < high["macs"]
    assert low["expected_macs"] < high["expected_macs"]
    curves = [json.loads(line) for line in (tmp_path / "low" / "arch_weights.jsonl").open()]
    assert curves[-1]["expected_macs"] < curves[0]["expected_macs"]


class _Killed(Exception):
    pass


def test_a_killed_run_resumes_losing_nothing(tmp_path):
    cfg = tiny(epochs=3, gumbel=True, temperature=2.0, temperature_end=0.5, arch_lr=0.01)
    whole = run(cfg, tmp_path / "whole")

    def kill(epoch: int) -> None:
        if epoch == 1:
            raise _Killed

    with pytest.raises(_Killed):
        run(cfg, tmp_path / "cut", on_epoch=kill)
    resumed = run(cfg, tmp_path / "cut")
    assert resumed["hash"] == whole["hash"]
    a = torch.load(tmp_path / "whole" / STATE, weights_only=True)
    b = torch.load(tmp_path / "cut" / STATE, weights_only=True)
    assert a["model"].keys() == b["model"].keys()
    for name, value in a["model"].items():
        assert torch.equal(value, b["model"][name]), name
    strip = [{k: v for k, v in h.items() if k != "seconds"} for h in json.loads(a["history"])]
    assert strip == [
        {k: v for k, v in h.items() if k != "seconds"} for h in json.loads(b["history"])
    ]


def test_config_round_trips_through_toml(tmp_path):
    cfg = tiny(graph="ws", gumbel=True, target_macs=None)
    path = tmp_path / "c.toml"
    path.write_text(cfg.to_toml())
    assert load_config(path, kind=OneshotRunConfig) == cfg


def _args(out, *more):
    return [
        "oneshot", "--out", str(out), "--dataset", "synthetic", "--subset", "128",
        "--val-size", "32", "--channels", "2", "--nodes", "3", "--stages", "1",
        "--epochs", "1", "--warmup-epochs", "0", "--batch-size", "32", *more,
    ]  # fmt: skip


def test_cli_end_to_end_with_the_final_step(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(_args(out, "--final", "--target-macs", "3e5", "--seed", "1")) == 0
    summary = json.loads((out / "oneshot.json").read_text())
    arch = load_architecture(out / summary["architecture"])
    assert arch.meta["origin"] == "oneshot"
    assert arch.meta["oneshot"]["target_macs"] == 3e5
    assert count_complexity(arch).macs == summary["macs"]
    final = json.loads((out / "final.json").read_text())
    assert final[0]["hash"] == summary["hash"] and final[0]["status"] == "ok"
    assert (out / final[0]["weights"]).is_file()
    assert json.loads((out / "run.json").read_text())["status"] == "finished"
    assert (out / "arch_weights.csv").read_text().startswith("epoch,stage,kind,node")
    assert any((out / "tensorboard").iterdir())
    before = (out / "oneshot.json").stat().st_mtime_ns
    capsys.readouterr()
    assert main(["oneshot", "--resume", str(out)]) == 0  # finished: nothing is redone
    assert "already finished" in capsys.readouterr().err
    assert main(_args(out)) == 2  # an existing folder is never overwritten
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "already exists" in err
    assert (out / "oneshot.json").stat().st_mtime_ns == before


@pytest.mark.parametrize(
    ("more", "message"),
    [
        (["--nodes", "40"], "MAX_SUPERNET_NODES = 32"),
        (["--graph", "nope"], "oneshot graph must be"),
        (["--target-macs", "lots"], "--target-macs must be a number"),
        (["--top-k", "0"], "oneshot top_k must be a positive integer"),
        (["--workers", "2"], "unrecognized arguments"),
    ],
)
def test_bad_flags_exit_2_with_one_line(tmp_path, capsys, more, message):
    try:
        code = main(_args(tmp_path / "bad", *more))
    except SystemExit as exc:  # argparse's own errors
        code = exc.code
    err = capsys.readouterr().err.strip()
    assert code == 2 and message in err and "\n" not in err and "Traceback" not in err
    assert not (tmp_path / "bad").exists()


def test_a_damaged_state_is_one_line_and_kept(tmp_path, capsys):
    out = tmp_path / "run"
    RunFolder(out).create(tiny())
    (out / STATE).write_bytes(b"not a torch file")
    assert main(["oneshot", "--resume", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    errors = [line for line in err.splitlines() if "error:" in line]
    assert len(errors) == 1 and "Traceback" not in err
    assert "supernet.pt" in errors[0] and "damaged" in errors[0]
    assert json.loads((out / "run.json").read_text())["status"] == "failed"
    assert (out / STATE).read_bytes() == b"not a torch file"


def test_a_linked_state_is_refused_not_followed(tmp_path, capsys):
    out = tmp_path / "run"
    RunFolder(out).create(tiny())
    elsewhere = tmp_path / "elsewhere.pt"
    elsewhere.write_bytes(b"someone else's file")
    (out / STATE).symlink_to(elsewhere)
    assert main(["oneshot", "--resume", str(out)]) == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if "error:" in line]
    assert len(errors) == 1 and "symbolic link" in errors[0]
    assert elsewhere.read_bytes() == b"someone else's file"
