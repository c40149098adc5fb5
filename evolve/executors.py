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
import multiprocessing as mp
import os
import re
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from multiprocessing.connection import wait
from pathlib import Path
from typing import Any

from evolve.evaluate import evaluate_task, failure_record
from genesis import GenesisError

__all__ = [
    "Executor",
    "InlineExecutor",
    "LocalExecutor",
    "RayExecutor",
    "make_executor",
    "failure_record",
    "root_cause",
]

Task = dict[str, Any]
OnResult = Callable[[Any, dict[str, Any]], None]


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_EXCEPTION_LINE = re.compile(
    r"^\s*([A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt|Warning))\b:?(.*)$"
)


def root_cause(exc: BaseException) -> str:
    """One line for what really went wrong behind ``exc``: the innermost exception of its
    chain (Ray's ``cause``, Python's ``__cause__``), and, where its message carries a remote
    traceback, the traceback's last exception line (e.g. the ``ModuleNotFoundError`` behind
    Ray's "The remote function failed to import on the worker").

    Examples
    --------
    >>> try:
    ...     try:
    ...         import no_such_module_here
    ...     except ImportError as inner:
    ...         raise RuntimeError("wrapper") from inner
    ... except RuntimeError as outer:
    ...     print(root_cause(outer))
    ModuleNotFoundError: No module named 'no_such_module_here'
    """
    seen = {id(exc)}
    while True:
        nxt = getattr(exc, "cause", None) or exc.__cause__
        if not isinstance(nxt, BaseException) or id(nxt) in seen:
            break
        seen.add(id(nxt))
        exc = nxt
    text = _ANSI.sub("", str(exc))
    lines = [line for line in text.splitlines() if line.strip()]
    head = f"{type(exc).__name__}: {lines[0].strip() if lines else ''}".rstrip(": ")
    last = next((m for m in map(_EXCEPTION_LINE.match, reversed(lines)) if m), None)
    if last and "Traceback (most recent call last)" in text:
        return " ".join(f"{last.group(1)}:{last.group(3)} (raised in a worker: {head})".split())
    return " ".join(head.split())


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
    """Runs evaluation tasks asynchronously: :meth:`submit` one to a free worker, take finished
    ones with :meth:`next_result` in completion order. ``busy_seconds`` adds up, over every
    worker, the time from a task's submission to its record's arrival (what worker utilization,
    busy / (workers x wall), is computed from)."""

    workers: int = 1
    busy_seconds: float = 0.0

    def free(self) -> int:
        """How many more tasks can be submitted now."""
        raise NotImplementedError

    def submit(self, key: Any, task: Task) -> None:
        """Start ``task`` on a free worker (there must be one: see :meth:`free`)."""
        raise NotImplementedError

    def next_result(self) -> tuple[Any, dict[str, Any]]:
        """Wait for the next finished task: its key and record (a failure record when its
        worker died)."""
        raise NotImplementedError

    def abort(self) -> None:
        """Drop every task still running (their workers are replaced)."""

    def run(self, tasks: list[tuple[Any, Task]], on_result: OnResult) -> None:
        """Evaluate every task, calling ``on_result(key, record)`` as each one finishes."""
        queue = list(tasks)
        outstanding = 0
        try:
            while queue or outstanding:
                while queue and self.free() > 0:
                    self.submit(*queue.pop(0))
                    outstanding += 1
                key, record = self.next_result()
                outstanding -= 1
                on_result(key, record)
        except BaseException:
            # Interrupted (Ctrl-C, a failing callback): workers still holding a task are
            # replaced, so the executor is consistent if it is used again.
            self.abort()
            raise

    def close(self) -> None:
        """Release workers."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class InlineExecutor(Executor):
    """Evaluations in this process, one at a time, in the order submitted: for notebooks,
    debugging and tests. Nothing is contained: a crash here is the caller's. ``workers`` is
    how many tasks it takes at once (they run one after the other)."""

    def __init__(self, workers: int = 1):
        self.workers = workers
        self.busy_seconds = 0.0
        self.queue: list[tuple[Any, Task]] = []

    def free(self) -> int:
        return self.workers - len(self.queue)

    def submit(self, key: Any, task: Task) -> None:
        self.queue.append((key, task))

    def next_result(self) -> tuple[Any, dict[str, Any]]:
        key, task = self.queue.pop(0)
        started = time.perf_counter()
        try:
            return key, self.evaluate(task)
        finally:
            self.busy_seconds += time.perf_counter() - started

    def evaluate(self, task: Task) -> dict[str, Any]:
        """One task's record (:func:`~evolve.evaluate.evaluate_task`)."""
        return evaluate_task(task)

    def abort(self) -> None:
        self.queue.clear()


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
        self.started = 0.0  # when its job was sent

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
        self.pool = [_Worker(self.ctx, d, self.threads) for d in devices]
        self.busy_seconds = 0.0

    @property
    def workers(self) -> int:  # type: ignore[override]
        return len(self.pool)

    def free(self) -> int:
        return sum(w.job is None for w in self.pool)

    def submit(self, key: Any, task: Task) -> None:
        i = next(i for i, w in enumerate(self.pool) if w.job is None)
        worker = self.pool[i]
        if not worker.process.is_alive():  # died while idle: replace it first
            worker = self._replace(worker)
        try:
            worker.conn.send((key, task))
        except OSError:  # died between the check and the send
            worker = self._replace(self.pool[i])
            worker.conn.send((key, task))
        worker.job = (key, task)
        worker.started = time.perf_counter()

    def next_result(self) -> tuple[Any, dict[str, Any]]:
        busy = [w for w in self.pool if w.job is not None]
        if not busy:
            raise RuntimeError("next_result() with no task running")
        while True:
            ready = wait([w.conn for w in busy] + [w.process.sentinel for w in busy])
            for worker in busy:
                key, task = worker.job  # type: ignore[misc]
                if worker.conn in ready or worker.conn.poll():
                    try:
                        got_key, record = worker.conn.recv()
                    except (EOFError, OSError):
                        got_key, record = key, None
                    if record is not None:
                        self._done(worker)
                        return got_key, record
                if not worker.process.is_alive():
                    code = worker.process.exitcode
                    self._done(worker)
                    self._replace(worker)
                    return key, failure_record(task, "error", f"worker died (exit code {code})")

    def _done(self, worker: _Worker) -> None:
        self.busy_seconds += time.perf_counter() - worker.started
        worker.job = None

    def abort(self) -> None:
        for worker in list(self.pool):
            if worker.job is not None:
                worker.process.kill()
                worker.process.join()
                self._done(worker)
                self._replace(worker)

    def _replace(self, dead: _Worker) -> _Worker:
        i = self.pool.index(dead)
        with contextlib.suppress(OSError):
            dead.conn.close()
        self.pool[i] = _Worker(self.ctx, dead.device, dead.threads)
        return self.pool[i]

    def close(self) -> None:
        for worker in self.pool:
            worker.stop()
        self.pool = []


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
        self._workdir = None
        if self.started:
            # Ray puts the caller's working folder first on its workers' path unless the job
            # has a working_dir: a folder holding a genesis/ folder (the one a user cloned
            # into) would shadow the installed package there. An empty working_dir keeps the
            # workers on the installed genesis; task paths are made absolute (submit).
            self._workdir = tempfile.TemporaryDirectory(prefix="genesis-ray-")
            Path(self._workdir.name, "README").write_text("genesis: Ray workers' empty folder\n")
            kwargs: dict[str, Any] = {
                "include_dashboard": False,
                "log_to_driver": False,
                "runtime_env": {"working_dir": self._workdir.name},
            }
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
        self.busy_seconds = 0.0
        self.pending: dict[Any, tuple[Any, Task, float]] = {}

    def free(self) -> int:
        return self.workers - len(self.pending)

    def submit(self, key: Any, task: Task) -> None:
        self.pending[self.remote.remote(_absolute(task))] = (key, task, time.perf_counter())

    def next_result(self) -> tuple[Any, dict[str, Any]]:
        done, _ = self.ray.wait(list(self.pending), num_returns=1)
        ref = done[0]
        key, task, started = self.pending.pop(ref)
        self.busy_seconds += time.perf_counter() - started
        try:
            record = self.ray.get(ref)
        except Exception as exc:  # a worker died or the task raised
            record = failure_record(task, "error", f"ray task failed: {root_cause(exc)}")
        return key, record

    def abort(self) -> None:
        for ref in list(self.pending):
            with contextlib.suppress(Exception):
                self.ray.cancel(ref, force=True)
        self.pending.clear()

    def close(self) -> None:
        if self.started and self.ray.is_initialized():
            self.ray.shutdown()
        if self._workdir is not None:
            self._workdir.cleanup()


def _absolute(task: Task) -> Task:
    """``task`` with its file paths (and a dataset folder) absolute: a Ray worker runs in a
    folder of its own, not the caller's."""
    out = dict(task)
    for key, value in task.items():
        if key.endswith("_path") and isinstance(value, str):
            out[key] = os.path.abspath(value)
    proxy = task.get("proxy")
    dataset = proxy.get("dataset") if isinstance(proxy, dict) else None
    if isinstance(dataset, str) and os.path.isdir(dataset):
        out["proxy"] = {**proxy, "dataset": os.path.abspath(proxy["dataset"])}
    return out


def make_executor(
    kind: str, workers: int, address: str | None = None, workers_per_gpu: int = 2
) -> Executor:
    """``"local"`` or ``"ray"``."""
    if kind == "ray":
        return RayExecutor(workers, address, workers_per_gpu)
    if kind == "local":
        return LocalExecutor(workers)
    raise GenesisError(f"unknown executor {kind!r}; use local or ray")
