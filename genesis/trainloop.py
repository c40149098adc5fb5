"""Training's loop: the optimizer steps of one training at one batch size, each at the
schedule's learning rate, until the budget is spent.

The schedule follows the larger of the step and the time fraction, so a wall-clock budget
anneals properly too. A NaN or infinite loss ends the training as ``diverged`` (checked every 25
steps and at each epoch's end), passing the hard time limit as ``timeout``; both are statuses,
never exceptions, for :func:`genesis.train.train_architecture` to record.
"""

from __future__ import annotations

import math
import sys
import time
from typing import Any

import torch
from torch import nn
from tqdm import tqdm

from genesis.batches import Batches
from genesis.device import autocast
from genesis.genome import TrainConfig
from genesis.schedule import lr_at

__all__ = ["TrainLoop"]


class _Diverged(Exception):
    pass


class _TimedOut(Exception):
    pass


class TrainLoop:
    """The steps of one training at one batch size: its clock, its progress through the
    schedule, its history (a row per epoch).

    Parameters
    ----------
    model : nn.Module
        The network, on the device.
    optimizer : torch.optim.Optimizer
        Its optimizer (:func:`genesis.schedule.make_optimizer`).
    cfg : TrainConfig
        The genome's hyperparameters (schedule, epochs, label smoothing).
    budget : genesis.train.Budget
        Epochs (default ``cfg.epochs``), a wall-clock budget, a hard time limit.
    batch : int
        Examples per step.
    n : int
        Examples in the training split.
    """

    def __init__(self, model, optimizer, cfg: TrainConfig, budget: Any, batch: int, n: int):
        self.model, self.optimizer, self.cfg, self.budget = model, optimizer, cfg, budget
        self.batch = min(batch, n)
        self.epochs = float(budget.epochs if budget.epochs is not None else cfg.epochs)
        self.steps_per_epoch = max(1, n // batch) if n >= batch else 1
        self.total_steps = max(1, math.ceil(self.epochs * self.steps_per_epoch))
        self.loss_fn = nn.CrossEntropyLoss(label_smoothing=cfg.label_smoothing)
        self.seen, self.step, self.history, self.lr = 0, 0, [], cfg.lr

    def run(self, data: Batches, started: float, progress: bool) -> tuple[str, str | None]:
        """Train until the budget is spent: (status, error) of ``ok``, ``diverged`` or
        ``timeout``; ``started`` is when the first attempt started."""
        bar = tqdm(
            total=self.total_steps,
            disable=not progress,
            unit="step",
            file=sys.stderr,
            dynamic_ncols=True,
            leave=False,
        )
        try:
            while not self._epoch(data, started, bar):
                pass
        except _Diverged as exc:
            return "diverged", str(exc)
        except _TimedOut as exc:
            return "timeout", str(exc)
        finally:
            bar.close()
        return "ok", None

    def _epoch(self, data: Batches, started: float, bar: Any) -> bool:
        """One pass over ``data`` (cut short when the budget is spent); whether training is
        done."""
        self.model.train()
        dev = data.x.device
        epoch_loss = torch.zeros((), device=dev)
        epoch_steps, done = 0, False
        for xb, yb in data.epoch(self.batch):
            frac = self._progress(started)
            if frac >= 1.0:
                done = True
                break
            epoch_loss += self._step(xb, yb, frac, dev)
            epoch_steps += 1
            bar.update(1)
            if self.step % 25 == 0 and not torch.isfinite(epoch_loss):
                raise _Diverged(f"loss became {epoch_loss.item()} at step {self.step}")
        if epoch_steps:
            mean_loss = (epoch_loss / epoch_steps).item()
            if not math.isfinite(mean_loss):
                raise _Diverged(f"loss became {mean_loss} at step {self.step}")
            self.history.append({"epoch": len(self.history) + 1, "loss": mean_loss, "lr": self.lr})
            bar.set_postfix(loss=f"{mean_loss:.3f}")
        return done or self.step >= self.total_steps

    def _progress(self, started: float) -> float:
        """Where training stands in [0, 1]: the larger of the step and the time fraction."""
        elapsed = time.perf_counter() - started  # an out-of-memory retry shares the clock
        if self.budget.time_limit is not None and elapsed > self.budget.time_limit:
            raise _TimedOut(f"over the time limit of {self.budget.time_limit:g} s")
        frac = self.step / self.total_steps
        if self.budget.seconds is not None:
            frac = max(frac, elapsed / self.budget.seconds)
        return frac

    def _step(self, xb: torch.Tensor, yb: torch.Tensor, frac: float, dev: torch.device):
        """One optimizer step at the schedule's learning rate; its loss, detached."""
        self.lr = lr_at(self.cfg, frac, self.epochs)
        for group in self.optimizer.param_groups:
            group["lr"] = self.lr
        with autocast(dev):
            loss = self.loss_fn(self.model(xb), yb)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self.step += 1
        self.seen += len(yb)
        return loss.detach()
