"""Objectives beside accuracy: MACs, measured latency, peak memory, or several (three-objective
nsga2): the front, the hypervolume and selection in any number of costs, and a search over them."""

from __future__ import annotations

import itertools
import json
import math
import random

import pytest

from evolve.config import EvolveConfig, SearchConfig, load_config
from evolve.fitness import (
    Individual,
    hypervolume,
    hypervolume_contributions,
    make_fitness_class,
    sel_nsga2_hypervolume,
)
from evolve.strategies import get_strategy
from genesis import GenesisError, load_architecture
from genesis.cli import main
from genesis.cost import peak_memory
from genesis.runfolder import objectives, pareto_front
from visualize import read_run
from visualize.compare import comparability_warnings


# -- exact references, by brute force --------------------------------------------------------------
def _dominates(a, b):
    return a != b and a[0] >= b[0] and all(x <= y for x, y in zip(a[1:], b[1:], strict=True))


def _brute_front(points):
    return [p for p in points if not any(_dominates(q, p) for q in points)]


def _brute_hypervolume(points, refs):
    """Inclusion-exclusion over the boxes each point dominates, in minimised coordinates."""
    boxes = [
        (1 - p[0], *(c / r for c, r in zip(p[1:], refs, strict=True)))
        for p in points
        if p[0] > 0 and all(c < r for c, r in zip(p[1:], refs, strict=True))
    ]
    total = 0.0
    for n in range(1, len(boxes) + 1):
        for subset in itertools.combinations(boxes, n):
            corner = [max(b[d] for b in subset) for d in range(len(boxes[0]))]
            total += (-1) ** (n + 1) * math.prod(1 - x for x in corner)
    return total


def _points(rng, n, costs):
    return [
        (round(rng.uniform(0.1, 1.0), 2), *(round(rng.uniform(0, 1.2), 2) for _ in range(costs)))
        for _ in range(n)
    ]


# -- the front and the hypervolume in any number of costs ----------------------------------------
def test_objectives_of_a_record_in_any_costs_and_missing_ones_are_infinite():
    r = {"status": "ok", "accuracy": 0.8, "macs": 2e6, "latency_ms": 3.5, "memory_kb": 200.0}
    assert objectives(r) == (0.8, 2e6)
    assert objectives(r, ("latency", "memory")) == (0.8, 3.5, 200.0)
    assert objectives({"status": "ok", "accuracy": 0.8, "macs": 1}, ("latency",)) == (0.8, math.inf)
    assert objectives({**r, "status": "diverged"}, ("memory",)) == (0.0, 200.0)


@pytest.mark.parametrize("costs", [1, 2, 3])
def test_pareto_front_is_the_brute_force_front_by_increasing_first_cost(costs):
    rng = random.Random(costs)
    for _ in range(30):
        points = _points(rng, rng.randrange(1, 25), costs)
        points += rng.sample(points, min(3, len(points)))  # exact ties are all kept
        front = pareto_front(points, key=lambda p: p)
        assert sorted(front) == sorted(_brute_front(points))
        assert [p[1] for p in front] == sorted(p[1] for p in front)


@pytest.mark.parametrize("costs", [2, 3])
def test_hypervolume_in_more_costs_is_the_exact_volume(costs):
    rng = random.Random(10 + costs)
    refs = tuple(rng.uniform(0.8, 1.1) for _ in range(costs))
    for _ in range(25):
        front = _brute_front(_points(rng, rng.randrange(1, 7), costs))
        assert hypervolume(front, refs) == pytest.approx(_brute_hypervolume(front, refs), abs=1e-9)
        contrib = hypervolume_contributions(front, refs)
        full = hypervolume(front, refs)
        for i, c in enumerate(contrib):
            rest = front[:i] + front[i + 1 :]
            assert c == pytest.approx(full - hypervolume(rest, refs), abs=1e-9)


def test_one_cost_as_a_number_or_a_tuple_is_the_same_hypervolume():
    points = [(0.6, 1e6), (0.7, 2e6), (0.8, 4e6)]
    assert hypervolume(points, 1e7) == hypervolume(points, (1e7,))
    assert hypervolume_contributions(points, 1e7) == hypervolume_contributions(points, (1e7,))
    # scaled consistently: a cost and its reference in other units give the same volume
    assert hypervolume([(0.8, 2.0, 100.0)], (4.0, 400.0)) == pytest.approx(0.8 * 0.5 * 0.75)
    with pytest.raises(ValueError, match="points have 2 costs, the reference 1"):
        hypervolume([(0.8, 1.0, 1.0)], 2.0)


def _individuals(points):
    fit = make_fitness_class((1.0,) + (-1.0,) * (len(points[0]) - 1))
    return [Individual(None, f"h{i}", 0, fit(p)) for i, p in enumerate(points)]


def test_three_objective_selection_keeps_fronts_and_drops_the_least_contributor():
    refs = (1.0, 1.0)
    first = [(0.99, 0.9, 0.9), (0.5, 0.1, 0.9), (0.5, 0.9, 0.1), (0.6, 0.88, 0.88)]
    second = [(0.4, 0.95, 0.95)]  # dominated by the most accurate
    inds = _individuals(first + second)
    chosen = sel_nsga2_hypervolume(inds, 3, refs)
    # the whole first front does not fit: the middle member, which adds least volume of its
    # own, goes; the most accurate and the cheapest in latency and in memory stay
    assert sorted(i.hash for i in chosen) == ["h0", "h1", "h2"]
    contrib = hypervolume_contributions(first, refs)
    assert min(range(4), key=contrib.__getitem__) == 3
    assert all(i.fitness.rank == 0 for i in chosen)
    everyone = sel_nsga2_hypervolume(_individuals(first + second), 5, refs)
    assert [i.fitness.rank for i in everyone if i.hash == "h4"] == [1]


# -- configuration and strategies ------------------------------------------------------------------
def test_objective_config_rules_and_what_it_implies():
    s = SearchConfig(objective=("latency", "memory"), ref_latency_ms=5.0, ref_memory_kb=300.0)
    assert s.refs == (5.0, 300.0)
    assert s.measures("latency") and s.measures("memory")
    assert SearchConfig().objective == ("macs",) and SearchConfig().refs == (20e6,)
    assert not SearchConfig().measures("latency")
    assert SearchConfig(objective=["memory", "macs"]).refs == (2048.0, 20e6)
    for bad in ((), ("speed",), ("macs", "macs"), "macs", (1,)):
        with pytest.raises(GenesisError, match="search objective must list distinct costs"):
            SearchConfig(objective=bad)
    with pytest.raises(GenesisError, match="ref_latency_ms must be a positive number"):
        SearchConfig(ref_latency_ms=0)


def test_pareto_strategies_weigh_every_cost_and_scalar_ones_one_score():
    cfg = EvolveConfig(search=SearchConfig(objective=("latency", "memory")))
    nsga2 = get_strategy("nsga2")(cfg, None)
    assert nsga2.weights == (1.0, -1.0, -1.0)
    record = {"status": "ok", "accuracy": 0.7, "macs": 9, "latency_ms": 2.0, "memory_kb": 50.0}
    assert nsga2.score(record) == (0.7, 2.0, 50.0)
    assert nsga2.score({"status": "oom", "macs": 9}) == (0.0, math.inf, math.inf)
    assert get_strategy("random")(cfg, None).weights == (1.0, -1.0, -1.0)
    assert get_strategy("regularized")(cfg, None).weights == (1.0,)
    assert get_strategy("nsga2").fitness_weights(SearchConfig()) == (1.0, -1.0)


# -- a search over (accuracy, latency, memory) -----------------------------------------------
SYNTHETIC = ["evolve", "--fitness", "synthetic", "--workers", "1", "--population", "4"]


def _log(folder):
    return [json.loads(x) for x in (folder / "evaluations.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def three_objective_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("objectives") / "run"
    argv = [*SYNTHETIC, "--generations", "2", "--objective", "latency,memory", "--out", str(out)]
    assert main([*argv, "--ref-latency-ms", "50", "--final-top-k", "0"]) == 0
    return out


def test_a_three_objective_search_measures_keeps_and_fronts_every_cost(three_objective_run):
    out = three_objective_run
    cfg = load_config(out / "config.toml")
    assert cfg.search.objective == ("latency", "memory") and cfg.search.refs == (50.0, 2048.0)
    trained = [e for e in _log(out) if e["kind"] == "train"]
    assert any(e["rung"] > 0 for e in trained)  # default rungs: some went on
    latency = {}
    for e in trained:
        r = e["result"]
        assert r["latency_ms"] > 0 and r["memory_kb"] > 0
        # measured once, before the first rung: a promoted candidate's record keeps it
        assert latency.setdefault(e["hash"], r["latency_ms"]) == r["latency_ms"]
        arch = load_architecture(out / "architectures" / f"{e['hash']}.json")
        assert r["memory_kb"] == pytest.approx(peak_memory(arch).kb, abs=1e-3)
    # the front is the brute-force front over (accuracy, latency, memory) of every network at
    # the highest rung it reached
    best = {}
    for e in trained:
        if e["result"]["status"] == "ok":
            best[e["hash"]] = e["result"]
    values = {h: objectives(r, ("latency", "memory")) for h, r in best.items()}
    expected = _brute_front(list(values.values()))
    pareto = json.loads((out / "pareto.json").read_text())
    assert sorted(values[m["hash"]] for m in pareto) == sorted(expected)
    assert all("latency_ms" in m and "memory_kb" in m for m in pareto)
    state = json.loads((out / "run.json").read_text())
    hv = hypervolume([values[m["hash"]] for m in pareto], (50.0, 2048.0))
    assert state["hypervolume"] == pytest.approx(hv) and hv > 0
    assert hv == pytest.approx(_brute_hypervolume(expected, (50.0, 2048.0)), abs=1e-9)


def test_the_report_shows_the_objective_and_its_costs(three_objective_run):
    out = three_objective_run
    run = read_run(out)
    assert run.objective == ("latency", "memory") and not run.problems
    assert all(len(p) == 4 for p in run.points())  # accuracy, latency, memory, hash
    assert main(["report", str(out)]) == 0
    html = (out / "report.html").read_text()
    assert "Accuracy against latency and peak memory" in html
    assert "latency (ms)</th>" in html and "memory (KiB)</th>" in html
    assert "accuracy x latency x peak memory" in html


def test_compare_warns_when_objectives_differ(three_objective_run, tmp_path):
    other = tmp_path / "macs"
    assert main([*SYNTHETIC, "--generations", "0", "--final-top-k", "0", "--out", str(other)]) == 0
    warnings = comparability_warnings([read_run(three_objective_run), read_run(other)])
    assert any("search objective (latency, memory; macs)" in w for w in warnings)
    assert any("ref_latency_ms" in w for w in warnings)


def _call(argv):
    try:
        return main([str(a) for a in argv])
    except SystemExit as exc:  # argparse errors
        return exc.code


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--objective", "speed"], "--objective takes distinct costs of macs, memory, latency"),
        (["--objective", "macs,macs"], "--objective takes distinct costs"),
        (["--ref-latency-ms", "0"], "ref_latency_ms must be a positive number"),
    ],
)
def test_bad_objective_flags_are_one_line_and_exit_2(tmp_path, capsys, flags, message):
    assert _call([*SYNTHETIC, *flags, "--out", tmp_path / "o"]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()
