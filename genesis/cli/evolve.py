"""``genesis evolve``: start or resume a search of architectures in a run folder.

Its flags register beside its handler; the warm start (``--init``, ``--init-run``) is read by
:mod:`~genesis.cli.warmstart`, and what ``tune`` shares (resume, failures) is
:mod:`~genesis.cli.searchrun`.
"""

from __future__ import annotations

import argparse
from typing import Any

from genesis.cli.common import ENGINE_FLAGS, add_engine_flags, config_overrides, fresh_run_dir
from genesis.cli.searchrun import resume_run, say_failures, search_flags_given
from genesis.complexity import format_count

__all__ = ["EVOLVE_FLAGS", "add_evolve", "cmd_evolve"]

#: Config section -> field -> flag attribute, of the flags ``evolve`` adds to the engine's.
EVOLVE_FLAGS: dict[str, dict[str, str]] = {
    "search": {
        "strategy": "strategy",
        "population": "population",
        "generations": "generations",
        "budget_evals": "budget_evals",
        "budget": "budget",
        "max_macs": "max_macs",
        "max_params": "max_params",
        "max_memory_kb": "max_memory_kb",
        "max_latency_ms": "max_latency_ms",
        "measure": "measure",
        "latency_batch": "latency_batch",
        "objective": "objective",
        "ref_memory_kb": "ref_memory_kb",
        "ref_latency_ms": "ref_latency_ms",
        "seconds": "search_seconds",
        "seed": "seed",
    },
    "space": {"preset": "preset", "classes": "classes"},
    "strategy": {"target_macs": "target_macs"},  # of every strategy that has it
    "proxy": {"epochs": "proxy_epochs", "rungs": "rungs", "eta": "eta", "holdout": "holdout"},
    "final": {
        "top_k": "final_top_k",
        "epochs": "final_epochs",
        "batch_size": "final_batch",
        "seconds": "final_seconds",
    },
}


def _rungs(text: str) -> tuple[float, ...]:
    """``1,3,9``: the rungs' cumulative epochs (checked by :class:`~evolve.config.ProxyConfig`);
    ``none``: one rung."""
    if text.strip().lower() == "none":
        return ()
    try:
        return tuple(float(x) for x in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"rungs must be comma-separated epochs such as 1,3,9, got {text!r}"
        ) from None


def _or_none(kind: type):
    """A flag's type: a ``kind`` value, or ``none`` to lift the default (a cap, a limit)."""

    def parse(text: str):
        if text.strip().lower() == "none":
            from evolve.configfile import NONE

            return NONE  # the config reads it as None, as a TOML file's "none"
        try:
            return kind(text)
        except ValueError:
            what = "an integer" if kind is int else "a number"
            raise argparse.ArgumentTypeError(f"must be {what} or none, got {text!r}") from None

    parse.__name__ = kind.__name__
    return parse


def _preset(text: str) -> str:
    """A preset's name (an unknown one lists the known ones)."""
    from genesis.presets import PRESETS

    if text not in PRESETS:
        choices = ", ".join(repr(n) for n in PRESETS)
        raise argparse.ArgumentTypeError(f"invalid choice: {text!r} (choose from {choices})")
    return text


def _strategy(text: str) -> str:
    """An architecture strategy's name (the registry is read only when the flag is given)."""
    from evolve.strategies import strategy_names

    names = strategy_names("architectures")
    if text not in names:
        choices = ", ".join(repr(n) for n in names)
        raise argparse.ArgumentTypeError(f"invalid choice: {text!r} (choose from {choices})")
    return text


def _costs(text: str) -> tuple[str, ...]:
    from evolve.config import COSTS

    costs = tuple(c.strip() for c in text.split(",") if c.strip())
    if not costs or not set(costs) <= set(COSTS):
        raise argparse.ArgumentTypeError(
            f"--measure takes costs of {', '.join(COSTS)}, comma-separated, got {text!r}"
        )
    return costs


def _objective(text: str) -> tuple[str, ...]:
    from genesis.runfolder import OBJECTIVES

    costs = tuple(c.strip() for c in text.replace("+", ",").split(",") if c.strip())
    if not costs or not set(costs) <= set(OBJECTIVES) or len(set(costs)) < len(costs):
        raise argparse.ArgumentTypeError(
            f"--objective takes distinct costs of {', '.join(OBJECTIVES)}, comma-separated, "
            f"got {text!r}"
        )
    return costs


def add_evolve(sub: argparse._SubParsersAction) -> None:
    """Register ``genesis evolve``."""
    ev = sub.add_parser(
        "evolve",
        help="search architectures over accuracy x MACs, latency or memory (the main job)",
        description="Evolve randomly wired architectures with DEAP, scoring each by a short proxy "
        "training on the validation split, then retrain the chosen Pareto members on the full "
        "training set and report their test accuracy. Flags override --config.",
    )
    _add_search_flags(ev)
    _add_cap_flags(ev)
    _add_objective_flags(ev)
    _add_proxy_flags(ev)
    add_engine_flags(ev)
    _add_final_flags(ev)
    _add_start_flags(ev)
    ev.set_defaults(func=cmd_evolve)


def _add_search_flags(ev: argparse.ArgumentParser) -> None:
    """The config, the strategy, the space and the search's size."""
    ev.add_argument("--config", metavar="FILE.toml", help="configuration file")
    ev.add_argument(
        "--strategy",
        type=_strategy,
        help="nsga2 (default), constrained, regularized (aging evolution), rl (a learned "
        "controller) or random (the baseline)",
    )
    ev.add_argument(
        "--preset",
        type=_preset,
        help="macro layout, input and classes of every network: fashion-mnist (default), "
        "cifar10, randwire-small, randwire-regular (genesis.PRESETS)",
    )
    ev.add_argument(
        "--classes",
        type=int,
        metavar="K",
        help="classifier outputs of every network (default: the preset's); must match the "
        "dataset's classes",
    )
    ev.add_argument("--population", type=int, help="population size (6)")
    ev.add_argument("--generations", type=int, help="generations after the first (2)")
    ev.add_argument(
        "--budget-evals", type=int, help="trained evaluations (population x (generations + 1))"
    )
    ev.add_argument(
        "--budget",
        type=float,
        metavar="EPOCHS",
        help="compute budget: epoch-equivalents of the proxy's training subset, every rung "
        "counted (instead of --budget-evals; strategies compare at equal compute)",
    )


def _add_cap_flags(ev: argparse.ArgumentParser) -> None:
    """The hard caps and the costs measured."""
    ev.add_argument(
        "--max-macs",
        type=_or_none(float),
        help="hard MAC budget: larger is never trained (3e6; none: no cap)",
    )
    ev.add_argument(
        "--max-params",
        type=_or_none(int),
        help="hard parameter budget: larger is never trained (100000; none: no cap)",
    )
    ev.add_argument(
        "--max-memory-kb",
        type=float,
        metavar="KB",
        help="hard cap on peak inference memory at batch 1 (activations + parameters, KiB)",
    )
    ev.add_argument(
        "--max-latency-ms",
        type=float,
        metavar="MS",
        help="hard cap on latency at batch 1, measured on the run's device before training",
    )
    ev.add_argument(
        "--measure",
        type=_costs,
        metavar="memory,latency",
        help="measure these costs for every candidate and keep them in its record",
    )
    ev.add_argument(
        "--latency-batch", type=int, metavar="N", help="the second batch latency is timed at (64)"
    )


def _add_objective_flags(ev: argparse.ArgumentParser) -> None:
    """The objectives, their hypervolume references, the clock and the seed."""
    ev.add_argument(
        "--objective",
        type=_objective,
        metavar="COSTS",
        help="the costs minimised beside accuracy: macs (default), latency, memory, or several, "
        "comma-separated (latency,memory: three objectives); measured ones are measured for "
        "every candidate",
    )
    ev.add_argument(
        "--ref-latency-ms",
        type=float,
        metavar="MS",
        help="hypervolume reference of latency at batch 1 (20)",
    )
    ev.add_argument(
        "--ref-memory-kb",
        type=float,
        metavar="KB",
        help="hypervolume reference of peak memory at batch 1 (2048)",
    )
    ev.add_argument(
        "--search-seconds",
        "--time-budget",  # its name before 0.2
        dest="search_seconds",
        type=_or_none(float),
        metavar="SECONDS",
        help="wall-clock seconds of the search; then the final step runs (180; none: no limit)",
    )
    ev.add_argument("--target-macs", type=float, help="constrained: soft MnasNet MAC target")
    ev.add_argument("--seed", type=int, help="search seed (0)")


def _add_proxy_flags(ev: argparse.ArgumentParser) -> None:
    """The proxy training: one rung or successive halving, and the holdout."""
    ev.add_argument(
        "--proxy-epochs",
        type=float,
        help="one rung: every candidate trains for these epochs (instead of --rungs)",
    )
    ev.add_argument(
        "--rungs",
        type=_rungs,
        metavar="E1,E2,...",
        help="successive halving: cumulative proxy epochs at each rung (1,3; none: one rung "
        "at --proxy-epochs, 2)",
    )
    ev.add_argument("--eta", type=int, help="successive halving: the top 1/eta goes on (3)")
    ev.add_argument(
        "--holdout",
        type=int,
        metavar="N",
        help="validation examples held out from the search, scored on every evaluation (0)",
    )


def _add_final_flags(ev: argparse.ArgumentParser) -> None:
    """The final retraining of the chosen Pareto members."""
    ev.add_argument("--final-top-k", type=int, help="Pareto members retrained at the end (1)")
    ev.add_argument("--final-epochs", type=float, help="epochs of the final training (8)")
    ev.add_argument(
        "--final-batch",
        type=_or_none(int),
        help="batch of the final training, the learning rate scaled with it (SGD: linearly, "
        "AdamW: by the square root) (256; none: the architecture's own batch and rate)",
    )
    ev.add_argument(
        "--final-seconds",
        type=_or_none(float),
        help="wall-clock seconds of each final training, if it ends before its epochs (360; "
        "none: no limit)",
    )


def _add_start_flags(ev: argparse.ArgumentParser) -> None:
    """The warm start and the run folder (a new one, or one to resume)."""
    ev.add_argument(
        "--init",
        action="append",
        metavar="ARCH.json",
        help="warm start: this architecture opens the first generation (repeat for several)",
    )
    ev.add_argument(
        "--init-run",
        action="append",
        metavar="DIR",
        help="warm start from that run's Pareto front (repeat for several runs)",
    )
    where = ev.add_mutually_exclusive_group()
    where.add_argument(
        "--out", metavar="DIR", help="new run folder (default: runs/evolve-<date>-<time>)"
    )
    where.add_argument("--resume", metavar="DIR", help="continue the run in DIR")


def cmd_evolve(args: argparse.Namespace) -> int:
    """``genesis evolve``: run or resume a search, then the final retraining."""
    from evolve.runner import run_search

    overrides = config_overrides(args, EVOLVE_FLAGS, ENGINE_FLAGS)
    init: dict[str, Any] = {}
    if args.resume:
        folder, cfg = _resumed(args, overrides)
    else:
        folder, cfg, init = _new_run(args, overrides)
    with folder.locked(create=not args.resume):  # one writer per run folder
        if not args.resume:
            files = {f"architectures/{h}.json": a for h, a in init.items()}
            folder.create(cfg, files=files)
        outcome = run_search(cfg, folder)

    say_failures(folder, cfg.space.num_classes, "search", [i.result for i in outcome.front])
    _print_outcome(folder, cfg, outcome)
    return 0


def _resumed(args: argparse.Namespace, overrides: dict[str, dict[str, Any]]):
    """The run folder of ``--resume`` and its own config; a search flag given is refused."""
    given = search_flags_given(overrides)
    if args.init or args.init_run:
        given = [*given, "--init" if args.init else "--init-run"]
    refusal = (
        f"--resume continues with the run's own config.toml; drop "
        f"{', '.join(given) or '--config'} (only execution flags may change)"
    )
    refused = args.config or given
    return resume_run(
        args.resume, overrides["execution"], refusal if refused else None, tuning=False
    )


def _new_run(args: argparse.Namespace, overrides: dict[str, dict[str, Any]]):
    """A new run's folder (checked, not made yet), its config and its warm start (hash ->
    architecture), every input checked before anything is written."""
    from evolve.config import EvolveConfig, check_proxy_data, load_config
    from genesis.cli.warmstart import warm_start
    from genesis.runfolder import RunFolder

    cfg = load_config(args.config) if args.config else EvolveConfig()
    cfg = cfg.with_overrides(**overrides)
    init = warm_start(cfg, args.init or [], args.init_run or [])
    if init:
        from dataclasses import replace

        cfg = replace(cfg, search=replace(cfg.search, init=tuple(init)))
    check_proxy_data(cfg)
    folder = RunFolder(args.out or fresh_run_dir())
    folder.check_new()
    return folder, cfg, init


def _print_outcome(folder: Any, cfg: Any, outcome: Any) -> None:
    """The run's summary on stdout: the front, its hypervolume, every final training."""
    s = cfg.search
    units = {"macs": "MACs", "memory": "KiB", "latency": "ms"}
    reference = ", ".join(f"{r:g} {units[c]}" for c, r in zip(s.objective, s.refs, strict=True))
    print(
        f"run folder {folder.path}: {outcome.trained} trained evaluations, Pareto front of "
        f"{len(outcome.front)}, hypervolume {outcome.hypervolume:.4f} (validation accuracy x "
        f"{' x '.join(s.objective)}, reference {reference})"
    )
    for ind in outcome.front:
        r = ind.result
        measured = "".join(
            f"  {r[k]:g} {unit}"
            for k, unit in (("memory_kb", "KiB"), ("latency_ms", "ms"))
            if isinstance(r.get(k), (int, float))
        )
        acc = "-" if r["accuracy"] is None else f"{r['accuracy']:.4f}"
        print(
            f"  {ind.hash}  val acc {acc}  "
            f"{format_count(r['macs'])} MACs  {format_count(r['params'])} params{measured}  "
            f"{r['status']}"
        )
    for rec in outcome.final:
        acc = rec.get("test_accuracy")
        print(
            f"final {rec['hash']}: test accuracy {'-' if acc is None else f'{acc:.4f}'} "
            f"({rec['status']}, {format_count(rec['params'])} params, "
            f"{format_count(rec['macs'])} MACs)"
        )
