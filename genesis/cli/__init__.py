"""The ``genesis`` command line: the one place that wires graphs, genomes and everything else.

One module per group of verbs, each registering its flags beside its handler:
:mod:`~genesis.cli.architecture` (generate, info, export, render), :mod:`~genesis.cli.train`,
:mod:`~genesis.cli.evolve`, :mod:`~genesis.cli.tune`, :mod:`~genesis.cli.oneshot` (oneshot),
:mod:`~genesis.cli.study` (study) and
:mod:`~genesis.cli.runs` (report, compare).
Handlers import what is heavy (torch training, DEAP, ray, matplotlib, graphviz) when they run,
so ``genesis info`` never loads the search.

Every bad input (a flag, a file, a graph) ends in one line on stderr and exit code 2; a run in
which nothing trained ends in one line naming the most common cause and exit code 1; a
traceback means a bug in genesis.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
from collections.abc import Sequence

from genesis.cli.architecture import add_export, add_generate, add_info, add_render
from genesis.cli.common import EXIT_BAD_INPUT, OneLineParser
from genesis.cli.evolve import add_evolve
from genesis.cli.oneshot import add_oneshot
from genesis.cli.runs import add_compare, add_report
from genesis.cli.study import add_study
from genesis.cli.train import add_train
from genesis.cli.tune import add_tune
from graphs import GenesisError, RunFailed

__all__ = ["main", "build_parser"]

#: The verbs in the order ``genesis --help`` lists them.
_VERBS = (
    add_generate,
    add_info,
    add_export,
    add_train,
    add_render,
    add_report,
    add_compare,
    add_tune,
    add_evolve,
    add_oneshot,
    add_study,
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every ``genesis`` verb."""
    from genesis import __version__

    parser = OneLineParser(
        prog="genesis",
        description="Generate neural-network architectures from random graphs and measure them.",
    )
    parser.add_argument("--version", action="version", version=f"genesis {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    for add_verb in _VERBS:
        add_verb(sub)
    return parser


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled as Ctrl-C is: a search records its run as ``interrupted``."""


def _terminate(signum, frame) -> None:
    raise Terminated()


#: Exit code of a run that ran but trained nothing (:class:`~graphs.errors.RunFailed`).
EXIT_RUN_FAILED = 1

#: Longest error line printed; a longer message (a value from a file) is cut in the middle.
MAX_ERROR_CHARS = 1000


def _one_line(message: str) -> str:
    """``message`` on one line, at most :data:`MAX_ERROR_CHARS` characters."""
    line = " ".join(message.split())
    if len(line) > MAX_ERROR_CHARS:
        half = MAX_ERROR_CHARS // 2 - 3
        line = f"{line[:half]} ... {line[-half:]}"
    return line


def _safe_streams() -> None:
    """Print what cannot be encoded (a file name's stray bytes) escaped, never fail on it."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(AttributeError, ValueError, OSError):
            stream.reconfigure(errors="backslashreplace")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``genesis`` console script; returns the exit code."""
    _safe_streams()
    parser = build_parser()
    args = parser.parse_args(argv)
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        return args.func(args)
    except RunFailed as exc:
        print(f"genesis {args.command}: error: {_one_line(str(exc))}", file=sys.stderr)
        return EXIT_RUN_FAILED
    except GenesisError as exc:
        print(f"genesis {args.command}: error: {_one_line(str(exc))}", file=sys.stderr)
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
    except KeyboardInterrupt as exc:
        print(f"genesis {args.command}: interrupted", file=sys.stderr)
        return 143 if isinstance(exc, Terminated) else 130
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
