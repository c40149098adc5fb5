"""What an architecture is, as plain data: the facts ``genesis info`` shows.

Counts come from :mod:`genesis.complexity` (no torch module is built), graph statistics from
each stage's DAG, and the identity from :func:`~genesis.fingerprint.architecture_hash`.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from genesis.complexity import count_complexity
from genesis.fingerprint import architecture_hash
from genesis.genome import Architecture

__all__ = ["describe"]


def describe(arch: Architecture) -> dict[str, Any]:
    """The facts ``genesis info`` shows, as JSON-ready data.

    Parameters
    ----------
    arch : Architecture
        The architecture to describe.

    Returns
    -------
    dict
        ``hash``, ``name``, ``input_shape``, ``num_classes``, the complexity totals (``macs``,
        ``flops``, ``params``...), ``stem`` (its widths), ``head_channels``, ``stages`` (one
        dict per stage: width, stride, MACs, params, graph statistics, op counts, origin) and
        ``train`` (the training hyperparameters).

    Notes
    -----
    Cost: one complexity count and one graph-statistics pass per stage, linear in the edges
    (the average path length is quadratic in a stage's nodes).

    Examples
    --------
    >>> from genesis import build_architecture
    >>> facts = describe(build_architecture(seed=0))
    >>> facts["name"], len(facts["stages"]), facts["macs"] > 0
    ('fashion-mnist', 3, True)
    """
    cx = count_complexity(arch)
    stages = []
    for stage, stats, stage_cx in zip(arch.stages, arch.stage_stats(), cx.stages, strict=True):
        stages.append(
            {
                "channels": stage.channels,
                "stride": stage.stride,
                "macs": stage_cx.macs,
                "params": stage_cx.params,
                **stats,
                "ops": dict(sorted(Counter(stage.ops().values()).items())),
                "origin": dict(stage.origin) if stage.origin else None,
            }
        )
    return {
        "hash": architecture_hash(arch),
        "name": arch.name,
        "input_shape": list(arch.input_shape),
        "num_classes": arch.num_classes,
        **cx.as_dict(),
        "stem": [layer.channels for layer in arch.stem],
        "head_channels": arch.head.channels,
        "stages": stages,
        "train": arch.to_dict()["train"],
    }
