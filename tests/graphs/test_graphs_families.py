"""Tests of the graph-family registry: lookup, registration, sampling ranges and fix-ups."""

import itertools
import random
import subprocess
import sys
from pathlib import Path

import networkx as nx
import pytest

from graphs import (
    FAMILIES,
    EvenBelow,
    Family,
    GenesisError,
    IntBelow,
    Uniform,
    family_names,
    get_family,
    random_dag,
    register_family,
    to_dag,
    unregister_family,
    validate_dag,
)

ROOT = Path(__file__).resolve().parents[2]


def test_import_graphs_never_imports_torch():
    code = "import sys, graphs; assert 'torch' not in sys.modules, 'torch imported'; print('ok')"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_builtin_families_in_registration_order():
    assert family_names()[:3] == ["er", "ws", "ba"]
    assert all(FAMILIES[name] is get_family(name).generator for name in family_names())


@pytest.mark.parametrize("name", ["hex", "", "nx:star", None])
def test_unknown_family_lists_the_known_ones(name):
    with pytest.raises(GenesisError, match=rf"unknown graph family {name!r}; known: ba, er, ws"):
        get_family(name)


@pytest.mark.parametrize("family", family_names())
@pytest.mark.parametrize("n", range(2, 17))
def test_sampled_parameters_are_valid(family, n):
    spec = get_family(family)
    if n < spec.min_nodes:
        with pytest.raises(GenesisError):
            random_dag(family, n, seed=0, **spec.sample(random.Random(n), n))
        return
    rng = random.Random(n)
    for _ in range(20):
        params = spec.sample(rng, n)
        assert list(params) == list(spec.ranges)
        validate_dag(random_dag(family, n, seed=rng, **params))


@pytest.mark.parametrize("family", family_names())
@pytest.mark.parametrize("n", range(2, 12))
def test_every_controller_choice_fits_every_n(family, n):
    spec = get_family(family)
    keys = list(spec.choices)
    for values in itertools.product(*(spec.choices[k] for k in keys)):
        params, m = spec.fit(dict(zip(keys, values, strict=True)), n)
        assert m == max(n, spec.min_nodes)
        validate_dag(random_dag(family, m, seed=0, **params))


@pytest.mark.parametrize("family", family_names())
def test_defaults_are_valid_for_the_default_preset(family):
    validate_dag(random_dag(family, 8, seed=0, **get_family(family).defaults))


def test_ranges_draw_as_before():
    """The draws the search made before the registry existed, call for call."""
    a, b = random.Random(3), random.Random(3)
    for n in range(2, 12):
        assert Uniform(0.1, 0.6).draw(a, n) == round(b.uniform(0.1, 0.6), 3)
        ks = [k for k in range(2, n, 2)] or [2]
        assert EvenBelow(2, 3).draw(a, n) == b.choice(ks[:3])
        assert IntBelow(1, 5).draw(a, n) == b.randint(1, max(1, min(5, n - 1)))


@pytest.mark.parametrize(
    ("k", "n", "fitted"), [(6, 2, 2), (6, 3, 2), (6, 4, 2), (6, 5, 4), (4, 9, 4), (6, 9, 6)]
)
def test_even_below_clip(k, n, fitted):
    assert get_family("ws").fit({"k": k, "p": 0.5}, n)[0]["k"] == fitted


def test_register_and_unregister():
    def path(n, seed=None, op="sep_conv_3x3"):
        return to_dag(nx.path_graph(n), op=op)

    register_family(Family("path", path, description="a chain"))
    try:
        assert family_names()[-1] == "path" and FAMILIES["path"] is path
        assert random_dag("path", 5).number_of_edges() == 4 + 2
        with pytest.raises(GenesisError, match=r"family 'path' takes parameters \[\]"):
            random_dag("path", 5, p=0.5)
    finally:
        unregister_family("path")
    assert "path" not in family_names() and "path" not in FAMILIES
    with pytest.raises(GenesisError, match="unknown graph family 'path'"):
        unregister_family("path")


@pytest.mark.parametrize(
    ("fields", "match"),
    [
        ({"name": "nx:ring"}, "a family name must be a non-empty string not starting with 'nx:'"),
        ({"name": ""}, "a family name must be a non-empty string"),
        ({"generator": 3}, "family 'x' needs a callable generator"),
        ({"min_nodes": 1}, "family 'x' min_nodes must be >= 2, got 1"),
        ({"choices": {"q": (1,)}}, r"family 'x' offers controller choices \['q'\] without a range"),
        (
            {"ranges": {"q": Uniform(0, 1)}, "choices": {"q": ()}},
            "family 'x' choices for q must be non-empty",
        ),
    ],
)
def test_bad_family_spec(fields, match):
    values = {"name": "x", "generator": lambda n, seed=None, op="": None, **fields}
    with pytest.raises(GenesisError, match=match):
        Family(**values)
