"""``genesis study``: trade-off studies of graph generators (``generators``), graph damage
(``damage``) and node operations (``ops``)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from genesis.cli.common import (
    ENGINE_FLAGS,
    add_engine_flags,
    config_overrides,
    fresh_run_dir,
    progress,
)
from genesis.cli.damage import add_study_damage
from graphs import GenesisError

__all__ = ["STUDY_FLAGS", "add_study", "cmd_study_generators", "parse_setting"]

#: Config section -> field -> flag attribute, of the flags ``study generators`` adds.
STUDY_FLAGS: dict[str, dict[str, str]] = {
    "study": {
        "graph_seeds": "graph_seeds",
        "train_seeds": "train_seeds",
        "match_macs": "match_macs",
        "preset": "preset",
        "channels": "channels",
        "batch_size": "batch_size",
        "max_macs": "max_macs",
        "max_params": "max_params",
        "final": "final",
        "seed": "seed",
    },
    "proxy": {"epochs": "epochs"},
}


def parse_setting(text: str) -> dict[str, Any]:
    """``FAMILY:KEY=VALUE,...`` of ``--setting`` (``er:p=0.2``, ``ws:k=4,p=0.75``,
    ``nx:random_regular_graph:d=3``) as a setting's table; values read as JSON numbers where
    they parse."""
    family, params = text, ""
    head, sep, tail = text.rpartition(":")
    if sep and "=" in tail:
        family, params = head, tail
    if not family:
        raise argparse.ArgumentTypeError(f"--setting needs FAMILY[:KEY=VALUE,...], got {text!r}")
    values: dict[str, Any] = {}
    for part in filter(None, params.split(",")):
        key, eq, raw = part.partition("=")
        if not eq or not key.isidentifier():
            raise argparse.ArgumentTypeError(
                f"--setting parameters must be KEY=VALUE, got {part!r} in {text!r}"
            )
        try:
            values[key] = json.loads(raw)
        except json.JSONDecodeError:
            values[key] = raw
    return {"family": family, "params": values}


def _macs(text: str) -> float | str:
    """A MAC target, or ``none`` (the preset's widths, unmatched: the config reads it as None)."""
    if text.strip().lower() == "none":
        from evolve.configfile import NONE

        return NONE
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--match-macs must be a number or none, got {text!r}"
        ) from None


def add_study(sub: argparse._SubParsersAction) -> None:
    """Register ``genesis study`` and its sub-commands."""
    from genesis.cli.common import OneLineParser

    st = sub.add_parser(
        "study",
        help="trade-off studies of graph generators (RandWire's protocol)",
        description="Studies of wiring patterns at matched MACs: every setting's networks "
        "trained alike, mean ± std over graph instances, significance against the best.",
    )
    kinds = st.add_subparsers(dest="study_command", required=True, parser_class=OneLineParser)
    gen = kinds.add_parser(
        "generators",
        help="compare graph generators (families and parameters) at matched MACs",
        description="Train every setting (a graph family with its parameters) on several graph "
        "instances, each network's widths matched to --match-macs, all with the same recipe. "
        "Writes study.csv (one row per network, with its graph statistics), summary.csv and "
        "summary.txt (mean, std, 95% interval and Welch's t-test against the best setting) into "
        "the run folder. The test split is read only with --final.",
    )
    _add_training_flags(gen, ops=False)
    ops = kinds.add_parser(
        "ops",
        help="the same graphs with each node op, at matched MACs (RandWire's Figure 6)",
        description="Train every setting's graph instances once with each op of --ops, every "
        "network matched to --match-macs, all with the same recipe: does the ranking of the "
        "generators survive a change of node op? Writes what generators writes, plus ops.csv "
        "(each setting's mean with each op), ops_correlation.csv (Pearson and Spearman between "
        "every two ops, over the settings) and study_ops.png.",
    )
    _add_training_flags(ops, ops=True)
    add_study_damage(kinds)


def _ops_list(text: str) -> tuple[str, ...]:
    ops = tuple(o.strip() for o in text.split(",") if o.strip())
    if len(ops) < 2:
        raise argparse.ArgumentTypeError(
            f"--ops needs two ops or more, comma-separated, got {text!r}"
        )
    return ops


def _add_training_flags(gen: argparse.ArgumentParser, ops: bool) -> None:
    """The flags of a study that trains (generators, ops)."""
    _add_setting_flags(gen, ops)
    _add_recipe_flags(gen)
    add_engine_flags(gen)
    gen.add_argument(
        "--no-weights",
        action="store_true",
        help="do not keep each network's weights (weights/<key>.pt, for genesis study damage)",
    )
    where = gen.add_mutually_exclusive_group()
    where.add_argument("--out", metavar="DIR", help="new run folder (default: runs/study-<time>)")
    where.add_argument("--resume", metavar="DIR", help="continue the study in DIR")
    gen.set_defaults(func=cmd_study_generators)


def _add_setting_flags(gen: argparse.ArgumentParser, ops: bool) -> None:
    """The settings of the study: a config, a grid or settings, their nodes and op(s)."""
    gen.add_argument(
        "--config", metavar="FILE.toml", help="a study config ([study], [proxy], [execution])"
    )
    gen.add_argument(
        "--grid",
        choices=("default", "paper"),
        help="the settings: default (ER, BA, WS at two parameters each) or paper (RandWire's "
        "Figure 3: ER(0.1-0.9), BA(1-8), WS(2-8, 0-1), N=32)",
    )
    gen.add_argument(
        "--setting",
        action="append",
        type=parse_setting,
        metavar="FAMILY:KEY=VALUE,...",
        help="a setting, e.g. ws:k=4,p=0.75 (repeat for several; replaces the grid)",
    )
    gen.add_argument("--nodes", type=int, help="compute nodes per stage of every setting (8)")
    if ops:
        from evolve.studysettings import PAPER_OPS

        gen.add_argument(
            "--ops",
            type=_ops_list,
            metavar="OP,OP,...",
            help=f"the node ops, each with every setting ({','.join(PAPER_OPS)})",
        )
    else:
        gen.add_argument("--op", help="op of every node of every setting (sep_conv_3x3)")


def _add_recipe_flags(gen: argparse.ArgumentParser) -> None:
    """The instances, the matched MACs and the recipe of every training."""
    gen.add_argument("--graph-seeds", type=int, metavar="K", help="graph instances per setting (3)")
    gen.add_argument(
        "--train-seeds", type=int, metavar="R", help="trainings per instance, other seeds (1)"
    )
    gen.add_argument(
        "--match-macs",
        type=_macs,
        metavar="M",
        help="match every network's MACs to M within ±2%% by its widths (1e6; none: the "
        "preset's widths)",
    )
    gen.add_argument("--preset", help="macro layout and recipe of every network (fashion-mnist)")
    gen.add_argument("--channels", type=int, help="base width C before matching (the preset's)")
    gen.add_argument("--batch-size", type=int, help="batch of every training (the preset's)")
    gen.add_argument("--epochs", type=float, help="epochs of every training (5)")
    gen.add_argument("--max-macs", type=float, help="hard cap: a network above it is not trained")
    gen.add_argument("--max-params", type=int, help="hard cap on parameters")
    gen.add_argument(
        "--final",
        action="store_const",
        const=True,
        default=None,
        help="train on the whole training set and score on the official test split",
    )
    gen.add_argument("--seed", type=int, help="first graph seed and training seed (0)")


def _settings(cfg, args: argparse.Namespace):
    """The settings the flags ask for: --setting, else --grid, else the config's; --nodes and
    --op applied to each (labels redrawn)."""
    from dataclasses import replace

    from evolve.studysettings import GRIDS, Setting

    if args.setting:
        settings = [Setting(**s) for s in args.setting]
    elif args.grid:
        settings = list(GRIDS[args.grid])
    else:
        settings = list(cfg.study.settings)
    op = getattr(args, "op", None)
    if args.nodes is not None or op is not None:
        settings = [
            Setting(
                s.family,
                s.params,
                args.nodes if args.nodes is not None else s.nodes,
                op if op is not None else s.op,
            )
            for s in settings
        ]
    return replace(cfg, study=replace(cfg.study, settings=tuple(settings)))


def _ops(cfg, args: argparse.Namespace):
    """``study ops``: --ops, else the config's ops, else RandWire's four (PAPER_OPS)."""
    from dataclasses import replace

    from evolve.studysettings import PAPER_OPS

    ops = args.ops or cfg.study.ops or PAPER_OPS
    if len(ops) < 2:
        raise GenesisError(f"genesis study ops needs two ops or more, got {list(ops)}")
    return replace(cfg, study=replace(cfg.study, ops=tuple(ops)))


def cmd_study_generators(args: argparse.Namespace) -> int:
    """``genesis study generators``: run or resume a generator study, then its tables."""
    from evolve.study import study_jobs

    overrides = config_overrides(
        args, STUDY_FLAGS, ENGINE_FLAGS, sections=("study", "proxy", "execution")
    )
    if args.resume:
        folder, cfg = _resumed(args, overrides)
    else:
        folder, cfg = _new_study(args, overrides)
    jobs = study_jobs(cfg)  # widths matched and caps checked before anything is written
    with folder.locked(create=not args.resume):
        if not args.resume:
            folder.create(cfg)
        print(_plan(cfg, len(jobs)))
        entries, tables = _train_and_write(cfg, folder, jobs, weights=not args.no_weights)
        trained = sum(1 for e in entries if e["kind"] == "train")
        folder.write_state("finished", trained=trained, networks=len(jobs))
    _say_failures(folder, cfg, entries)
    print("\n".join(tables["lines"]))
    print(
        f"wrote {folder.path / 'study.csv'}, summary.csv"
        + (", ops.csv, ops_correlation.csv" if cfg.study.ops else "")
        + " and summary.txt"
    )
    return 0


def _resumed(args: argparse.Namespace, overrides: dict[str, dict[str, Any]]):
    """The study of ``--resume`` and its own config; any flag but execution's is refused."""
    from evolve.config import load_config
    from evolve.studyconfig import StudyRunConfig
    from genesis.cli.searchrun import search_flags_given
    from genesis.runfolder import RunFolder

    given = search_flags_given(overrides)
    flags = (args.config, args.setting, args.grid, args.nodes)
    if given or any(flags) or getattr(args, "op", None) or getattr(args, "ops", None):
        raise GenesisError(
            "--resume continues with the study's own config.toml; give only the folder "
            "(and execution flags)"
        )
    folder = RunFolder(args.resume)
    cfg = load_config(folder.check(), {"execution": overrides["execution"]}, kind=StudyRunConfig)
    return folder, cfg


def _new_study(args: argparse.Namespace, overrides: dict[str, dict[str, Any]]):
    """A new study's folder (checked, not made yet) and its config, the data checked."""
    from evolve.config import check_proxy_data, load_config
    from evolve.studyconfig import StudyRunConfig
    from genesis.runfolder import RunFolder

    cfg = load_config(args.config, kind=StudyRunConfig) if args.config else StudyRunConfig()
    cfg = _settings(cfg.with_overrides(**overrides), args)
    if args.study_command == "ops":
        cfg = _ops(cfg, args)
    elif cfg.study.ops:
        raise GenesisError(
            "the config crosses its settings with ops ([study] ops): run genesis study ops"
        )
    _check_data(cfg, check_proxy_data)
    folder = RunFolder(args.out or fresh_run_dir("study"))
    folder.check_new()
    return folder, cfg


def _plan(cfg, jobs: int) -> str:
    """The study's plan in one line: its trainings, matched MACs, epochs and split."""
    return (
        f"study: {len(cfg.study.settings)} settings x "
        + (f"{len(cfg.study.ops)} ops x " if cfg.study.ops else "")
        + f"{cfg.study.graph_seeds} graph seeds x "
        f"{cfg.study.train_seeds} train seeds = {jobs} trainings"
        + (
            f", MACs matched to {cfg.study.match_macs:g} (±{cfg.study.tolerance:.0%})"
            if cfg.study.match_macs
            else ""
        )
        + f", {cfg.proxy.epochs:g} epochs on "
        + (
            "the whole training set, scored on the test split"
            if cfg.study.final
            else f"{cfg.proxy.subset or 'all'} examples, scored on validation"
        )
    )


def _train_and_write(cfg, folder, jobs: list, weights: bool):
    """Train what the log lacks, then write every output: the log's entries and the tables."""
    from evolve.executors import make_executor
    from evolve.runner import recorded
    from evolve.study import run_study
    from visualize.study import write_study_outputs

    ex = cfg.execution
    # the trainings, then the outputs: each file written whole (a temporary file renamed
    # over it), all of them from the log alone, so a study stopped at any point is
    # "interrupted" and its --resume trains what the log lacks and writes them all again;
    # it is "finished" only once every output is written
    with recorded(folder):
        executor = make_executor(ex.executor, ex.workers, ex.address, ex.workers_per_gpu)
        with executor:
            entries = run_study(cfg, folder, executor, log=progress, weights=weights, jobs=jobs)
        tables = write_study_outputs(folder.path)
    return entries, tables


def _say_failures(folder, cfg, entries: list[dict[str, Any]]) -> None:
    """Exit 1 with the most common cause when no network trained (:mod:`evolve.failures`);
    a warning for each setting whose mean accuracy is within 2 points of chance."""
    from statistics import mean

    from evolve.failures import Failures, chance_warning
    from genesis.presets import get_preset

    Failures.of_log(entries).check("study", str(folder.log_path))
    accuracies: dict[str, list[float]] = {}
    for e in entries:
        r = e.get("result") or {}
        if e.get("kind") == "train" and r.get("status") == "ok":
            accuracies.setdefault(str(e.get("label")), []).append(r["accuracy"])
    classes = get_preset(cfg.study.preset).num_classes
    for label, accs in accuracies.items():
        warning = chance_warning(mean(accs), classes, f"setting {label} (mean of {len(accs)})")
        if warning:
            print(warning, file=sys.stderr)


def _check_data(cfg, check_proxy_data) -> None:
    """The dataset fits the preset's input (as ``evolve`` checks it)."""
    from evolve.config import EvolveConfig
    from evolve.space import SpaceConfig

    check_proxy_data(EvolveConfig(proxy=cfg.proxy, space=SpaceConfig(preset=cfg.study.preset)))
