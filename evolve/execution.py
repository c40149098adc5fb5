"""Where a search runs (``[execution]``): the executor, its workers and their caps."""

from __future__ import annotations

import os
from dataclasses import dataclass

from evolve.checks import check_types
from evolve.numbers import positive
from genesis import GenesisError

__all__ = [
    "MAX_WORKERS",
    "MAX_WORKERS_PER_CPU",
    "MAX_WORKERS_PER_GPU",
    "ExecutionConfig",
    "cpu_count",
]

#: Parallel evaluations per CPU of this machine (``execution.workers`` above
#: ``cpu_count() * MAX_WORKERS_PER_CPU`` needs ``execution.force_workers = true``, or the flag
#: ``--force-workers``, e.g. for a ray cluster larger than this machine).
MAX_WORKERS_PER_CPU = 4

#: Most parallel evaluations, forced or not.
MAX_WORKERS = 1024

#: Most workers sharing one GPU.
MAX_WORKERS_PER_GPU = 64


def cpu_count() -> int:
    """CPUs this process may run on (its affinity mask where the platform has one)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):  # pragma: no cover - macOS, Windows
        return os.cpu_count() or 1


@dataclass(frozen=True)
class ExecutionConfig:
    """Where evaluations run."""

    executor: str = "local"  # local (process pool) | ray
    workers: int = 2  # parallel evaluations
    address: str | None = None  # ray: cluster address (default: start a local instance)
    workers_per_gpu: int = 2  # several workers may share one GPU (small networks leave it idle)
    # workers may exceed cpu_count() * MAX_WORKERS_PER_CPU (not MAX_WORKERS): a large cluster
    force_workers: bool = False

    def __post_init__(self) -> None:
        if self.executor not in ("local", "ray"):
            raise GenesisError(f"execution executor must be local or ray, got {self.executor!r}")
        positive("execution", "workers", self.workers)
        positive("execution", "workers_per_gpu", self.workers_per_gpu)
        check_types(self, "execution")
        if self.workers > MAX_WORKERS:
            raise GenesisError(
                f"execution workers is {self.workers}; the cap is MAX_WORKERS = {MAX_WORKERS}"
            )
        per_machine = cpu_count() * MAX_WORKERS_PER_CPU
        if self.workers > per_machine and not self.force_workers:
            raise GenesisError(
                f"execution workers is {self.workers}; the cap is {cpu_count()} CPUs x "
                f"MAX_WORKERS_PER_CPU = {per_machine} (force_workers = true or --force-workers "
                f"lifts it up to MAX_WORKERS = {MAX_WORKERS})"
            )
        if self.workers_per_gpu > MAX_WORKERS_PER_GPU:
            raise GenesisError(
                f"execution workers_per_gpu is {self.workers_per_gpu}; the cap is "
                f"MAX_WORKERS_PER_GPU = {MAX_WORKERS_PER_GPU}"
            )
