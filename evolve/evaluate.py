"""The evaluation of one candidate: the function every executor runs, in any process.

A task is plain data (the architecture as JSON, a seed, the proxy settings), and so is the
record that comes back, so it crosses process and machine boundaries unchanged and the result
depends on nothing but the task: the same task gives the same record on any executor (exactly
so for the ``synthetic`` fitness and for CPU training).
"""

from __future__ import annotations

import hashlib
import math
import os
import time
from dataclasses import asdict
from functools import lru_cache
from typing import Any

from evolve.config import ProxyConfig
from genesis import Architecture
from genesis.complexity import count_complexity

__all__ = ["make_task", "evaluate_task", "synthetic_record"]


def make_task(
    arch: Architecture,
    seed: int,
    proxy: ProxyConfig,
    *,
    final: bool = False,
    epochs: float | None = None,
    seconds: float | None = None,
    weights_path: str | None = None,
    onnx_path: str | None = None,
) -> dict[str, Any]:
    """The plain-data task for :func:`evaluate_task`."""
    return {
        "arch": arch.to_json(indent=None),
        "seed": seed,
        "proxy": asdict(proxy),
        "final": final,
        # None: the architecture's own epochs (hyperparameter tuning searches them)
        "epochs": next(e for e in (epochs, proxy.epochs, arch.train.epochs) if e is not None),
        "seconds": seconds,  # wall-clock budget of the training (None: epochs alone)
        "weights_path": weights_path,
        "onnx_path": onnx_path,
    }


@lru_cache(maxsize=4)
def _splits(dataset: str, val_size: int | None, split_seed: int, subset: int | None):
    from genesis.data import load_dataset, make_splits

    return make_splits(
        load_dataset(dataset), val_size=val_size, split_seed=split_seed, subset=subset
    )


def synthetic_record(arch: Architecture, seed: int) -> dict[str, Any]:
    """A deterministic stand-in for training: accuracy rises with MACs, plus hash-seeded noise.

    For testing the search machinery (resume, executors, selection) quickly and exactly; it
    says nothing about real accuracy.
    """
    cx = count_complexity(arch)
    from genesis import architecture_hash  # noise keyed on what is trained, not on provenance

    digest = hashlib.sha256(f"{architecture_hash(arch)}|{seed}".encode()).digest()
    noise = int.from_bytes(digest[:4], "big") / 2**32
    acc = 0.5 + 0.4 * (1 - math.exp(-cx.macs / 4e6)) + 0.08 * (noise - 0.5)
    return {
        "status": "ok",
        "split": "val",
        "accuracy": round(acc, 6),
        "val_accuracy": round(acc, 6),
        "test_accuracy": None,
        "macs": cx.macs,
        "flops": cx.flops,
        "params": cx.params,
        "seed": seed,
        "epochs": 0.0,
        "batch_size": arch.train.batch_size,
        "train_seconds": 0.0,
        "samples_per_second": 0.0,
        "peak_memory_bytes": 0,
        "device": "none",
        "final_loss": None,
        "error": None,
        "history": [],
    }


def evaluate_task(task: dict[str, Any], device: str | None = None) -> dict[str, Any]:
    """Evaluate one task; never raises for a bad candidate (the record's status says)."""
    from genesis.train import Budget, train_architecture

    arch = Architecture.from_json(task["arch"])
    proxy = ProxyConfig(**task["proxy"])
    if proxy.fitness == "synthetic":
        time.sleep(proxy.synthetic_seconds)
        record = synthetic_record(arch, task["seed"])
        if task["final"]:
            record.update(split="test", test_accuracy=record["accuracy"], val_accuracy=None)
        return record
    splits = _splits(
        proxy.dataset, proxy.val_size, proxy.split_seed, None if task["final"] else proxy.subset
    )
    budget = Budget(
        epochs=task["epochs"],
        seconds=task.get("seconds"),
        time_limit=None if task["final"] else proxy.time_limit,
    )
    result, model = train_architecture(
        arch,
        splits,
        seed=task["seed"],
        budget=budget,
        device=device or proxy.device,
        final=task["final"],
        return_model=True,
    )
    record = result.to_dict()
    if model is not None and task.get("weights_path"):
        import torch

        state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
        tmp = f"{task['weights_path']}.tmp{os.getpid()}"
        torch.save(state, tmp)
        os.replace(tmp, task["weights_path"])
        if task.get("onnx_path"):
            from genesis.export import export_onnx

            try:
                record["onnx_max_diff"] = export_onnx(model.cpu().float(), arch, task["onnx_path"])
            except Exception as exc:  # an export problem must not lose the trained result
                record["onnx_error"] = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
    return record
