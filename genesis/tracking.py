"""TensorBoard event files of a run: what a search, a study or a training writes as it goes.

A :class:`Tracker` writes into ``DIR/tensorboard`` with
:class:`torch.utils.tensorboard.SummaryWriter` (``tensorboard --logdir DIR`` shows it, or
several runs with ``--logdir runs``):

- ``search/*`` per generation of a search or a tuning run: ``hypervolume``, ``best_accuracy``,
  ``front_size``, ``utilization`` (busy seconds / (workers x wall seconds)), ``trained`` and
  ``compute`` (epoch-equivalents of the proxy subset);
- ``search/pareto``: the front as a figure (validation accuracy against MACs) when a search ends;
- ``oneshot/*`` per epoch of a oneshot run (:mod:`evolve.oneshotrun`): each op's probability
  (``oneshot/s<k>/n<v>/<op>``), each gate (``oneshot/s<k>/e<u>-<v>``), the losses, the expected
  and the derived network's MACs, the supernet's validation accuracy;
- ``<prefix>/loss`` and ``<prefix>/lr`` per epoch of a training, and ``<prefix>/accuracy`` at
  its end (``train`` for ``genesis train --out``, ``final/<hash>`` for a search's final step,
  ``study/<key>`` for each network of a study).

The writer is opened on the first event, with ``purge_step`` set to the first generation this
process records, so a resumed search replaces the events an interrupted one wrote after its last
checkpoint instead of doubling them. A ``tensorboard`` that is a link or not a folder is left
alone (no events; the run goes on). Event files are a run's own output, like its log.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

__all__ = ["TENSORBOARD_DIR", "Tracker"]

#: The subfolder of a run folder that holds the event files.
TENSORBOARD_DIR = "tensorboard"


class Tracker:
    """Writes TensorBoard events into ``folder/tensorboard`` (created on the first event)."""

    def __init__(self, folder: str | os.PathLike):
        self.dir = Path(folder) / TENSORBOARD_DIR
        self._writer = None
        self._off = False

    def _open(self, purge_step: int | None = None):
        if self._writer is None and not self._off:
            if os.path.islink(self.dir) or (self.dir.exists() and not self.dir.is_dir()):
                self._off = True  # someone else's link or file: write nothing there
                return None
            from torch.utils.tensorboard import SummaryWriter

            self._writer = SummaryWriter(log_dir=str(self.dir), purge_step=purge_step)
        return self._writer

    def generation(self, step: int, values: Mapping[str, float | int | None]) -> None:
        """One generation's scalars under ``search/`` (None and non-finite values skipped)."""
        w = self._open(purge_step=step)
        if w is None:
            return
        for name, value in values.items():
            if value is not None and math.isfinite(float(value)):
                w.add_scalar(f"search/{name}", float(value), step)
        w.flush()

    def scalars(self, step: int, values: Mapping[str, float | int | None]) -> None:
        """Scalars at ``step`` under their own names (None and non-finite values skipped),
        e.g. a oneshot run's ``oneshot/*`` curves of each epoch. The first call of a process
        purges the events a killed run wrote from ``step`` on, as :meth:`generation` does."""
        w = self._open(purge_step=step)
        if w is None:
            return
        for name, value in values.items():
            if value is not None and math.isfinite(float(value)):
                w.add_scalar(name, float(value), step)
        w.flush()

    def training(self, prefix: str, record: Mapping[str, Any]) -> None:
        """A training's curves (``history``: loss and lr per epoch) and its accuracy."""
        w = self._open()
        if w is None:
            return
        history = record.get("history") or []
        for point in history:
            if not isinstance(point, Mapping):
                continue
            epoch = int(point.get("epoch", 0))
            for key in ("loss", "lr"):
                value = point.get(key)
                if isinstance(value, (int, float)) and math.isfinite(value):
                    w.add_scalar(f"{prefix}/{key}", float(value), epoch)
        acc = record.get("accuracy")
        if isinstance(acc, (int, float)):
            w.add_scalar(f"{prefix}/accuracy", float(acc), len(history))
        w.flush()

    def front(
        self,
        step: int,
        points: Iterable[tuple[float, ...]],
        front: Iterable[tuple[float, ...]],
        costs: tuple[str, ...] = ("macs",),
    ) -> None:
        """The Pareto front as a figure: every (accuracy, *costs) point faint, the front bold,
        one panel per cost. Only after this process recorded a generation: a resumed run that
        had finished changes nothing."""
        w = self._writer
        if w is None:
            return
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from genesis.runfolder import OBJECTIVE_LABELS

        points, front = list(points), list(front)
        fig, axes = plt.subplots(1, len(costs), figsize=(5.6 * len(costs), 3.8), squeeze=False)
        for j, (ax, cost) in enumerate(zip(axes[0], costs, strict=True)):
            x = j + 1
            if points:
                ax.scatter([p[x] for p in points], [p[0] for p in points], s=10, alpha=0.3)
            if front:
                shown = sorted(front, key=lambda p: p[x])
                if len(costs) == 1:  # a staircase only where the front is one
                    ax.step([p[x] for p in shown], [p[0] for p in shown], where="post", lw=1.5)
                ax.scatter([p[x] for p in shown], [p[0] for p in shown], s=28)
            ax.set_xscale("log")
            ax.set_xlabel(OBJECTIVE_LABELS[cost])
            ax.set_ylabel("validation accuracy")
            ax.grid(alpha=0.3)
        fig.tight_layout()
        w.add_figure("search/pareto", fig, step, close=True)
        w.flush()

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
