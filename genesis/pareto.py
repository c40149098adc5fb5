"""The objectives of an evaluation record and the Pareto front over them: validation accuracy,
maximised, and the search's costs (MACs, memory, latency), minimised.

The one front of genesis: the search's (:mod:`evolve.fitness`), the run folder's
``pareto.json``, the report's and the plots'.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

__all__ = ["OBJECTIVES", "OBJECTIVE_LABELS", "objectives", "pareto_front"]

T = TypeVar("T")

#: Costs a search can minimise beside validation accuracy (``search.objective``), each with the
#: record key that holds its value: MACs (counted from the genome), peak inference memory at
#: batch 1 (KiB, genesis.cost.peak_memory) and latency at batch 1 (ms, measured on the run's
#: device, genesis.cost.measure_latency).
OBJECTIVES: dict[str, str] = {"macs": "macs", "memory": "memory_kb", "latency": "latency_ms"}

#: Each cost's axis label in figures.
OBJECTIVE_LABELS: dict[str, str] = {
    "macs": "MACs per example (FLOPs = 2 x MACs)",
    "memory": "peak memory at batch 1 (KiB)",
    "latency": "latency at batch 1 (ms)",
}


def objectives(result: dict[str, Any], costs: tuple[str, ...] = ("macs",)) -> tuple[float, ...]:
    """(validation accuracy, *costs) of an evaluation record; a failed one scores accuracy 0.

    ``costs`` are names of :data:`OBJECTIVES`; a cost the record does not hold (not measured,
    or the evaluation failed before it was) is infinite, so such a record never dominates.

    Examples
    --------
    >>> objectives({"status": "ok", "accuracy": 0.9, "macs": 5})
    (0.9, 5.0)
    >>> objectives({"status": "oom", "accuracy": None, "macs": 5})
    (0.0, 5.0)
    >>> objectives({"status": "ok", "accuracy": 0.9, "macs": 5, "latency_ms": 1.5}, ("latency",))
    (0.9, 1.5)
    """
    acc = result.get("accuracy") if result.get("status") == "ok" else None
    values = []
    for cost in costs:
        v = result.get(OBJECTIVES[cost])
        values.append(float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else _INF)
    return (float(acc) if acc is not None else 0.0, *values)


_INF = float("inf")


def pareto_front(items: Iterable[T], key: Callable[[T], tuple[float, ...]]) -> list[T]:
    """The items no other dominates on ``key`` = (accuracy up, cost down, ...), by increasing
    first cost.

    Items with equal objectives are all kept (none dominates another), in their given order.
    O(n log n) for one cost, O(n^2) for more. The one front of genesis: the search's, the
    report's and the plots'.

    Examples
    --------
    >>> pareto_front([(0.8, 2), (0.7, 3), (0.9, 4), (0.5, 1), (0.9, 4)], key=lambda p: p)
    [(0.5, 1), (0.8, 2), (0.9, 4), (0.9, 4)]
    >>> pareto_front([(0.8, 2, 9), (0.7, 3, 1), (0.6, 3, 2), (0.9, 4, 9)], key=lambda p: p)
    [(0.8, 2, 9), (0.7, 3, 1), (0.9, 4, 9)]
    """
    items = list(items)
    keys = [tuple(key(item)) for item in items]
    ranked = sorted(range(len(items)), key=lambda i: (keys[i][1:], -keys[i][0], i))
    front: list[int] = []
    if keys and len(keys[0]) == 2:  # one cost: a sweep along it
        last: tuple[float, ...] | None = None
        for i in ranked:
            if last is None or keys[i][0] > last[0] or keys[i] == last:
                front.append(i)
                last = keys[i]
        return [items[i] for i in front]
    for i in ranked:  # sorted so that no later item dominates an earlier one
        if not any(_dominates(keys[j], keys[i]) for j in front):
            front.append(i)
    return [items[i] for i in front]


def _dominates(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    """Whether ``a`` dominates ``b``: accuracy (first) no lower, every cost no higher, and not
    equal."""
    return a != b and a[0] >= b[0] and all(x <= y for x, y in zip(a[1:], b[1:], strict=True))
