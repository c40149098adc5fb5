"""What every ``genesis`` verb shares: the one-line-error parser, ``--param``, engine flags."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any, NoReturn

__all__ = [
    "ENGINE_FLAGS",
    "EXIT_BAD_INPUT",
    "OneLineParser",
    "SECTIONS",
    "add_engine_flags",
    "config_overrides",
    "fresh_run_dir",
    "parse_param",
    "plural",
    "progress",
    "refuse_run_outputs",
]

EXIT_BAD_INPUT = 2


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message} (see --help)\n")


def plural(count: float, noun: str, many: str | None = None) -> str:
    """``count`` and ``noun``, the noun in the plural unless ``count`` is 1.

    Examples
    --------
    >>> plural(1, "epoch"), plural(2.5, "epoch"), plural(3, "train seed"), plural(0, "entry", "entries")
    ('1 epoch', '2.5 epochs', '3 train seeds', '0 entries')
    """  # noqa: E501
    return f"{count:g} {noun if count == 1 else (many or noun + 's')}"


def parse_param(text: str) -> tuple[str, Any]:
    """``KEY=VALUE`` of ``--param``: the value read as JSON when it parses, else a string."""
    key, sep, raw = text.partition("=")
    if not sep or not key.isidentifier():
        raise argparse.ArgumentTypeError(f"--param needs key=value, got {text!r}")
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw  # a bare string, e.g. initial=star
    return key, value


#: Config section -> field -> the attribute of the engine flag that sets it.
ENGINE_FLAGS: dict[str, dict[str, str]] = {
    "proxy": {
        "dataset": "dataset",
        "resolution": "resolution",
        "subset": "subset",
        "val_size": "val_size",
        "allow_class_mismatch": "allow_class_mismatch",
        "device": "device",
        "fitness": "fitness",
    },
    "execution": {
        "workers": "workers",
        "executor": "executor",
        "address": "address",
        "force_workers": "force_workers",
    },
}


def add_engine_flags(p: argparse.ArgumentParser, execution: bool = True) -> None:
    """Flags of the evaluation engine that ``evolve`` and ``tune`` share (see ENGINE_FLAGS);
    without ``execution``, only the data and device flags (a run in one process)."""
    p.add_argument(
        "--dataset",
        metavar="NAME|PATH",
        help="dataset of every training: fashion-mnist (default), mnist, a folder of IDX files, "
        "CIFAR-10 batches or class subfolders of images",
    )
    p.add_argument(
        "--resolution",
        type=int,
        metavar="R",
        help="resize an image folder's images to R x R (default: as they are, all one size)",
    )
    p.add_argument("--subset", type=int, help="training examples of each evaluation (10000)")
    p.add_argument(
        "--val-size",
        type=int,
        metavar="N",
        help="validation examples cut from the training set (2000); checked against the "
        "dataset before the run folder is made",
    )
    p.add_argument(
        "--allow-class-mismatch",
        action="store_const",
        const=True,
        default=None,
        help="train on a dataset of fewer classes than the networks' outputs (else an error)",
    )
    p.add_argument("--device", help="cpu, cuda or cuda:N (default: cuda when present)")
    if not execution:
        return
    p.add_argument("--workers", type=int, help="parallel evaluations (2)")
    p.add_argument(
        "--force-workers",
        action="store_const",
        const=True,
        default=None,
        help="allow --workers above 4 per CPU of this machine (e.g. a ray cluster), up to 1024",
    )
    p.add_argument("--executor", choices=("local", "ray"), help="local process pool or ray")
    p.add_argument("--address", help="ray cluster address (default: a local instance)")
    p.add_argument(
        "--fitness",
        choices=("train", "synthetic"),
        help="train (default) or synthetic: a deterministic stand-in for tests",
    )


#: The sections of an EvolveConfig in its own order: overrides are built (and checked) so.
SECTIONS = ("search", "space", "proxy", "final", "execution", "tune", "strategy")


def config_overrides(
    args: argparse.Namespace,
    *maps: dict[str, dict[str, str]],
    sections: tuple[str, ...] = SECTIONS,
) -> dict[str, dict[str, Any]]:
    """Section -> field -> flag value (None: not given), from maps of section -> field -> flag.

    The sections come in the order of ``sections`` (:data:`SECTIONS`, a search config's, by
    default), so a bad value in an earlier section is the one reported, whichever map named it.
    """
    found: dict[str, dict[str, Any]] = {}
    for mapping in maps:
        for section, fields in mapping.items():
            values = found.setdefault(section, {})
            values.update({name: getattr(args, attr) for name, attr in fields.items()})
    return {name: found[name] for name in sections if name in found}


def refuse_run_outputs(args: argparse.Namespace, *names: str) -> None:
    """Refuse, before any work, an output flag that names a file a run folder keeps."""
    from genesis.runfolder import refuse_run_file

    for name in names:
        path = getattr(args, name, None)
        if path is not None:
            refuse_run_file(path, what="--" + name.replace("_", "-"))


def fresh_run_dir(kind: str = "evolve") -> str:
    """``runs/<kind>-<date>-<time>``, with a suffix when that folder is taken."""
    base = time.strftime(f"runs/{kind}-%Y%m%d-%H%M%S")
    candidate, n = base, 1
    while Path(candidate).exists():
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def progress(line: str) -> None:
    """A progress line, on stderr as the search's are (stdout keeps the summary)."""
    print(line, file=sys.stderr, flush=True)
