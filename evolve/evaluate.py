"""The evaluation of one candidate: the function every executor runs, in any process.

A task is plain data (the architecture as JSON, its MACs and params counted once by the
search, a seed, the proxy settings), and so is the record that comes back, so it crosses
process and machine boundaries unchanged and the result depends on nothing but the task: the
same task gives the same record on any executor (exactly so for the ``synthetic`` fitness and
for CPU training).

A task that keeps its weights (``weights_path``: the final step, a study) keeps what they
expect of their input beside them (:func:`genesis.preprocess.write_sidecar`, ``W.pt`` ->
``W.preprocess.json``) and writes it into the ONNX and standalone files it exports. Only a
final task's record keeps it too (``preprocess``, for ``final.json``): the logs of a search or a
study, a record per training, do not repeat the class names (None).
A final task names its member (``member``: the search's hash): its standalone file names that
hash and embeds the recipe the final step trained with (:func:`trained_recipe`).
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from dataclasses import asdict, dataclass, replace
from functools import lru_cache
from typing import Any

from evolve.config import ProxyConfig
from genesis import Architecture
from genesis.complexity import count_complexity
from genesis.record import TrainResult
from genesis.runfolder import atomic_write

__all__ = [
    "failure_record",
    "make_task",
    "trained_recipe",
    "evaluate_task",
    "synthetic_accuracy",
    "synthetic_curve",
    "synthetic_record",
]


@dataclass(frozen=True)
class _Counted:
    """MACs and params counted where the task was made (the trainer's ``complexity``)."""

    macs: int
    params: int

    @property
    def flops(self) -> int:
        return 2 * self.macs


def make_task(
    arch: Architecture | str,
    seed: int,
    proxy: ProxyConfig,
    *,
    complexity: tuple[int, int] | None = None,
    final: bool = False,
    epochs: float | None = None,
    seconds: float | None = None,
    weights_path: str | None = None,
    onnx_path: str | None = None,
    python_path: str | None = None,
    member: str | None = None,
) -> dict[str, Any]:
    """The plain-data task for :func:`evaluate_task`.

    ``arch`` is the architecture or its JSON (a search serializes each candidate once);
    ``complexity`` its (MACs, params) when already counted. ``epochs`` defaults to the proxy's
    for a search task; None (a final task, a tuning run's proxy) means the architecture's own,
    which the trainer resolves. ``member`` is the search's hash of a final step's member, whose
    ``arch`` carries the final step's recipe (so another hash).
    """
    text = arch if isinstance(arch, str) else arch.to_json()
    if complexity is None:
        cx = count_complexity(Architecture.from_json(text) if isinstance(arch, str) else arch)
        complexity = (cx.macs, cx.params)
    return {
        "arch": text,
        "macs": complexity[0],
        "params": complexity[1],
        "seed": seed,
        "proxy": {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(proxy).items()},
        "final": final,
        "epochs": epochs if epochs is not None or final else proxy.epochs,
        "seconds": seconds,  # wall-clock budget of the training (None: epochs alone)
        "weights_path": weights_path,
        "onnx_path": onnx_path,
        "python_path": python_path,  # standalone PyTorch source (genesis.standalone)
        "member": member,  # the search's hash of a final step's member
    }


def failure_record(task: dict[str, Any], status: str, message: str) -> dict[str, Any]:
    """The record of a candidate whose evaluation did not come back (from the task alone)."""
    batch = json.loads(task["arch"])["train"]["batch_size"]
    return TrainResult.failed(
        task["macs"],
        task["params"],
        status,
        message,
        seed=task["seed"],
        batch_size=batch,
        final=bool(task.get("final")),
    ).to_dict()


def trained_recipe(arch: Architecture, record: dict[str, Any]) -> Architecture:
    """``arch`` with the recipe its training (``record``) ran: the batch it trained at (halved
    after an out-of-memory retry) and the epochs it completed, in whole epochs (at least 1, as a
    genome holds them; the record keeps the exact figure).

    Examples
    --------
    >>> from genesis.presets import build_architecture
    >>> arch = build_architecture("fashion-mnist", seed=0)
    >>> t = trained_recipe(arch, {"batch_size": 64, "epochs": 2.0}).train
    >>> t.batch_size, t.epochs, t.lr == arch.train.lr
    (64, 2, True)
    """
    epochs = max(1, round(float(record.get("epochs") or 0)))
    batch = int(record.get("batch_size") or arch.train.batch_size)
    return arch.replace(train=replace(arch.train, batch_size=batch, epochs=epochs))


@lru_cache(maxsize=4)
def _splits(
    dataset: str,
    val_size: int | None,
    split_seed: int,
    subset: int | None,
    holdout: int = 0,
    resolution: int | None = None,
):
    from genesis.data import load_dataset, make_splits

    return make_splits(
        load_dataset(dataset, resolution),
        val_size=val_size,
        split_seed=split_seed,
        subset=subset,
        holdout=holdout,
    )


def synthetic_accuracy(arch: Architecture, macs: int, seed: int) -> float:
    """A deterministic stand-in for trained accuracy: it rises with MACs, plus hash-seeded noise.

    For testing the search machinery (resume, executors, selection) quickly and exactly; it
    says nothing about real accuracy.
    """
    from genesis import architecture_hash  # noise keyed on what is trained, not on provenance

    digest = hashlib.sha256(f"{architecture_hash(arch)}|{seed}".encode()).digest()
    noise = int.from_bytes(digest[:4], "big") / 2**32
    return round(0.5 + 0.4 * (1 - math.exp(-macs / 4e6)) + 0.08 * (noise - 0.5), 6)


def synthetic_curve(arch: Architecture, macs: int, seed: int, epochs: float, top: float) -> float:
    """The synthetic fitness part-way: at ``epochs`` of a schedule whose last rung is ``top``.

    It rises towards :func:`synthetic_accuracy` (reached at ``top``) with noise of its own that
    shrinks as training goes on, so a low rung ranks candidates roughly, not exactly, as the
    top one does: what successive halving has to work with.
    """
    from genesis import architecture_hash

    final = synthetic_accuracy(arch, macs, seed)
    frac = min(1.0, max(0.0, epochs / top))
    if frac >= 1.0:
        return final
    digest = hashlib.sha256(f"{architecture_hash(arch)}|{seed}|{epochs!r}".encode()).digest()
    noise = int.from_bytes(digest[:4], "big") / 2**32
    return round(0.5 + (final - 0.5) * frac**0.5 + 0.04 * (noise - 0.5) * (1 - frac), 6)


def synthetic_record(
    arch: Architecture,
    seed: int,
    complexity: tuple[int, int] | None = None,
    final: bool = False,
    rung: dict[str, float] | None = None,
) -> dict[str, Any]:
    """The record of the ``synthetic`` fitness: :func:`synthetic_accuracy` (or, at a ``rung``
    of a multi-fidelity schedule, :func:`synthetic_curve`) as a
    :meth:`~genesis.record.TrainResult.synthetic` record."""
    if complexity is None:
        cx = count_complexity(arch)
        complexity = (cx.macs, cx.params)
    macs, params = complexity
    if rung is not None:
        acc = synthetic_curve(arch, macs, seed, rung["epochs"], rung["top"])
    else:
        acc = synthetic_accuracy(arch, macs, seed)
    return TrainResult.synthetic(
        macs, params, acc, seed=seed, batch_size=arch.train.batch_size, final=final
    ).to_dict()


def evaluate_task(task: dict[str, Any], device: str | None = None) -> dict[str, Any]:
    """Evaluate one task; never raises for a bad candidate (the record's status says).

    A task with ``share`` > 1 (the final step, training fewer members than there are
    workers) runs on the threads of that many workers: the idle workers' cores go to it.
    """
    share = task.get("share") or 1
    if share <= 1:
        return _evaluate(task, device)
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(threads * share)
    try:
        return _evaluate(task, device)
    finally:
        torch.set_num_threads(threads)


def _evaluate(task: dict[str, Any], device: str | None) -> dict[str, Any]:
    arch = Architecture.from_json(task["arch"])  # the one parse (and validation) of the task
    proxy = ProxyConfig(**{**task["proxy"], "rungs": tuple(task["proxy"].get("rungs", ()))})
    if not task.get("latency"):
        return _train(task, arch, proxy, device)
    from genesis.cost import latencies
    from genesis.train import resolve_device

    spec = task["latency"]
    costs = latencies(arch, resolve_device(device or proxy.device), spec["batch"])
    cap = spec.get("max_ms")
    if cap is not None and costs["latency_ms"] > cap:
        message = f"latency {costs['latency_ms']:.3f} ms at batch 1 is over max_latency_ms {cap:g}"
        return {**failure_record(task, "over_cap", message), **costs}
    return {**_train(task, arch, proxy, device), **costs}


def _train(
    task: dict[str, Any], arch: Architecture, proxy: ProxyConfig, device: str | None
) -> dict[str, Any]:
    from genesis.train import Budget, train_architecture

    counted = _Counted(task["macs"], task["params"])
    if proxy.fitness == "synthetic":
        time.sleep(proxy.synthetic_seconds)
        return synthetic_record(
            arch, task["seed"], (counted.macs, counted.params), task["final"], task.get("rung")
        )
    if proxy.fitness == "lookup":
        from evolve.lookup import load_table, lookup_record

        epochs = task["rung"]["epochs"] if task.get("rung") else task["epochs"]
        table = load_table(proxy.lookup)
        return lookup_record(
            table, arch, task["seed"], epochs, (counted.macs, counted.params), task["final"]
        )
    splits = _splits(
        proxy.dataset,
        proxy.val_size,
        proxy.split_seed,
        None if task["final"] else proxy.subset,
        proxy.holdout,
        proxy.resolution,
    )
    resume = None
    if task.get("resume_path"):  # a promoted candidate continues where its last rung ended
        import torch

        resume = torch.load(task["resume_path"], map_location="cpu", weights_only=True)
    budget = Budget(
        epochs=task["epochs"],
        seconds=task.get("seconds"),
        time_limit=None if task["final"] else proxy.time_limit,
    )
    result, model, state = train_architecture(
        arch,
        splits,
        seed=task["seed"],
        budget=budget,
        device=device or proxy.device,
        final=task["final"],
        complexity=counted,
        resume=resume,
        return_state=True,
    )
    record = result.to_dict()
    preprocess = None
    if task.get("weights_path") and record.get("preprocess") is not None:
        from genesis.preprocess import Preprocess

        preprocess = Preprocess.from_dict(record["preprocess"])
    if not task["final"]:  # logs of many records stay lean (see the module docstring)
        record["preprocess"] = None
    if state is not None and task.get("state_path"):
        import io

        import torch

        buf = io.BytesIO()
        torch.save(state, buf)
        atomic_write(task["state_path"], buf.getvalue())
    if model is not None and task.get("weights_path"):
        import io

        import torch

        buf = io.BytesIO()
        torch.save({k: v.detach().cpu() for k, v in model.state_dict().items()}, buf)
        atomic_write(task["weights_path"], buf.getvalue())
        if preprocess is not None:
            from genesis.preprocess import write_sidecar

            write_sidecar(task["weights_path"], preprocess)
        member = task.get("member")
        # a final member's files say how it was trained: the recipe the final step ran
        recipe = trained_recipe(arch, record) if member else arch
        if task.get("onnx_path"):
            from genesis.export import export_onnx

            try:
                record["onnx_max_diff"] = export_onnx(
                    model.cpu().float(), recipe, task["onnx_path"], preprocess=preprocess
                )
            except Exception as exc:  # an export problem must not lose the trained result
                record["onnx_error"] = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
        if task.get("python_path"):
            from genesis.standalone import export_python

            try:
                record["python_max_diff"] = export_python(
                    model.cpu().float(),
                    recipe,
                    task["python_path"],
                    preprocess=preprocess,
                    member=member,
                )
            except Exception as exc:  # likewise
                record["python_error"] = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
    return record
