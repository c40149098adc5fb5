"""Objectives, the constrained score, Pareto fronts and hypervolume against hand and brute force."""

from __future__ import annotations

import random

import deap.creator
import pytest
from deap.tools import selNSGA2 as deap_select_nsga2

from evolve.fitness import (
    Individual,
    constrained_score,
    hypervolume,
    hypervolume_contributions,
    make_fitness_class,
    objectives,
    pareto_front,
    sel_nsga2_hypervolume,
)
from genesis import build_architecture

ARCH = build_architecture("fashion-mnist", "er", {"p": 0.5}, seed=0, channels=4, nodes=3)


def _ok(acc, macs):
    return {"status": "ok", "accuracy": acc, "macs": macs}


def _individuals(points):
    cls = make_fitness_class((1.0, -1.0))
    return [
        Individual(ARCH, f"h{j}", 0, cls(objectives(_ok(a, m))), _ok(a, m))
        for j, (a, m) in enumerate(points)
    ]


def _staircase(points, ref):
    """Exact area dominated in [0, 1] x [0, ref] (MACs minimised), normalised."""
    area, best = 0.0, 0.0
    inside = sorted((m, a) for a, m in points if m < ref and a > 0)
    edges = [m for m, _ in inside] + [ref]
    for (m, a), nxt in zip(inside, edges[1:], strict=True):
        best = max(best, a)
        area += best * (nxt - m)
    return area / ref


# -- hypervolume -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "points, ref, expected",
    [
        ([(0.9, 5e6)], 1e7, 0.45),
        ([(0.9, 5e6), (0.5, 2e6)], 1e7, 0.5 * 0.3 + 0.9 * 0.5),
        ([(0.9, 5e6), (0.8, 6e6), (0.9, 9e6)], 1e7, 0.45),  # dominated points add nothing
        ([(0.9, 5e6), (0.99, 1e7), (1.0, 3e7)], 1e7, 0.45),  # at or beyond the reference: none
        ([(0.0, 1e6)], 1e7, 0.0),
        ([], 1e7, 0.0),
        ([(1.0, 0.0)], 2e7, 1.0),
        ([(0.6, 1e6), (0.7, 2e6), (0.8, 4e6)], 1e7, 0.6 * 0.1 + 0.7 * 0.2 + 0.8 * 0.6),
    ],
)
def test_hypervolume_of_known_points(points, ref, expected):
    assert hypervolume(points, ref=ref) == pytest.approx(expected, abs=1e-12)


def test_hypervolume_matches_the_staircase_area_on_random_points():
    rng = random.Random(0)
    for _ in range(50):
        ref = rng.choice([1e6, 2e7])
        points = [
            (round(rng.random(), 2), rng.uniform(0, 1.3 * ref)) for _ in range(rng.randint(1, 12))
        ]
        assert hypervolume(points, ref) == pytest.approx(_staircase(points, ref), abs=1e-9)


def test_hypervolume_grows_with_a_new_non_dominated_point():
    base = [(0.7, 4e6), (0.8, 8e6)]
    assert hypervolume(base + [(0.75, 5e6)], 1e7) > hypervolume(base, 1e7)
    assert hypervolume(base + [(0.6, 5e6)], 1e7) == pytest.approx(hypervolume(base, 1e7))


# -- hypervolume contributions and the selection built on them -----------------------------------
@pytest.mark.parametrize("seed", range(30))
def test_contributions_equal_what_the_front_loses_without_each_point(seed):
    rng = random.Random(seed)
    n = rng.randint(1, 8)
    macs = sorted(rng.uniform(0, 25e6) for _ in range(n))
    accs = sorted(rng.choice([0.0, rng.uniform(0, 1)]) for _ in range(n))
    points = list(zip(accs, macs, strict=True))
    points = [points[i] for i in rng.sample(range(n), n)]  # any order
    full = hypervolume(points, 20e6)
    for p, c in zip(points, hypervolume_contributions(points, 20e6), strict=True):
        rest = list(points)
        rest.remove(p)
        assert c == pytest.approx(full - hypervolume(rest, 20e6), abs=1e-12)


def test_equal_points_own_nothing_alone():
    assert hypervolume_contributions([(0.7, 1e6), (0.7, 1e6)], 1e7) == [0.0, 0.0]


def test_selection_keeps_whole_fronts_and_ranks_them():
    # front 0: (0.9, 5M), (0.6, 1M); front 1: (0.8, 6M), (0.5, 2M); front 2: (0.1, 9M)
    inds = _individuals([(0.9, 5e6), (0.8, 6e6), (0.6, 1e6), (0.5, 2e6), (0.1, 9e6)])
    chosen = sel_nsga2_hypervolume(inds, 4, 1e7)
    assert sorted(i.hash for i in chosen) == ["h0", "h1", "h2", "h3"]
    assert {i.hash: i.fitness.rank for i in chosen} == {"h0": 0, "h2": 0, "h1": 1, "h3": 1}
    assert all(i.fitness.contribution > 0 for i in chosen)


def test_selection_drops_a_near_chance_extreme_before_a_useful_member():
    # The cheapest network is barely above chance: crowding distance would keep it (an end of
    # the front), the hypervolume contribution lets it go first.
    points = [(0.18, 1.30e6), (0.70, 1.50e6), (0.74, 1.73e6), (0.76, 4.0e6)]
    chosen = sel_nsga2_hypervolume(_individuals(points), 3, 2e7)
    assert sorted(i.hash for i in chosen) == ["h1", "h2", "h3"]
    crowding = deap_select_nsga2(_individuals(points), 3)
    assert "h0" in {i.hash for i in crowding}


def test_selection_is_deterministic_and_total():
    rng = random.Random(4)
    points = [(rng.choice([0.2, 0.5, 0.7]), rng.choice([1e6, 2e6, 3e6])) for _ in range(12)]
    for k in range(0, 13):
        a = [i.hash for i in sel_nsga2_hypervolume(_individuals(points), k, 1e7)]
        b = [i.hash for i in sel_nsga2_hypervolume(_individuals(points), k, 1e7)]
        assert a == b and len(a) == k and len(set(a)) == k


# -- Pareto front ----------------------------------------------------------------------------------
def _brute_front(points):
    def dominates(p, q):
        return p[0] >= q[0] and p[1] <= q[1] and p != q

    return {j for j, p in enumerate(points) if not any(dominates(q, p) for q in points)}


@pytest.mark.parametrize("seed", range(20))
def test_pareto_front_equals_brute_force(seed):
    rng = random.Random(seed)
    # coarse values, so that ties and exact duplicates happen
    points = [
        (rng.choice([0.1, 0.5, 0.6, 0.7, 0.9]), float(rng.choice([1, 2, 3, 5, 8]) * 1e6))
        for _ in range(rng.randint(1, 15))
    ]
    front = pareto_front(_individuals(points))
    assert {int(i.hash[1:]) for i in front} == _brute_front(points)
    keys = [(i.fitness.values[1], -i.fitness.values[0]) for i in front]
    assert keys == sorted(keys)


def test_pareto_front_of_nothing_and_of_one():
    assert pareto_front([]) == []
    one = _individuals([(0.5, 1e6)])
    assert pareto_front(one) == one


# -- objectives and the constrained score ----------------------------------------------------------
@pytest.mark.parametrize("status", ["error", "diverged", "oom", "timeout"])
def test_failed_candidates_score_accuracy_zero_and_keep_their_macs(status):
    record = {"status": status, "accuracy": 0.93, "macs": 12345}
    assert objectives(record) == (0.0, 12345.0)
    assert constrained_score(record, None, None, -0.07) == 0.0
    assert constrained_score(record, None, 1e6, -0.07) == 0.0
    assert objectives({"status": status, "accuracy": None, "macs": 7}) == (0.0, 7.0)


def test_objectives_of_a_working_candidate():
    assert objectives(_ok(0.875, 4_000_000)) == (0.875, 4e6)
    assert objectives({"status": "ok", "accuracy": None, "macs": 3}) == (0.0, 3.0)


def test_hard_budget_zeroes_what_is_over_it():
    assert constrained_score(_ok(0.9, 2e6), 2e6, None, -0.07) == 0.9
    assert constrained_score(_ok(0.9, 2e6 + 1), 2e6, None, -0.07) == 0.0
    assert constrained_score(_ok(0.9, 1e6), None, None, -0.07) == 0.9


@pytest.mark.parametrize(
    "acc, macs, target, w",
    [(0.8, 2e6, 1e6, -0.07), (0.8, 5e5, 1e6, -0.07), (0.9, 1e6, 1e6, -0.07), (0.7, 3e6, 1e6, -1)],
)
def test_soft_target_is_mnasnet(acc, macs, target, w):
    assert constrained_score(_ok(acc, macs), None, target, w) == pytest.approx(
        acc * (macs / target) ** w
    )


def test_soft_target_rewards_cheaper_networks_and_hard_budget_wins():
    cheap = constrained_score(_ok(0.8, 1e6), None, 2e6, -0.07)
    dear = constrained_score(_ok(0.8, 4e6), None, 2e6, -0.07)
    assert cheap > 0.8 > dear
    assert constrained_score(_ok(0.8, 4e6), 3e6, 2e6, -0.07) == 0.0


# -- fitness classes -------------------------------------------------------------------------------
def test_fitness_classes_are_fresh_and_unregistered():
    before = set(vars(deap.creator))
    a, b = make_fitness_class((1.0, -1.0)), make_fitness_class((1.0,))
    assert a is not b and a.weights == (1.0, -1.0) and b.weights == (1.0,)
    assert a((0.5, 3.0)).dominates(a((0.4, 3.0)))
    assert not a((0.5, 3.0)).dominates(a((0.6, 1.0)))
    assert set(vars(deap.creator)) == before
