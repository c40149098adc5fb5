"""A oneshot run in its run folder: the alternating training, its state, its curves, the result.

Besides ``config.toml``, ``run.json`` and ``architectures/`` (:mod:`genesis.runfolder`), a
oneshot run folder holds::

    supernet.pt           the search state after the last finished epoch: weights, architecture
                          weights, both optimizers, the random generators, the curves (tensors
                          and plain data only: read with torch.load(weights_only=True))
    arch_weights.jsonl    one line per epoch: temperature, losses, validation accuracy of the
                          supernet, expected MACs and params, the network derived then (hash,
                          MACs, params) and every op probability and gate
    arch_weights.csv      the same weights as a long table: epoch, stage, kind (op or edge),
                          node, source, op, value (ready for pandas or a plot)
    oneshot.json          the result: the derived network's hash, MACs, params, its accuracy
                          with the supernet's weights, the target, the time
    tensorboard/          oneshot/* scalars per epoch (genesis.tracking)
    final.json, final/    with [oneshot] final: the final step (evolve.final)

Every file is written whole (a temporary file renamed over it), after each epoch.
"""

from __future__ import annotations

import copy
import io
import json
import math
import time
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from evolve.oneshot import OneshotRunConfig, build_template, temperature_at
from genesis import GenesisError, architecture_hash
from genesis.batches import Batches, channel_stats
from genesis.complexity import count_complexity
from genesis.device import resolve_device
from genesis.files import atomic_write
from genesis.runfolder import RunFolder, read_bytes_bounded
from genesis.supernet import Supernet
from genesis.tables import csv_bytes
from genesis.tracking import Tracker
from graphs import RunFailed

__all__ = [
    "CURVES",
    "CURVES_CSV",
    "MAX_STATE_BYTES",
    "STATE",
    "SUMMARY",
    "inherited_accuracy",
    "load_splits",
    "run_oneshot",
    "run_oneshot_final",
]

STATE = "supernet.pt"
CURVES = "arch_weights.jsonl"
CURVES_CSV = "arch_weights.csv"
SUMMARY = "oneshot.json"

#: Most bytes of ``supernet.pt`` read on a resume (the supernet's weights, twice with momentum).
MAX_STATE_BYTES = 512 * 2**20

_CSV_FIELDS = ("epoch", "stage", "kind", "node", "source", "op", "value")


def load_splits(cfg: OneshotRunConfig):
    """The proxy's splits (:func:`genesis.data.make_splits`: subset, validation cut)."""
    from genesis.data import load_dataset, make_splits

    p = cfg.proxy
    data = load_dataset(p.dataset, p.resolution)
    return make_splits(data, p.val_size, p.split_seed, subset=p.subset, holdout=p.holdout)


def _lr(cfg, step: int, total: int) -> float:
    return cfg.lr * 0.5 * (1 + math.cos(math.pi * min(step / max(total, 1), 1.0)))


def _weights_of(net: Supernet, epoch: int) -> tuple[list[list], list[list]]:
    """Each stage's op probabilities (per node) and gates ``[u, v, g]``, rounded."""
    ops = [[[round(x, 5) for x in row] for row in q.tolist()] for q in net.op_probs()]
    gates = [
        [[u, v, round(g, 5)] for (u, v), g in zip(p.edges, e.tolist(), strict=True)]
        for p, e in zip(net.plans, net.edge_probs(), strict=True)
    ]
    return ops, gates


def _csv_rows(history: list[dict[str, Any]], net: Supernet) -> list[dict[str, Any]]:
    rows = []
    for h in history:
        for k, stage in enumerate(h["ops"]):
            for v, row in zip(net.plans[k].nodes, stage, strict=True):
                for name, value in zip(net.op_names, row, strict=True):
                    rows.append(
                        {"epoch": h["epoch"], "stage": k, "kind": "op", "node": v, "op": name}
                        | {"source": "", "value": value}
                    )
        for k, stage in enumerate(h["gates"]):
            for u, v, g in stage:
                rows.append(
                    {"epoch": h["epoch"], "stage": k, "kind": "edge", "node": v, "source": u}
                    | {"op": "", "value": g}
                )
    return rows


def _save_state(folder: RunFolder, state: dict[str, Any]) -> None:
    buffer = io.BytesIO()
    torch.save(state, buffer)
    atomic_write(folder.path / STATE, buffer.getvalue())


def _load_state(folder: RunFolder) -> dict[str, Any] | None:
    path = folder.path / STATE
    try:
        data = read_bytes_bounded(path, MAX_STATE_BYTES)
    except FileNotFoundError:
        return None
    try:
        state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
        if not isinstance(state, dict) or not isinstance(state.get("epoch"), int):
            raise ValueError("not a oneshot state")
        state["history"] = json.loads(state["history"])
        return state
    except Exception as exc:
        raise GenesisError(
            f"{str(path)!r} is damaged ({type(exc).__name__}); remove it to start the search over"
        ) from None


def inherited_accuracy(
    net: Supernet,
    choice,
    splits,
    device: str | torch.device = "cpu",
    bn_batches: int = 8,
    batch: int = 64,
    seed: int = 0,
) -> float:
    """Validation accuracy of the subnetwork ``choice`` with the supernet's weights.

    Its batch norms' statistics are first recomputed on ``bn_batches`` training batches with
    only that subnetwork (as single-path one-shot methods do): the supernet's running
    statistics are those of the mixture. ``net`` itself is not changed (a copy is).
    """
    dev = torch.device(device)
    sub = copy.deepcopy(net).to(dev)
    for m in sub.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None  # a cumulative average over the calibration batches
    x, y = splits.train_x.to(dev), splits.train_y.to(dev)
    mean, std = channel_stats(x)
    gen = torch.Generator(device=dev).manual_seed(seed)
    data = Batches(x, y, mean, std, False, False, gen)
    with torch.no_grad():
        sub.train()
        for _, (xb, _) in zip(range(bn_batches), data.epoch(min(batch, len(y))), strict=False):
            sub(xb, choice=choice)
        sub.eval()
        vx, vy = splits.val_x.to(dev), splits.val_y.to(dev)
        correct = 0
        for i in range(0, len(vy), 500):
            logits = sub(data.normalise(vx[i : i + 500]), choice=choice)
            correct += int((logits.argmax(1) == vy[i : i + 500]).sum())
    return correct / max(1, len(vy))


def run_oneshot(
    cfg: OneshotRunConfig,
    folder: RunFolder,
    log: Callable[[str], None] = lambda line: None,
    on_epoch: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Train the supernet of ``cfg`` in ``folder`` (continuing from its ``supernet.pt``), derive
    its network, and write the outputs (see the module doc); returns ``oneshot.json``'s data.

    ``on_epoch(epoch)`` is called after each epoch's state is saved (1-based; tests stop a run
    there). A loss that becomes NaN or infinite ends the run with :class:`graphs.RunFailed`.
    """
    o = cfg.oneshot
    dev = resolve_device(cfg.proxy.device)
    splits = load_splits(cfg)
    n = len(splits.train_y)
    if n < 2:
        raise GenesisError(f"a oneshot run needs at least 2 training examples, got {n}")
    template = build_template(o)
    net = Supernet(template, o.ops, seed=o.seed).to(dev)
    half = n // 2
    x, y = splits.train_x.to(dev), splits.train_y.to(dev)
    mean, std = channel_stats(x)
    gen = torch.Generator(device=dev).manual_seed(o.seed)
    noise = torch.Generator(device=dev).manual_seed(o.seed + 1) if o.gumbel else None
    flip = splits.dataset.flip
    w_data = Batches(x[:half], y[:half], mean, std, False, flip, gen)
    a_data = Batches(x[half:], y[half:], mean, std, False, flip, gen)
    batch = min(o.batch_size, half, n - half)
    steps = max(1, min(half, n - half) // batch)
    w_opt = torch.optim.SGD(
        net.weight_parameters(), lr=o.lr, momentum=0.9, nesterov=True, weight_decay=o.weight_decay
    )
    a_opt = torch.optim.Adam(
        net.arch_parameters(), lr=o.arch_lr, betas=(0.5, 0.999), weight_decay=o.arch_weight_decay
    )
    history: list[dict[str, Any]] = []
    start, seconds = 0, 0.0
    state = _load_state(folder)
    if state is not None:
        try:
            net.load_state_dict(state["model"])
            w_opt.load_state_dict(state["w_opt"])
            a_opt.load_state_dict(state["a_opt"])
            gen.set_state(state["generator"])
            if noise is not None:
                noise.set_state(state["noise"])
        except (KeyError, RuntimeError, ValueError, TypeError) as exc:
            raise GenesisError(
                f"{str(folder.path / STATE)!r} does not fit this run's config "
                f"({type(exc).__name__}); remove it to start the search over"
            ) from None
        start, history, seconds = state["epoch"], state["history"], float(state["seconds"])
        log(f"oneshot: resuming after epoch {start} of {o.epochs}")
    tracker = Tracker(folder.path)
    target = o.target_macs
    try:
        for epoch in range(start, o.epochs):
            began = time.perf_counter()
            temp = temperature_at(o, epoch)
            search_arch = epoch >= o.warmup_epochs
            w_sum = a_sum = torch.zeros((), dtype=torch.float64, device=dev)
            net.train()
            pairs = zip(w_data.epoch(batch), a_data.epoch(batch), strict=False)
            for i, ((xw, yw), (xa, ya)) in zip(range(steps), pairs, strict=False):
                for group in w_opt.param_groups:
                    group["lr"] = _lr(o, epoch * steps + i, o.epochs * steps)
                loss = F.cross_entropy(net(xw, temp, noise), yw)
                w_opt.zero_grad(set_to_none=True)
                loss.backward()
                w_opt.step()
                w_sum = w_sum + loss.detach()
                if search_arch:
                    probs = net.op_probs(temp, noise)
                    a_loss = F.cross_entropy(net(xa, probs=probs), ya)
                    if target is not None and o.mac_weight > 0:
                        macs, _ = net.expected_costs(probs)
                        a_loss = a_loss + o.mac_weight * torch.log(macs / target).abs()
                    a_opt.zero_grad(set_to_none=True)
                    a_loss.backward()
                    a_opt.step()
                    a_sum = a_sum + a_loss.detach()
            if not (torch.isfinite(w_sum) and torch.isfinite(a_sum)):
                raise RunFailed(
                    f"the supernet's loss became {float(w_sum + a_sum)} in epoch {epoch + 1}; "
                    "lower [oneshot] lr or arch_lr"
                )
            seconds += time.perf_counter() - began
            entry = _epoch_entry(net, o, splits, dev, epoch + 1, temp, seconds)
            entry["loss"] = float(w_sum) / steps
            entry["arch_loss"] = float(a_sum) / steps if search_arch else None
            history.append(entry)
            _save_state(
                folder,
                {
                    "epoch": epoch + 1,
                    "seconds": seconds,
                    "model": net.state_dict(),
                    "w_opt": w_opt.state_dict(),
                    "a_opt": a_opt.state_dict(),
                    "generator": gen.get_state(),
                    "noise": noise.get_state() if noise is not None else torch.zeros(0),
                    "history": json.dumps(history),
                },
            )
            _write_curves(folder, history, net)
            tracker.scalars(epoch + 1, _scalars(entry, net))
            log(
                f"oneshot epoch {epoch + 1}/{o.epochs}: loss {entry['loss']:.3f}, supernet "
                f"val accuracy {entry['val_accuracy']:.3f}, E[MACs] {entry['expected_macs']:.0f}"
                f", derived {entry['derived']['macs']} MACs {entry['derived']['params']} params"
                f" ({time.perf_counter() - began:.0f} s)"
            )
            if on_epoch is not None:
                on_epoch(epoch + 1)
    finally:
        tracker.close()
    return _finish(cfg, folder, net, splits, dev, history, seconds)


def _epoch_entry(net, o, splits, dev, epoch, temp, seconds) -> dict[str, Any]:
    """An epoch's line of ``arch_weights.jsonl``."""
    arch = net.derive(o.top_k)
    cx = count_complexity(arch)
    bns = [m for m in net.modules() if isinstance(m, nn.BatchNorm2d)]
    momenta = [m.momentum for m in bns]
    with torch.no_grad():
        macs, params = net.expected_costs()
        # scored with each batch's own statistics (momentum 0 keeps the running ones): after a
        # few epochs the running statistics of a mixture lag its weights, and the score in eval
        # mode is near chance where the network already learned
        for m in bns:
            m.momentum = 0.0
        x, y = splits.val_x.to(dev), splits.val_y.to(dev)
        mean, std = channel_stats(splits.train_x.to(dev))
        norm = Batches(x, y, mean, std, False, False, torch.Generator(device=dev))
        correct = 0
        for i in range(0, len(y), 500):
            logits = net(norm.normalise(x[i : i + 500]), temp)
            correct += int((logits.argmax(1) == y[i : i + 500]).sum())
        for m, momentum in zip(bns, momenta, strict=True):
            m.momentum = momentum
    ops, gates = _weights_of(net, epoch)
    return {
        "epoch": epoch,
        "temperature": temp,
        "seconds": round(seconds, 3),
        "val_accuracy": correct / max(1, len(y)),
        "expected_macs": float(macs),
        "expected_params": float(params),
        "derived": {"hash": architecture_hash(arch), "macs": cx.macs, "params": cx.params},
        "ops": ops,
        "gates": gates,
    }


def _scalars(entry: dict[str, Any], net: Supernet) -> dict[str, float | None]:
    out: dict[str, float | None] = {
        "oneshot/loss": entry["loss"],
        "oneshot/arch_loss": entry["arch_loss"],
        "oneshot/val_accuracy": entry["val_accuracy"],
        "oneshot/expected_macs": entry["expected_macs"],
        "oneshot/derived_macs": entry["derived"]["macs"],
        "oneshot/temperature": entry["temperature"],
    }
    for k, stage in enumerate(entry["ops"]):
        for v, row in zip(net.plans[k].nodes, stage, strict=True):
            for name, value in zip(net.op_names, row, strict=True):
                out[f"oneshot/s{k}/n{v}/{name}"] = value
    for k, stage in enumerate(entry["gates"]):
        for u, v, g in stage:
            out[f"oneshot/s{k}/e{u}-{v}"] = g
    return out


def _write_curves(folder: RunFolder, history: list[dict[str, Any]], net: Supernet) -> None:
    lines = "".join(json.dumps(h, separators=(",", ":")) + "\n" for h in history)
    atomic_write(folder.path / CURVES, lines.encode())
    atomic_write(folder.path / CURVES_CSV, csv_bytes(_csv_rows(history, net), _CSV_FIELDS))


def _finish(cfg, folder, net, splits, dev, history, seconds) -> dict[str, Any]:
    """Derive the network, save it as ``architectures/H.json``, write ``oneshot.json``."""
    o = cfg.oneshot
    last = history[-1] if history else {}
    settings = {
        k: (list(v) if isinstance(v, tuple) else v)
        for k, v in vars(o).items()
        if k not in ("preset", "final")
    }
    meta = {
        "origin": "oneshot",
        "preset": o.preset,
        "channels": o.channels,
        "nodes": o.nodes,
        "seed": o.seed,
        "oneshot": settings | {"expected_macs": last.get("expected_macs")},
    }
    arch = net.derive(o.top_k, meta=meta)
    h = architecture_hash(arch)
    folder.save_architecture(h, arch.to_json())
    cx = count_complexity(arch)
    acc = inherited_accuracy(net, net.choice(o.top_k), splits, dev, seed=o.seed)
    summary = {
        "hash": h,
        "architecture": folder.arch_ref(h),
        "macs": cx.macs,
        "params": cx.params,
        "target_macs": o.target_macs,
        "macs_ratio": cx.macs / o.target_macs if o.target_macs else None,
        "expected_macs": last.get("expected_macs"),
        "inherited_val_accuracy": acc,
        "supernet_val_accuracy": last.get("val_accuracy"),
        "epochs": len(history),
        "search_seconds": round(seconds, 3),
    }
    folder.write_json(SUMMARY, summary)
    return summary


def run_oneshot_final(
    cfg: OneshotRunConfig,
    folder: RunFolder,
    summary: dict[str, Any],
    log: Callable[[str], None] = lambda line: None,
) -> list[dict[str, Any]]:
    """The search's final step (:func:`evolve.final.run_final`) for the derived network:
    retrained on the whole training set by ``[final]``, scored once on the test split, its
    weights, standalone source and ONNX model in ``final/``, its record in ``final.json``
    (kept there: a resumed run does not retrain it)."""
    from evolve.executors import InlineExecutor
    from evolve.final import run_final
    from evolve.fitness import Individual, make_fitness_class
    from genesis import load_architecture

    arch = load_architecture(folder.arch_path(summary["hash"]))
    result = {
        "status": "ok",
        "accuracy": summary["inherited_val_accuracy"],
        "macs": summary["macs"],
        "params": summary["params"],
    }
    fitness = make_fitness_class((1.0, -1.0))()
    ind = Individual(
        arch,
        summary["hash"],
        cfg.final.seed,
        fitness,
        result,
        origin="oneshot",
        text=arch.to_json(),
    )
    tracker = Tracker(folder.path)
    try:
        with InlineExecutor(1) as executor:
            return run_final(cfg, folder, executor, [ind], log, tracker)
    finally:
        tracker.close()
