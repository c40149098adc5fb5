"""The run folder: its layout, its one atomic write, its tolerant readers, its Pareto front.

Everything that writes or reads a run folder goes through this module: the search
(:mod:`evolve`), its workers (weights and ONNX files of the final step), ``genesis report`` and
``genesis compare`` (:mod:`visualize`). It imports neither torch nor deap, so reading a run
needs neither.

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
import fnmatch
import json
import os
import pickle
import re
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from genesis.files import Refused, append_bytes, atomic_write, read_regular
from genesis.genome import Architecture, save_architecture
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

#: States a run can be in (``run.json``'s ``status``): ``running`` also stands for a run that was
#: killed (SIGKILL leaves no trace); ``interrupted`` is Ctrl-C, ``failed`` an error.
STATUSES = ("running", "interrupted", "failed", "finished")

#: The writer lock's file (see :meth:`RunFolder.locked`); it holds the writer's PID.
LOCK = "run.lock"

#: Columns of ``logbook.csv``, one row per generation.
LOGBOOK_FIELDS = (
    "generation",
    "evaluations",
    "trained",
    "cached",
    "skipped",
    "best_accuracy",
    "front_size",
    "hypervolume",
    "seconds",
)

#: What the search names an architecture by: 20 hex digits of its canonical hash, plus ``-`` and
#: 8 hex digits of its content digest after a Weisfeiler-Lehman collision. Nothing else read
#: from a run folder becomes part of a path.
HASH_PATTERN = re.compile(r"[0-9a-f]{20}(-[0-9a-f]{8})?")

#: The most bytes read from one file of a run folder, by kind: the evaluation log, the other
#: JSON files (``run.json``, ``pareto.json``, ``final.json``, ``architectures/H.json``), the
#: config, and the final weights (``final/H.pt``, read by the report for edge widths).
MAX_LOG_BYTES = 64 * 2**20
MAX_JSON_BYTES = 8 * 2**20
MAX_TOML_BYTES = 1 * 2**20
MAX_WEIGHTS_BYTES = 256 * 2**20


T = TypeVar("T")


def is_hash(value: Any) -> bool:
    """Whether ``value`` is an architecture hash as the search writes it (:data:`HASH_PATTERN`).

    Examples
    --------
    >>> is_hash("25947824abf5d7875e06"), is_hash("25947824abf5d7875e06-0badf00d")
    (True, True)
    >>> is_hash("../../etc/passwd"), is_hash("<script>"), is_hash(12)
    (False, False, False)
    """
    return isinstance(value, str) and HASH_PATTERN.fullmatch(value) is not None


def read_bytes_bounded(path: str | os.PathLike, limit: int) -> bytes:
    """The bytes of the regular file ``path``, refusing anything else and anything too large.

    The file is opened with ``O_NOFOLLOW | O_NONBLOCK`` (a symlink as its last component is
    refused, and a FIFO never blocks the open), then ``fstat`` must say it is a regular file
    (not a FIFO, a device such as ``/dev/zero``, a socket or a folder). At most ``limit`` bytes
    are read: a file that holds more, even one that grows while it is read, is refused.

    Parameters
    ----------
    path : path-like
        The file to read.
    limit : int
        The most bytes accepted (e.g. :data:`MAX_JSON_BYTES`).

    Returns
    -------
    bytes
        The whole file.

    Raises
    ------
    FileNotFoundError
        When nothing is at ``path`` (callers tell "missing" from "damaged").
    GenesisError
        For a symlink, a file that is not regular, one over ``limit`` bytes, or an unreadable
        one; the message names the file and the rule.

    Examples
    --------
    >>> read_bytes_bounded("/dev/zero", 10)
    Traceback (most recent call last):
    ...
    graphs.errors.GenesisError: '/dev/zero' is not a regular file (a character device); refused
    """
    name = str(path)
    try:
        return read_regular(path, limit, follow_symlinks=False)
    except Refused as why:
        if why.kind == "link":
            message = f"{name!r} is a symbolic link; refused"
        elif why.kind == "irregular":
            message = f"{name!r} is not a regular file ({why.detail}); refused"
        elif why.kind == "size" and why.detail is not None:
            message = (
                f"{name!r} holds {why.detail} bytes, more than the {limit} read from such a file"
            )
        elif why.kind == "size":
            message = f"{name!r} holds more than the {limit} bytes read from such a file"
        else:
            message = f"cannot read {name!r}: {why.detail}"
        raise GenesisError(message) from None


def read_jsonl(
    path: str | os.PathLike, strict: bool = True, limit: int = MAX_LOG_BYTES
) -> tuple[list[Any], list[str]]:
    """The JSON values of a JSON-lines file, and the problems met reading it.

    A last line cut short (a writer killed mid-append) is dropped silently. A damaged line
    elsewhere is, with ``strict``, a :class:`GenesisError` naming the file and line; without,
    it is skipped and named in the problems (a report shows what it can). A missing file is
    empty. The file is read with :func:`read_bytes_bounded` (at most ``limit`` bytes, a regular
    file only): anything else is a :class:`GenesisError` with ``strict``, a problem without.
    """
    path = Path(path)
    try:
        data = read_bytes_bounded(path, limit)
    except FileNotFoundError:
        return [], []
    except GenesisError as exc:
        if strict:
            raise
        return [], [f"{path.name} was not read: {exc}"]
    try:
        text = data.decode("utf-8", errors="strict" if strict else "replace")
    except UnicodeDecodeError as exc:
        raise GenesisError(f"{str(path)!r} is not UTF-8 text: {exc.reason}") from None
    lines = text.split("\n")
    values, problems = [], []
    for i, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            values.append(json.loads(line))
        except (ValueError, RecursionError):  # not JSON, nested too deep, an int too long
            if i == len(lines):  # the unfinished (unterminated) last line of a killed run
                continue
            message = f"{str(path)!r} line {i} is damaged (not JSON)"
            if strict:
                raise GenesisError(f"{message}; the entries before it are intact") from None
            problems.append(f"{path.name} line {i} is damaged")
    return values, problems


#: Costs a search can minimise beside validation accuracy (``search.objective``), each with the
#: record key that holds its value: MACs (counted from the genome), peak inference memory at
#: batch 1 (KiB, genesis.cost.peak_memory) and latency at batch 1 (ms, measured on the run's
#: device, genesis.cost.measure_latency).
OBJECTIVES: dict[str, str] = {"macs": "macs", "memory": "memory_kb", "latency": "latency_ms"}

#: Each cost's axis label in figures.
OBJECTIVE_LABELS: dict[str, str] = {
    "macs": "MACs per example (FLOPs = 2 x MACs)",
    "memory": "peak memory at batch 1 (KiB)",
    "latency": "latency at batch 1 (ms)",
}


def objectives(result: dict[str, Any], costs: tuple[str, ...] = ("macs",)) -> tuple[float, ...]:
    """(validation accuracy, *costs) of an evaluation record; a failed one scores accuracy 0.

    ``costs`` are names of :data:`OBJECTIVES`; a cost the record does not hold (not measured,
    or the evaluation failed before it was) is infinite, so such a record never dominates.

    Examples
    --------
    >>> objectives({"status": "ok", "accuracy": 0.9, "macs": 5})
    (0.9, 5.0)
    >>> objectives({"status": "oom", "accuracy": None, "macs": 5})
    (0.0, 5.0)
    >>> objectives({"status": "ok", "accuracy": 0.9, "macs": 5, "latency_ms": 1.5}, ("latency",))
    (0.9, 1.5)
    """
    acc = result.get("accuracy") if result.get("status") == "ok" else None
    values = []
    for cost in costs:
        v = result.get(OBJECTIVES[cost])
        values.append(float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else _INF)
    return (float(acc) if acc is not None else 0.0, *values)


_INF = float("inf")


def pareto_front(items: Iterable[T], key: Callable[[T], tuple[float, ...]]) -> list[T]:
    """The items no other dominates on ``key`` = (accuracy up, cost down, ...), by increasing
    first cost.

    Items with equal objectives are all kept (none dominates another), in their given order.
    O(n log n) for one cost, O(n^2) for more. The one front of genesis: the search's, the
    report's and the plots'.

    Examples
    --------
    >>> pareto_front([(0.8, 2), (0.7, 3), (0.9, 4), (0.5, 1), (0.9, 4)], key=lambda p: p)
    [(0.5, 1), (0.8, 2), (0.9, 4), (0.9, 4)]
    >>> pareto_front([(0.8, 2, 9), (0.7, 3, 1), (0.6, 3, 2), (0.9, 4, 9)], key=lambda p: p)
    [(0.8, 2, 9), (0.7, 3, 1), (0.9, 4, 9)]
    """
    items = list(items)
    keys = [tuple(key(item)) for item in items]
    ranked = sorted(range(len(items)), key=lambda i: (keys[i][1:], -keys[i][0], i))
    front: list[int] = []
    if keys and len(keys[0]) == 2:  # one cost: a sweep along it
        last: tuple[float, ...] | None = None
        for i in ranked:
            if last is None or keys[i][0] > last[0] or keys[i] == last:
                front.append(i)
                last = keys[i]
        return [items[i] for i in front]
    for i in ranked:  # sorted so that no later item dominates an earlier one
        if not any(_dominates(keys[j], keys[i]) for j in front):
            front.append(i)
    return [items[i] for i in front]


def _dominates(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    """Whether ``a`` dominates ``b``: accuracy (first) no lower, every cost no higher, and not
    equal."""
    return a != b and a[0] >= b[0] and all(x <= y for x, y in zip(a[1:], b[1:], strict=True))


#: What a run writes, relative to its folder: outputs of other commands must not replace these.
RUN_FILES = (
    "config.toml",
    "run.json",
    "evaluations.jsonl",
    "archive.jsonl",
    "logbook.csv",
    "pareto.json",
    "evaluations.csv",
    "pareto.csv",
    "final.json",
    "checkpoint.pkl",
    "checkpoint.prev.pkl",
    "best.json",
    "base.json",
    LOCK,
)
RUN_DIRS = ("architectures", "final", "rungs", "tensorboard")

#: What a study (``genesis study``) adds to its run folder, relative to it: its tables and
#: summary, its figures (``study_*.png``), and the folders of its drawings, its networks'
#: weights and its graph damage. Outputs of other commands must not replace these either.
STUDY_FILES = ("study.csv", "summary.csv", "summary.txt", "ops.csv", "ops_correlation.csv")
STUDY_FIGURES = "study_*.png"
STUDY_DIRS = ("drawings", "weights", "damage")


def _append(path: Path, data: bytes, sync: bool = True) -> None:
    """:func:`genesis.files.append_bytes`, with a link or an unwritable file as one line."""
    try:
        append_bytes(path, data, sync)
    except OSError as exc:
        raise GenesisError(f"cannot append to {str(path)!r}: {exc.strerror}") from None


def refuse_run_file(path: str | os.PathLike, what: str = "output") -> None:
    """Raise :class:`GenesisError` when ``path`` names a file a run folder keeps (its log,
    config, checkpoints, architectures, final weights...) or a study's (its tables, figures,
    drawings, weights, graph damage): a command's output never replaces part of a run. Other
    files inside a run folder (``report.html``, a plot of one's own) are fine.

    The path is resolved first (``..`` and links), and checked against the run folder that
    holds it, or the one above (a file in one of the run's subfolders).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> run = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (run / "config.toml").write_text("[study]\\n")
    >>> refuse_run_file(run / "notes.html")
    >>> refuse_run_file(run / "damage" / "damage.csv")
    Traceback (most recent call last):
    ...
    graphs.errors.GenesisError: output '...damage.csv' is a file of the run folder '...'; ...
    """
    target = Path(path).resolve()
    for folder in (target.parent, target.parent.parent):
        if not any((folder / marker).exists() for marker in ("config.toml", "run.json")):
            continue
        rel = target.relative_to(folder)
        if (
            rel.parts[0] in RUN_DIRS + STUDY_DIRS
            or str(rel) in RUN_FILES + STUDY_FILES
            or fnmatch.fnmatchcase(str(rel), STUDY_FIGURES)
        ):
            raise GenesisError(
                f"{what} {str(path)!r} is a file of the run folder {str(folder)!r}; choose a "
                "path outside what the run keeps"
            )


def _plain(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def _cell(value: Any) -> tuple[bool, Any]:
    """(kept, value) of a field in a table: plain values as they are, a list of plain values
    joined by ``;`` (parents, a learning curve), anything else left out."""
    if _plain(value):
        return True, value
    if isinstance(value, list) and all(_plain(v) for v in value):
        return True, ";".join("" if v is None else str(v) for v in value)
    return False, None


def _table(
    entries: list[dict[str, Any]], top: bool = True, final: dict[str, Any] | None = None
) -> bytes:
    """CSV of log entries (see :meth:`RunFolder.write_tables`); ``final``: hash -> the test
    accuracy the final step measured, a last column where there is one."""
    rows: list[dict[str, Any]] = []
    columns: dict[str, None] = {}
    for e in entries:
        row: dict[str, Any] = {}
        fields = [(k, v) for k, v in e.items() if k != "result"] if top else []
        result = e.get("result")
        if isinstance(result, dict):
            fields += list(result.items())
        for k, v in fields:
            kept, cell = _cell(v)
            if kept and k not in row:
                row[k] = cell
        columns.update(dict.fromkeys(row))
        rows.append(row)
    if final:
        h = "hash" if top else None
        for row, e in zip(rows, entries, strict=True):
            key = e.get(h) if h else (e.get("result") or {}).get("hash")
            row["final_test_accuracy"] = final.get(key) if isinstance(key, str) else None
        columns["final_test_accuracy"] = None
    return csv_bytes(rows, list(columns))


def _checked(state: Any) -> Any:
    """A search state (one with a ``window``, or 0.2's ``generation``), or an error."""
    if not any(hasattr(state, k) for k in ("generation", "window")) and not (
        isinstance(state, dict) and "generation" in state
    ):
        raise ValueError("not a genesis checkpoint")
    return state


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
        """Pickle the search state atomically; the previous one stays as ``checkpoint.prev.pkl``.

        ``checkpoint.pkl`` exists at every instant after the first save: the old one is
        hard-linked to the ``prev`` name before the new one is renamed over it.
        """
        data = pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)
        current, prev = self.checkpoint_path, self.prev_checkpoint_path
        if current.exists():
            link = prev.with_name(f".{prev.name}.tmp{os.getpid()}")
            link.unlink(missing_ok=True)
            os.link(current, link)
            os.replace(link, prev)
        atomic_write(current, data)

    def load_checkpoint(self, check: Callable[[Any], Any] | None = None) -> Any:
        """The last saved search state (None before the first generation finished).

        ``check`` turns the unpickled object into the state (raising for anything else); a
        damaged checkpoint is an error that names the previous one when it exists.
        """
        path = self.checkpoint_path
        if not path.exists():
            return None
        try:
            with open(path, "rb") as f:
                state = pickle.load(f)
            return (check or _checked)(state)
        except Exception as exc:
            prev = self.prev_checkpoint_path
            hint = (
                f"; {prev.name} holds the generation before: move it over {path.name} to "
                "resume from there"
                if prev.exists()
                else ""
            )
            raise GenesisError(
                f"checkpoint {str(path)!r} is damaged ({type(exc).__name__}){hint}"
            ) from None

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
        finals = self.read_json(self.final_path.name, [], problems=[])
        final = {
            f["hash"]: f.get("test_accuracy")
            for f in (finals if isinstance(finals, list) else [])
            if isinstance(f, dict)
            and is_hash(f.get("hash"))
            and isinstance(f.get("test_accuracy"), (int, float))
        }
        rows = [e for e in entries if isinstance(e, dict)]
        atomic_write(self.path / "evaluations.csv", _table(rows, final=final))
        front = self.read_json("pareto.json", [], problems=[])
        members = front.get("members", []) if isinstance(front, dict) else front
        atomic_write(
            self.path / "pareto.csv",
            _table([{"result": m} for m in members if isinstance(m, dict)], False, final),
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
