"""Measured costs beside MACs: peak inference memory (traced) and latency (timed)."""

from __future__ import annotations

import json
import math

import pytest
import torch

from evolve.config import load_config
from genesis import load_architecture, save_architecture
from genesis.cli import main
from genesis.compiler import compile_architecture
from genesis.cost import measure_latency, peak_memory
from genesis.presets import build_architecture


def _arch(channels=8, seed=0):
    return build_architecture(
        "fashion-mnist", "ws", {"k": 2, "p": 0.5}, seed=seed, nodes=5, channels=channels
    )


def test_peak_memory_lies_between_the_largest_tensor_and_all_of_them():
    arch = _arch()
    model = compile_architecture(arch).eval()
    sizes = []
    hooks = [
        m.register_forward_hook(lambda m, i, o: sizes.append(o.numel() * 4))
        for m in model.modules()
        if not list(m.children())
    ]
    with torch.no_grad():
        model(torch.zeros(1, *arch.input_shape))
    for h in hooks:
        h.remove()
    mem = peak_memory(arch, model)
    assert max(sizes) < mem.activations < sum(sizes) + 28 * 28 * 4 * 2
    tensors = [*model.parameters(), *model.buffers()]  # BN's step counters are int64
    assert mem.params == sum(t.numel() * t.element_size() for t in tensors)
    assert mem.kb == pytest.approx((mem.activations + mem.params) / 1024)
    # wider stages hold more at once; the same architecture gives the same count
    assert peak_memory(_arch(channels=16)).activations > mem.activations
    assert peak_memory(arch) == mem


def test_latency_is_a_positive_median_and_grows_with_the_batch():
    arch = _arch()
    model = compile_architecture(arch)
    one = measure_latency(model, arch.input_shape, "cpu", batch=1, min_run_time=0.05)
    many = measure_latency(model, arch.input_shape, "cpu", batch=64, min_run_time=0.05)
    assert math.isfinite(one) and 0 < one < many
    assert not model.training


def test_info_prints_the_costs(tmp_path, capsys):
    save_architecture(_arch(), tmp_path / "a.json")
    assert main(["info", str(tmp_path / "a.json"), "--costs", "--json"]) == 0
    costs = json.loads(capsys.readouterr().out)["costs"]
    assert costs["memory_kb"] == pytest.approx(peak_memory(_arch()).kb, abs=1e-3)
    assert costs["latency_ms"] > 0 and costs["device"] == "cpu"


SYNTHETIC = ["evolve", "--fitness", "synthetic", "--workers", "1", "--population", "4"]


def _log(folder):
    return [json.loads(x) for x in (folder / "evaluations.jsonl").read_text().splitlines()]


def test_a_memory_cap_skips_before_training_and_records_keep_the_memory(tmp_path):
    out = tmp_path / "run"
    argv = [*SYNTHETIC, "--generations", "1", "--max-memory-kb", "240", "--out", str(out)]
    assert main(argv) == 0
    log = _log(out)
    trained = [e for e in log if e["kind"] == "train"]
    skipped = [e for e in log if e["kind"] == "skipped"]
    assert trained and skipped
    for e in trained:
        arch = load_architecture(out / "architectures" / f"{e['hash']}.json")
        assert e["result"]["memory_kb"] == pytest.approx(peak_memory(arch).kb, abs=1e-3)
        assert e["result"]["memory_kb"] <= 240
    # each skipped draw says which cap it is over; some are over the memory cap
    assert all(e["reason"].split()[0] in ("macs", "params", "memory_kb") for e in skipped)
    over = [e for e in skipped if e["reason"].startswith("memory_kb")]
    assert over and all(float(e["reason"].split()[1]) > 240 for e in over)
    assert load_config(out / "config.toml").search.max_memory_kb == 240


def test_a_latency_cap_is_measured_by_the_worker_and_the_slow_are_not_trained(tmp_path):
    out = tmp_path / "run"
    argv = [*SYNTHETIC, "--generations", "0", "--max-latency-ms", "0.001", "--out", str(out)]
    assert main([*argv, "--final-top-k", "0"]) == 1  # nothing trained: one line, exit 1
    first = [e for e in _log(out) if e["kind"] == "train"]
    assert first and all(e["result"]["status"] == "over_cap" for e in first)
    for e in first:
        r = e["result"]
        assert r["latency_ms"] > 0.001 and r["accuracy"] is None and r["epochs"] == 0
        assert r["latency_batch"] == 64 and r["latency_batch_ms"] > r["latency_ms"]
        assert "over max_latency_ms" in r["error"]


def test_measure_keeps_latency_in_every_record(tmp_path):
    out = tmp_path / "run"
    argv = [*SYNTHETIC, "--generations", "1", "--measure", "latency", "--out", str(out)]
    assert main([*argv, "--final-top-k", "0"]) == 0
    trained = [e for e in _log(out) if e["kind"] == "train" and not e.get("rung")]
    assert trained and all(e["result"]["latency_ms"] > 0 for e in trained)
    assert all(e["result"]["status"] == "ok" for e in trained)
    assert main(["report", str(out)]) == 0
    assert "Measured costs against MACs" in (out / "report.html").read_text()


def _call(argv):
    try:
        return main([str(a) for a in argv])
    except SystemExit as exc:  # argparse errors
        return exc.code


def test_bad_cost_flags_are_one_line_and_exit_2(tmp_path, capsys):
    assert _call([*SYNTHETIC, "--measure", "speed", "--out", tmp_path / "o"]) == 2
    assert "--measure takes costs of memory, latency" in capsys.readouterr().err
    assert _call([*SYNTHETIC, "--max-memory-kb", "-1", "--out", tmp_path / "o"]) == 2
    assert "max_memory_kb" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
