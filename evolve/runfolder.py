"""The run folder: everything a search writes, so it can be resumed, reported and trusted.

Layout of ``DIR``::

    config.toml             the resolved configuration (what --resume continues with)
    run.json                state of the run: running / finished, versions, timing
    evaluations.jsonl       append-only: one JSON line per finished evaluation
    logbook.csv             one row per generation
    architectures/H.json    every evaluated architecture, by canonical hash
    pareto.json             the current Pareto front (accuracy x MACs) with its records
    checkpoint.pkl          search state after the last finished generation (atomic)
    checkpoint.prev.pkl     the one before (the last good state if the newest is damaged)
    final.json              final retraining of the chosen members (test accuracy)
    final/H.pt, H.onnx      their weights (state_dict) and ONNX models

``checkpoint.pkl`` is the run's own pickle, read only by ``--resume`` of this run: never open
a checkpoint you got from someone else. Everything meant to be shared (architectures, records,
front, weights as ``state_dict``) is JSON or tensors.
"""

from __future__ import annotations

import csv
import io
import json
import os
import pickle
import time
from pathlib import Path
from typing import Any

from evolve.config import EvolveConfig, dump_config, load_config
from genesis import Architecture, GenesisError, save_architecture

__all__ = ["RunFolder", "LOGBOOK_FIELDS"]

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


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


class RunFolder:
    """Reads and writes one run folder."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    # -- paths -----------------------------------------------------------------------------------
    @property
    def config_path(self) -> Path:
        return self.path / "config.toml"

    @property
    def log_path(self) -> Path:
        return self.path / "evaluations.jsonl"

    @property
    def checkpoint_path(self) -> Path:
        return self.path / "checkpoint.pkl"

    @property
    def logbook_path(self) -> Path:
        return self.path / "logbook.csv"

    def arch_path(self, h: str) -> Path:
        return self.path / "architectures" / f"{h}.json"

    # -- creation and resumption -----------------------------------------------------------------
    def create(self, cfg: EvolveConfig, files: dict[str, Architecture] | None = None) -> None:
        """Start a new run; refuses a folder that already holds files (nothing is overwritten).

        ``files`` are architectures the run reads (e.g. ``base.json``, the architecture a tuning
        run searches hyperparameters for), written into the folder first.
        """
        if self.path.exists() and (not self.path.is_dir() or any(self.path.iterdir())):
            raise GenesisError(
                f"run folder {str(self.path)!r} already exists and is not empty; resume it with "
                f"--resume {self.path} or choose another --out"
            )
        try:
            (self.path / "architectures").mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise GenesisError(
                f"cannot create run folder {str(self.path)!r}: {exc.strerror}"
            ) from None
        for name, arch in (files or {}).items():
            save_architecture(arch, self.path / name)
        _atomic_write(self.config_path, dump_config(cfg).encode())
        self.write_state("running", started=time.time())
        with open(self.logbook_path, "w", newline="") as f:
            csv.writer(f).writerow(LOGBOOK_FIELDS)

    def open(self) -> EvolveConfig:
        """Open an existing run for resumption: its config, checked."""
        if not self.path.is_dir():
            raise GenesisError(f"run folder {str(self.path)!r} does not exist")
        if not self.config_path.exists():
            raise GenesisError(f"{str(self.path)!r} is not a genesis run folder (no config.toml)")
        return load_config(self.config_path)

    def state(self) -> dict[str, Any]:
        path = self.path / "run.json"
        try:
            return json.loads(path.read_text())
        except FileNotFoundError:
            return {}
        except (json.JSONDecodeError, OSError) as exc:
            raise GenesisError(f"{str(path)!r} is damaged: {exc}") from None

    def write_state(self, status: str, **extra: Any) -> None:
        from genesis import __version__

        state = {
            **self.state(),
            **extra,
            "status": status,
            "genesis": __version__,
            "updated": time.time(),
        }
        _atomic_write(self.path / "run.json", json.dumps(state, indent=2).encode())

    # -- evaluation log --------------------------------------------------------------------------
    def append_evaluation(self, entry: dict[str, Any]) -> None:
        """Append one finished evaluation, flushed to disk before returning."""
        line = json.dumps(entry, separators=(",", ":")) + "\n"
        with open(self.log_path, "a", encoding="utf-8") as f:
            f.write(line)
            f.flush()
            os.fsync(f.fileno())

    def read_evaluations(self) -> list[dict[str, Any]]:
        """Every logged evaluation. A last line cut short by a kill is dropped; a damaged line
        elsewhere is an error naming the file and line."""
        if not self.log_path.exists():
            return []
        lines = self.log_path.read_text(encoding="utf-8").split("\n")
        entries = []
        for i, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                entries.append(json.loads(line))
            except json.JSONDecodeError:
                if i == len(lines):  # the unfinished (unterminated) last line of a killed run
                    continue
                raise GenesisError(
                    f"{str(self.log_path)!r} line {i} is damaged (not JSON); the entries before "
                    "it are intact"
                ) from None
        return entries

    def repair_log(self) -> None:
        """Drop an unfinished last line so that appends start on a fresh line."""
        if not self.log_path.exists():
            return
        data = self.log_path.read_bytes()
        if data and not data.endswith(b"\n"):
            cut = data.rfind(b"\n") + 1
            _atomic_write(self.log_path, data[:cut])

    def save_architecture(self, h: str, arch: Architecture) -> None:
        path = self.arch_path(h)
        if not path.exists():
            save_architecture(arch, path)

    # -- checkpoints -----------------------------------------------------------------------------
    def save_checkpoint(self, state: dict[str, Any]) -> None:
        """Write the state atomically; the previous one stays as ``checkpoint.prev.pkl``.

        ``checkpoint.pkl`` exists at every instant after the first save: the old one is
        hard-linked to the ``prev`` name before the new one is renamed over it.
        """
        data = pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)
        current, prev = self.checkpoint_path, self.path / "checkpoint.prev.pkl"
        if current.exists():
            link = prev.with_name(f".{prev.name}.tmp{os.getpid()}")
            link.unlink(missing_ok=True)
            os.link(current, link)
            os.replace(link, prev)
        _atomic_write(current, data)

    def load_checkpoint(self) -> dict[str, Any] | None:
        """The last saved search state (None before the first generation finished)."""
        path = self.checkpoint_path
        if not path.exists():
            return None
        try:
            with open(path, "rb") as f:
                state = pickle.load(f)
            if not isinstance(state, dict) or "generation" not in state:
                raise ValueError("not a genesis checkpoint")
            return state
        except Exception as exc:
            prev = self.path / "checkpoint.prev.pkl"
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
        buf = io.StringIO()
        csv.writer(buf).writerow([row.get(k, "") for k in LOGBOOK_FIELDS])
        with open(self.logbook_path, "a", newline="", encoding="utf-8") as f:
            f.write(buf.getvalue())
            f.flush()

    def trim_logbook(self, generations: int) -> None:
        """Keep the header and rows of the first ``generations`` generations (for a resume)."""
        if not self.logbook_path.exists():
            return
        rows = list(csv.reader(self.logbook_path.read_text(encoding="utf-8").splitlines()))
        keep = [rows[0]] + [r for r in rows[1:] if r and r[0].isdigit() and int(r[0]) < generations]
        buf = io.StringIO()
        csv.writer(buf).writerows(keep)
        _atomic_write(self.logbook_path, buf.getvalue().encode())

    def write_json(self, name: str, data: Any) -> None:
        _atomic_write(self.path / name, (json.dumps(data, indent=2) + "\n").encode())
