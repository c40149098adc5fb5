"""The run folder: its layout, its one atomic write, its tolerant readers, its Pareto front.

Everything that writes or reads a run folder goes through this module: the search
(:mod:`evolve`), its workers (weights and ONNX files of the final step), ``genesis report`` and
``genesis compare`` (:mod:`visualize`). It imports neither torch nor deap, so reading a run
needs neither. Its parts live beside it, and their names are re-exported here: the layout's
names and checks (:mod:`genesis.runlayout`), the bounded reads (:mod:`genesis.runreads`), the
objectives and the Pareto front (:mod:`genesis.pareto`), the tables (:mod:`genesis.runtables`)
and the checkpoint (:mod:`genesis.checkpoint`).

Layout of ``DIR``::

    config.toml             the resolved configuration (what --resume continues with)
    run.json                state of the run: running / interrupted / failed / finished,
                            versions, timing
    evaluations.jsonl       append-only: one JSON line per evaluation (trained, cached,
                            duplicate or skipped)
    archive.jsonl           append-only: the search's archive (a line when a candidate joins,
                            one when a promotion moves its record up), for --resume
    logbook.csv             one row per generation
    architectures/H.json    every evaluated architecture, by canonical hash
    pareto.json             the current Pareto front (accuracy x the search's objective
                            costs, MACs by default) with its records
    checkpoint.pkl          search state after the last finished job (atomic; the lines of
                            archive.jsonl it covers)
    checkpoint.prev.pkl     the one before (the last good state if the newest is damaged)
    evaluations.csv         the log as one table (a row per entry, the record's numbers as
                            columns): ready for pandas, rewritten when a run stops
    pareto.csv              the front as a table, likewise
    tensorboard/            TensorBoard event files (genesis.tracking)
    final.json              final retraining of the chosen members (test accuracy)
    final/H.pt, H.onnx      their weights (state_dict) and ONNX models
    final/H.preprocess.json what the weights expect of their input (genesis.preprocess: shape,
                            channel order, mean, std, class names)
    final/H.py              their standalone PyTorch source (imports only torch)
    rungs/H-rK.pt           multi-fidelity: where candidate H stands after rung K (weights,
                            optimizer and generator state, tensors only), until it goes on
    report.html             written by ``genesis report``
    run.lock                the writer lock: one evolve/tune at a time (holds its PID)

A study's folder (``genesis study``) holds the same config, state, log and architectures, and
what :data:`STUDY_FILES`, :data:`STUDY_FIGURES` and :data:`STUDY_DIRS` name: ``study.csv``,
``summary.csv``, ``summary.txt``, ``ops.csv``, ``ops_correlation.csv``, ``study_*.png``,
``drawings/``, ``weights/`` and ``damage/``. No other command's output replaces a file of
either (:func:`refuse_run_file`). Every table is written by :func:`genesis.tables.csv_bytes`.

``checkpoint.pkl`` is the run's own pickle, read only by ``--resume`` of this run: never resume
a run folder you got from someone else. Everything meant to be shared (architectures, records,
front, weights as ``state_dict``) is JSON or tensors.
"""

from __future__ import annotations

import contextlib
import csv
import fcntl
import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from genesis import checkpoint
from genesis.files import append_bytes, atomic_write
from genesis.genome import Architecture, save_architecture
from genesis.pareto import OBJECTIVE_LABELS, OBJECTIVES, objectives, pareto_front
from genesis.runlayout import (
    HASH_PATTERN,
    LOCK,
    LOGBOOK_FIELDS,
    RUN_DIRS,
    RUN_FILES,
    STATUSES,
    STUDY_DIRS,
    STUDY_FIGURES,
    STUDY_FILES,
    is_hash,
    refuse_run_file,
)
from genesis.runreads import (
    MAX_JSON_BYTES,
    MAX_LOG_BYTES,
    MAX_TOML_BYTES,
    MAX_WEIGHTS_BYTES,
    read_bytes_bounded,
    read_jsonl,
)
from genesis.runtables import entries_table, final_accuracies
from genesis.tables import csv_bytes
from graphs import GenesisError

__all__ = [
    "HASH_PATTERN",
    "LOCK",
    "LOGBOOK_FIELDS",
    "MAX_JSON_BYTES",
    "MAX_LOG_BYTES",
    "MAX_TOML_BYTES",
    "MAX_WEIGHTS_BYTES",
    "OBJECTIVES",
    "OBJECTIVE_LABELS",
    "RUN_DIRS",
    "RUN_FILES",
    "STUDY_DIRS",
    "STUDY_FIGURES",
    "STUDY_FILES",
    "STATUSES",
    "RunFolder",
    "atomic_write",
    "is_hash",
    "objectives",
    "refuse_run_file",
    "pareto_front",
    "read_bytes_bounded",
    "read_jsonl",
]


def _append(path: Path, data: bytes, sync: bool = True) -> None:
    """:func:`genesis.files.append_bytes`, with a link or an unwritable file as one line."""
    try:
        append_bytes(path, data, sync)
    except OSError as exc:
        raise GenesisError(f"cannot append to {str(path)!r}: {exc.strerror}") from None


class RunFolder:
    """Reads and writes one run folder (see the module docstring for the layout)."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    # -- paths -----------------------------------------------------------------------------------
    @property
    def config_path(self) -> Path:
        return self.path / "config.toml"

    @property
    def state_path(self) -> Path:
        return self.path / "run.json"

    @property
    def log_path(self) -> Path:
        return self.path / "evaluations.jsonl"

    @property
    def logbook_path(self) -> Path:
        return self.path / "logbook.csv"

    @property
    def pareto_path(self) -> Path:
        return self.path / "pareto.json"

    @property
    def final_path(self) -> Path:
        return self.path / "final.json"

    @property
    def checkpoint_path(self) -> Path:
        return self.path / "checkpoint.pkl"

    @property
    def prev_checkpoint_path(self) -> Path:
        return self.path / "checkpoint.prev.pkl"

    def arch_path(self, h: str) -> Path:
        return self.path / "architectures" / f"{h}.json"

    def arch_ref(self, h: str) -> str:
        """The architecture's path relative to the folder, as records and links name it."""
        return f"architectures/{h}.json"

    def final_ref(self, h: str, suffix: str) -> str:
        """A final-step file of member ``h`` (``.pt`` weights, ``.onnx``), relative."""
        return f"final/{h}{suffix}"

    def rung_ref(self, h: str, rung: int) -> str:
        """The training state of candidate ``h`` after rung ``rung``, relative."""
        return f"rungs/{h}-r{rung}.pt"

    def remove_rung_state(self, h: str, rung: int) -> None:
        """Drop a training state no job will continue from."""
        (self.path / self.rung_ref(h, rung)).unlink(missing_ok=True)

    # -- creation and resumption -----------------------------------------------------------------
    def create(self, config: Any, files: dict[str, Architecture] | None = None) -> None:
        """Start a new run; refuses a folder that already holds files (nothing is overwritten).

        ``config`` is the resolved configuration: TOML text, or an object whose ``to_toml()``
        gives it (:class:`evolve.config.EvolveConfig`). ``files`` are architectures the run
        reads (e.g. the fixed architecture of a tuning run), written into the folder first.
        """
        text = config if isinstance(config, str) else config.to_toml()
        self.check_new()
        try:
            (self.path / "architectures").mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise GenesisError(
                f"cannot create run folder {str(self.path)!r}: {exc.strerror}"
            ) from None
        for name, arch in (files or {}).items():
            save_architecture(arch, self.path / name)
        atomic_write(self.config_path, text.encode())
        self.write_state("running", started=time.time())
        atomic_write(self.logbook_path, csv_bytes([], LOGBOOK_FIELDS))

    def check_new(self) -> None:
        """Refuse to start a run where files exist already (the folder's lock file aside), or
        in a folder another run keeps (:func:`refuse_run_file`: e.g. a study's ``damage/``)."""
        refuse_run_file(self.path, what="run folder")
        if self.path.exists() and (
            not self.path.is_dir() or any(p.name != LOCK for p in self.path.iterdir())
        ):
            raise GenesisError(
                f"run folder {str(self.path)!r} already exists and is not empty; resume it with "
                f"--resume {self.path} or choose another --out"
            )

    @contextlib.contextmanager
    def locked(self, create: bool = False) -> Iterator[None]:
        """Hold the folder's writer lock (``run.lock``) for the ``with`` block: one writer per
        run folder. A second writer gets a :class:`GenesisError` at once, naming the holder's
        PID. The lock is ``fcntl.flock`` on the file, which the kernel releases when its process
        dies, so a run killed with SIGKILL never blocks its own resume. ``create`` makes the
        folder first (for a new run)."""
        if create:
            try:
                self.path.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise GenesisError(
                    f"cannot create run folder {str(self.path)!r}: {exc.strerror}"
                ) from None
        path = self.path / LOCK
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        except OSError as exc:
            raise GenesisError(f"cannot lock run folder {str(self.path)!r}: {exc}") from None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
                raise GenesisError(
                    f"run folder {str(self.path)!r} is in use by process {holder} (a genesis "
                    "run writing to it); wait for it to end or stop it, then resume"
                ) from None
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
            yield
        finally:
            os.close(fd)  # closing the descriptor releases the lock

    def check(self) -> Path:
        """The path of the config of an existing run (for resumption); refuses a non-run, and
        a run whose subfolders (:data:`RUN_DIRS`) or files (:data:`RUN_FILES`) are links or of
        the wrong kind: a resumed run writes only inside its folder."""
        if not self.path.is_dir():
            raise GenesisError(f"run folder {str(self.path)!r} does not exist")
        if not self.config_path.exists():
            raise GenesisError(f"{str(self.path)!r} is not a genesis run folder (no config.toml)")
        for name in (*RUN_DIRS, *RUN_FILES):
            path = self.path / name
            if path.is_symlink():
                raise GenesisError(
                    f"{str(path)!r} is a link; a run folder holds no links (a resume would "
                    "write through it): remove it to resume"
                )
            kind_ok = path.is_dir() if name in RUN_DIRS else path.is_file()
            if path.exists() and not kind_ok:
                raise GenesisError(
                    f"{str(path)!r} is not a {'folder' if name in RUN_DIRS else 'file'}; the "
                    "run folder is damaged"
                )
        return self.config_path

    def state(self) -> dict[str, Any]:
        """``run.json`` (empty before it exists); a damaged one is an error naming it."""
        try:
            state = json.loads(read_bytes_bounded(self.state_path, MAX_JSON_BYTES))
        except FileNotFoundError:
            return {}
        except (ValueError, RecursionError, OSError) as exc:
            raise GenesisError(f"{str(self.state_path)!r} is damaged: {exc}") from None
        if not isinstance(state, dict):
            raise GenesisError(
                f"{str(self.state_path)!r} is damaged: not a JSON object but a "
                f"{type(state).__name__}"
            )
        return state

    def write_state(self, status: str, **extra: Any) -> None:
        """Set the run's status (one of :data:`STATUSES`), keeping the fields written before."""
        from genesis import __version__

        assert status in STATUSES, status
        state = {
            **self.state(),
            **extra,
            "status": status,
            "genesis": __version__,
            "updated": time.time(),
        }
        atomic_write(self.state_path, json.dumps(state, indent=2).encode())

    # -- evaluation log --------------------------------------------------------------------------
    def append_evaluation(self, entry: dict[str, Any]) -> None:
        """Append one evaluation, flushed to disk before returning."""
        line = json.dumps(entry, separators=(",", ":")) + "\n"
        _append(self.log_path, line.encode("utf-8"))

    def read_evaluations(self) -> list[dict[str, Any]]:
        """Every logged evaluation (strict: see :func:`read_jsonl`)."""
        return read_jsonl(self.log_path, strict=True)[0]

    def repair_log(self) -> None:
        """Drop an unfinished last line so that appends start on a fresh line."""
        if not self.log_path.exists():
            return
        data = self.log_path.read_bytes()
        if data and not data.endswith(b"\n"):
            atomic_write(self.log_path, data[: data.rfind(b"\n") + 1])

    def remove_stale_temps(self) -> None:
        """Drop the hidden ``.NAME.*.tmp`` files that a writer killed in the middle of an
        atomic write left behind (call with the writer lock held: no write is in flight)."""
        for folder in (self.path, *(self.path / d for d in RUN_DIRS + STUDY_DIRS)):
            if folder.is_dir() and not folder.is_symlink():
                for stale in folder.glob(".*.tmp"):
                    if stale.is_file() and not stale.is_symlink():
                        stale.unlink(missing_ok=True)

    def save_architecture(self, h: str, text: str) -> None:
        """Write architecture ``h``'s JSON ``text`` once (the hash names its content)."""
        path = self.arch_path(h)
        if not path.exists():
            atomic_write(path, text.encode())

    # -- checkpoints -----------------------------------------------------------------------------
    def save_checkpoint(self, state: Any) -> None:
        """Pickle the search state atomically; the previous one stays as ``checkpoint.prev.pkl``
        (:func:`genesis.checkpoint.save_checkpoint`)."""
        checkpoint.save_checkpoint(self.checkpoint_path, self.prev_checkpoint_path, state)

    def load_checkpoint(self, check: Callable[[Any], Any] | None = None) -> Any:
        """The last saved search state (None before the first generation finished).

        ``check`` turns the unpickled object into the state (raising for anything else); a
        damaged checkpoint is an error that names the previous one when it exists
        (:func:`genesis.checkpoint.load_checkpoint`).
        """
        return checkpoint.load_checkpoint(self.checkpoint_path, self.prev_checkpoint_path, check)

    # -- summaries -------------------------------------------------------------------------------
    def append_logbook(self, row: dict[str, Any]) -> None:
        """Append one generation's row (:data:`LOGBOOK_FIELDS`) to ``logbook.csv`` (never
        through a link)."""
        _append(self.logbook_path, csv_bytes([row], LOGBOOK_FIELDS, header=False), sync=False)

    def trim_logbook(self, generations: int) -> None:
        """Keep the header and rows of the first ``generations`` generations (for a resume).

        Lines are kept as they were written (not parsed and written again): a row's cells are
        numbers, and the header is whatever the run wrote first."""
        if not self.logbook_path.exists():
            return
        lines = self.logbook_path.read_text(encoding="utf-8").splitlines()
        keep = lines[:1] + [
            line
            for line, r in zip(lines[1:], csv.reader(lines[1:]), strict=True)
            if r and r[0].isdigit() and int(r[0]) < generations
        ]
        atomic_write(self.logbook_path, "".join(line + "\r\n" for line in keep).encode())

    def write_tables(self) -> None:
        """``evaluations.csv`` and ``pareto.csv``: the log and the front as tables for pandas
        (``pd.read_csv``), rebuilt whole from ``evaluations.jsonl`` and ``pareto.json``.

        A row per log entry: its plain fields (``kind``, ``hash``, ``generation``, ``origin``,
        ``seed``...), then every plain field of its ``result`` (status, split, accuracy, MACs,
        params, epochs, rung, seconds...), in first-seen order; a list of plain values
        (``parents``, a multi-fidelity record's ``curve``: its accuracy at each rung) joined by
        ``;``. Nested tables (a training's history) are left out. A last column,
        ``final_test_accuracy``, holds the test accuracy the final step measured for the
        network, where ``final.json`` has one (the search itself never sees it).
        """
        entries = read_jsonl(self.log_path, strict=False)[0]
        final = final_accuracies(self.read_json(self.final_path.name, [], problems=[]))
        rows = [e for e in entries if isinstance(e, dict)]
        atomic_write(self.path / "evaluations.csv", entries_table(rows, final=final))
        front = self.read_json("pareto.json", [], problems=[])
        members = front.get("members", []) if isinstance(front, dict) else front
        atomic_write(
            self.path / "pareto.csv",
            entries_table([{"result": m} for m in members if isinstance(m, dict)], False, final),
        )

    def write_json(self, name: str, data: Any) -> None:
        """Write ``data`` as the folder's JSON file ``name`` (atomically)."""
        atomic_write(self.path / name, (json.dumps(data, indent=2) + "\n").encode())

    def read_json(self, name: str, default: Any, problems: list[str] | None = None) -> Any:
        """The folder's JSON file ``name``; ``default`` when it is missing or, with a
        ``problems`` list to note it in, damaged (without one, damage is an error).

        The file is read with :func:`read_bytes_bounded` (at most :data:`MAX_JSON_BYTES`, a
        regular file only); a symlink, a FIFO or a file too large counts as damaged."""
        path = self.path / name
        try:
            data = read_bytes_bounded(path, MAX_JSON_BYTES)
        except FileNotFoundError:
            if problems is not None:
                problems.append(f"{name} not written yet")
            return default
        except GenesisError as exc:
            if problems is None:
                raise
            problems.append(f"{name} was not read ({exc})")
            return default
        try:
            return json.loads(data.decode("utf-8"))
        except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
            if problems is None:
                raise GenesisError(f"{str(path)!r} is damaged; remove it to redo it") from None
            problems.append(f"{name} is damaged ({exc})")
            return default
