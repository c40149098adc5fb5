"""``genesis train``: train one architecture and print (and save) its result record."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from genesis.cli.common import plural
from genesis.complexity import format_count
from genesis.fingerprint import architecture_hash
from genesis.genome import load_architecture, save_architecture
from graphs import GenesisError

__all__ = ["add_train", "cmd_train"]


def add_train(sub: argparse._SubParsersAction) -> None:
    """Register ``genesis train``."""
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
        help="fashion-mnist (default), mnist, or a folder of IDX files, CIFAR-10 python batches "
        "or class subfolders of images (PNG/JPEG; FOLDER/<class>/<image>)",
    )
    tr.add_argument(
        "--resolution",
        type=int,
        metavar="R",
        help="resize an image folder's images to R x R (default: as they are, all one size)",
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
    tr.add_argument(
        "--allow-class-mismatch",
        action="store_true",
        help="train on a dataset of fewer classes than the architecture's outputs (else an error)",
    )
    tr.add_argument(
        "--out",
        metavar="DIR",
        help="save weights.pt, weights.preprocess.json (what the weights expect of their input: "
        "shape, channel order, mean, std, class names), result.json, architecture.json",
    )
    tr.add_argument("--json", action="store_true", help="print the record as one JSON object")
    tr.set_defaults(func=cmd_train)


def cmd_train(args: argparse.Namespace) -> int:
    """``genesis train``: train one architecture; exit 0 when its status is ok, else 1."""
    import torch

    from genesis.data import check_fits, load_dataset, make_splits
    from genesis.train import Budget, resolve_device, train_architecture

    arch = load_architecture(args.file)
    out = Path(args.out) if args.out is not None else None
    if out is not None and out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise GenesisError(f"output folder {str(out)!r} exists and is not empty; nothing written")
    if out is not None:
        from genesis.runfolder import refuse_run_file

        refuse_run_file(out, what="--out")  # e.g. a study's weights/ folder
    budget = Budget(epochs=args.epochs, seconds=args.budget_seconds, time_limit=args.time_limit)
    device = resolve_device(args.device)
    data = load_dataset(args.dataset, args.resolution)
    check_fits(
        data,
        arch.input_shape,
        arch.num_classes,
        val_size=args.val_size,
        allow_class_mismatch=args.allow_class_mismatch,
    )
    splits = make_splits(
        data,
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
            import io

            from genesis.files import atomic_write
            from genesis.preprocess import Preprocess, write_sidecar

            buf = io.BytesIO()
            torch.save({k: v.cpu() for k, v in model.state_dict().items()}, buf)
            atomic_write(out / "weights.pt", buf.getvalue())
            if result.preprocess is not None:  # weights.preprocess.json
                write_sidecar(out / "weights.pt", Preprocess.from_dict(result.preprocess))
        _write_json(out / "result.json", record)
        from genesis.tracking import Tracker

        tracker = Tracker(out)  # loss and lr per epoch, the accuracy: tensorboard --logdir OUT
        tracker.training("train", record)
        tracker.close()
    if args.json:
        print(json.dumps(record))
    else:
        acc = "-" if result.accuracy is None else f"{result.accuracy:.4f}"
        print(
            f"{result.status}: {result.split} accuracy {acc} ({splits.dataset.name}), "
            f"{format_count(result.macs)} MACs, {format_count(result.params)} params, "
            f"{plural(result.epochs, 'epoch')} in {result.train_seconds:.1f} s "
            f"({result.samples_per_second:.0f} examples/s) on {result.device}, seed {result.seed}"
        )
        if result.error:
            print(f"note: {result.error}")
        if out is not None:
            print(
                f"saved {out}/architecture.json, result.json"
                + (", weights.pt, weights.preprocess.json" if model is not None else "")
            )
    return 0 if result.status == "ok" else 1


def _write_json(path: Path, data: Any) -> None:
    from genesis.files import atomic_write

    atomic_write(path, (json.dumps(data, indent=2) + "\n").encode("utf-8"))
