"""The feature vector of an architecture, for accuracy predictors (GRAF style).

Cheap, fixed-length and named: MACs and parameters, widths, training hyperparameters, op counts
per registered op, graph-family shares and generator parameters, and the graph features of each
stage DAG (:func:`graphs.dag_features`) averaged and summed over stages and per stage slot. The
length depends only on the op and family registries (:func:`feature_names`), never on the
architecture; every value is a finite float, with defaults where provenance is missing (a warm
start, a mutated or hand-written network may have no ``meta`` and no stage ``origin``).
No torch.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from genesis.complexity import count_complexity
from genesis.genome import OPTIMIZERS, SCHEDULES, Architecture
from genesis.ops import op_names
from graphs import DAG_FEATURES, dag_features, family_names, get_family

__all__ = ["STAGE_SLOTS", "architecture_features", "feature_matrix", "feature_names"]

#: Stages whose graph features also get columns of their own (by index); later stages count in
#: the mean and the sum only, and missing ones read 0.
STAGE_SLOTS = 4


def _family_params() -> list[tuple[str, str]]:
    """(family, parameter) of every registered family's parameters, in registry order."""
    out = []
    for fam in family_names():
        spec = get_family(fam)
        out += [(fam, p) for p in dict.fromkeys([*spec.defaults, *spec.ranges])]
    return out


def feature_names() -> tuple[str, ...]:
    """The names of :func:`architecture_features`, in order, for the registries as they are.

    Examples
    --------
    >>> names = feature_names()
    >>> names[:3], len(names) == len(set(names))
    (('macs_log10', 'params_log10', 'stages'), True)
    """
    names = ["macs_log10", "params_log10", "stages", "stem_layers", "stem_channels"]
    names += ["base_channels", "last_channels", "head_channels", "head_dropout"]
    names += ["lr_log10", "weight_decay_log10", "batch_size_log2", "label_smoothing", "momentum"]
    names += [f"optimizer_{o}" for o in OPTIMIZERS] + [f"schedule_{s}" for s in SCHEDULES]
    names += [f"ops_{op}" for op in op_names()]
    names += [f"family_{f}" for f in family_names()] + ["family_other"]
    names += [f"gen_{f}_{p}" for f, p in _family_params()]
    names += ["mutations"]
    names += [f"mean_{f}" for f in DAG_FEATURES] + [f"sum_{f}" for f in DAG_FEATURES]
    for k in range(STAGE_SLOTS):
        names += [f"stage{k}_channels", f"stage{k}_stride"]
        names += [f"stage{k}_{f}" for f in DAG_FEATURES]
    return tuple(names)


def _number(value: Any, default: float = 0.0) -> float:
    """``value`` as a finite float, or ``default`` (provenance is free-form data)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return default
    return float(value) if math.isfinite(value) else default


def _origin(arch: Architecture, k: int) -> Mapping[str, Any]:
    """How stage ``k`` was drawn: its own origin, else the architecture's meta, else nothing."""
    origin = arch.stages[k].origin
    if isinstance(origin, Mapping) and origin.get("family") is not None:
        return origin
    meta = arch.meta if isinstance(arch.meta, Mapping) else {}
    return {"family": meta.get("family"), "params": meta.get("params")}


def architecture_features(
    arch: Architecture, complexity: tuple[int, int] | None = None
) -> dict[str, float]:
    """The features of ``arch``, named and ordered as :func:`feature_names`.

    Parameters
    ----------
    arch : Architecture
        Any valid genome; its ``meta`` and stage ``origin`` may be missing.
    complexity : (int, int), optional
        Its (MACs, params) when already counted; else :func:`~genesis.complexity.count_complexity`.

    Returns
    -------
    dict
        Name -> finite float. ``macs_log10`` and ``params_log10`` are ``log10(1 + x)``; ``ops_*``
        count compute nodes per registered op; ``family_*`` the share of stages drawn from each
        family (``family_other``: unknown or unrecorded); ``gen_<family>_<param>`` the mean of
        that generator parameter over the stages of that family (0 when none);
        ``mutations`` the graph mutations recorded in stage origins; ``mean_*``, ``sum_*`` and
        ``stage<k>_*`` the stage graph features (:data:`graphs.DAG_FEATURES`).

    Notes
    -----
    Cost: O(V + E) per stage plus one complexity count: well under a millisecond per stage.

    References
    ----------
    .. [1] H. Kadlecová et al. "Surprisingly Strong Performance Prediction with Neural Graph
       Features" (GRAF). ICML 2024.

    Examples
    --------
    >>> from genesis.presets import build_architecture
    >>> f = architecture_features(build_architecture("fashion-mnist", "er", {"p": 0.3}, seed=0))
    >>> list(f) == list(feature_names()), f["family_er"], f["gen_er_p"], f["stages"]
    (True, 1.0, 0.3, 3.0)
    >>> all(math.isfinite(v) for v in f.values())
    True
    """
    if complexity is None:
        cx = count_complexity(arch)
        complexity = (cx.macs, cx.params)
    macs, params = complexity
    t = arch.train
    f: dict[str, float] = dict.fromkeys(feature_names(), 0.0)
    f["macs_log10"] = math.log10(1 + macs)
    f["params_log10"] = math.log10(1 + params)
    f["stages"] = float(len(arch.stages))
    f["stem_layers"] = float(len(arch.stem))
    f["stem_channels"] = float(arch.stem[-1].channels) if arch.stem else 0.0
    f["base_channels"] = float(arch.stages[0].channels)
    f["last_channels"] = float(arch.stages[-1].channels)
    f["head_channels"] = float(arch.head.channels)
    f["head_dropout"] = float(arch.head.dropout)
    f["lr_log10"] = math.log10(t.lr)
    f["weight_decay_log10"] = math.log10(t.weight_decay) if t.weight_decay > 0 else -12.0
    f["batch_size_log2"] = math.log2(t.batch_size)
    f["label_smoothing"] = float(t.label_smoothing)
    f["momentum"] = float(t.momentum)
    f[f"optimizer_{t.optimizer}"] = 1.0
    f[f"schedule_{t.schedule}"] = 1.0
    families = set(family_names())
    gen: dict[str, list[float]] = {}
    graph = []
    for k, stage in enumerate(arch.stages):
        for op in stage.ops().values():
            f[f"ops_{op}"] += 1.0
        origin = _origin(arch, k)
        fam = origin.get("family")
        if fam in families:
            f[f"family_{fam}"] += 1.0 / len(arch.stages)
            drawn = origin.get("params")
            drawn = drawn if isinstance(drawn, Mapping) else {}
            spec = get_family(fam)
            for p in dict.fromkeys([*spec.defaults, *spec.ranges]):
                default = _number(spec.defaults.get(p))
                gen.setdefault(f"gen_{fam}_{p}", []).append(_number(drawn.get(p), default))
        else:
            f["family_other"] += 1.0 / len(arch.stages)
        mutations = origin.get("mutations")
        f["mutations"] += float(len(mutations)) if isinstance(mutations, list) else 0.0
        g = dag_features(stage.graph)
        graph.append([g[name] for name in DAG_FEATURES])
        if k < STAGE_SLOTS:
            f[f"stage{k}_channels"] = float(stage.channels)
            f[f"stage{k}_stride"] = float(stage.stride)
            for name in DAG_FEATURES:
                f[f"stage{k}_{name}"] = g[name]
    for name, values in gen.items():
        f[name] = float(np.mean(values))
    table = np.array(graph, dtype=float)
    for j, name in enumerate(DAG_FEATURES):
        f[f"mean_{name}"] = float(table[:, j].mean())
        f[f"sum_{name}"] = float(table[:, j].sum())
    return f


def feature_matrix(
    archs: Iterable[Architecture], complexities: Iterable[tuple[int, int]] | None = None
) -> np.ndarray:
    """The features of each architecture as the rows of a float array (columns as
    :func:`feature_names`)."""
    archs = list(archs)
    cxs = list(complexities) if complexities is not None else [None] * len(archs)
    rows = [list(architecture_features(a, c).values()) for a, c in zip(archs, cxs, strict=True)]
    return np.array(rows, dtype=float).reshape(len(archs), len(feature_names()))
