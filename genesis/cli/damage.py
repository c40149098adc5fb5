"""``genesis study damage``: RandWire's graph damage, every node and every edge of trained
networks removed one at a time and the network scored again, untrained: one architecture with
its weights, or every network of a generator study that kept them."""

from __future__ import annotations

import argparse

from genesis.cli.common import fresh_run_dir, progress
from graphs import GenesisError

__all__ = ["add_study_damage", "cmd_study_damage"]


def add_study_damage(kinds: argparse._SubParsersAction) -> None:
    """Register ``genesis study damage`` among the kinds of ``genesis study``."""
    dm = kinds.add_parser(
        "damage",
        help="remove each node and each edge of trained networks, score without retraining",
        description="RandWire's graph damage (Figure 5): silence each compute node (all its "
        "out-edges carry zeros) and cut each edge (its weight to zero), one at a time, and "
        "score the trained network again on the validation split, untrained. Writes "
        "damage.csv and the drop against the node's out-degree (damage_nodes.png) and against "
        "the target's in-degree (damage_edges.png). Either ARCH with --weights (trained with "
        "genesis train, on the same data flags), or --study DIR: every network of a generator "
        "study that kept its weights, pooled by family, into DIR/damage/ (resumable).",
    )
    dm.add_argument("arch", nargs="?", metavar="ARCH", help="architecture JSON (with --weights)")
    dm.add_argument("--weights", metavar="W", help="its trained state_dict (weights_only load)")
    dm.add_argument("--study", metavar="DIR", help="a generator study folder (instead of ARCH)")
    dm.add_argument(
        "--out", metavar="DIR", help="output folder of ARCH (default: runs/damage-<time>)"
    )
    dm.add_argument(
        "--dataset",
        default="fashion-mnist",
        metavar="NAME|PATH",
        help="ARCH's dataset, as genesis train took it (fashion-mnist)",
    )
    dm.add_argument(
        "--resolution", type=int, metavar="R", help="an image folder's size, as in training"
    )
    dm.add_argument("--val-size", type=int, help="validation examples, as in training (5000)")
    dm.add_argument("--split-seed", type=int, default=0, help="seed of the validation cut (0)")
    dm.add_argument(
        "--subset", type=int, help="training examples it trained on (for the input statistics)"
    )
    dm.add_argument(
        "--final",
        action="store_true",
        help="ARCH trained with --final: score on the official test split",
    )
    dm.add_argument("--examples", type=int, help="score on only the first N examples of the split")
    which = dm.add_mutually_exclusive_group()
    which.add_argument("--nodes-only", action="store_true", help="remove nodes, not edges")
    which.add_argument("--edges-only", action="store_true", help="remove edges, not nodes")
    dm.add_argument("--device", help="cpu, cuda or cuda:N (default: cuda when present)")
    dm.set_defaults(func=cmd_study_damage)


def cmd_study_damage(args: argparse.Namespace) -> int:
    """``genesis study damage``: score every removal of one network or of a study's networks."""
    from genesis.damage import DAMAGE_COLUMNS
    from visualize.damage import write_damage_outputs

    if args.examples is not None and args.examples < 1:
        raise GenesisError(f"--examples must be a positive number, got {args.examples}")
    nodes, edges = not args.edges_only, not args.nodes_only
    if args.study:
        given = [
            flag
            for flag, value in (
                ("ARCH", args.arch),
                ("--weights", args.weights),
                ("--out", args.out),
                ("--val-size", args.val_size),
                ("--resolution", args.resolution),
                ("--subset", args.subset),
                ("--final", args.final),
            )
            if value
        ]
        if given:
            raise GenesisError(
                f"--study scores the study's networks on its own data and writes into "
                f"DIR/damage/; drop {', '.join(given)}"
            )
        from evolve.damage import DAMAGE_DIR, STUDY_COLUMNS, study_damage

        rows = study_damage(
            args.study,
            device=args.device,
            examples=args.examples,
            nodes=nodes,
            edges=edges,
            log=progress,
        )
        out = f"{args.study.rstrip('/')}/{DAMAGE_DIR}"
        result = write_damage_outputs(rows, out, (*STUDY_COLUMNS, *DAMAGE_COLUMNS, "split"))
    else:
        if not args.arch or not args.weights:
            raise GenesisError("give ARCH and --weights W, or --study DIR")
        rows, out = _damage_one(args, nodes, edges)
        result = write_damage_outputs(rows, out, (*DAMAGE_COLUMNS, "split"))
    print("\n".join(result["lines"]))
    print(f"wrote {out}/damage.csv" + "".join(f", {p.name}" for p in result["figures"].values()))
    return 0


def _damage_one(args: argparse.Namespace, nodes: bool, edges: bool):
    """The rows of one architecture with its weights, and the folder they go to."""
    from pathlib import Path

    from genesis.compiler import compile_architecture
    from genesis.damage import damage_rows
    from genesis.data import load_dataset, make_splits
    from genesis.export import load_weights
    from genesis.genome import load_architecture
    from genesis.runfolder import refuse_run_file
    from genesis.train import resolve_device, scorer

    arch = load_architecture(args.arch)
    out = Path(args.out or fresh_run_dir("damage"))
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise GenesisError(f"output folder {str(out)!r} exists and is not empty; nothing written")
    refuse_run_file(out, what="--out")  # e.g. a study's own damage/ folder
    model = load_weights(compile_architecture(arch), args.weights)
    splits = make_splits(
        load_dataset(args.dataset, args.resolution),
        val_size=args.val_size,
        split_seed=args.split_seed,
        subset=None if args.final else args.subset,
    )
    dev = resolve_device(args.device)
    score = scorer(splits, final=args.final, device=dev, examples=args.examples)
    split = "test" if args.final else "val"

    def scored(done: int, total: int) -> None:
        if done == total or done % 20 == 0:
            progress(f"[{done}/{total}] removals scored")

    rows = damage_rows(arch, model.to(dev), score, nodes=nodes, edges=edges, progress=scored)
    progress(f"{split} accuracy {rows[0]['accuracy']:.4f} undamaged")
    return [{**r, "split": split} for r in rows], out
