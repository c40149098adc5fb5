"""Canonical hash: equal for isomorphic genomes, different for anything that changes training."""

from __future__ import annotations

import random
import re
from dataclasses import replace

import networkx as nx
import pytest

from genesis import (
    Architecture,
    Head,
    Stage,
    StemLayer,
    TrainConfig,
    architecture_hash,
    build_architecture,
    op_names,
    stage_hash,
)
from graphs import add_edge, family_names, get_family, random_dag, remove_edge, rewire_edge

FAMILIES = {
    "er": ("er", {"p": 0.3}),
    "ws": ("ws", {"k": 4, "p": 0.5}),
    "ba": ("ba", {"m": 2}),
    "ba-star": ("ba", {"m": 2, "initial": "star"}),
    "nx-powerlaw": ("nx:powerlaw_cluster_graph", {"m": 2, "p": 0.3}),
} | {  # and every other registered family with its defaults
    name: (name, dict(get_family(name).defaults))
    for name in family_names()
    if name not in ("er", "ws", "ba")
}


def arch_of(*graphs, channels=16) -> Architecture:
    stages = tuple(Stage(G, channels * 2**i, 1 if i == 0 else 2) for i, G in enumerate(graphs))
    return Architecture((3, 32, 32), 10, (StemLayer(channels),), stages)


def relabel(G: nx.DiGraph, rng: random.Random) -> nx.DiGraph:
    """``G`` with every node, input and output included, renamed by a random permutation."""
    nodes = list(G)
    new = rng.sample(range(1000), len(nodes))
    mapping = dict(zip(nodes, new, strict=True))
    # Insert nodes and edges in a shuffled order too, so no iteration order survives.
    R = nx.DiGraph(input=mapping[G.graph["input"]], output=mapping[G.graph["output"]])
    items = list(G.nodes(data=True))
    rng.shuffle(items)
    R.add_nodes_from((mapping[v], dict(d)) for v, d in items)
    edges = [(mapping[u], mapping[v]) for u, v in G.edges]
    rng.shuffle(edges)
    R.add_edges_from(edges)
    return R


def labelled(G: nx.DiGraph) -> nx.DiGraph:
    """A copy whose node attribute ``label`` is the role or op, for isomorphism checks."""
    H = G.copy()
    for v in H:
        if v == G.graph["input"]:
            H.nodes[v]["label"] = "<in>"
        elif v == G.graph["output"]:
            H.nodes[v]["label"] = "<out>"
        else:
            H.nodes[v]["label"] = H.nodes[v]["op"]
    return H


def isomorphic(G: nx.DiGraph, H: nx.DiGraph) -> bool:
    return nx.is_isomorphic(
        labelled(G), labelled(H), node_match=lambda a, b: a["label"] == b["label"]
    )


def test_hash_is_short_hex_and_deterministic():
    a = build_architecture("cifar10", seed=3)
    h = architecture_hash(a)
    assert re.fullmatch(r"[0-9a-f]{20}", h)
    assert architecture_hash(a) == h
    assert architecture_hash(build_architecture("cifar10", seed=3)) == h
    assert architecture_hash(Architecture.from_json(a.to_json())) == h


def test_hash_of_a_fixed_genome_is_stable():
    # A change here changes every recorded hash (run folders, caches): bump it deliberately.
    G = nx.DiGraph([(0, 1), (1, 2), (1, 3), (2, 4), (3, 4)], input=0, output=4)
    nx.set_node_attributes(G, {1: "conv_3x3", 2: "sep_conv_3x3", 3: "max_pool_3x3"}, "op")
    a = Architecture((1, 28, 28), 10, (StemLayer(8),), (Stage(G, 16, 1),))
    assert stage_hash(a.stages[0]) == "60e8ab2607bd6be396a3"
    assert architecture_hash(a) == "5777addd8a598856da11"


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_isomorphic_relabelled_genomes_hash_equal(family):
    fam, params = FAMILIES[family]
    for seed in range(12):
        rng = random.Random(seed)
        G1 = random_dag(fam, 10, seed=seed, **params)
        G2 = random_dag(fam, 8, seed=seed + 100, **params)
        # Mixed ops, so that the permutation has to respect them.
        for i, v in enumerate(sorted(G1)[1:-1]):
            G1.nodes[v]["op"] = op_names()[(i * 7 + seed) % len(op_names())]
        a = arch_of(G1, G2)
        R1, R2 = relabel(G1, rng), relabel(G2, rng)
        assert isomorphic(G1, R1) and isomorphic(G2, R2)
        b = arch_of(R1, R2)
        assert b.stages[0].graph.graph["input"] != 0 or b.stages[0].graph.graph["output"] != 11
        assert a != b  # different JSON...
        assert architecture_hash(a) == architecture_hash(b)  # ...same network
        assert stage_hash(a.stages[0]) == stage_hash(b.stages[0])


MUTATIONS = {"rewire_edge": rewire_edge, "add_edge": add_edge, "remove_edge": remove_edge}


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_moved_edge_changes_the_hash(family, mutation):
    fam, params = FAMILIES[family]
    checked = 0
    for seed in range(8):
        G = random_dag(fam, 8, seed=seed, **params)
        H = MUTATIONS[mutation](G, seed=seed)
        if isomorphic(G, H):  # no valid move, or a move onto a symmetric twin
            continue
        checked += 1
        a, b = arch_of(G), arch_of(H)
        assert architecture_hash(a) != architecture_hash(b), (family, mutation, seed)
        assert stage_hash(a.stages[0]) != stage_hash(b.stages[0])
        # The same move seen through another labelling still differs.
        R = relabel(H, random.Random(seed))
        assert architecture_hash(arch_of(R)) == architecture_hash(b) != architecture_hash(a)
    assert checked >= 6


def test_edge_direction_matters():
    # Compute nodes wired 1 - 2 - 3 both times: node 2 fans out to 1 and 3, or collects them.
    fan_out = nx.DiGraph([(0, 2), (2, 1), (2, 3), (1, 4), (3, 4)], input=0, output=4)
    fan_in = nx.DiGraph([(0, 1), (0, 3), (1, 2), (3, 2), (2, 4)], input=0, output=4)
    for G in (fan_out, fan_in):
        nx.set_node_attributes(G, dict.fromkeys((1, 2, 3), "sep_conv_3x3"), "op")
    assert nx.is_isomorphic(fan_out.to_undirected(), fan_in.to_undirected())
    assert not isomorphic(fan_out, fan_in)
    assert architecture_hash(arch_of(fan_out)) != architecture_hash(arch_of(fan_in))


def test_every_op_gives_its_own_hash():
    G = random_dag("ws", 8, k=4, p=0.5, seed=1)
    base = arch_of(G)
    hashes = {}
    for op in op_names():
        H = G.copy()
        H.nodes[3]["op"] = op
        hashes[op] = architecture_hash(arch_of(H))
    assert len(set(hashes.values())) == len(op_names())
    assert hashes["sep_conv_3x3"] == architecture_hash(base)


def test_moving_an_op_to_another_node_changes_the_hash():
    # Same graph, same multiset of ops, on different nodes (found non-isomorphic first).
    G = random_dag("ws", 8, k=4, p=0.5, seed=2)
    seen = {}
    for v in sorted(G)[1:-1]:
        H = G.copy()
        H.nodes[v]["op"] = "conv_1x1"
        seen[v] = H
    distinct = 0
    nodes = sorted(seen)
    for i, u in enumerate(nodes):
        for v in nodes[i + 1 :]:
            same_hash = architecture_hash(arch_of(seen[u])) == architecture_hash(arch_of(seen[v]))
            assert same_hash == isomorphic(seen[u], seen[v]), (u, v)
            distinct += not same_hash
    assert distinct > 0


def _stage0(**changes):
    def change(a: Architecture) -> Architecture:
        s = a.stages[0]
        return a.replace(stages=(replace(s, **changes), *a.stages[1:]))

    return change


CHANGES = {
    "stage channels": _stage0(channels=17),
    "stage stride": _stage0(stride=2),
    "stage order": lambda a: a.replace(stages=(a.stages[1], a.stages[0])),
    "stage dropped": lambda a: a.replace(stages=a.stages[:1]),
    "stem width": lambda a: a.replace(stem=(StemLayer(17),)),
    "stem stride": lambda a: a.replace(stem=(StemLayer(16, stride=2),)),
    "stem kernel": lambda a: a.replace(stem=(StemLayer(16, kernel=5),)),
    "stem layer added": lambda a: a.replace(stem=(StemLayer(16), StemLayer(16))),
    "input shape": lambda a: a.replace(input_shape=(1, 32, 32)),
    "num classes": lambda a: a.replace(num_classes=100),
    "head channels": lambda a: a.replace(head=Head(channels=128)),
    "head dropout": lambda a: a.replace(head=Head(dropout=0.2)),
    "train optimizer": lambda a: a.replace(train=TrainConfig(optimizer="adamw")),
    "train lr": lambda a: a.replace(train=TrainConfig(lr=0.05)),
    "train momentum": lambda a: a.replace(train=TrainConfig(momentum=0.8)),
    "train weight decay": lambda a: a.replace(train=TrainConfig(weight_decay=1e-4)),
    "train batch size": lambda a: a.replace(train=TrainConfig(batch_size=64)),
    "train epochs": lambda a: a.replace(train=TrainConfig(epochs=11)),
    "train label smoothing": lambda a: a.replace(train=TrainConfig(label_smoothing=0.0)),
    "train schedule": lambda a: a.replace(train=TrainConfig(schedule="cosine")),
    "train warmup": lambda a: a.replace(train=TrainConfig(warmup_epochs=1.0)),
}


@pytest.fixture(scope="module")
def base() -> Architecture:
    return arch_of(random_dag("ws", 8, k=4, p=0.5, seed=5), random_dag("er", 8, p=0.4, seed=6))


@pytest.mark.parametrize("what", sorted(CHANGES))
def test_what_is_trained_changes_the_hash(base, what):
    changed = CHANGES[what](base)
    assert changed != base
    assert architecture_hash(changed) != architecture_hash(base)


PROVENANCE = {
    "name": lambda a: a.replace(name="renamed"),
    "meta": lambda a: a.replace(meta={"seed": 99, "note": "x"}),
    "origin": _stage0(origin={"family": "hand", "params": {}}),
    "origin removed": _stage0(origin=None),
}


@pytest.mark.parametrize("what", sorted(PROVENANCE))
def test_provenance_does_not_change_the_hash(what):
    a = build_architecture("fashion-mnist", "ba", {"m": 2}, seed=4)
    changed = PROVENANCE[what](a)
    assert changed != a
    assert architecture_hash(changed) == architecture_hash(a)


def test_int_and_float_spellings_hash_alike():
    a = arch_of(random_dag("ws", 8, k=4, p=0.5, seed=5))
    data = a.to_dict()
    data["head"]["dropout"] = 0
    data["train"].update(lr=1, warmup_epochs=0, label_smoothing=0, momentum=1, weight_decay=0)
    b = Architecture.from_dict(data)
    c = a.replace(
        train=TrainConfig(
            lr=1.0, warmup_epochs=0.0, label_smoothing=0.0, momentum=1.0, weight_decay=0.0
        )
    )
    assert b == c
    assert architecture_hash(b) == architecture_hash(c)


def test_hash_of_every_family_survives_the_json_round_trip():
    for fam, params in FAMILIES.values():
        a = build_architecture("fashion-mnist", fam, params, seed=8)
        assert architecture_hash(Architecture.from_json(a.to_json())) == architecture_hash(a)
