"""Failures said out loud: what most candidates died of, a warning while a run goes wrong, the
error that ends a run in which nothing trained, and a warning at chance level.

A run's log says what happened to every candidate; :class:`Failures` counts it (records as
they arrive, or a whole log) and names the most common cause, so a run whose every candidate
failed ends with that cause, its count and where the log is, instead of a normal summary.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from graphs import RunFailed

__all__ = ["CHANCE_MARGIN", "MIN_SEEN", "Failures", "cause", "chance_warning"]

#: Candidates that must be back before :meth:`Failures.warning` judges a run.
MIN_SEEN = 4

#: Accuracy within this of chance (1 / classes) gets a warning: the networks learned nothing.
CHANCE_MARGIN = 0.02

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_NOISE = re.compile(r"\b(pid|ip|port)=[^\s,)]+")
_ADDRESS = re.compile(r"0x[0-9a-fA-F]+")


def cause(record: dict[str, Any]) -> str:
    """One line for why a record failed: its status and error, without what differs between
    one failure and the next of the same kind (process ids, addresses, terminal colours).

    Examples
    --------
    >>> cause({"status": "error", "error": "RuntimeError: boom (pid=12, ip=10.0.0.1)"})
    'error: RuntimeError: boom (pid=, ip=)'
    >>> cause({"status": "timeout", "error": None})
    'timeout'
    """
    status = str(record.get("status") or "error")
    error = record.get("error")
    if not error:
        return status
    text = _ADDRESS.sub("0x", _NOISE.sub(r"\1=", _ANSI.sub("", str(error))))
    text = " ".join(text.split())
    return f"{status}: {text[:300]}"


@dataclass
class Failures:
    """Counts of what came back: trained (``ok``), failed by cause, skipped by reason."""

    ok: int = 0
    failed: Counter = field(default_factory=Counter)  # cause -> count
    skipped: Counter = field(default_factory=Counter)  # reason -> count
    warned: bool = False  # the warning was given (once a run)

    def add(self, record: dict[str, Any] | None, reason: str | None = None) -> None:
        """Count one candidate: a trained record, or (``record`` None) a skip for ``reason``."""
        if record is None:
            self.skipped[" ".join(str(reason or "skipped").split())[:200]] += 1
        elif record.get("status") == "ok":
            self.ok += 1
        else:
            self.failed[cause(record)] += 1

    @classmethod
    def of_log(cls, entries: Iterable[dict[str, Any]]) -> Failures:
        """The counts of a run's log (``evaluations.jsonl``): first-rung trainings, and draws
        skipped; a later rung of a candidate is not a new candidate."""
        out = cls()
        for e in entries:
            if not isinstance(e, dict):
                continue
            kind = e.get("kind")
            if kind == "train" and not e.get("rung") and isinstance(e.get("result"), dict):
                out.add(e["result"])
            elif kind == "skipped":
                out.add(None, e.get("reason"))
        return out

    @property
    def trained(self) -> int:
        """Candidates whose training came back, ok or not."""
        return self.ok + sum(self.failed.values())

    def most_common(self) -> str:
        """``N x CAUSE`` of the most common failure (or skip, when nothing trained)."""
        counts = self.failed or self.skipped
        if not counts:
            return "nothing was drawn"
        (what, n), *_ = counts.most_common(1)
        return f"{n} x {what}"

    def warning(self) -> str | None:
        """A line to log once more than half of at least :data:`MIN_SEEN` trainings failed."""
        failed = sum(self.failed.values())
        if self.warned or self.trained < MIN_SEEN or 2 * failed <= self.trained:
            return None
        self.warned = True
        return (
            f"warning: {failed} of {self.trained} candidates failed so far; most common: "
            f"{self.most_common()}"
        )

    def check(self, what: str, log: str) -> None:
        """Raise :class:`~graphs.errors.RunFailed` when no candidate trained ok.

        Examples
        --------
        >>> f = Failures()
        >>> f.add({"status": "error", "error": "ImportError: no genesis"})
        >>> f.check("search", "runs/a/evaluations.jsonl")
        Traceback (most recent call last):
        ...
        graphs.errors.RunFailed: no candidate of the search trained (1 failed, 0 skipped); most common: 1 x error: ImportError: no genesis; see runs/a/evaluations.jsonl
        """  # noqa: E501
        if self.ok:
            return
        raise RunFailed(
            f"no candidate of the {what} trained ({sum(self.failed.values())} failed, "
            f"{sum(self.skipped.values())} skipped); most common: {self.most_common()}; "
            f"see {log}"
        )


def chance_warning(accuracy: float | None, classes: int, what: str) -> str | None:
    """A warning line when ``accuracy`` is within :data:`CHANCE_MARGIN` of chance, else None.

    Examples
    --------
    >>> chance_warning(0.11, 10, "the best candidate")
    'warning: the best candidate scores 0.1100, within 0.02 of chance (0.1000 for 10 classes)'
    >>> chance_warning(0.5, 10, "the best candidate") is None
    True
    """
    if accuracy is None or classes < 2:
        return None
    chance = 1 / classes
    if accuracy > chance + CHANCE_MARGIN:
        return None
    return (
        f"warning: {what} scores {accuracy:.4f}, within {CHANCE_MARGIN:g} of chance "
        f"({chance:.4f} for {classes} classes)"
    )
