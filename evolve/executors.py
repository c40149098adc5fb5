"""Executors: where evaluations run. A local pool of worker processes, or Ray tasks.

Both take a batch of ``(key, task)`` pairs and call ``on_result(key, record)`` as each record
arrives (in completion order), so the run can log every finished evaluation at once. A worker
that dies (a segfault, the OOM killer, ``kill -9``) marks its candidate ``error`` and is
replaced; the search goes on.

With GPUs, local workers are pinned round-robin to the devices, so several workers share one
GPU when there are more workers than GPUs (small networks leave an H100 mostly idle); Ray tasks
ask for ``1 / workers_per_gpu`` of a GPU each.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import multiprocessing as mp
import os
import signal
import sys
import traceback
from collections.abc import Callable
from multiprocessing.connection import wait
from typing import Any

from evolve.evaluate import evaluate_task
from genesis import GenesisError
from genesis.record import TrainResult

__all__ = ["Executor", "LocalExecutor", "RayExecutor", "make_executor", "failure_record"]

Task = dict[str, Any]
OnResult = Callable[[Any, dict[str, Any]], None]


def failure_record(task: Task, status: str, message: str) -> dict[str, Any]:
    """The record of a candidate whose evaluation did not come back (from the task alone)."""
    batch = json.loads(task["arch"])["train"]["batch_size"]
    return TrainResult.failed(
        task["macs"],
        task["params"],
        status,
        message,
        seed=task["seed"],
        batch_size=batch,
        final=bool(task.get("final")),
    ).to_dict()


def _cores() -> int:
    """The cores this process may run on (its affinity mask, which containers narrow)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _gpu_count() -> int:
    try:
        import torch

        return torch.cuda.device_count() if torch.cuda.is_available() else 0
    except Exception:  # pragma: no cover - a broken CUDA install: run on the CPU
        return 0


class Executor:
    """Runs batches of evaluation tasks."""

    def run(self, tasks: list[tuple[Any, Task]], on_result: OnResult) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Release workers."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _die_with_parent() -> None:
    """Linux: have the kernel kill this worker when the search process dies (even by SIGKILL)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _worker_main(conn, device: str | None, threads: int) -> None:  # pragma: no cover
    # Ctrl-C reaches the whole process group: the search process handles it (it records the
    # run as interrupted and stops its workers), so a worker neither dies on it nor prints a
    # traceback of its own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent()
    import torch

    # Workers share the cores: without this each would start a thread per core and they would
    # oversubscribe the machine (OpenMP threads spinning against each other).
    torch.set_num_threads(threads)
    if device and device.startswith("cuda"):
        os.environ.setdefault("CUDA_MODULE_LOADING", "LAZY")
    while True:
        try:
            msg = conn.recv()
        except EOFError:
            return
        if msg is None:
            return
        key, task = msg
        try:
            record = evaluate_task(task, device=device)
        except Exception as exc:  # the trainer contains faults; this catches the rest
            record = failure_record(task, "error", f"{type(exc).__name__}: {exc}")
            record["traceback"] = traceback.format_exc(limit=5)
        conn.send((key, record))


class _Worker:
    def __init__(self, ctx, device: str | None, threads: int):
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_worker_main, args=(child, device, threads), daemon=True)
        self.process.start()
        child.close()
        self.device = device
        self.threads = threads
        self.job: tuple[Any, Task] | None = None

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.conn.send(None)
        self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.conn.close()


class LocalExecutor(Executor):
    """A pool of ``workers`` persistent processes (spawned), each evaluating one task at a time."""

    def __init__(self, workers: int = 1, devices: list[str] | None = None):
        self.ctx = mp.get_context("spawn")
        gpus = _gpu_count()
        if devices is None:
            devices = [f"cuda:{i % gpus}" for i in range(workers)] if gpus else [None] * workers
        self.devices = devices
        self.threads = max(1, _cores() // max(1, len(devices)))
        self.workers = [_Worker(self.ctx, d, self.threads) for d in devices]

    def run(self, tasks: list[tuple[Any, Task]], on_result: OnResult) -> None:
        try:
            self._run(tasks, on_result)
        except BaseException:
            # Interrupted mid-batch (Ctrl-C, a failing callback): workers still holding a job are
            # replaced, so the pool is consistent if it is used again.
            for worker in list(self.workers):
                if worker.job is not None:
                    worker.process.kill()
                    worker.process.join()
                    self._replace(worker)
            raise

    def _run(self, tasks: list[tuple[Any, Task]], on_result: OnResult) -> None:
        queue = list(tasks)
        busy: dict[int, _Worker] = {}
        while queue or busy:
            for i, worker in enumerate(self.workers):
                if worker.job is None and queue:
                    if not worker.process.is_alive():  # died while idle: replace it first
                        worker = self._replace(worker)
                    try:
                        worker.conn.send(queue[0])
                    except OSError:  # died between the check and the send
                        worker = self._replace(self.workers[i])
                        worker.conn.send(queue[0])
                    worker.job = queue.pop(0)
                    busy[id(worker)] = worker
            ready = wait(
                [w.conn for w in busy.values()] + [w.process.sentinel for w in busy.values()]
            )
            for worker in list(busy.values()):
                key, task = worker.job  # type: ignore[misc]
                if worker.conn in ready or worker.conn.poll():
                    try:
                        got_key, record = worker.conn.recv()
                    except (EOFError, OSError):
                        got_key, record = key, None
                    if record is not None:
                        worker.job = None
                        del busy[id(worker)]
                        on_result(got_key, record)
                        continue
                if not worker.process.is_alive():
                    code = worker.process.exitcode
                    worker.job = None
                    del busy[id(worker)]
                    self._replace(worker)
                    on_result(key, failure_record(task, "error", f"worker died (exit code {code})"))

    def _replace(self, dead: _Worker) -> _Worker:
        i = self.workers.index(dead)
        with contextlib.suppress(OSError):
            dead.conn.close()
        self.workers[i] = _Worker(self.ctx, dead.device, dead.threads)
        return self.workers[i]

    def close(self) -> None:
        for worker in self.workers:
            worker.stop()
        self.workers = []


class RayExecutor(Executor):
    """Evaluations as Ray tasks, on a local instance or the cluster at ``address``."""

    def __init__(self, workers: int = 1, address: str | None = None, workers_per_gpu: int = 2):
        try:
            import ray
        except ImportError:
            raise GenesisError(
                "executor ray needs the ray package: pip install 'genesis-nas[ray]'"
            ) from None
        self.ray = ray
        self.started = not ray.is_initialized()
        if self.started:
            kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
            if address:
                kwargs["address"] = address
            else:
                kwargs["num_cpus"] = max(workers, 1)
            try:
                ray.init(**kwargs)
            except Exception as exc:
                raise GenesisError(
                    f"cannot start or reach Ray at {address or 'local'}: {exc}"
                ) from None
        gpus = ray.cluster_resources().get("GPU", 0)
        options: dict[str, Any] = {"max_retries": 0, "num_cpus": 1}
        if gpus:
            options["num_gpus"] = 1 / workers_per_gpu
        self.remote = ray.remote(**options)(evaluate_task)
        self.workers = workers

    def run(self, tasks: list[tuple[Any, Task]], on_result: OnResult) -> None:
        ray = self.ray
        queue = list(tasks)
        pending: dict[Any, tuple[Any, Task]] = {}
        while queue or pending:
            while queue and len(pending) < self.workers:
                key, task = queue.pop(0)
                pending[self.remote.remote(task)] = (key, task)
            done, _ = ray.wait(list(pending), num_returns=1)
            for ref in done:
                key, task = pending.pop(ref)
                try:
                    record = ray.get(ref)
                except Exception as exc:  # a worker died or the task raised
                    record = failure_record(
                        task, "error", f"ray task failed: {type(exc).__name__}: {exc}"
                    )
                on_result(key, record)

    def close(self) -> None:
        if self.started and self.ray.is_initialized():
            self.ray.shutdown()


def make_executor(
    kind: str, workers: int, address: str | None = None, workers_per_gpu: int = 2
) -> Executor:
    """``"local"`` or ``"ray"``."""
    if kind == "ray":
        return RayExecutor(workers, address, workers_per_gpu)
    if kind == "local":
        return LocalExecutor(workers)
    raise GenesisError(f"unknown executor {kind!r}; use local or ray")
