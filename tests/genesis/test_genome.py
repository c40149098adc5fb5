"""The architecture genome: lossless JSON, stage statistics and every input check."""

from __future__ import annotations

import json
import os
import re

import networkx as nx
import pytest

from genesis import (
    PRESETS,
    SCHEMA,
    SCHEMA_VERSION,
    Architecture,
    GenesisError,
    Head,
    Stage,
    StemLayer,
    TrainConfig,
    build_architecture,
    load_architecture,
    op_names,
    save_architecture,
)
from graphs import family_names, get_family, random_dag, watts_strogatz

#: Every graph family with parameters that work for 8 or more nodes per stage.
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


def small_arch(**changes) -> Architecture:
    arch = Architecture(
        input_shape=(1, 28, 28),
        num_classes=10,
        stem=(StemLayer(8),),
        stages=(Stage(watts_strogatz(6, 2, 0.5, seed=0), channels=16, stride=1),),
    )
    return arch.replace(**changes) if changes else arch


def valid_dict() -> dict:
    return small_arch().to_dict()


def hand_written() -> dict:
    """A stage written by hand: ids out of order, input and output not 0 and n + 1."""
    return {
        "schema": SCHEMA,
        "version": SCHEMA_VERSION,
        "name": "by hand",
        "input_shape": [3, 32, 32],
        "num_classes": 10,
        "stem": [{"channels": 16, "stride": 1, "kernel": 3}],
        "stages": [
            {
                "channels": 32,
                "stride": 2,
                "graph": {
                    "input": 99,
                    "output": 7,
                    "nodes": [
                        {"id": 42, "op": "conv_3x3"},
                        {"id": 3, "op": "sep_conv_3x3"},
                        {"id": 100, "op": "max_pool_3x3"},
                    ],
                    "edges": [[99, 42], [42, 3], [42, 100], [3, 100], [100, 7]],
                },
            }
        ],
    }


def graph_facts(G: nx.DiGraph) -> tuple:
    """What a stage graph is, independent of the JSON form: roles, ops and edges."""
    ops = {v: d.get("op") for v, d in G.nodes(data=True)}
    return G.graph["input"], G.graph["output"], ops, set(G.edges)


# -- 1. JSON round trip ---------------------------------------------------------------------------
@pytest.mark.parametrize("family", sorted(FAMILIES))
@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_json_round_trip_is_lossless(preset, family, tmp_path):
    fam, params = FAMILIES[family]
    arch = build_architecture(preset, fam, params, seed=7)
    text = arch.to_json()
    back = Architecture.from_json(text)
    assert back == arch
    assert back.to_dict() == arch.to_dict()
    assert back.to_json() == text
    for ours, theirs in zip(arch.stages, back.stages, strict=True):
        assert graph_facts(theirs.graph) == graph_facts(ours.graph)
        assert (theirs.channels, theirs.stride) == (ours.channels, ours.stride)
        assert dict(theirs.origin) == dict(ours.origin)
        assert theirs.origin["family"] == fam and theirs.origin["params"] == params
    assert dict(back.meta) == dict(arch.meta)
    assert back.meta["seed"] == 7 and back.meta["preset"] == preset
    assert (back.name, back.head, back.train, back.stem) == (
        arch.name,
        arch.head,
        arch.train,
        arch.stem,
    )

    path = save_architecture(arch, tmp_path / "sub" / "arch.json")
    loaded = load_architecture(path)
    assert loaded == arch
    assert loaded.to_dict() == arch.to_dict()
    assert [dict(s.origin) for s in loaded.stages] == [dict(s.origin) for s in arch.stages]
    assert os.listdir(path.parent) == ["arch.json"]  # no temporary file left behind


def test_equality_sees_every_difference():
    arch = small_arch()
    assert arch == small_arch()
    assert arch != small_arch(name="other")
    assert arch != small_arch(meta={"seed": 1})
    assert arch != small_arch(num_classes=11)
    G = arch.stages[0].graph.copy()
    G.nodes[1]["op"] = "conv_3x3"
    assert arch != small_arch(stages=(Stage(G, 16, 1),))


def test_hand_written_ids_load_and_round_trip(tmp_path):
    path = tmp_path / "hand.json"
    path.write_text(json.dumps(hand_written()), encoding="utf-8")
    arch = load_architecture(path)
    G = arch.stages[0].graph
    assert (G.graph["input"], G.graph["output"]) == (99, 7)
    assert arch.stages[0].ops() == {42: "conv_3x3", 3: "sep_conv_3x3", 100: "max_pool_3x3"}
    assert set(G.edges) == {(99, 42), (42, 3), (42, 100), (3, 100), (100, 7)}
    assert arch.name == "by hand" and arch.head == Head() and arch.train == TrainConfig()
    again = Architecture.from_json(arch.to_json())
    assert again == arch
    assert graph_facts(again.stages[0].graph) == graph_facts(G)
    saved = load_architecture(save_architecture(arch, tmp_path / "again.json"))
    assert saved == arch


def test_string_node_ids_are_rejected_with_a_clear_message():
    # genome.py now restricts node ids to integers (the compiler relies on it).
    data = hand_written()
    g = data["stages"][0]["graph"]
    g.update(
        input="in",
        output="out",
        nodes=[{"id": "a", "op": "conv_3x3"}],
        edges=[["in", "a"], ["a", "out"]],
    )
    with pytest.raises(GenesisError, match="integer node ids, got 'in'"):
        Architecture.from_dict(data)


def test_meta_and_origin_survive_as_json_data():
    G = watts_strogatz(6, 2, 0.5, seed=0)
    origin = {"family": "ws", "params": {"k": 2, "p": 0.5}, "note": ["a", 1, None, True]}
    arch = small_arch(
        stages=(Stage(G, 16, 1, origin=origin),), meta={"seed": 3, "tags": ("x", "y")}
    )
    back = Architecture.from_json(arch.to_json())
    assert back == arch
    assert dict(back.stages[0].origin) == origin
    assert dict(back.meta) == {"seed": 3, "tags": ["x", "y"]}


def test_float_fields_are_stored_as_floats():
    arch = small_arch(head=Head(dropout=0), train=TrainConfig(lr=1, warmup_epochs=0))
    assert arch.to_dict()["train"]["lr"] == 1.0
    assert isinstance(arch.train.lr, float) and isinstance(arch.head.dropout, float)
    assert '"lr": 1.0' in arch.to_json()


# -- 3. stage statistics --------------------------------------------------------------------------
STAT_KEYS = {
    "nodes",
    "edges",
    "input_nodes",
    "output_nodes",
    "depth",
    "components",
    "avg_path_length",
    "clustering",
    "degree_mean",
    "degree_std",
    "degree_min",
    "degree_max",
}


def test_stage_stats_of_a_known_graph():
    # 1 -> 2 -> 3 and 1 -> 3: one triangle, fed at 1, draining at 3.
    G = nx.DiGraph([(0, 1), (1, 2), (2, 3), (1, 3), (3, 4)], input=0, output=4)
    nx.set_node_attributes(G, "sep_conv_3x3", "op")
    del G.nodes[0]["op"], G.nodes[4]["op"]
    (stats,) = small_arch(stages=(Stage(G, 8),)).stage_stats()
    assert stats == {
        "nodes": 3,
        "edges": 3,
        "input_nodes": 1,
        "output_nodes": 1,
        "depth": 4,
        "components": 1,
        "avg_path_length": 1.0,
        "clustering": 1.0,
        "degree_mean": 2.0,
        "degree_std": 0.0,
        "degree_min": 2,
        "degree_max": 2,
    }


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_stage_stats_agree_with_the_graph(family):
    fam, params = FAMILIES[family]
    arch = build_architecture("cifar10", fam, params, seed=11, nodes=12)
    stats = arch.stage_stats()
    assert len(stats) == len(arch.stages) == 3
    for stage, s in zip(arch.stages, stats, strict=True):
        assert set(s) >= STAT_KEYS
        G = stage.graph
        src, dst = G.graph["input"], G.graph["output"]
        inner = G.subgraph(v for v in G if v not in (src, dst)).to_undirected()
        degrees = [d for _, d in inner.degree()]
        assert s["nodes"] == stage.num_nodes == 12
        assert (
            s["edges"]
            == inner.number_of_edges()
            == G.number_of_edges() - (G.out_degree(src) + G.in_degree(dst))
        )
        assert s["input_nodes"] == len(list(G.successors(src))) >= 1
        assert s["output_nodes"] == len(list(G.predecessors(dst))) >= 1
        assert s["depth"] == nx.dag_longest_path_length(G) >= 2
        assert s["components"] == nx.number_connected_components(inner)
        assert s["clustering"] == pytest.approx(nx.average_clustering(inner))
        assert 0.0 <= s["clustering"] <= 1.0
        assert s["degree_mean"] == pytest.approx(2 * s["edges"] / s["nodes"])
        assert (s["degree_min"], s["degree_max"]) == (min(degrees), max(degrees))
        assert s["degree_min"] <= s["degree_mean"] <= s["degree_max"]
        assert s["degree_std"] >= 0.0
        if s["components"] == 1:
            expected = nx.average_shortest_path_length(inner)
            assert s["avg_path_length"] == pytest.approx(expected)
        assert s["avg_path_length"] >= 1.0


# -- 4. bad input ---------------------------------------------------------------------------------
def loads(data) -> Architecture:
    return Architecture.from_json(json.dumps(data))


@pytest.mark.parametrize(
    "text",
    ["", "{", "not json", '{"schema": "genesis.architecture",}', "{'schema': 1}", "[1, 2"],
)
def test_malformed_json(text):
    with pytest.raises(GenesisError, match=r"architecture JSON is not valid JSON"):
        Architecture.from_json(text)


def test_truncated_file(tmp_path):
    text = save_architecture(build_architecture(seed=0), tmp_path / "a.json").read_text()
    cut = tmp_path / "cut.json"
    cut.write_text(text[: len(text) // 2], encoding="utf-8")
    with pytest.raises(GenesisError, match=re.escape(f"{cut} is not valid JSON (truncated")):
        load_architecture(cut)


def test_deeply_nested_json_is_an_error_not_a_crash():
    with pytest.raises(GenesisError, match="nested too deeply"):
        Architecture.from_json("[" * 100_000)
    data = valid_dict()
    text = json.dumps(data)[:-1] + ', "extra": ' + "[" * 5000 + "]" * 5000 + "}"
    with pytest.raises(GenesisError, match="nested too deeply"):
        Architecture.from_json(text)


@pytest.mark.parametrize("data", [[], "x", 3, None])
def test_top_level_must_be_an_object(data):
    with pytest.raises(GenesisError, match="an architecture must be a JSON object"):
        loads(data)


def _drop(path):
    def edit(d):
        *parents, last = path
        for key in parents:
            d = d[key]
        del d[last]

    return edit


@pytest.mark.parametrize(
    ("path", "message"),
    [
        (("stages",), "architecture is missing the field 'stages'"),
        (("num_classes",), "architecture is missing the field 'num_classes'"),
        (("input_shape",), "architecture is missing the field 'input_shape'"),
        (("stages", 0, "channels"), "stage 0 is missing the field 'channels'"),
        (("stages", 0, "graph"), "stage 0 is missing the field 'graph'"),
        (("stages", 0, "graph", "edges"), "stage 0 graph is missing the field 'edges'"),
        (("stages", 0, "graph", "input"), "stage 0 graph is missing the field 'input'"),
    ],
)
def test_missing_field(path, message):
    data = valid_dict()
    _drop(path)(data)
    with pytest.raises(GenesisError, match=re.escape(message)):
        loads(data)


def test_optional_fields_take_defaults():
    data = valid_dict()
    for key in ("name", "stem", "head", "train", "meta"):
        del data[key]
    del data["stages"][0]["stride"]
    arch = loads(data)
    assert arch.stem == () and arch.head == Head() and arch.train == TrainConfig()
    assert arch.stages[0].stride == 2 and arch.name == "" and dict(arch.meta) == {}


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ((), r"architecture has unknown field\(s\) \['colour'\]"),
        (("stages", 0), r"stage 0 has unknown field\(s\) \['colour'\]"),
        (("stages", 0, "graph"), r"stage 0 graph has unknown field\(s\) \['colour'\]"),
        (("stages", 0, "graph", "nodes", 0), r"graph node has unknown field\(s\) \['colour'\]"),
        (("head",), r"head has unknown field\(s\) \['colour'\]"),
        (("train",), r"train has unknown field\(s\) \['colour'\]"),
        (("stem", 0), r"stem\[0\] has unknown field\(s\) \['colour'\]"),
    ],
)
def test_unknown_field(where, message):
    data = valid_dict()
    target = data
    for key in where:
        target = target[key]
    target["colour"] = "blue"
    with pytest.raises(GenesisError, match=message):
        loads(data)


@pytest.mark.parametrize("schema", ["genesis.population", "", None, 1])
def test_wrong_schema(schema):
    data = valid_dict()
    data["schema"] = schema
    with pytest.raises(GenesisError, match=re.escape(f"schema is {schema!r}")):
        loads(data)


@pytest.mark.parametrize("version", [99, 0, "1", None])
def test_unknown_schema_version(version):
    data = valid_dict()
    data["version"] = version
    with pytest.raises(
        GenesisError, match=re.escape(f"unknown architecture schema version {version!r}")
    ):
        loads(data)


def test_unknown_op_lists_known_ops():
    data = valid_dict()
    data["stages"][0]["graph"]["nodes"][2]["op"] = "conv_7x7"
    with pytest.raises(GenesisError, match="node 3 has unknown op 'conv_7x7'") as err:
        loads(data)
    known = str(err.value).split("known ops:")[1]
    assert [name.strip() for name in known.split(",")] == op_names()


def test_op_must_be_a_string():
    data = valid_dict()
    data["stages"][0]["graph"]["nodes"][0]["op"] = 3
    with pytest.raises(GenesisError, match="node 1 needs an op name, got 3"):
        loads(data)


def stage_graph(edges, nodes=(1, 2, 3), src=0, dst=4) -> dict:
    data = valid_dict()
    data["stages"][0]["graph"] = {
        "input": src,
        "output": dst,
        "nodes": [{"id": v, "op": "sep_conv_3x3"} for v in nodes],
        "edges": [list(e) for e in edges],
    }
    return data


def test_valid_stage_graph_helper_loads():
    arch = loads(stage_graph([(0, 1), (1, 2), (2, 3), (3, 4)]))
    assert arch.stages[0].num_nodes == 3


def test_cycle_names_its_nodes():
    data = stage_graph([(0, 1), (1, 2), (2, 3), (3, 2), (3, 4)])
    with pytest.raises(GenesisError, match=r"stage 0: .*has a cycle through nodes \[2, 3\]"):
        loads(data)


def test_self_loop():
    data = stage_graph([(0, 1), (1, 2), (2, 2), (2, 3), (3, 4)])
    with pytest.raises(GenesisError, match="self-loop on node 2"):
        loads(data)


@pytest.mark.parametrize(
    ("edges", "off"),
    [
        ([(0, 1), (1, 2), (2, 4)], "[3]"),  # 3 isolated
        ([(0, 1), (1, 2), (2, 4), (1, 3)], "[3]"),  # 3 a dead end
        ([(0, 1), (1, 2), (2, 4), (3, 2)], "[3]"),  # 3 fed by nothing
    ],
)
def test_node_off_every_input_output_path(edges, off):
    message = f"nodes {off} lie on no path from input 0 to output 4"
    with pytest.raises(GenesisError, match=r"stage 0: .*" + re.escape(message)):
        loads(stage_graph(edges))


def test_input_joined_to_output():
    with pytest.raises(GenesisError, match="joins its input node 0 directly to its output 4"):
        loads(stage_graph([(0, 1), (1, 2), (2, 3), (3, 4), (0, 4)]))


def test_node_fed_by_input_and_another_node():
    with pytest.raises(GenesisError, match="node 2 is fed by the input node and by \\[1\\]"):
        loads(stage_graph([(0, 1), (0, 2), (1, 2), (2, 3), (3, 4)]))


def test_duplicate_edge():
    data = stage_graph([(0, 1), (1, 2), (1, 2), (2, 3), (3, 4)])
    with pytest.raises(GenesisError, match=re.escape("stage 0 graph lists edge [1, 2] twice")):
        loads(data)


def test_duplicate_node():
    data = stage_graph([(0, 1), (1, 2), (2, 3), (3, 4)], nodes=(1, 2, 3, 2))
    with pytest.raises(GenesisError, match="lists node 2 twice"):
        loads(data)


@pytest.mark.parametrize("edge", [(2, 7), (7, 2)])
def test_edge_naming_an_unlisted_node(edge):
    data = stage_graph([(0, 1), (1, 2), (2, 3), (3, 4), edge])
    with pytest.raises(GenesisError, match="names node 7, which is not listed"):
        loads(data)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("input", None, "input/output must be integer node ids, got None"),
        ("output", [4], "input/output must be integer node ids, got [4]"),
        ("nodes", [{"id": None, "op": "conv_3x3"}], "node ids must be integers, got None"),
        ("nodes", [{"id": 1}], "graph nodes need 'id' and 'op'"),
        ("edges", [[0, 1, 2]], "edges must be [from, to] pairs"),
        ("edges", {"0": 1}, "graph edges must be a JSON list"),
    ],
)
def test_malformed_stage_graph(field, value, message):
    data = valid_dict()
    data["stages"][0]["graph"][field] = value
    with pytest.raises(GenesisError, match=re.escape(message)):
        loads(data)


@pytest.mark.parametrize("value", [1, 0, -3, True, 2.0, "10", None])
def test_num_classes_below_two(value):
    data = valid_dict()
    data["num_classes"] = value
    with pytest.raises(
        GenesisError, match=re.escape(f"num_classes must be an integer >= 2, got {value!r}")
    ):
        loads(data)


@pytest.mark.parametrize(
    ("where", "message"),
    [
        (("stages", 0), "stage channels must be an integer >= 1, got 0"),
        (("stem", 0), "stem layer channels must be an integer >= 1, got 0"),
    ],
)
def test_zero_channels(where, message):
    data = valid_dict()
    data[where[0]][where[1]]["channels"] = 0
    with pytest.raises(GenesisError, match=re.escape(message)):
        loads(data)


@pytest.mark.parametrize("value", [-1, 1.5, True])
def test_bad_head_channels(value):
    data = valid_dict()
    data["head"]["channels"] = value
    with pytest.raises(GenesisError, match="head channels must be an integer >= 0"):
        loads(data)


@pytest.mark.parametrize("shape", [[1, 28], [0, 28, 28], [1, 28, 28.0], "1x28x28"])
def test_bad_input_shape(shape):
    data = valid_dict()
    data["input_shape"] = shape
    with pytest.raises(GenesisError, match="input_shape"):
        loads(data)


@pytest.mark.parametrize("where", ["stages", "stem"])
@pytest.mark.parametrize("stride", [0, 3, -1, 2.0, True, "2"])
def test_bad_stride(where, stride):
    data = valid_dict()
    data[where][0]["stride"] = stride
    with pytest.raises(GenesisError, match=re.escape(f"stride must be 1 or 2, got {stride!r}")):
        loads(data)


def test_even_stem_kernel():
    data = valid_dict()
    data["stem"][0]["kernel"] = 4
    with pytest.raises(GenesisError, match="stem layer kernel must be odd, got 4"):
        loads(data)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("optimizer", "adam", "train optimizer must be one of sgd, adamw, got 'adam'"),
        ("schedule", "step", "train schedule must be one of cosine, onecycle, constant"),
        ("lr", 0, "train lr must be in (0.0, 10.0], got 0"),
        ("lr", -0.1, "train lr must be in (0.0, 10.0], got -0.1"),
        ("lr", "0.1", "train lr must be in (0.0, 10.0], got '0.1'"),
        ("label_smoothing", 1.0, "train label_smoothing must be below 1, got 1.0"),
        ("label_smoothing", 1.5, "train label_smoothing must be in [0.0, 1.0], got 1.5"),
        ("label_smoothing", -0.1, "train label_smoothing must be in [0.0, 1.0], got -0.1"),
        ("momentum", 1.1, "train momentum must be in [0.0, 1.0], got 1.1"),
        ("batch_size", 0, "train batch_size must be an integer >= 1, got 0"),
        ("epochs", 2.5, "train epochs must be an integer >= 1, got 2.5"),
        ("warmup_epochs", -1, "train warmup_epochs must be in [0.0"),
    ],
)
def test_bad_train_values(field, value, message):
    data = valid_dict()
    data["train"][field] = value
    with pytest.raises(GenesisError, match=re.escape(message)):
        loads(data)


def test_non_finite_train_value():
    # Python's json reads NaN; a genome must not.
    text = json.dumps(valid_dict()).replace('"lr": 0.1', '"lr": NaN')
    assert "NaN" in text
    with pytest.raises(GenesisError, match="train lr must be in"):
        Architecture.from_json(text)


@pytest.mark.parametrize("dropout", [1.0, -0.5])
def test_bad_head_dropout(dropout):
    data = valid_dict()
    data["head"]["dropout"] = dropout
    with pytest.raises(GenesisError, match="head dropout must be"):
        loads(data)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", None, "architecture name must be a string, got None"),
        ("meta", [1], "meta must be a JSON object, got list"),
        ("stem", {}, "stem must be a JSON list, got dict"),
        ("stages", {}, "architecture stages must be a list, got dict"),
        ("stages", [], "an architecture needs at least one stage"),
        ("head", [], "head must be a JSON object, got list"),
    ],
)
def test_wrong_types(field, value, message):
    data = valid_dict()
    data[field] = value
    with pytest.raises(GenesisError, match=re.escape(message)):
        loads(data)


def test_stage_origin_must_be_an_object():
    data = valid_dict()
    data["stages"][0]["origin"] = ["ws"]
    with pytest.raises(GenesisError, match="stage origin must be a JSON object"):
        loads(data)


def test_errors_name_the_file(tmp_path):
    data = valid_dict()
    data["num_classes"] = 1
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(GenesisError, match=re.escape(f"{path}: num_classes must be")):
        load_architecture(path)


def test_nonexistent_file(tmp_path):
    path = tmp_path / "nope.json"
    with pytest.raises(GenesisError, match=re.escape(f"architecture file '{path}' does not exist")):
        load_architecture(path)


def test_unreadable_files(tmp_path):
    with pytest.raises(GenesisError, match="cannot read architecture file"):
        load_architecture(tmp_path)  # a directory
    binary = tmp_path / "bin.json"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(GenesisError, match="cannot read architecture file"):
        load_architecture(binary)


# -- construction in Python -----------------------------------------------------------------------
def test_constructors_validate():
    G = watts_strogatz(6, 2, 0.5, seed=0)
    with pytest.raises(GenesisError, match="stage channels must be an integer >= 1, got 0"):
        Stage(G, 0)
    with pytest.raises(GenesisError, match="stage stride must be 1 or 2, got 3"):
        Stage(G, 8, 3)
    with pytest.raises(GenesisError, match="needs at least one stage"):
        small_arch(stages=())
    with pytest.raises(GenesisError, match="stage 0 must be a Stage, got DiGraph"):
        small_arch(stages=(G,))
    with pytest.raises(GenesisError, match="stem layer 0 must be a StemLayer, got int"):
        small_arch(stem=(8,))
    with pytest.raises(GenesisError, match="head must be a Head, got dict"):
        small_arch(head={})
    bad = G.copy()
    bad.nodes[1]["op"] = "nope"
    with pytest.raises(GenesisError, match="stage 0 node 1 has unknown op 'nope'"):
        small_arch(stages=(Stage(bad, 8),))


def test_meta_that_is_not_json_fails_on_write(tmp_path):
    arch = small_arch(meta={"when": object()})
    with pytest.raises(GenesisError, match="architecture metadata must be JSON data"):
        save_architecture(arch, tmp_path / "a.json")
    assert not list(tmp_path.iterdir())


def test_save_overwrites_atomically(tmp_path):
    path = tmp_path / "a.json"
    path.write_text("old", encoding="utf-8")
    arch = small_arch()
    assert save_architecture(arch, path) == path
    assert path.read_text(encoding="utf-8") == arch.to_json() + "\n"
    assert sorted(os.listdir(tmp_path)) == ["a.json"]


def test_failed_save_leaves_no_temporary_file(tmp_path):
    target = tmp_path / "taken"
    target.mkdir()  # a directory where the file should go: the rename fails
    with pytest.raises(GenesisError, match="cannot write architecture file .*Is a directory"):
        save_architecture(small_arch(), target)
    assert sorted(os.listdir(tmp_path)) == ["taken"]
    assert not list(target.iterdir())


def test_op_names_and_stage_ops():
    G = random_dag("ws", 6, k=2, p=0.0, seed=0, op="conv_1x1")
    arch = small_arch(stages=(Stage(G, 8),))
    assert arch.op_names() == {"conv_1x1"}
    assert arch.stages[0].ops() == dict.fromkeys(range(1, 7), "conv_1x1")
