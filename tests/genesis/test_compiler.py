"""The compiled module: straight-line code, RandWire semantics, determinism, interop."""

import pickle
import subprocess
import sys

import networkx as nx
import pytest
import torch
from torch import fx

from genesis import GenesisError, build_architecture, op_names
from genesis.compiler import compile_architecture
from genesis.genome import Architecture, Stage, StemLayer
from genesis.interpreter import InterpretedNet
from graphs import compute_nodes, to_dag


@pytest.fixture(scope="module")
def arch():
    return build_architecture("fashion-mnist", seed=0)


def randomize_gates(model, seed=0):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.rsplit(".", 1)[-1].startswith("gate"):
                p.copy_(torch.randn(p.shape, generator=g))


def test_forward_is_generated_straight_line_code(arch):
    model = compile_architecture(arch)
    assert isinstance(model, fx.GraphModule)
    code = model.code
    assert "for " not in code and "while " not in code  # no interpreter loop
    assert "torch.sigmoid" in code and "torch.addcmul" in code
    n_nodes = sum(s.num_nodes for s in arch.stages)
    calls = [n for n in model.graph.nodes if n.op == "call_module" and ".n" in str(n.target)]
    assert len(calls) == n_nodes


@pytest.mark.parametrize("op", op_names())
def test_matches_reference_interpreter(op):
    arch = build_architecture("cifar10", "er", {"p": 0.5}, seed=3, op=op, nodes=6)
    model = compile_architecture(arch, seed=1).eval()
    randomize_gates(model)
    x = torch.randn(3, *arch.input_shape)
    with torch.no_grad():
        assert torch.allclose(model(x), InterpretedNet(arch, model)(x), atol=1e-5)


def test_randwire_semantics_by_hand():
    # Edges 1->2 and 1->3: node 1 takes the stage input; 2 and 3 take node 1's output (one input
    # each, so no gate); the output node averages the sinks 2 and 3.
    G = to_dag(nx.Graph([(0, 1), (0, 2)]), op="conv_1x1")
    arch = Architecture((2, 4, 4), 2, (), (Stage(G, channels=2, stride=1),))
    model = compile_architecture(arch).eval()
    assert not [n for n, _ in model.named_parameters() if "gate" in n]
    x = torch.randn(1, 2, 4, 4)
    stage_out = model.s0.n2(model.s0.n1(x)) * 0.5 + model.s0.n3(model.s0.n1(x)) * 0.5
    with torch.no_grad():
        assert torch.allclose(model(x), model.head(stage_out), atol=1e-6)


def test_weighted_sum_uses_sigmoid_of_one_weight_per_edge():
    G = to_dag(nx.Graph([(0, 2), (1, 2)]), op="identity")  # 1, 2 sources; 3 takes both
    arch = Architecture((2, 4, 4), 2, (), (Stage(G, channels=2, stride=1),))
    model = compile_architecture(arch).eval()
    assert model.s0.gate3.shape == (2,)
    with torch.no_grad():
        model.s0.gate3.copy_(torch.tensor([1.0, -2.0]))
        x = torch.randn(1, 2, 4, 4)
        a, b = model.s0.n1(x), model.s0.n2(x)
        w = torch.sigmoid(torch.tensor([1.0, -2.0]))
        want = model.head(model.s0.n3(w[0] * a + w[1] * b))
        assert torch.allclose(model(x), want, atol=1e-6)


def test_stride_and_width_change_only_at_stage_input(arch):
    model = compile_architecture(arch)
    for k, stage in enumerate(arch.stages):
        G = stage.graph
        for v in compute_nodes(G):
            convs = [
                m
                for m in model.get_submodule(f"s{k}.n{v}").modules()
                if isinstance(m, torch.nn.Conv2d)
            ]
            fed_by_input = G.has_edge(G.graph["input"], v)
            assert convs[0].stride[0] == (stage.stride if fed_by_input else 1)
            assert convs[-1].out_channels == stage.channels


def test_same_seed_same_weights_in_another_process(arch):
    a = compile_architecture(arch, seed=7).state_dict()
    b = compile_architecture(arch, seed=7).state_dict()
    c = compile_architecture(arch, seed=8).state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert any(not torch.equal(a[k], c[k]) for k in a)
    code = (
        "import sys, torch; from genesis import Architecture; "
        "from genesis.compiler import compile_architecture; "
        "a = Architecture.from_json(sys.stdin.read()); "
        "sd = compile_architecture(a, seed=7).state_dict(); "
        "print(float(sum(v.double().sum() for v in sd.values())))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        input=arch.to_json(),
        text=True,
        capture_output=True,
        check=True,
    ).stdout
    assert float(out) == pytest.approx(float(sum(v.double().sum() for v in a.values())), abs=0)


def test_global_rng_untouched(arch):
    torch.manual_seed(123)
    before = torch.random.get_rng_state()
    compile_architecture(arch, seed=1)
    assert torch.equal(before, torch.random.get_rng_state())


def test_pickle_and_state_dict_round_trip(arch):
    model = compile_architecture(arch, seed=1).eval()
    randomize_gates(model)
    x = torch.randn(2, 1, 28, 28)
    with torch.no_grad():
        want = model(x)
        clone = pickle.loads(pickle.dumps(model))
        assert torch.equal(clone(x), want)
        fresh = compile_architecture(arch, seed=2).eval()
        fresh.load_state_dict(model.state_dict())
        assert torch.equal(fresh(x), want)
    assert model.meta["architecture"] == arch.to_json(indent=None)


def _tiny_compilable():
    G = to_dag(nx.Graph([(0, 1), (1, 2), (0, 2)]))
    arch = Architecture((1, 8, 8), 3, (StemLayer(4),), (Stage(G, 8),))
    return compile_architecture(arch).eval(), torch.randn(2, 1, 8, 8)


def test_torch_compile_works():
    """Dynamo captures the whole module as one graph (``fullgraph``: no graph break).

    ``aot_eager`` runs dynamo and AOTAutograd, the parts our GraphModule could break, without
    inductor's C++ build (17 s on a 2-core CPU); inductor itself runs in the GPU test below.
    """
    model, x = _tiny_compilable()
    with torch.no_grad():
        got = torch.compile(model, backend="aot_eager", fullgraph=True)(x)
        assert torch.allclose(got, model(x), atol=1e-5)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_torch_compile_with_inductor_on_cuda():
    model, x = _tiny_compilable()
    model, x = model.cuda(), x.cuda()
    with torch.no_grad():
        assert torch.allclose(torch.compile(model)(x), model(x), atol=1e-4)


def test_wrong_input_shape_names_expected_shape(arch):
    model = compile_architecture(arch)
    with pytest.raises(GenesisError, match=r"expects input of shape \(N, 1, 28, 28\), got"):
        model(torch.randn(2, 3, 28, 28))
    with pytest.raises(GenesisError, match=r"\(N, 1, 28, 28\), got \(1, 28, 28\)"):
        model(torch.randn(1, 28, 28))


def test_backward_reaches_every_parameter(arch):
    model = compile_architecture(arch)
    randomize_gates(model)
    model(torch.randn(4, 1, 28, 28)).sum().backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None]
    assert not missing
