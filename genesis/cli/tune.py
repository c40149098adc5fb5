"""``genesis tune``: search one architecture's training hyperparameters (grid or random) on
the search's engine, run folder, resume and report."""

from __future__ import annotations

import argparse
from typing import Any

from genesis.cli.common import (
    ENGINE_FLAGS,
    add_engine_flags,
    config_overrides,
    fresh_run_dir,
    refuse_run_outputs,
)
from genesis.cli.searchrun import resume_run, say_failures, search_flags_given
from genesis.genome import load_architecture, save_architecture
from graphs import GenesisError

__all__ = ["TUNE_FLAGS", "add_tune", "cmd_tune"]

#: Config section -> field -> flag attribute, of the flags ``tune`` adds to the engine's.
TUNE_FLAGS: dict[str, dict[str, str]] = {
    "search": {"budget_evals": "budget_evals", "seed": "seed", "population": "population"},
    "final": {"epochs": "final_epochs"},
}


def add_tune(sub: argparse._SubParsersAction) -> None:
    """Register ``genesis tune``."""
    tu = sub.add_parser(
        "tune",
        help="search the training hyperparameters of one architecture (grid or random)",
        description="Grid or random search over learning rate, batch size, epochs, optimizer, "
        "weight decay and label smoothing of a fixed architecture, on the same engine, run "
        "folder, resume and report as genesis evolve. The best hyperparameters are written back "
        "into an architecture file (DIR/best.json, and -o).",
    )
    tu.add_argument("file", metavar="FILE", nargs="?", help="architecture JSON (not with --resume)")
    tu.add_argument(
        "--method",
        choices=("grid", "random"),
        help="grid over the listed values (default) or random over their ranges",
    )
    tu.add_argument(
        "--config",
        metavar="FILE.toml",
        help="a config whose [tune] table lists the values (see evolve/tune.py)",
    )
    tu.add_argument("--budget-evals", type=int, help="trained evaluations (grid: its size)")
    tu.add_argument("--population", type=int, help="evaluations per generation (6)")
    tu.add_argument("--seed", type=int, help="seed of random search and candidate training (0)")
    add_engine_flags(tu)
    tu.add_argument(
        "--final-epochs",
        type=float,
        help="epochs of the final training of the best (default: its own)",
    )
    tu.add_argument("-o", "--output", metavar="BEST.json", help="also write the best here")
    where = tu.add_mutually_exclusive_group()
    where.add_argument("--out", metavar="DIR", help="new run folder (default: runs/tune-<time>)")
    where.add_argument("--resume", metavar="DIR", help="continue the tuning run in DIR")
    tu.set_defaults(func=cmd_tune)


def cmd_tune(args: argparse.Namespace) -> int:
    """``genesis tune``: grid or random search of one architecture's hyperparameters."""
    refuse_run_outputs(args, "output")
    from evolve.runner import run_search

    overrides = config_overrides(args, TUNE_FLAGS, ENGINE_FLAGS)
    if args.resume:
        folder, cfg = _resumed(args, overrides)
    else:
        folder, cfg, arch = _new_tuning(args, overrides)
    with folder.locked(create=not args.resume):  # one writer per run folder
        if not args.resume:
            folder.create(cfg, files={cfg.tune.architecture: arch})
        outcome = run_search(cfg, folder)
        ok = [i for i in outcome.archive if i.result.get("status") == "ok"]
        classes = outcome.archive[0].arch.num_classes if outcome.archive else 0
        say_failures(folder, classes, "tuning run", [i.result for i in ok])
        best = max(ok, key=lambda i: (i.result["accuracy"], -i.born))
        save_architecture(best.arch, folder.path / "best.json")
    if args.output:
        save_architecture(best.arch, args.output)
    _print_outcome(folder, outcome, best, args.output)
    return 0


def _resumed(args: argparse.Namespace, overrides: dict[str, dict[str, Any]]):
    """The tuning run of ``--resume`` and its own config; any other input is refused."""
    given = search_flags_given(overrides)
    refused = given or any(v is not None for v in (args.file, args.config, args.method))
    refusal = (
        "--resume continues with the run's own config.toml and "
        "architecture; give only the run folder (and execution flags)"
    )
    return resume_run(
        args.resume, overrides["execution"], refusal if refused else None, tuning=True
    )


def _new_tuning(args: argparse.Namespace, overrides: dict[str, dict[str, Any]]):
    """A new tuning run's folder (checked, not made yet), its config and its architecture."""
    from evolve.bases import tune_base, tuning_config
    from evolve.config import check_proxy_data, load_config
    from genesis.runfolder import RunFolder

    if not args.file:
        raise GenesisError("tune needs an architecture FILE (or --resume DIR)")
    arch = load_architecture(args.file)
    base = tune_base()
    cfg = load_config(args.config, base=base) if args.config else base
    cfg = cfg.with_overrides(**overrides)
    # Final epochs: the flag, else the config file's, else the architecture's own (None).
    final_epochs = args.final_epochs
    if final_epochs is None and args.config:
        final_epochs = cfg.final.epochs
    cfg = tuning_config(cfg, args.method or "grid", args.budget_evals, final_epochs)
    check_proxy_data(cfg, arch.input_shape, arch.num_classes)
    folder = RunFolder(args.out or fresh_run_dir("tune"))
    folder.check_new()
    return folder, cfg, arch


def _print_outcome(folder: Any, outcome: Any, best: Any, output: str | None) -> None:
    """The run's summary on stdout: the best hyperparameters and every final training."""
    t = best.arch.train
    print(
        f"run folder {folder.path}: {outcome.trained} trained evaluations; best validation "
        f"accuracy {best.result['accuracy']:.4f} with {t.optimizer} lr {t.lr:g}, batch "
        f"{t.batch_size}, {t.epochs} epochs, weight decay {t.weight_decay:g}, label smoothing "
        f"{t.label_smoothing:g}"
    )
    for rec in outcome.final:
        acc = rec.get("test_accuracy")
        print(f"final {rec['hash']}: test accuracy {'-' if acc is None else f'{acc:.4f}'}")
    print(f"wrote {folder.path / 'best.json'}" + (f" and {output}" if output else ""))
