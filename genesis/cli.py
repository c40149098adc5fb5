"""The ``genesis`` command line: the one place that wires graphs, genomes and everything else.

Every bad input (a flag, a file, a graph) ends in one line on stderr and exit code 2; a
traceback means a bug in genesis.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import secrets
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from genesis.complexity import count_complexity, format_count
from genesis.fingerprint import architecture_hash
from genesis.genome import Architecture, load_architecture, save_architecture
from genesis.ops import op_names
from genesis.presets import DEFAULT_PRESET, PRESETS, build_architecture
from graphs import DEFAULT_OP, GenesisError, family_names, get_family

__all__ = ["main", "build_parser"]

EXIT_BAD_INPUT = 2

#: Family -> its parameters settable by flag, with RandWire's best settings as defaults, as the
#: family registry (graphs.families) held them at import; `_family_params` reads the registry.
FAMILY_FLAGS: dict[str, dict[str, Any]] = {
    name: dict(get_family(name).defaults) for name in family_names()
}


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message} (see --help)\n")


def _param(text: str) -> tuple[str, Any]:
    key, sep, raw = text.partition("=")
    if not sep or not key.isidentifier():
        raise argparse.ArgumentTypeError(f"--param needs key=value, got {text!r}")
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw  # a bare string, e.g. initial=star
    return key, value


def _strategy(text: str) -> str:
    """An architecture strategy's name (the registry is read only when the flag is given)."""
    from evolve.strategies import strategy_names

    names = strategy_names("architectures")
    if text not in names:
        choices = ", ".join(repr(n) for n in names)
        raise argparse.ArgumentTypeError(f"invalid choice: {text!r} (choose from {choices})")
    return text


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every ``genesis`` verb."""
    parser = _Parser(
        prog="genesis",
        description="Generate neural-network architectures from random graphs and measure them.",
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    gen = sub.add_parser(
        "generate",
        help="draw a random architecture and write its JSON",
        description="Draw a randomly wired architecture from a graph family and a preset layout.",
    )
    gen.add_argument(
        "family",
        metavar="FAMILY",
        help=f"graph family: {', '.join(family_names())}, or nx:<networkx generator>",
    )
    gen.add_argument("--nodes", type=int, help="compute nodes per stage N (preset default)")
    gen.add_argument("--p", type=float, help="ER edge / WS rewiring probability (0.2 / 0.75)")
    gen.add_argument("--k", type=int, help="WS ring degree, even and < N (4)")
    gen.add_argument("--m", type=int, help="BA edges per new node, < N (5)")
    gen.add_argument(
        "--param",
        type=_param,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra generator keyword, repeatable (value read as JSON when it parses)",
    )
    gen.add_argument("--stages", type=int, help="number of random stages S (preset default)")
    gen.add_argument(
        "--preset",
        default=DEFAULT_PRESET,
        choices=sorted(PRESETS),
        metavar="NAME",
        help=f"macro layout: {', '.join(PRESETS)} (default {DEFAULT_PRESET})",
    )
    gen.add_argument("--channels", type=int, help="base width C (preset default)")
    gen.add_argument("--op", default=DEFAULT_OP, help=f"op of every node (default {DEFAULT_OP})")
    gen.add_argument("--seed", type=int, help="random seed (default: drawn and recorded)")
    gen.add_argument("-o", "--output", metavar="FILE", help="write here (default: stdout)")
    gen.set_defaults(func=cmd_generate)

    info = sub.add_parser(
        "info",
        help="describe an architecture file",
        description="Stages, nodes, edges, graph statistics and the canonical hash.",
    )
    info.add_argument("file", metavar="FILE", help="architecture JSON")
    info.add_argument("--json", action="store_true", help="one JSON object on stdout")
    info.set_defaults(func=cmd_info)

    exp = sub.add_parser(
        "export",
        help="export an architecture to ONNX and/or a torch.export program",
        description="Compile an architecture (optionally with trained weights) and export it; "
        "the architecture JSON is embedded as metadata and the outputs are checked.",
    )
    exp.add_argument("file", metavar="FILE", help="architecture JSON")
    exp.add_argument("--onnx", metavar="OUT.onnx", help="write an ONNX model here")
    exp.add_argument("--program", metavar="OUT.pt2", help="write a torch.export program here")
    exp.add_argument("--weights", metavar="STATE_DICT", help="trained weights (a state_dict file)")
    exp.add_argument("--seed", type=int, default=0, help="init seed when no weights are given")
    exp.set_defaults(func=cmd_export)

    tr = sub.add_parser(
        "train",
        help="train an architecture and print its result record",
        description="Train with the architecture's own hyperparameters. The search's numbers come "
        "from the validation split (cut from the training set); --final trains on the whole "
        "training set and reports the official test accuracy.",
    )
    tr.add_argument("file", metavar="FILE", help="architecture JSON")
    tr.add_argument(
        "--dataset",
        default="fashion-mnist",
        metavar="NAME|PATH",
        help="fashion-mnist (default), mnist, synthetic[:CxHxW], or a folder of IDX files or "
        "CIFAR-10 python batches",
    )
    tr.add_argument("--epochs", type=float, help="epochs (default: the architecture's)")
    tr.add_argument("--budget-seconds", type=float, help="wall-clock training budget (status ok)")
    tr.add_argument("--time-limit", type=float, help="hard time limit (status timeout)")
    tr.add_argument("--device", help="cpu, cuda or cuda:N (default: cuda when present)")
    tr.add_argument(
        "--final",
        action="store_true",
        help="train on train+val, report test accuracy (the only use of the test set)",
    )
    tr.add_argument("--seed", type=int, default=0, help="weights, shuffling, augmentation (0)")
    tr.add_argument(
        "--val-size",
        type=int,
        help="validation examples (5000, or a tenth of a smaller training set)",
    )
    tr.add_argument("--split-seed", type=int, default=0, help="seed of the validation cut (0)")
    tr.add_argument("--subset", type=int, help="train on only this many examples")
    tr.add_argument("--no-augment", action="store_true", help="no random crops or flips")
    tr.add_argument("--out", metavar="DIR", help="save weights.pt, result.json, architecture.json")
    tr.add_argument("--json", action="store_true", help="print the record as one JSON object")
    tr.set_defaults(func=cmd_train)

    rd = sub.add_parser(
        "render",
        help="draw an architecture with graphviz (PNG, SVG, PDF or DOT)",
        description="One cluster per stage, nodes coloured by op; with --weights, edge width and "
        "shade show each edge's trained aggregation weight sigmoid(w).",
    )
    rd.add_argument("file", metavar="FILE", help="architecture JSON")
    rd.add_argument(
        "-o",
        "--output",
        metavar="OUT",
        help="OUT.png, .svg, .pdf or .dot (default: FILE with .png)",
    )
    rd.add_argument("--weights", metavar="STATE_DICT", help="trained weights (a state_dict file)")
    rd.add_argument(
        "--rankdir", choices=("LR", "TB"), default="LR", help="left to right (default) or top down"
    )
    rd.set_defaults(func=cmd_render)

    rp = sub.add_parser(
        "report",
        help="write report.html for a run folder (finished or in progress)",
        description="A self-contained HTML report: settings, Pareto members with test accuracy, "
        "plots, every Pareto architecture drawn, the lineage of the best.",
    )
    rp.add_argument("run", metavar="DIR", help="run folder of genesis evolve")
    rp.add_argument("--baseline", metavar="DIR", help="a run to overlay, e.g. --strategy random")
    rp.add_argument("-o", "--output", metavar="OUT.html", help="default: DIR/report.html")
    rp.set_defaults(func=cmd_report)

    cp = sub.add_parser(
        "compare",
        help="compare finished runs (strategies, seeds): a table and one plot",
        description="Per run: strategy, seed, trained evaluations, hypervolume and the best "
        "validation accuracy (overall and under --target-macs); per strategy: the means. "
        "Hypervolumes compare only between runs with the same reference point and budget.",
    )
    cp.add_argument("runs", metavar="DIR", nargs="+", help="run folders of genesis evolve")
    cp.add_argument("--target-macs", type=float, help="report the best accuracy under this")
    cp.add_argument("-o", "--output", metavar="OUT", help="write the plot (.png, .svg or .pdf)")
    cp.set_defaults(func=cmd_compare)

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
    _add_engine_flags(tu)
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

    ev = sub.add_parser(
        "evolve",
        help="search architectures over accuracy x MACs (the main job)",
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
    ev.add_argument("--population", type=int, help="population size (6)")
    ev.add_argument("--generations", type=int, help="generations after the first (2)")
    ev.add_argument(
        "--budget-evals", type=int, help="trained evaluations (population x (generations + 1))"
    )
    ev.add_argument("--max-macs", type=float, help="hard MAC budget: larger is never trained")
    ev.add_argument("--max-params", type=int, help="hard parameter budget: larger is never trained")
    ev.add_argument(
        "--time-budget",
        type=float,
        metavar="SECONDS",
        help="wall-clock seconds of the search; then the final step runs (no limit)",
    )
    ev.add_argument("--target-macs", type=float, help="constrained: soft MnasNet MAC target")
    ev.add_argument("--seed", type=int, help="search seed (0)")
    ev.add_argument("--proxy-epochs", type=float, help="epochs of the proxy training (2)")
    _add_engine_flags(ev)
    ev.add_argument("--final-top-k", type=int, help="Pareto members retrained at the end (2)")
    ev.add_argument("--final-epochs", type=float, help="epochs of the final training (1)")
    ev.add_argument(
        "--final-seconds",
        type=float,
        help="wall-clock seconds of each final training, if it ends before its epochs (no limit)",
    )
    where = ev.add_mutually_exclusive_group()
    where.add_argument(
        "--out", metavar="DIR", help="new run folder (default: runs/evolve-<date>-<time>)"
    )
    where.add_argument("--resume", metavar="DIR", help="continue the run in DIR")
    ev.set_defaults(func=cmd_evolve)
    return parser


def _add_engine_flags(p: argparse.ArgumentParser) -> None:
    """Flags of the evaluation engine that ``evolve`` and ``tune`` share."""
    p.add_argument("--dataset", help="dataset of every training (fashion-mnist)")
    p.add_argument("--subset", type=int, help="training examples of each evaluation (4000)")
    p.add_argument("--device", help="cpu, cuda or cuda:N (default: cuda when present)")
    p.add_argument("--workers", type=int, help="parallel evaluations (1)")
    p.add_argument("--executor", choices=("local", "ray"), help="local process pool or ray")
    p.add_argument("--address", help="ray cluster address (default: a local instance)")
    p.add_argument(
        "--fitness",
        choices=("train", "synthetic"),
        help="train (default) or synthetic: a deterministic stand-in for tests",
    )


def _family_params(args: argparse.Namespace) -> dict[str, Any]:
    family = args.family
    given = {
        name: getattr(args, name) for name in ("p", "k", "m") if getattr(args, name) is not None
    }
    if family.startswith("nx:"):
        params = dict(given)
    elif family in family_names():
        defaults = dict(get_family(family).defaults)
        stray = sorted(set(given) - set(defaults))
        if stray:
            flags = ", ".join(f"--{s}" for s in stray)
            takes = ", ".join("--" + k for k in defaults) or "no flags (use --param)"
            raise GenesisError(f"{flags} does not apply to family {family!r}; it takes {takes}")
        params = {**defaults, **given}
    else:
        raise GenesisError(
            f"unknown graph family {family!r}; known: {', '.join(family_names())}, "
            "nx:<generator name>"
        )
    params.update(dict(args.param))
    return params


def cmd_generate(args: argparse.Namespace) -> int:
    """``genesis generate``: draw an architecture and write its JSON."""
    if args.op not in op_names():
        raise GenesisError(f"unknown op {args.op!r}; known ops: {', '.join(op_names())}")
    seed = args.seed if args.seed is not None else secrets.randbelow(2**31)
    arch = build_architecture(
        args.preset,
        args.family,
        _family_params(args),
        seed=seed,
        channels=args.channels,
        nodes=args.nodes,
        stages=args.stages,
        op=args.op,
    )
    if args.output is not None:
        save_architecture(arch, args.output)
        print(
            f"wrote {args.output}: {arch.name}, {len(arch.stages)} stages, family "
            f"{args.family}, seed {seed}, hash {architecture_hash(arch)}",
            file=sys.stderr,
        )
    else:
        print(arch.to_json())
    return 0


def describe(arch: Architecture) -> dict[str, Any]:
    """The facts ``genesis info`` shows, as JSON-ready data."""
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


def cmd_info(args: argparse.Namespace) -> int:
    """``genesis info``: describe an architecture file."""
    facts = describe(load_architecture(args.file))
    if args.json:
        print(json.dumps(facts))
        return 0
    shape = "x".join(str(v) for v in facts["input_shape"])
    print(
        f"{args.file}: {facts['name'] or 'architecture'}, input {shape}, "
        f"{facts['num_classes']} classes, hash {facts['hash']}"
    )
    print(f"stem widths {facts['stem']}, head width {facts['head_channels'] or 'none'}")
    print(
        f"{format_count(facts['macs'])} MACs (multiply-adds; FLOPs = 2 x MACs = "
        f"{format_count(facts['flops'])}), {format_count(facts['params'])} parameters"
    )
    header = (
        f"{'stage':>5} {'width':>5} {'stride':>6} {'nodes':>5} {'edges':>5} {'in':>3} "
        f"{'out':>3} {'depth':>5} {'path':>6} {'clust':>6} {'deg':>5}  ops"
    )
    print(header)
    for i, s in enumerate(facts["stages"]):
        ops = ", ".join(f"{k} x{v}" for k, v in s["ops"].items())
        print(
            f"{i:>5} {s['channels']:>5} {s['stride']:>6} {s['nodes']:>5} {s['edges']:>5} "
            f"{s['input_nodes']:>3} {s['output_nodes']:>3} {s['depth']:>5} "
            f"{s['avg_path_length']:>6.2f} {s['clustering']:>6.3f} {s['degree_mean']:>5.2f} "
            f"{format_count(s['macs']):>7} {format_count(s['params']):>7}  {ops}"
        )
    t = facts["train"]
    print(
        f"train: {t['optimizer']} lr {t['lr']} wd {t['weight_decay']} batch {t['batch_size']} "
        f"epochs {t['epochs']} label smoothing {t['label_smoothing']} ({t['schedule']})"
    )
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """``genesis export``: ONNX and/or torch.export artefacts with the JSON embedded."""
    from genesis.compiler import compile_architecture
    from genesis.export import export_onnx, export_program, load_weights

    if not (args.onnx or args.program):
        raise GenesisError("export needs at least one of --onnx OUT.onnx or --program OUT.pt2")
    arch = load_architecture(args.file)
    model = compile_architecture(arch, seed=args.seed)
    if args.weights:
        load_weights(model, args.weights)
    if args.onnx:
        diff = export_onnx(model, arch, args.onnx)
        check = "not checked (onnxruntime missing)" if diff is None else f"max |diff| {diff:.2e}"
        print(f"wrote {args.onnx}: ONNX, dynamic batch, outputs vs PyTorch {check}")
    if args.program:
        diff = export_program(model, arch, args.program)
        print(
            f"wrote {args.program}: torch.export program, outputs vs PyTorch max |diff| {diff:.2e}"
        )
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    """``genesis train``: train one architecture; exit 0 when its status is ok, else 1."""
    import torch

    from genesis.data import load_dataset, make_splits
    from genesis.train import Budget, resolve_device, train_architecture

    arch = load_architecture(args.file)
    out = Path(args.out) if args.out is not None else None
    if out is not None and out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise GenesisError(f"output folder {str(out)!r} exists and is not empty; nothing written")
    budget = Budget(epochs=args.epochs, seconds=args.budget_seconds, time_limit=args.time_limit)
    device = resolve_device(args.device)
    splits = make_splits(
        load_dataset(args.dataset),
        val_size=args.val_size,
        split_seed=args.split_seed,
        subset=args.subset,
    )
    result, model = train_architecture(
        arch,
        splits,
        seed=args.seed,
        budget=budget,
        device=device,
        final=args.final,
        augment=not args.no_augment,
        progress=not args.json and sys.stderr.isatty(),
        return_model=True,
    )
    record = {
        **result.to_dict(),
        "hash": architecture_hash(arch),
        "dataset": splits.dataset.name,
        "split_seed": args.split_seed,
        "val_size": args.val_size,
        "subset": args.subset,
    }
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        save_architecture(arch, out / "architecture.json")
        if model is not None:
            torch.save({k: v.cpu() for k, v in model.state_dict().items()}, out / "weights.pt")
        _write_json(out / "result.json", record)
    if args.json:
        print(json.dumps(record))
    else:
        acc = "-" if result.accuracy is None else f"{result.accuracy:.4f}"
        print(
            f"{result.status}: {result.split} accuracy {acc} ({splits.dataset.name}), "
            f"{format_count(result.macs)} MACs, {format_count(result.params)} params, "
            f"{result.epochs:g} epochs in {result.train_seconds:.1f} s "
            f"({result.samples_per_second:.0f} examples/s) on {result.device}, seed {result.seed}"
        )
        if result.error:
            print(f"note: {result.error}")
        if out is not None:
            print(
                f"saved {out}/architecture.json, result.json"
                + (", weights.pt" if model is not None else "")
            )
    return 0 if result.status == "ok" else 1


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def cmd_render(args: argparse.Namespace) -> int:
    """``genesis render``: graphviz drawing of an architecture."""
    from visualize.render import edge_weights, render_architecture

    arch = load_architecture(args.file)
    weights = None
    if args.weights:
        from genesis.compiler import compile_architecture
        from genesis.export import load_weights

        model = load_weights(compile_architecture(arch), args.weights)
        weights = edge_weights(arch, model.state_dict())
    out = Path(args.output) if args.output else Path(args.file).with_suffix(".png")
    render_architecture(arch, out, weights, args.rankdir)
    print(f"wrote {out}")
    return 0


def cmd_tune(args: argparse.Namespace) -> int:
    """``genesis tune``: grid or random search of one architecture's hyperparameters."""
    from evolve.config import EvolveConfig, load_config
    from genesis.runfolder import RunFolder

    execution = {"workers": args.workers, "executor": args.executor, "address": args.address}
    if args.resume:
        given = [
            args.file,
            args.config,
            args.method,
            args.budget_evals,
            args.seed,
            args.population,
            args.dataset,
            args.subset,
            args.final_epochs,
            args.fitness,
            args.device,
        ]
        if any(v is not None for v in given):
            raise GenesisError(
                "--resume continues with the run's own config.toml and "
                "architecture; give only the run folder (and execution flags)"
            )
        folder = RunFolder(args.resume)
        cfg = load_config(folder.check()).with_overrides(execution=execution)
        if not cfg.tune.architecture:
            raise GenesisError(
                f"{args.resume!r} is not a tuning run; resume it with genesis evolve --resume"
            )
        folder.load_checkpoint()
        folder.read_evaluations()
    else:
        if not args.file:
            raise GenesisError("tune needs an architecture FILE (or --resume DIR)")
        arch = load_architecture(args.file)
        cfg = load_config(args.config) if args.config else EvolveConfig()
        cfg = cfg.with_overrides(
            search={
                "budget_evals": args.budget_evals,
                "seed": args.seed,
                "population": args.population,
            },
            proxy={
                "dataset": args.dataset,
                "subset": args.subset,
                "device": args.device,
                "fitness": args.fitness,
            },
            final={"epochs": args.final_epochs},
            execution=execution,
        )
        # Final epochs: the flag, else the config file's, else the architecture's own (None).
        final_epochs = args.final_epochs
        if final_epochs is None and args.config:
            final_epochs = cfg.final.epochs
        cfg = _tuning(cfg, args.method or "grid", args.budget_evals, final_epochs)
        _check_proxy(cfg, arch.input_shape)
        folder = RunFolder(args.out or _fresh_run_dir("tune"))
        folder.create(cfg, files={cfg.tune.architecture: arch})
    outcome = _run_search(cfg, folder)
    ok = [i for i in outcome.archive if i.result.get("status") == "ok"]
    if not ok:
        print(f"run folder {folder.path}: no candidate trained successfully")
        return 1
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


def _tuning(cfg, method: str, budget_evals: int | None, final_epochs: float | None):
    """The config of a tuning run: one fixed architecture (base.json) trained for its own epochs,
    the best retrained at the end."""
    from dataclasses import replace

    search = replace(cfg.search, strategy=method)
    if budget_evals is None and method == "grid":
        search = replace(search, budget_evals=cfg.tune.grid_size)
    return cfg.__class__(
        search=search,
        space=cfg.space,
        proxy=replace(cfg.proxy, epochs=None),
        final=replace(cfg.final, top_k=1, epochs=final_epochs),
        execution=cfg.execution,
        tune=replace(cfg.tune, architecture="base.json"),
    )


def _run_search(cfg, folder):
    """Run a search with the configured executor; record an interruption in run.json."""
    from evolve.executors import make_executor
    from evolve.search import Search

    ex = cfg.execution
    try:
        with make_executor(ex.executor, ex.workers, ex.address, ex.workers_per_gpu) as executor:
            return Search(cfg, folder, executor).run()
    except BaseException as exc:  # say so in run.json, then let main report it
        status = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
        with contextlib.suppress(Exception):
            folder.write_state(status, error=" ".join(f"{type(exc).__name__}: {exc}".split()))
        raise


def cmd_report(args: argparse.Namespace) -> int:
    """``genesis report``: the HTML report of a run folder."""
    from visualize.report import write_report
    from visualize.runs import read_run

    out = write_report(args.run, args.baseline, args.output)
    run = read_run(args.run)
    note = "" if run.status == "finished" else f" (run {run.status}: partial report)"
    print(f"wrote {out}{note}")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    """``genesis compare``: a table of several runs and, with ``-o``, the comparison plot."""
    from statistics import mean

    from visualize.compare import comparison_plot, summarize_run
    from visualize.runs import read_run

    if args.target_macs is not None and not (
        math.isfinite(args.target_macs) and args.target_macs > 0
    ):
        raise GenesisError(f"--target-macs must be a positive number, got {args.target_macs}")
    if args.output and Path(args.output).suffix.lower() not in (".png", ".svg", ".pdf"):
        raise GenesisError(f"--output must end in .png, .svg or .pdf, got {args.output!r}")
    runs = [read_run(d) for d in args.runs]
    for key in ("ref_macs", "budget_evals"):
        values = {str(r.config.get("search", {}).get(key)) for r in runs}
        if len(values) > 1:
            print(
                f"warning: the runs differ in search {key} ({', '.join(sorted(values))}); "
                "their hypervolumes are not comparable",
                file=sys.stderr,
            )
    rows = [summarize_run(r, args.target_macs) for r in runs]
    under = "best<target" if args.target_macs else "best"
    print(
        f"{'run':<28} {'strategy':>11} {'seed':>4} {'trained':>7} {'HV':>7} {'best':>7} {under:>11}"
    )
    for r in rows:
        name = Path(r["path"]).name[:28]
        print(
            f"{name:<28} {r['strategy']:>11} {r['seed']!s:>4} {r['trained']:>7} "
            f"{r['hypervolume']:7.4f} {r['best']:7.4f} {r['best_under_target']:11.4f}"
            + ("" if r["status"] == "finished" else f"  ({r['status']})")
        )
    groups: dict[str, list[dict]] = {}
    for r in rows:
        groups.setdefault(r["strategy"], []).append(r)
    if len(groups) > 1 or any(len(g) > 1 for g in groups.values()):
        print(
            f"\n{'mean over runs':<28} {'strategy':>11} {'runs':>4} {'':>7} {'HV':>7} "
            f"{'best':>7} {under:>11}"
        )
        for strategy, g in groups.items():
            print(
                f"{'':<28} {strategy:>11} {len(g):>4} {'':>7} "
                f"{mean(r['hypervolume'] for r in g):7.4f} {mean(r['best'] for r in g):7.4f} "
                f"{mean(r['best_under_target'] for r in g):11.4f}"
            )
    if args.output:
        out = comparison_plot(runs, args.output, args.target_macs)
        print(f"wrote {out}" if out else "no trained evaluation yet: no plot written")
    return 0


def cmd_evolve(args: argparse.Namespace) -> int:
    """``genesis evolve``: run or resume a search, then the final retraining."""
    from evolve.config import EvolveConfig, load_config
    from genesis.runfolder import RunFolder

    overrides = {
        "search": {
            "strategy": args.strategy,
            "population": args.population,
            "generations": args.generations,
            "budget_evals": args.budget_evals,
            "max_macs": args.max_macs,
            "max_params": args.max_params,
            "target_macs": args.target_macs,
            "time_budget": args.time_budget,
            "seed": args.seed,
        },
        "proxy": {
            "dataset": args.dataset,
            "subset": args.subset,
            "epochs": args.proxy_epochs,
            "device": args.device,
            "fitness": args.fitness,
        },
        "final": {
            "top_k": args.final_top_k,
            "epochs": args.final_epochs,
            "seconds": args.final_seconds,
        },
        "execution": {"workers": args.workers, "executor": args.executor, "address": args.address},
    }
    if args.resume:
        folder = RunFolder(args.resume)
        cfg = load_config(folder.check())
        given = sorted(
            f"{t}.{k}"
            for t, v in overrides.items()
            for k, x in v.items()
            if x is not None and t != "execution"
        )
        if args.config or given:
            raise GenesisError(
                f"--resume continues with the run's own config.toml; drop "
                f"{', '.join(given) or '--config'} (only execution flags may change)"
            )
        cfg = cfg.with_overrides(execution=overrides["execution"])
        folder.load_checkpoint()  # a damaged checkpoint fails here, before anything is written
        folder.read_evaluations()
    else:
        cfg = load_config(args.config) if args.config else EvolveConfig()
        cfg = cfg.with_overrides(**overrides)
        _check_proxy(cfg)
        out = args.out or _fresh_run_dir()
        folder = RunFolder(out)
        folder.create(cfg)
    outcome = _run_search(cfg, folder)
    print(
        f"run folder {folder.path}: {outcome.trained} trained evaluations, Pareto front of "
        f"{len(outcome.front)}, hypervolume {outcome.hypervolume:.4f} (validation accuracy x "
        f"MACs, reference {cfg.search.ref_macs:g} MACs)"
    )
    for ind in outcome.front:
        r = ind.result
        print(
            f"  {ind.hash}  val acc {r['accuracy'] if r['accuracy'] is not None else '-'}  "
            f"{format_count(r['macs'])} MACs  {format_count(r['params'])} params  {r['status']}"
        )
    for rec in outcome.final:
        acc = rec.get("test_accuracy")
        print(
            f"final {rec['hash']}: test accuracy {'-' if acc is None else f'{acc:.4f}'} "
            f"({rec['status']}, {format_count(rec['params'])} params, "
            f"{format_count(rec['macs'])} MACs)"
        )
    return 0


def _fresh_run_dir(kind: str = "evolve") -> str:
    """``runs/<kind>-<date>-<time>``, with a suffix when that folder is taken."""
    base = time.strftime(f"runs/{kind}-%Y%m%d-%H%M%S")
    candidate, n = base, 1
    while Path(candidate).exists():
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def _check_proxy(cfg, shape=None) -> None:
    """Fail before the run folder exists when the proxy's data cannot work."""
    if cfg.proxy.fitness == "synthetic":
        return
    from genesis.data import load_dataset
    from genesis.presets import get_preset

    data = load_dataset(cfg.proxy.dataset)
    want = shape or get_preset(cfg.space.preset).input_shape
    if tuple(data.shape) != tuple(want):
        raise GenesisError(
            f"dataset {cfg.proxy.dataset!r} has examples of shape {data.shape}, "
            f"the architectures expect {want}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``genesis`` console script; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except GenesisError as exc:
        print(f"genesis {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:  # `genesis info ... | head`: the reader left; not an error
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:  # unwritable output path, full disk...: the user's to fix
        print(
            f"genesis {args.command}: error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(
                ": "
            ),
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print(f"genesis {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
