"""The trainer: learning, honest records, the test set kept out, determinism, faults as statuses."""

from __future__ import annotations

import dataclasses
import json
import math
import time
from itertools import pairwise

import networkx as nx
import pytest
import torch
from torch import nn

import genesis.ops
from genesis import Architecture, Stage, StemLayer, TrainConfig
from genesis.complexity import count_complexity
from genesis.data import Splits, make_splits, synthetic_dataset
from genesis.ops import OPS, ReLUConvBN, register_op
from genesis.train import STATUSES, Budget, TrainResult, lr_at, resolve_device, train_architecture
from graphs import GenesisError, to_dag

SHAPE = (1, 8, 8)


def tiny_arch(
    ops: tuple[str, ...] = ("conv_3x3", "conv_3x3"),
    shape: tuple[int, int, int] = SHAPE,
    **train,
) -> Architecture:
    """Stem conv to 8 channels, then one stage: a chain of ``ops`` at stride 1."""
    cfg = {"batch_size": 32, "epochs": 1, **train}
    return Architecture(
        input_shape=shape,
        num_classes=10,
        stem=(StemLayer(8),),
        stages=(Stage(to_dag(nx.path_graph(len(ops)), op=list(ops)), channels=8, stride=1),),
        train=TrainConfig(**cfg),
    )


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny networks gain nothing from intra-op threads, and lose a lot on a busy machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def learn_splits() -> Splits:
    """1152 training, 128 validation, 128 test examples of 10 classes, 1x8x8."""
    return make_splits(synthetic_dataset(SHAPE, n_train=1280, n_test=128), val_size=128)


@pytest.fixture(scope="module")
def small_splits() -> Splits:
    """192 training (6 batches of 32), 64 validation, 48 test examples."""
    return make_splits(synthetic_dataset(SHAPE, n_train=256, n_test=48, seed=1), val_size=64)


# -- ops that misbehave on purpose ----------------------------------------------------------------
class Probe(nn.Module):
    """ReLU-conv1x1-BN (so ``_conv_cx(1)`` counts it), then an injected behaviour."""

    def __init__(self, c_in: int, c_out: int, stride: int, behave, state: dict):
        super().__init__()
        self.body = ReLUConvBN(c_in, c_out, stride, k=1)
        self.behave, self.state = behave, state

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.behave(self, self.body(x))


def _nan(m, x):
    return x * float("nan")


def _inf(m, x):
    return x * float("inf")


def _oom(m, x):
    if m.training and x.shape[0] > m.state["oom_above"]:
        raise m.state["oom_error"]
    return x


def _error(m, x):
    raise ValueError("injected failure in a node op")


def _count(m, x):
    m.state["train" if m.training else "eval"] += x.shape[0]
    return x


def _slow(m, x):
    time.sleep(0.01)
    return x


PROBES = {
    "probe_nan": _nan,
    "probe_inf": _inf,
    "probe_oom": _oom,
    "probe_error": _error,
    "probe_count": _count,
    "probe_slow": _slow,
}


@pytest.fixture
def probes():
    """Register the probe ops for one test; their shared state is yielded, the registry restored."""
    before = set(OPS)
    state = {"train": 0, "eval": 0, "oom_above": 1 << 30, "oom_error": None}
    for name, behave in PROBES.items():
        register_op(name, genesis.ops._conv_cx(1), f"test probe {name}")(
            lambda c_in, c_out, stride, behave=behave: Probe(c_in, c_out, stride, behave, state)
        )
    yield state
    for name in PROBES:
        OPS.unregister(name)
    assert set(OPS) == before


def assert_failed_record(result: TrainResult, arch: Architecture, status: str) -> None:
    assert isinstance(result, TrainResult)
    assert result.status == status and result.status in STATUSES
    assert result.accuracy is None and result.val_accuracy is None and result.test_accuracy is None
    cx = count_complexity(arch)
    assert (result.macs, result.params, result.flops) == (cx.macs, cx.params, cx.flops)
    assert result.error and "\n" not in result.error
    json.dumps(result.to_dict())


# -- an ordinary run ------------------------------------------------------------------------------
def test_ok_run_learns_and_records_everything(learn_splits):
    arch = tiny_arch(epochs=6)
    result = train_architecture(arch, learn_splits, seed=0, device="cpu", augment=False)
    assert isinstance(result, TrainResult)
    assert result.status == "ok" and result.error is None
    assert result.split == "val"
    assert result.accuracy == result.val_accuracy and result.test_accuracy is None
    assert result.accuracy > 0.6  # chance is 0.1
    cx = count_complexity(arch)
    assert (result.macs, result.params, result.flops) == (cx.macs, cx.params, 2 * cx.macs)
    assert result.seed == 0 and result.epochs == 6 and result.batch_size == 32
    assert result.device == "cpu"
    assert result.train_seconds > 0 and result.samples_per_second > 0
    assert result.peak_memory_bytes > 0
    seen = 6 * (1152 // 32) * 32
    assert result.samples_per_second * result.train_seconds == pytest.approx(seen, rel=0.02)
    assert [h["epoch"] for h in result.history] == [1, 2, 3, 4, 5, 6]
    assert result.history[-1]["loss"] < result.history[0]["loss"]
    assert result.final_loss == result.history[-1]["loss"]
    record = result.to_dict()
    assert json.loads(json.dumps(record)) == record
    assert set(record) == {f.name for f in dataclasses.fields(TrainResult)}


def test_return_model_gives_the_trained_network(small_splits):
    arch = tiny_arch()
    result, model = train_architecture(arch, small_splits, device="cpu", return_model=True)
    assert result.status == "ok"
    assert sum(p.numel() for p in model.parameters()) == result.params
    assert model(torch.zeros(2, *SHAPE)).shape == (2, 10)


# -- the test set ---------------------------------------------------------------------------------
def tripwire():
    """A tensor subclass that records every torch operation applied to it."""
    touched: list[str] = []

    class Tripwire(torch.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            touched.append(getattr(func, "__name__", str(func)))
            return super().__torch_function__(func, types, args, kwargs or {})

    return Tripwire, touched


def test_search_runs_never_touch_the_test_set(small_splits):
    Tripwire, touched = tripwire()
    s = small_splits
    trapped = dataclasses.replace(
        s, test_x=s.test_x.as_subclass(Tripwire), test_y=s.test_y.as_subclass(Tripwire)
    )
    result = train_architecture(tiny_arch(), trapped, device="cpu")
    assert result.status == "ok" and result.split == "val"
    assert touched == []
    # The tripwire works: a final run does touch it.
    final = train_architecture(tiny_arch(), trapped, device="cpu", final=True)
    assert final.status == "ok" and touched


def test_search_runs_work_with_a_garbage_test_set(small_splits):
    garbage = dataclasses.replace(
        small_splits,
        test_x=torch.full((3, 2, 5, 5), 255, dtype=torch.uint8),
        test_y=torch.tensor([99]),
    )
    assert train_architecture(tiny_arch(), garbage, device="cpu").status == "ok"


def test_final_run_trains_on_train_and_val_and_measures_test(small_splits, probes):
    arch = tiny_arch(ops=("probe_count",))
    search = train_architecture(arch, small_splits, device="cpu")
    assert (probes["train"], probes["eval"]) == (192, 64)  # one epoch of train, then val
    assert search.split == "val" and search.test_accuracy is None
    probes.update(train=0, eval=0)
    result = train_architecture(arch, small_splits, device="cpu", final=True)
    assert (probes["train"], probes["eval"]) == (192 + 64, 48)  # train + val, then test
    assert result.status == "ok" and result.split == "test"
    assert result.accuracy == result.test_accuracy is not None and result.val_accuracy is None
    assert result.epochs == 1
    assert result.samples_per_second * result.train_seconds == pytest.approx(256, rel=0.1)


# -- determinism ----------------------------------------------------------------------------------
def test_same_seed_same_run_different_seed_different(small_splits):
    arch = tiny_arch(epochs=2)
    a, model_a = train_architecture(arch, small_splits, seed=3, device="cpu", return_model=True)
    torch.rand(5)  # the global generator is not what seeds a run
    b, model_b = train_architecture(arch, small_splits, seed=3, device="cpu", return_model=True)
    c = train_architecture(arch, small_splits, seed=4, device="cpu")
    assert a.status == b.status == c.status == "ok"
    assert a.history == b.history and a.accuracy == b.accuracy
    state_a, state_b = model_a.state_dict(), model_b.state_dict()
    assert state_a.keys() == state_b.keys()
    for name, value in state_a.items():
        assert torch.equal(value, state_b[name]), name
    assert c.history != a.history
    assert (a.seed, c.seed) == (3, 4)


# -- faults become statuses -----------------------------------------------------------------------
@pytest.mark.parametrize("op", ["probe_nan", "probe_inf"])
def test_non_finite_loss_is_diverged(small_splits, probes, op):
    arch = tiny_arch(ops=("conv_3x3", op), epochs=3)
    result, model = train_architecture(arch, small_splits, device="cpu", return_model=True)
    assert_failed_record(result, arch, "diverged")
    assert model is None
    assert result.error == "loss became nan at step 6"  # checked at the end of the first epoch
    assert result.epochs == 1 and result.history == []


def test_divergence_is_caught_within_a_long_epoch(learn_splits, probes):
    arch = tiny_arch(ops=("probe_nan",), epochs=3)  # 36 steps per epoch
    result = train_architecture(arch, learn_splits, device="cpu")
    assert_failed_record(result, arch, "diverged")
    assert result.error == "loss became nan at step 25"
    assert result.epochs == pytest.approx(25 / 36)


OOM_ERRORS = {
    "cuda": lambda: torch.cuda.OutOfMemoryError("injected"),
    "cpu": lambda: RuntimeError("DefaultCPUAllocator: can't allocate memory: injected"),
}


@pytest.mark.parametrize("kind", sorted(OOM_ERRORS))
def test_out_of_memory_retries_at_half_the_batch(small_splits, probes, kind):
    probes.update(oom_above=20, oom_error=OOM_ERRORS[kind]())  # 32 fails, 16 fits
    arch = tiny_arch(ops=("probe_oom",))
    result = train_architecture(arch, small_splits, device="cpu")
    assert result.status == "ok" and result.batch_size == 16
    assert result.error == "out of memory at batch 32; retried at 16"
    assert result.accuracy is not None and result.epochs == 1


@pytest.mark.parametrize("kind", sorted(OOM_ERRORS))
def test_out_of_memory_twice_is_oom(small_splits, probes, kind):
    probes.update(oom_above=10, oom_error=OOM_ERRORS[kind]())  # neither 32 nor 16 fits
    arch = tiny_arch(ops=("probe_oom",))
    result, model = train_architecture(arch, small_splits, device="cpu", return_model=True)
    assert_failed_record(result, arch, "oom")
    assert model is None and result.batch_size == 16
    want = {"cuda": "OutOfMemoryError: injected", "cpu": "RuntimeError: DefaultCPUAllocator"}
    assert result.error.startswith(want[kind]) and "injected" in result.error


def test_other_runtime_errors_are_not_oom(small_splits, probes):
    probes.update(oom_above=0, oom_error=RuntimeError("mat1 and mat2 shapes cannot be multiplied"))
    arch = tiny_arch(ops=("probe_oom",))
    result = train_architecture(arch, small_splits, device="cpu")
    assert_failed_record(result, arch, "error")
    assert result.batch_size == 32  # no retry
    assert result.error == "RuntimeError: mat1 and mat2 shapes cannot be multiplied"


def test_any_other_exception_is_error(small_splits, probes):
    arch = tiny_arch(ops=("conv_3x3", "probe_error"))
    result, model = train_architecture(arch, small_splits, device="cpu", return_model=True)
    assert_failed_record(result, arch, "error")
    assert model is None
    assert result.error == "ValueError: injected failure in a node op"


def test_time_limit_is_timeout(small_splits, probes):
    arch = tiny_arch(ops=("probe_slow",), epochs=100)  # at least 10 ms a step
    result = train_architecture(arch, small_splits, device="cpu", budget=Budget(time_limit=0.1))
    assert result.status == "timeout"
    assert result.error == "over the time limit of 0.1 s"
    assert 0 < result.epochs < 100
    tiny = train_architecture(arch, small_splits, device="cpu", budget=Budget(time_limit=1e-9))
    assert tiny.status == "timeout" and tiny.epochs == 0


# -- budgets --------------------------------------------------------------------------------------
def test_seconds_budget_stops_early_with_status_ok(small_splits):
    arch = tiny_arch(epochs=1000, lr=0.1)
    result = train_architecture(arch, small_splits, device="cpu", budget=Budget(seconds=1.0))
    assert result.status == "ok" and result.error is None and result.accuracy is not None
    assert 0 < result.epochs < 1000
    assert 0.5 <= result.train_seconds <= 1.0  # the budget counts from the call, set-up included
    # The schedule follows the clock: the learning rate has annealed by the end.
    assert result.history[-1]["lr"] < 0.3 * 0.1


@pytest.mark.parametrize("epochs, steps", [(2, 12), (0.5, 3), (1.5, 9)])
def test_epochs_budget_overrides_the_genome(small_splits, epochs, steps):
    arch = tiny_arch(epochs=50)
    result = train_architecture(arch, small_splits, device="cpu", budget=Budget(epochs=epochs))
    assert result.status == "ok"
    assert result.epochs == steps / 6
    assert len(result.history) == math.ceil(epochs)


@pytest.mark.parametrize("name", ["epochs", "seconds", "time_limit"])
@pytest.mark.parametrize("value", [0, -1, float("nan"), float("inf")])
def test_bad_budget(name, value):
    with pytest.raises(GenesisError, match=f"budget {name} must be a positive number"):
        Budget(**{name: value})


def test_data_that_does_not_fit_is_bad_input(small_splits):
    arch = tiny_arch(shape=(1, 28, 28))
    with pytest.raises(GenesisError, match=r"shape \(1, 8, 8\), the architecture expects"):
        train_architecture(arch, small_splits, device="cpu")
    twelve = make_splits(synthetic_dataset(SHAPE, num_classes=12, n_train=64, n_test=8))
    with pytest.raises(GenesisError, match="has 12 classes, the architecture only 10"):
        train_architecture(tiny_arch(), twelve, device="cpu")
    with pytest.raises(GenesisError, match="unknown device 'bogus'"):
        train_architecture(tiny_arch(), small_splits, device="bogus")


# -- schedules ------------------------------------------------------------------------------------
def test_lr_onecycle():
    cfg = TrainConfig(lr=0.1, schedule="onecycle")
    lrs = [lr_at(cfg, i / 100, 10) for i in range(101)]
    assert lrs[0] == pytest.approx(0.1 / 25)
    assert max(lrs) == pytest.approx(0.1) and lrs.index(max(lrs)) == 25
    assert all(a < b for a, b in pairwise(lrs[:26]))  # warm-up
    assert all(a > b for a, b in pairwise(lrs[25:]))  # then decay
    assert lrs[-1] == pytest.approx(0.1 / 1e4)
    assert lr_at(cfg, -1, 10) == lrs[0] and lr_at(cfg, 2, 10) == lrs[-1]


def test_lr_cosine_with_warmup():
    cfg = TrainConfig(lr=0.2, schedule="cosine", warmup_epochs=1)
    assert lr_at(cfg, 0.0, 10) == 0
    assert lr_at(cfg, 0.05, 10) == pytest.approx(0.1)
    assert lr_at(cfg, 0.1, 10) == pytest.approx(0.2)
    assert lr_at(cfg, 0.55, 10) == pytest.approx(0.1)  # half-way through the decay
    assert lr_at(cfg, 1.0, 10) == pytest.approx(0.0, abs=1e-12)
    lrs = [lr_at(cfg, i / 100, 10) for i in range(10, 101)]
    assert all(a > b for a, b in pairwise(lrs))
    # Warm-up is capped at half the run.
    assert lr_at(cfg, 0.5, 1) == pytest.approx(0.2) and lr_at(cfg, 0.25, 1) == pytest.approx(0.1)


def test_lr_cosine_without_warmup_and_constant():
    cosine = TrainConfig(lr=0.2, schedule="cosine")
    assert lr_at(cosine, 0.0, 10) == pytest.approx(0.2)
    assert lr_at(cosine, 0.5, 10) == pytest.approx(0.1)
    assert lr_at(cosine, 1.0, 10) == pytest.approx(0.0, abs=1e-12)
    constant = TrainConfig(lr=0.03, schedule="constant")
    assert {lr_at(constant, i / 10, 10) for i in range(-2, 13)} == {0.03}


# -- devices --------------------------------------------------------------------------------------
def test_resolve_device_default():
    want = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device(None).type == want
    assert resolve_device("cpu") == torch.device("cpu")


def test_resolve_device_without_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device(None) == torch.device("cpu")
    for name in ("cuda", "cuda:0"):
        with pytest.raises(
            GenesisError, match=f"device '{name}' requested but this machine has no"
        ):
            resolve_device(name)


def test_resolve_device_missing_gpu_index(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    with pytest.raises(GenesisError, match="'cuda:3' does not exist; this machine has 1 GPUs"):
        resolve_device("cuda:3")


@pytest.mark.parametrize("name, message", [("bogus", "unknown device"), ("meta", "not supported")])
def test_resolve_device_rejects(name, message):
    with pytest.raises(GenesisError, match=message):
        resolve_device(name)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_bf16_run_on_cuda(learn_splits):
    arch = tiny_arch(epochs=6)
    result = train_architecture(arch, learn_splits, device="cuda", augment=False)
    assert result.status == "ok" and result.error is None
    assert result.device.startswith("cuda")
    assert result.accuracy > 0.5
    assert 0 < result.peak_memory_bytes < torch.cuda.get_device_properties(0).total_memory
