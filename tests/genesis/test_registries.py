"""A new graph family and a new op, each registered in one place, reach every part of genesis.

The fixture below is the only place they are defined: a ``ring`` family (a cycle with chords
drawn with probability ``p``) and a ``conv1x1_bn`` op (a 1x1 conv and batch norm, no ReLU, with
its cost function beside its factory). Generate, info, a synthetic search (nsga2 and the ``rl``
controller) and render then work with them, and the registries are left as they were.

The search runs in this process through the Python API (``evolve.search.Search`` with an
in-process executor): the CLI's local workers are spawned processes that would import genesis
afresh and not know a family or op registered only here.
"""

from __future__ import annotations

import json
import random

import networkx as nx
import pytest
import torch
from networkx.utils import py_random_state
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from evolve.config import load_config
from evolve.executors import InlineExecutor
from evolve.search import Search
from evolve.space import SearchSpace, SpaceConfig
from genesis import OPS, GenesisError, load_architecture, register_op, unregister_op
from genesis.cli import main
from genesis.compiler import compile_architecture
from genesis.complexity import count_complexity
from genesis.ops import Complexity, bn_cx, conv_cx
from genesis.runfolder import RunFolder
from graphs import (
    DEFAULT_OP,
    FAMILIES,
    Family,
    Uniform,
    family_names,
    register_family,
    to_dag,
    unregister_family,
    validate_dag,
)
from visualize.render import OP_COLORS

COLOR = "#332288"  # dark: drawn with white text


@pytest.fixture
def ring_and_op():
    """Register the ``ring`` family and the ``conv1x1_bn`` op; remove them afterwards."""
    families_before, ops_before = list(family_names()), dict(OPS)

    @py_random_state("seed")
    def ring(n, p, seed=None, op=DEFAULT_OP):
        if not 0.0 <= p <= 1.0:
            raise GenesisError(f"ring needs a probability p in [0, 1], got p={p!r}")
        G = nx.cycle_graph(n)
        G.add_edges_from((i, (i + 2) % n) for i in range(n) if seed.random() < p)
        return to_dag(G, op=op)

    register_family(
        Family(
            "ring",
            ring,
            defaults={"p": 0.5},
            ranges={"p": Uniform(0.0, 1.0)},
            choices={"p": (0.0, 0.5, 1.0)},
            min_nodes=3,
            description="a cycle with chords (i, i+2)",
        )
    )

    def cx(c_in: int, c_out: int, stride: int, h: int, w: int) -> Complexity:
        conv = conv_cx(c_in, c_out, 1, stride, h, w)
        return conv + bn_cx(c_out, conv.h, conv.w)

    @register_op("conv1x1_bn", cx, "Conv1x1-BN (no ReLU)", color=COLOR, search=True)
    def conv1x1_bn(c_in: int, c_out: int, stride: int) -> nn.Module:
        return nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))

    yield
    unregister_family("ring")
    unregister_op("conv1x1_bn")
    assert family_names() == families_before and "ring" not in FAMILIES
    assert ops_before == OPS


def torch_counts(model: nn.Module, input_shape) -> tuple[int, int]:
    """(params, MACs) as torch counts them, on the meta device."""
    params = sum(p.numel() for p in model.parameters())
    meta = model.to("meta")
    with FlopCounterMode(display=False) as counter:
        meta(torch.empty(1, *input_shape, device="meta"))
    return params, counter.get_total_flops() // 2


def generate(tmp_path, capsys, *flags) -> str:
    path = str(tmp_path / "ring.json")
    code = main(["generate", "ring", "--op", "conv1x1_bn", "--seed", "4", *flags, "-o", path])
    assert code == 0, capsys.readouterr().err
    capsys.readouterr()
    return path


def test_generate_and_info(ring_and_op, tmp_path, capsys):
    path = generate(tmp_path, capsys)
    arch = load_architecture(path)
    assert arch.meta["family"] == "ring" and arch.meta["params"] == {"p": 0.5}  # its defaults
    for stage in arch.stages:
        G = stage.graph
        assert set(stage.ops().values()) == {"conv1x1_bn"}
        assert G.number_of_edges() > stage.num_nodes  # a cycle's n edges, plus input/output
    assert main(["info", path, "--json"]) == 0
    facts = json.loads(capsys.readouterr().out)
    cx = count_complexity(arch)
    assert (facts["macs"], facts["params"]) == (cx.macs, cx.params)
    params, macs = torch_counts(compile_architecture(arch), arch.input_shape)
    assert (facts["macs"], facts["params"]) == (macs, params)
    assert all(s["ops"] == {"conv1x1_bn": s["nodes"]} for s in facts["stages"])
    # --p overrides the registered default; a flag of another family is refused in one line
    arch = load_architecture(generate(tmp_path, capsys, "--p", "0.0"))
    assert arch.meta["params"] == {"p": 0.0}
    assert main(["generate", "ring", "--k", "4"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--k does not apply to family 'ring'; it takes --p" in err


def test_cli_help_lists_the_new_family(ring_and_op, capsys):
    with pytest.raises(SystemExit):
        main(["generate", "--help"])
    assert "er, ws, ba, ring" in capsys.readouterr().out


def test_space_defaults_and_sampling_read_the_registries(ring_and_op):
    cfg = SpaceConfig()
    assert "ring" in cfg.families and "conv1x1_bn" in cfg.ops
    with pytest.raises(GenesisError, match="space nodes low must be >= 3 with family ring"):
        SpaceConfig(families=("ring",), nodes=(2, 4))
    space = SearchSpace(SpaceConfig(families=("ring",), nodes=(3, 6), ops=("conv1x1_bn",)))
    rng = random.Random(0)
    for _ in range(10):
        family, params = space.sample_generator(rng, 5)
        assert family == "ring" and set(params) == {"p"} and 0.0 <= params["p"] <= 1.0


@pytest.mark.parametrize("strategy", ["nsga2", "rl"])
def test_synthetic_search_uses_them(ring_and_op, strategy, tmp_path):
    toml = tmp_path / "space.toml"
    toml.write_text(
        f'[search]\nstrategy = "{strategy}"\npopulation = 4\ngenerations = 2\nseed = 1\n'
        '[space]\nfamilies = ["ring"]\nnodes = [3, 5]\nmax_nodes = 6\nchannels = [4, 8]\n'
        'ops = ["conv1x1_bn"]\n'
        '[proxy]\nfitness = "synthetic"\n[final]\ntop_k = 0\n'
    )
    cfg = load_config(toml)
    folder = RunFolder(tmp_path / "run")
    folder.create(cfg)
    outcome = Search(cfg, folder, InlineExecutor(), log=lambda line: None).run()
    assert outcome.trained >= 4 and outcome.front
    for ind in outcome.archive:
        assert ind.result["status"] == "ok"
        cx = count_complexity(ind.arch)
        assert (ind.result["macs"], ind.result["params"]) == (cx.macs, cx.params)
        for stage in ind.arch.stages:
            assert stage.origin["family"] == "ring"
            assert set(stage.ops().values()) == {"conv1x1_bn"}


def test_render_colours_the_new_op(ring_and_op, tmp_path, capsys):
    path = generate(tmp_path, capsys)
    out = tmp_path / "ring.dot"
    assert main(["render", path, "-o", str(out)]) == 0
    src = out.read_text()
    assert OP_COLORS["conv1x1_bn"] == COLOR
    assert f'fillcolor="{COLOR}"' in src and "fontcolor=white" in src
    assert "legend_conv1x1_bn" in src


def test_registered_names_are_gone_afterwards():
    """Runs after the tests above (file order): the fixture removed what it added."""
    assert "ring" not in family_names() and "conv1x1_bn" not in OPS
    assert "conv1x1_bn" not in OP_COLORS and "conv1x1_bn" not in SpaceConfig().ops
    G = to_dag(nx.cycle_graph(4), op="conv1x1_bn")
    with pytest.raises(GenesisError, match="unknown op 'conv1x1_bn'"):
        validate_dag(G, ops=OPS)
