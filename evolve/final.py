"""The final step of a search: retrain the chosen Pareto members, score them on the test set.

Up to ``final.top_k`` members spread along the front (the most accurate always among them)
train on the whole training set (train + validation) and are scored once on the official test
split, the only use of it. Each member's weights (``final/H.pt``, a ``state_dict``), what they
expect of their input (``final/H.preprocess.json``), its standalone source (``final/H.py``)
and, optionally, its ONNX model go to ``final/`` in the run folder; ``final.json`` records every
finished member at once, so a resumed run retrains only the members still missing.

Each entry of ``final.json`` keeps the member's test record, its ``preprocess``
(:class:`genesis.preprocess.Preprocess` as a dict: shape, channel order, mean, std, class
names) and ``train``, the recipe the final step trained it with (its own batch and learning
rate, or the final step's, and the epochs completed): what ``final/H.py`` and the ONNX model
embed, under the member's hash H.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, replace
from typing import Any

from evolve.config import EvolveConfig
from evolve.evaluate import make_task, trained_recipe
from evolve.executors import Executor
from evolve.fitness import Individual
from genesis import Architecture, GenesisError
from genesis.runfolder import RunFolder

__all__ = ["run_final", "select_final"]

#: Fields of a member's training record that ``final.json`` keeps.
_KEPT = (
    "status",
    "test_accuracy",
    "macs",
    "flops",
    "params",
    "epochs",
    "train_seconds",
    "error",
    "onnx_max_diff",
    "onnx_error",
    "python_max_diff",
    "python_error",
)


def select_final(front: list[Individual], k: int) -> list[Individual]:
    """Up to ``k`` members spread along the front (by MACs), the most accurate always included."""
    ok = [i for i in front if i.result.get("status") == "ok"]
    if k <= 0 or not ok:
        return []
    if len(ok) <= k:
        return ok
    picks = {round(j * (len(ok) - 1) / (k - 1)) for j in range(k)} if k > 1 else {len(ok) - 1}
    best = max(range(len(ok)), key=lambda j: ok[j].result["accuracy"])
    picks.add(best)
    while len(picks) > k:
        picks.discard(min(p for p in picks if p != best))
    return [ok[j] for j in sorted(picks)]


def run_final(
    cfg: EvolveConfig,
    folder: RunFolder,
    executor: Executor,
    front: list[Individual],
    log: Callable[[str], None],
    tracker: Any = None,
) -> list[dict[str, Any]]:
    """Retrain the members :func:`select_final` picks from ``front``; their ``final.json``
    entries (those already in the file are kept, not retrained). ``tracker`` (a
    :class:`genesis.tracking.Tracker`) receives each retraining's curves as ``final/<hash>``."""
    fcfg = cfg.final
    chosen = select_final(front, fcfg.top_k)
    if not chosen:
        return []
    done = {r["hash"]: r for r in _read_done(folder)}
    (folder.path / "final").mkdir(exist_ok=True)
    todo = []
    texts: dict[int, str] = {}  # what each member trains with: its genome, the final recipe
    for i, ind in enumerate(chosen):
        if ind.hash in done:
            continue
        onnx = folder.path / folder.final_ref(ind.hash, ".onnx") if fcfg.export_onnx else None
        text = ind.text or ind.arch.to_json()
        if fcfg.batch_size is not None:  # the final step's own batch (bench_final.py)
            t = ind.arch.train
            lr = min(10.0, t.lr * fcfg.lr_factor(t.batch_size, t.optimizer))
            train = replace(t, batch_size=fcfg.batch_size, lr=round(lr, 6))
            text = replace(ind.arch, train=train).to_json()
        task = make_task(
            text,
            fcfg.seed,
            cfg.proxy,
            complexity=(ind.result["macs"], ind.result["params"]),
            final=True,
            epochs=fcfg.epochs,
            seconds=fcfg.seconds,
            weights_path=str(folder.path / folder.final_ref(ind.hash, ".pt")),
            onnx_path=str(onnx) if onnx else None,
            python_path=str(folder.path / folder.final_ref(ind.hash, ".py")),
            member=ind.hash,
        )
        texts[i] = text
        todo.append((i, task))
    for _, task in todo:  # fewer members than workers: the idle workers' cores go to them
        task["share"] = max(1, executor.workers // len(todo))
    if todo:
        log(
            f"final: retraining {len(todo)} Pareto member(s) on the full training set "
            f"for {fcfg.epochs or 'their own'} epochs"
            + (
                f" at batch {fcfg.batch_size} (learning rate scaled: {fcfg.lr_scaling})"
                if fcfg.batch_size
                else ""
            )
            + ", then scoring them on the test set"
        )

    def finished(i: int, record: dict[str, Any]) -> None:
        ind = chosen[i]
        entry = _entry(folder, ind, record, fcfg.export_onnx, texts[i])
        done[ind.hash] = entry
        folder.write_json("final.json", [done[c.hash] for c in chosen if c.hash in done])
        if tracker is not None:
            tracker.training(f"final/{ind.hash}", record)
        acc = entry["test_accuracy"]
        log(
            f"final {ind.hash}: {entry['status']}, test accuracy "
            f"{'-' if acc is None else f'{acc:.4f}'}, {entry['params']} params, "
            f"{entry['macs']} MACs"
        )

    if todo:
        executor.run(todo, finished)
    return [done[c.hash] for c in chosen if c.hash in done]


def _read_done(folder: RunFolder) -> list[dict[str, Any]]:
    problems: list[str] = []
    done = folder.read_json("final.json", [], problems)
    damaged = any("damaged" in p for p in problems)
    if (
        damaged
        or not isinstance(done, list)
        or not all(isinstance(r, dict) and "hash" in r for r in done)
    ):
        raise GenesisError(
            f"{str(folder.final_path)!r} is damaged; remove it to redo the final step"
        )
    return done


def _entry(
    folder: RunFolder, ind: Individual, record: dict[str, Any], onnx: bool, text: str
) -> dict[str, Any]:
    """A member's ``final.json`` entry: its test record, what its weights expect of their
    input, the recipe that trained them (``text``, the genome it trained with, and the record's
    batch and epochs), and links to the files that exist."""

    def written(suffix: str) -> str | None:
        ref = folder.final_ref(ind.hash, suffix)
        return ref if record.get("status") == "ok" and (folder.path / ref).exists() else None

    # a recipe and preprocessing only for weights that were trained and kept (the synthetic
    # fitness trains none)
    kept = written(".pt") is not None
    recipe = asdict(trained_recipe(Architecture.from_json(text), record).train) if kept else None

    return {
        "hash": ind.hash,
        "val_accuracy_search": ind.result.get("accuracy"),
        **{k: record.get(k) for k in _KEPT},
        # only files that were written (the synthetic fitness writes none)
        "weights": written(".pt"),
        "onnx": written(".onnx") if onnx and not record.get("onnx_error") else None,
        # plain PyTorch source (genesis.standalone): imports only torch, loads the weights
        "python": written(".py") if not record.get("python_error") else None,
        "architecture": folder.arch_ref(ind.hash),
        # what the weights expect of their input (also beside them: final/H.preprocess.json)
        "preprocess": record.get("preprocess") if kept else None,
        "train": recipe,  # the recipe that trained the weights (final/H.py embeds it)
    }
