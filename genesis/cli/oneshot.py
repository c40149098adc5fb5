"""``genesis oneshot``: gradient NAS (first-order DARTS with a MAC target) over random-graph
stages, derived into an ordinary architecture."""

from __future__ import annotations

import argparse
import sys

from genesis.cli.common import ENGINE_FLAGS, add_engine_flags, config_overrides
from graphs import GenesisError

__all__ = ["ONESHOT_FLAGS", "add_oneshot", "cmd_oneshot"]

#: Config section -> field -> flag attribute, of the flags ``oneshot`` adds.
ONESHOT_FLAGS: dict[str, dict[str, str]] = {
    "oneshot": {
        "preset": "preset",
        "channels": "channels",
        "nodes": "nodes",
        "stages": "stages",
        "graph": "graph",
        "graph_samples": "graph_samples",
        "top_k": "top_k",
        "epochs": "epochs",
        "warmup_epochs": "warmup_epochs",
        "batch_size": "batch_size",
        "target_macs": "target_macs",
        "mac_weight": "mac_weight",
        "temperature": "temperature",
        "temperature_end": "temperature_end",
        "gumbel": "gumbel",
        "seed": "seed",
        "final": "final",
    },
}

#: The engine flags a oneshot run takes: data and device (it runs in this process).
_PROXY_FLAGS = {k: v for k, v in ENGINE_FLAGS["proxy"].items() if k != "fitness"}


def _macs(text: str) -> float | str:
    """A MAC target, or ``none`` (no cost term)."""
    if text.strip().lower() == "none":
        from evolve.configfile import NONE

        return NONE
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--target-macs must be a number or none, got {text!r}"
        ) from None


def add_oneshot(sub: argparse._SubParsersAction) -> None:
    """Register ``genesis oneshot``."""
    p = sub.add_parser(
        "oneshot",
        help="gradient NAS: train a supernet of the stages, derive one network (DARTS, FBNet)",
        description="Train a supernet whose stages hold every candidate wiring (the complete "
        "DAG over --nodes nodes, or --graph-samples random graphs of a family united) and a "
        "softmax over the ops at every node: weights on one half of the training subset, "
        "architecture weights on the other, alternating (first-order DARTS), with the cost "
        "term |log(E[MACs] / --target-macs)|. Then keep each node's --top-k strongest "
        "in-edges and its most probable op: an ordinary architecture (architectures/H.json). "
        "Writes the architecture weights of every epoch (arch_weights.jsonl, .csv, "
        "TensorBoard), oneshot.json and, with --final, the final step (final.json, final/).",
    )
    p.add_argument("--config", metavar="FILE.toml", help="a config ([oneshot], [proxy], [final])")
    p.add_argument("--preset", help="macro layout: stem, widths, strides, head (fashion-mnist)")
    p.add_argument("--channels", type=int, help="base width C of the layout (8)")
    p.add_argument("--nodes", type=int, help="compute nodes of each stage's candidate graph (4)")
    p.add_argument("--stages", type=int, help="stages (the preset's)")
    p.add_argument("--graph", help="candidate graph: complete (default) or a graph family, e.g. ws")
    p.add_argument(
        "--graph-samples", type=int, metavar="K", help="random graphs united per stage (4)"
    )
    p.add_argument("--top-k", type=int, help="in-edges each derived node keeps (2)")
    p.add_argument("--epochs", type=int, help="supernet epochs (4)")
    p.add_argument("--warmup-epochs", type=int, help="first epochs that train the weights only (1)")
    p.add_argument("--batch-size", type=int, help="examples per step (64)")
    p.add_argument(
        "--target-macs",
        type=_macs,
        metavar="M",
        help="expected MACs the cost term steers to (1e6; none: no cost term)",
    )
    p.add_argument("--mac-weight", type=float, help="weight lambda of the cost term (0.5)")
    p.add_argument("--temperature", type=float, help="op softmax temperature, first epoch (1)")
    p.add_argument("--temperature-end", type=float, help="... at the last epoch (1)")
    p.add_argument(
        "--gumbel",
        action="store_const",
        const=True,
        default=None,
        help="sample the op weights with Gumbel-softmax (FBNet)",
    )
    p.add_argument("--seed", type=int, help="weights, batches, noise and graphs (0)")
    p.add_argument(
        "--final",
        action="store_const",
        const=True,
        default=None,
        help="retrain the derived network on all training data and score it on the test split",
    )
    add_engine_flags(p, execution=False)
    where = p.add_mutually_exclusive_group()
    where.add_argument("--out", metavar="DIR", help="new run folder (default: runs/oneshot-<time>)")
    where.add_argument("--resume", metavar="DIR", help="continue the oneshot run in DIR")
    p.set_defaults(func=cmd_oneshot)


def _progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def cmd_oneshot(args: argparse.Namespace) -> int:
    """``genesis oneshot``: run or resume a oneshot search, then (``final``) its final step."""
    from evolve.config import load_config
    from evolve.oneshot import OneshotRunConfig
    from genesis.cli.common import fresh_run_dir
    from genesis.runfolder import RunFolder

    overrides = config_overrides(
        args, ONESHOT_FLAGS, {"proxy": _PROXY_FLAGS}, sections=("oneshot", "proxy")
    )
    if args.resume:
        given = sorted(
            f"{t}.{k}" for t, v in overrides.items() for k, x in v.items() if x is not None
        )
        given = [g for g in given if g != "proxy.device"]
        if given or args.config:
            raise GenesisError(
                "--resume continues with the run's own config.toml; give only the folder "
                f"(and --device), got {', '.join(given) or '--config'}"
            )
        folder = RunFolder(args.resume)
        cfg = load_config(folder.check(), {"proxy": {"device": args.device}}, kind=OneshotRunConfig)
        if folder.state().get("status") == "finished":
            print(f"{folder.path} is already finished; nothing to do", file=sys.stderr)
            return 0
    else:
        cfg = load_config(args.config, kind=OneshotRunConfig) if args.config else None
        cfg = (cfg or OneshotRunConfig()).with_overrides(**overrides)
        _check_data(cfg)
        folder = RunFolder(args.out or fresh_run_dir("oneshot"))
        folder.check_new()
    return _run(cfg, folder, create=not args.resume)


def _check_data(cfg) -> None:
    """The dataset fits the preset's input and classes, before the run folder is made."""
    from genesis.data import check_fits, load_dataset
    from genesis.presets import get_preset

    p = cfg.proxy
    preset = get_preset(cfg.oneshot.preset)
    check_fits(
        load_dataset(p.dataset, p.resolution),
        tuple(preset.input_shape),
        preset.num_classes,
        val_size=p.val_size,
        holdout=p.holdout,
        allow_class_mismatch=p.allow_class_mismatch,
    )


def _run(cfg, folder, create: bool) -> int:
    from evolve.oneshotrun import run_oneshot, run_oneshot_final
    from evolve.runner import recorded

    o = cfg.oneshot
    with folder.locked(create=create):
        if create:
            folder.create(cfg)
        folder.remove_stale_temps()
        print(
            f"oneshot: supernet of {o.preset} (C={o.channels}, {o.nodes}-node {o.graph} "
            f"stages, {len(o.ops)} ops), {o.epochs} epochs on "
            f"{cfg.proxy.subset or 'all'} examples"
            + (f", target {o.target_macs:g} MACs" if o.target_macs else ""),
            file=sys.stderr,
        )
        with recorded(folder):
            folder.write_state("running", kind="oneshot")
            summary = run_oneshot(cfg, folder, log=_progress)
            finals = run_oneshot_final(cfg, folder, summary, _progress) if o.final else []
        folder.write_state("finished", kind="oneshot", hash=summary["hash"])
    print(
        f"derived {summary['architecture']}: {summary['macs']} MACs"
        + (f" ({summary['macs_ratio']:.2f} x the target)" if summary["macs_ratio"] else "")
        + f", {summary['params']} params, validation accuracy with the supernet's weights "
        f"{summary['inherited_val_accuracy']:.4f}"
    )
    for f in finals:
        acc = f.get("test_accuracy")
        print(f"final: {f['status']}, test accuracy {'-' if acc is None else f'{acc:.4f}'}")
    print(f"wrote {folder.path}")
    return 0
