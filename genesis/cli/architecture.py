"""``genesis generate``, ``info``, ``export`` and ``render``: one architecture file at a time."""

from __future__ import annotations

import argparse
import json
import math
import secrets
import sys
from pathlib import Path
from typing import Any

from genesis.cli.common import parse_param, refuse_run_outputs
from genesis.complexity import format_count
from genesis.description import describe
from genesis.fingerprint import architecture_hash
from genesis.genome import Architecture, load_architecture, save_architecture
from genesis.ops import op_names
from genesis.presets import DEFAULT_PRESET, PRESETS, build_architecture
from graphs import DEFAULT_OP, GenesisError, family_names, get_family

__all__ = [
    "FAMILY_FLAGS",
    "add_export",
    "add_generate",
    "add_info",
    "add_render",
    "cmd_export",
    "cmd_generate",
    "cmd_info",
    "cmd_render",
]

#: Family -> its parameters settable by flag, with RandWire's best settings as defaults, as the
#: family registry (graphs.families) held them at import; `_family_params` reads the registry.
FAMILY_FLAGS: dict[str, dict[str, Any]] = {
    name: dict(get_family(name).defaults) for name in family_names()
}


# -- generate ----------------------------------------------------------------------------------
def add_generate(sub: argparse._SubParsersAction) -> None:
    """Register ``genesis generate``."""
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
        type=parse_param,
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
    refuse_run_outputs(args, "output")
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


# -- info --------------------------------------------------------------------------------------
def add_info(sub: argparse._SubParsersAction) -> None:
    """Register ``genesis info``."""
    info = sub.add_parser(
        "info",
        help="describe an architecture file",
        description="Stages, nodes, edges, graph statistics and the canonical hash.",
    )
    info.add_argument("file", metavar="FILE", help="architecture JSON")
    info.add_argument("--json", action="store_true", help="one JSON object on stdout")
    info.add_argument(
        "--costs",
        action="store_true",
        help="also peak inference memory at batch 1 and latency measured here (batch 1, 64)",
    )
    info.add_argument("--device", help="where --costs times latency (default: cuda when present)")
    info.set_defaults(func=cmd_info)


def cmd_info(args: argparse.Namespace) -> int:
    """``genesis info``: describe an architecture file."""
    arch = load_architecture(args.file)
    facts = describe(arch)
    if args.costs:
        facts["costs"] = _costs(arch, args.device)
    if args.json:  # strict JSON: a statistic that is not finite (or a NaN in origin) is null
        print(json.dumps(_finite(facts), allow_nan=False))
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
        f"{'out':>3} {'depth':>5} {'path':>6} {'clust':>6} {'deg':>5} {'MACs':>7} "
        f"{'params':>7}  ops"
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
    if args.costs:
        c = facts["costs"]
        print(
            f"peak inference memory at batch 1: {c['memory_kb']:.1f} KiB "
            f"({c['activations_kb']:.1f} activations + {c['params_kb']:.1f} parameters, float32); "
            f"latency on {c['device']}: {c['latency_ms']:.3f} ms at batch 1, "
            f"{c['latency_batch_ms']:.3f} ms at batch 64 (median, torch.utils.benchmark)"
        )
    return 0


def _costs(arch, device: str | None) -> dict[str, Any]:
    """Peak memory (genesis.cost.peak_memory) and latency measured here."""
    from genesis.cost import latencies, peak_memory
    from genesis.train import resolve_device

    dev = resolve_device(device)
    mem = peak_memory(arch)
    lat = latencies(arch, dev)
    return {
        "memory_kb": round(mem.kb, 3),
        "activations_kb": round(mem.activations / 1024, 3),
        "params_kb": round(mem.params / 1024, 3),
        "device": lat["latency_device"],
        "latency_ms": lat["latency_ms"],
        "latency_batch_ms": lat["latency_batch_ms"],
    }


def _finite(value: Any) -> Any:
    """``value`` with every float that is NaN or infinite replaced by None (JSON has neither)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


# -- export ------------------------------------------------------------------------------------
def add_export(sub: argparse._SubParsersAction) -> None:
    """Register ``genesis export``."""
    exp = sub.add_parser(
        "export",
        help="export an architecture to ONNX, a torch.export program and/or standalone PyTorch",
        description="Compile an architecture (optionally with trained weights) and export it: "
        "ONNX (--onnx), a torch.export program (--program), a standalone PyTorch file that "
        "imports only torch (--python). The architecture JSON is embedded in each, and each "
        "file's outputs are checked against genesis's module before it is written.",
    )
    exp.add_argument("file", metavar="FILE", help="architecture JSON")
    exp.add_argument("--onnx", metavar="OUT.onnx", help="write an ONNX model here")
    exp.add_argument("--program", metavar="OUT.pt2", help="write a torch.export program here")
    exp.add_argument(
        "--python",
        metavar="OUT.py",
        help="write standalone PyTorch source here (imports only torch; build_model(weights))",
    )
    exp.add_argument(
        "--weights",
        metavar="STATE_DICT",
        help="trained weights (a state_dict file); the preprocessing saved beside them "
        "(W.preprocess.json for W.pt: input shape, channel order, mean, std, class names) is "
        "embedded in what is written",
    )
    exp.add_argument(
        "--mean",
        type=_floats,
        metavar="M[,M...]",
        help="per-channel mean the weights were normalised with, in [0, 1] units (overrides "
        "the preprocessing file's)",
    )
    exp.add_argument(
        "--std",
        type=_floats,
        metavar="S[,S...]",
        help="per-channel std the weights were normalised with, in [0, 1] units (likewise)",
    )
    exp.add_argument("--seed", type=int, default=0, help="init seed when no weights are given")
    exp.set_defaults(func=cmd_export)


def _floats(text: str) -> tuple[float, ...]:
    """``--mean`` / ``--std``: comma-separated finite numbers."""
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected numbers separated by commas, got {text!r}"
        ) from None
    if not all(math.isfinite(v) for v in values):
        raise argparse.ArgumentTypeError(f"expected finite numbers, got {text!r}")
    return values


def _export_preprocess(args: argparse.Namespace, arch: Architecture) -> tuple[Any, str]:
    """What the exported files carry about their input, and where it came from: the file
    beside ``--weights`` (validated: a file from someone else), with ``--mean`` / ``--std``
    over it; (None, why) when nothing is known."""
    from dataclasses import replace

    from genesis.preprocess import Preprocess, channel_order, read_sidecar, sidecar_path

    found = read_sidecar(args.weights) if args.weights else None
    source = str(sidecar_path(args.weights)) if found is not None else ""
    if args.mean is None and args.std is None:
        return found, source
    if found is None and (args.mean is None or args.std is None):
        given, other = ("--mean", "--std") if args.mean is not None else ("--std", "--mean")
        raise GenesisError(
            f"{given} needs {other} too when no preprocessing file is beside the weights"
        )
    try:
        if found is None:
            c = arch.input_shape[0]
            found = Preprocess(tuple(arch.input_shape), channel_order(c), args.mean, args.std)
        else:
            found = replace(
                found,
                mean=args.mean if args.mean is not None else found.mean,
                std=args.std if args.std is not None else found.std,
            )
    except GenesisError as exc:
        raise GenesisError(f"--mean/--std: {exc}") from None
    return found, " and ".join(x for x in (source, "--mean/--std") if x)


def cmd_export(args: argparse.Namespace) -> int:
    """``genesis export``: ONNX and/or torch.export artefacts with the JSON embedded."""
    refuse_run_outputs(args, "onnx", "program", "python")
    from genesis.compiler import compile_architecture
    from genesis.export import export_onnx, export_program, load_weights
    from genesis.preprocess import sidecar_path

    if not (args.onnx or args.program or args.python):
        raise GenesisError(
            "export needs at least one of --onnx OUT.onnx, --program OUT.pt2 or --python OUT.py"
        )
    arch = load_architecture(args.file)
    # the preprocessing is read and checked before any compiling or writing
    preprocess, source = _export_preprocess(args, arch)
    if preprocess is not None:
        preprocess.fits(arch.input_shape, arch.num_classes, f"the preprocessing of {source}")
    model = compile_architecture(arch, seed=args.seed)
    if args.weights:
        load_weights(model, args.weights)
    if preprocess is not None:
        print(f"preprocessing from {source}: {preprocess.describe()}")
    if args.onnx:
        diff = export_onnx(model, arch, args.onnx, preprocess=preprocess)
        check = "not checked (onnxruntime missing)" if diff is None else f"max |diff| {diff:.2e}"
        print(f"wrote {args.onnx}: ONNX, dynamic batch, outputs vs PyTorch {check}")
    if args.python:
        from genesis.standalone import export_python

        diff = export_python(model, arch, args.python, preprocess=preprocess)
        print(
            f"wrote {args.python}: standalone PyTorch (imports only torch), outputs vs genesis "
            f"max |diff| {diff:.2e}"
        )
    if args.program:
        diff = export_program(model, arch, args.program, preprocess=preprocess)
        print(
            f"wrote {args.program}: torch.export program, outputs vs PyTorch max |diff| {diff:.2e}"
        )
    if preprocess is None:  # once written: a refused export says only why (one line)
        beside = (
            f"no {sidecar_path(args.weights).name} beside {args.weights}"
            if args.weights
            else "no --weights"
        )
        print(
            f"warning: the weights' normalisation is unknown ({beside}, no --mean/--std); the "
            "export records normalisation: unknown",
            file=sys.stderr,
        )
    return 0


# -- render ------------------------------------------------------------------------------------
def add_render(sub: argparse._SubParsersAction) -> None:
    """Register ``genesis render``."""
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


def cmd_render(args: argparse.Namespace) -> int:
    """``genesis render``: graphviz drawing of an architecture."""
    refuse_run_outputs(args, "output")
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
