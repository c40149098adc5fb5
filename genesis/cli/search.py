"""``genesis evolve`` and ``tune``: start or resume a search in a run folder."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from genesis.cli.common import (
    ENGINE_FLAGS,
    add_engine_flags,
    config_overrides,
    refuse_run_outputs,
)
from genesis.complexity import format_count
from genesis.genome import load_architecture, save_architecture
from graphs import GenesisError

__all__ = ["EVOLVE_FLAGS", "TUNE_FLAGS", "add_evolve", "add_tune", "cmd_evolve", "cmd_tune"]

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

#: Config section -> field -> flag attribute, of the flags ``tune`` adds to the engine's.
TUNE_FLAGS: dict[str, dict[str, str]] = {
    "search": {"budget_evals": "budget_evals", "seed": "seed", "population": "population"},
    "final": {"epochs": "final_epochs"},
}


def _search_flags_given(overrides: dict[str, dict[str, Any]]) -> list[str]:
    """``section.field`` of every flag given that is not an execution flag, sorted."""
    return sorted(
        f"{t}.{k}"
        for t, v in overrides.items()
        for k, x in v.items()
        if x is not None and t != "execution"
    )


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


def _resume(path: str, execution: dict[str, Any], refusal: str | None, *, tuning: bool):
    """Reopen the run folder ``path`` to continue it with its own config and new execution flags.

    ``refusal`` is the error when search flags were given: ``tune`` says so before it reads the
    folder, ``evolve`` after (so each keeps its message order). A damaged checkpoint or log
    fails here, before anything is written.
    """
    from evolve.bases import run_base
    from evolve.config import load_config
    from genesis.runfolder import RunFolder

    if tuning and refusal:
        raise GenesisError(refusal)
    folder = RunFolder(path)
    cfg = load_config(folder.check(), overrides={"execution": execution}, base=run_base())
    if refusal:
        raise GenesisError(refusal)
    cfg = cfg.with_overrides(execution=execution)
    if tuning and not cfg.tune.architecture:
        raise GenesisError(f"{path!r} is not a tuning run; resume it with genesis evolve --resume")
    folder.load_checkpoint()
    folder.read_evaluations()
    return folder, cfg


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


def _front_architectures(folder: str) -> list[tuple[str, Any]]:
    """The Pareto front of someone else's run folder, as data: ``pareto.json`` and each
    member's ``architectures/H.json``, nothing else (no config, no log, no checkpoint), each
    read bounded from a regular file inside the folder (never through a link), validated as
    any architecture file, and refused unless its canonical hash is the hash it is filed
    under."""
    from genesis.fingerprint import architecture_hash
    from genesis.genome import Architecture
    from genesis.runfolder import MAX_JSON_BYTES, RunFolder, is_hash, read_bytes_bounded

    run = RunFolder(folder)
    if not run.path.is_dir():
        raise GenesisError(f"--init-run {folder!r} is not a run folder")
    if (run.path / "architectures").is_symlink():
        raise GenesisError(f"--init-run {folder!r}: architectures/ is a link; not read")
    members = run.read_json(run.pareto_path.name, None)
    if not isinstance(members, list):
        raise GenesisError(f"--init-run {folder!r}: pareto.json is missing or not a JSON list")
    ok = [m for m in members if isinstance(m, dict) and m.get("status") in (None, "ok")]
    if not ok:
        raise GenesisError(f"--init-run {folder!r}: the run has no Pareto front to start from")
    out = []
    for m in ok:
        h = m.get("hash")
        if not is_hash(h):
            raise GenesisError(f"--init-run {folder!r}: pareto.json names an invalid hash")
        ref = run.arch_ref(h)
        try:
            text = read_bytes_bounded(run.path / ref, MAX_JSON_BYTES).decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise GenesisError(f"--init-run {folder!r}: {ref} cannot be read ({exc})") from None
        arch = Architecture.from_json(text, source=f"--init-run {folder!r}: {ref}")
        if architecture_hash(arch) != h.split("-")[0]:
            raise GenesisError(
                f"--init-run {folder!r}: {ref} holds another network (its hash is "
                f"{architecture_hash(arch)})"
            )
        out.append((f"{folder} {h}", arch))
    return out


def _say_failures(folder, classes: int, what: str, front: list[dict[str, Any]]) -> None:
    """End the run with :class:`~graphs.errors.RunFailed` when nothing trained (the most common
    cause, its count, the log), and warn when the best accuracy is at chance level."""
    import sys

    from evolve.failures import Failures, chance_warning

    Failures.of_log(folder.read_evaluations()).check(what, str(folder.log_path))
    best = max((r["accuracy"] for r in front if r.get("accuracy") is not None), default=None)
    warning = chance_warning(best, classes, "the best candidate")
    if warning:
        print(warning, file=sys.stderr)


def _warm_start(cfg, files: list[str], runs: list[str]) -> dict[str, Any]:
    """Hash -> architecture of a warm start: each ``--init`` file, then each ``--init-run``
    folder's Pareto front (:func:`_front_architectures`), deduplicated by canonical hash, each
    fitting the search space's input and classes."""
    from genesis.fingerprint import architecture_hash
    from genesis.genome import load_architecture
    from genesis.presets import get_preset

    found: list[tuple[str, Any]] = [(f, load_architecture(f)) for f in files]
    for d in runs:
        found.extend(_front_architectures(d))
    preset = get_preset(cfg.space.preset)
    out: dict[str, Any] = {}
    for where, arch in found:
        if tuple(arch.input_shape) != tuple(preset.input_shape) or (
            arch.num_classes != cfg.space.num_classes
        ):
            raise GenesisError(
                f"warm start {where}: input {tuple(arch.input_shape)} and {arch.num_classes} "
                f"classes do not fit the search's {tuple(preset.input_shape)} and "
                f"{cfg.space.num_classes} (preset {cfg.space.preset})"
            )
        out.setdefault(architecture_hash(arch), arch)
    if len(out) > cfg.search.population:
        raise GenesisError(
            f"the warm start holds {len(out)} distinct architectures; the first generation "
            f"takes {cfg.search.population} (raise --population)"
        )
    return out


def _fresh_run_dir(kind: str = "evolve") -> str:
    """``runs/<kind>-<date>-<time>``, with a suffix when that folder is taken."""
    base = time.strftime(f"runs/{kind}-%Y%m%d-%H%M%S")
    candidate, n = base, 1
    while Path(candidate).exists():
        n += 1
        candidate = f"{base}-{n}"
    return candidate


# -- tune --------------------------------------------------------------------------------------
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
    from evolve.bases import tune_base, tuning_config
    from evolve.config import check_proxy_data, load_config
    from evolve.runner import run_search
    from genesis.runfolder import RunFolder

    overrides = config_overrides(args, TUNE_FLAGS, ENGINE_FLAGS)
    if args.resume:
        given = _search_flags_given(overrides)
        refused = given or any(v is not None for v in (args.file, args.config, args.method))
        refusal = (
            "--resume continues with the run's own config.toml and "
            "architecture; give only the run folder (and execution flags)"
        )
        folder, cfg = _resume(
            args.resume, overrides["execution"], refusal if refused else None, tuning=True
        )
    else:
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
        folder = RunFolder(args.out or _fresh_run_dir("tune"))
        folder.check_new()
    with folder.locked(create=not args.resume):  # one writer per run folder
        if not args.resume:
            folder.create(cfg, files={cfg.tune.architecture: arch})
        outcome = run_search(cfg, folder)
        ok = [i for i in outcome.archive if i.result.get("status") == "ok"]
        classes = outcome.archive[0].arch.num_classes if outcome.archive else 0
        _say_failures(folder, classes, "tuning run", [i.result for i in ok])
        best = max(ok, key=lambda i: (i.result["accuracy"], -i.born))
        save_architecture(best.arch, folder.path / "best.json")
    if args.output:
        save_architecture(best.arch, args.output)
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
    print(f"wrote {folder.path / 'best.json'}" + (f" and {args.output}" if args.output else ""))
    return 0


# -- evolve ------------------------------------------------------------------------------------
def add_evolve(sub: argparse._SubParsersAction) -> None:
    """Register ``genesis evolve``."""
    ev = sub.add_parser(
        "evolve",
        help="search architectures over accuracy x MACs, latency or memory (the main job)",
        description="Evolve randomly wired architectures with DEAP, scoring each by a short proxy "
        "training on the validation split, then retrain the chosen Pareto members on the full "
        "training set and report their test accuracy. Flags override --config.",
    )
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
    add_engine_flags(ev)
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
    ev.set_defaults(func=cmd_evolve)


def cmd_evolve(args: argparse.Namespace) -> int:
    """``genesis evolve``: run or resume a search, then the final retraining."""
    from evolve.config import EvolveConfig, check_proxy_data, load_config
    from evolve.runner import run_search
    from genesis.runfolder import RunFolder

    overrides = config_overrides(args, EVOLVE_FLAGS, ENGINE_FLAGS)
    if args.resume:
        given = _search_flags_given(overrides)
        if args.init or args.init_run:
            given = [*given, "--init" if args.init else "--init-run"]
        refusal = (
            f"--resume continues with the run's own config.toml; drop "
            f"{', '.join(given) or '--config'} (only execution flags may change)"
        )
        refused = args.config or given
        folder, cfg = _resume(
            args.resume, overrides["execution"], refusal if refused else None, tuning=False
        )
    else:
        cfg = load_config(args.config) if args.config else EvolveConfig()
        cfg = cfg.with_overrides(**overrides)
        init = _warm_start(cfg, args.init or [], args.init_run or [])
        if init:
            from dataclasses import replace

            cfg = replace(cfg, search=replace(cfg.search, init=tuple(init)))
        check_proxy_data(cfg)
        out = args.out or _fresh_run_dir()
        folder = RunFolder(out)
        folder.check_new()
    with folder.locked(create=not args.resume):  # one writer per run folder
        if not args.resume:
            files = {f"architectures/{h}.json": a for h, a in init.items()}
            folder.create(cfg, files=files)
        outcome = run_search(cfg, folder)

    _say_failures(folder, cfg.space.num_classes, "search", [i.result for i in outcome.front])
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
    return 0
