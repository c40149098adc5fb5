"""A recorded benchmark of the main job's own search space (a NAS-Bench of random-graph networks).

NAS-Bench-201 and -301 let a search strategy be compared at hundreds of seeds by looking up
trainings that were paid for once. This script pays for them on Fashion-MNIST, for the space the
main job searches (``genesis evolve`` on its defaults: the ``fashion-mnist`` preset, ER/WS/BA
stages of 4-10 nodes, base width 8/12/16, one op per stage, at most 3M MACs and 100k params).

The plan (``architectures.jsonl``, fixed by ``--seed``):

- ``--archs`` networks (300) drawn by the space's own sampler under the caps, chosen one at a
  time from a large feasible pool so that family, generator parameters (binned), nodes, width and
  each stage's op stay balanced (a greedy balanced design: every prefix of the plan is itself
  close to balanced, so a recording cut short is still a stratified sample).
- every network: the main job's rungs with the main job's protocol (10,000 training examples,
  validation split 2,000 with seed 0, the search's own training task
  :func:`evolve.evaluate.make_task`), 1 epoch then 2 more continued from its weights and
  optimizer state (ASHA's promotion), scored after each rung on the first half of the
  validation split (``val``: what a search sees) and on the second half (``holdout``: what a
  benchmark scores fronts on). The mean of the two is the main job's 2,000-example score.
- every network: a screening rung, 1/3 epoch from scratch (a cheap first rung).
- the first ``--seeds2`` (100): the same rungs again with training seed 1 (the noise ceiling).
- the first ``--finals`` (40): the main job's final protocol (all 60,000 training examples, batch
  256 with the learning rate scaled as ``[final] lr_scaling = "auto"``, 8 epochs; the seconds cap
  is lifted so the protocol does not depend on the machine's speed), scored once on the test
  split. Nothing here chooses an architecture with the test split.

Every finished job is one line of ``records.jsonl``, appended and flushed; a killed recording
resumes with the same command and trains only what the file lacks (a line cut by the kill is
ignored and its job trained again). ``meta.json`` names the machine and the protocol.

Run: ``python benchmarks/spacebench.py record --out benchmarks/results/spacebench-cpu
[--workers 1] [--threads 1] [--limit N]``; ``python benchmarks/spacebench.py status --out DIR``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

from evolve.config import FinalConfig, ProxyConfig
from evolve.evaluate import evaluate_task, make_task
from evolve.space import SearchSpace, SpaceConfig
from genesis import Architecture, architecture_hash
from genesis.complexity import count_complexity

#: The main job's caps (evolve.config.SearchConfig defaults).
MAX_MACS, MAX_PARAMS = 3e6, 100_000

#: The main job's proxy, with the validation split halved into val (searched) and holdout.
PROXY = ProxyConfig(subset=10_000, val_size=2000, split_seed=0, rungs=(1.0, 3.0), holdout=1000)

SCREEN_EPOCHS = 1 / 3


def _config(arch: Architecture) -> dict[str, Any]:
    """The sampler's choices behind ``arch``: family, parameters, nodes, width, stage ops."""
    origin = dict(arch.stages[0].origin or {})
    ops = []
    for stage in arch.stages:
        node_ops = {d.get("op") for v, d in stage.graph.nodes(data=True) if d.get("op")}
        ops.append(node_ops.pop() if len(node_ops) == 1 else "mixed")
    return {
        "family": origin.get("family"),
        "params": origin.get("params", {}),
        "nodes": origin.get("nodes"),
        "channels": arch.stem[0].channels,
        "ops": ops,
    }


def _levels(cfg: dict[str, Any], macs: int) -> list[tuple[str, Any]]:
    """The factors the plan balances, each binned to a few levels (MACs in fifths of the cap)."""
    p = cfg["params"]
    if cfg["family"] == "er":
        gen = ("er", min(2, int((p["p"] - 0.1) / (0.5 / 3))))
    elif cfg["family"] == "ws":
        gen = ("ws", p["k"], min(1, int(p["p"] / 0.5)))
    else:
        gen = (cfg["family"], p.get("m"))
    levels = [
        ("family", cfg["family"]),
        ("generator", gen),
        ("nodes", cfg["nodes"]),
        ("channels", cfg["channels"]),
        ("macs", min(4, int(5 * macs / MAX_MACS))),
    ]
    levels += [(f"op{i}", op) for i, op in enumerate(cfg["ops"])]
    return levels


def plan(archs: int, seed: int, pool: int = 6000) -> list[dict[str, Any]]:
    """``archs`` feasible networks of the main job's space, chosen greedily for balance."""
    space, rng = SearchSpace(SpaceConfig()), random.Random(seed)
    feasible, draws = [], 0
    while len(feasible) < pool:
        draws += 1
        arch = space.sample(rng)
        cx = count_complexity(arch)
        if cx.macs <= MAX_MACS and cx.params <= MAX_PARAMS:
            cfg = _config(arch)
            feasible.append((arch, cx, cfg, _levels(cfg, cx.macs)))
    # each level's count relative to its factor's share (a factor of k levels: 1/k each)
    share = Counter(f for f, _ in {lv for *_, levels in feasible for lv in levels})
    counts: Counter = Counter()
    seen: set[str] = set()
    chosen = []
    while len(chosen) < archs:
        batch = rng.sample(range(len(feasible)), 256)
        best = min(
            batch, key=lambda j: (sum(counts[lv] * share[lv[0]] for lv in feasible[j][3]), j)
        )
        arch, cx, cfg, levels = feasible[best]
        h = architecture_hash(arch)
        if h in seen:
            continue
        seen.add(h)
        counts.update(levels)
        chosen.append(
            {
                "index": len(chosen),
                "hash": h,
                "macs": cx.macs,
                "params": cx.params,
                "config": cfg,
                "arch": json.loads(arch.to_json()),
            }
        )
    print(
        f"plan: {archs} networks chosen from {pool} feasible of {draws} draws "
        f"({pool / draws:.0%} under {MAX_MACS:g} MACs and {MAX_PARAMS} params)",
        file=sys.stderr,
    )
    return chosen


def jobs(archs: int, seeds2: int, finals: int) -> list[tuple[str, int, int]]:
    """(kind, index, seed) in recording order: rungs and screen of every network, a second seed
    for the first ``seeds2`` interleaved (one per three networks), then the final protocol."""
    out: list[tuple[str, int, int]] = []
    second = iter(range(seeds2))
    for i in range(archs):
        out += [("rungs", i, 0), ("screen", i, 0)]
        if i % 3 == 2:
            j = next(second, None)
            if j is not None:
                out.append(("rungs", j, 1))
    out += [("rungs", j, 1) for j in second]
    out += [("final", i, 0) for i in range(finals)]
    return out


def key(kind: str, index: int, seed: int) -> str:
    return f"{kind}-{index:03d}-s{seed}"


def _rung(record: dict[str, Any], epochs: float) -> dict[str, Any]:
    return {
        "epochs": epochs,
        "status": record["status"],
        "val": record.get("val_accuracy"),
        "holdout": record.get("holdout_accuracy"),
        "seconds": record.get("train_seconds"),
        "loss": [h["loss"] for h in record.get("history") or []],
        "error": record.get("error"),
    }


def run_job(job: tuple[str, int, int], entry: dict[str, Any]) -> dict[str, Any]:
    """Train one job with the search's own task; the line that goes into ``records.jsonl``."""
    kind, index, seed = job
    text = json.dumps(entry["arch"])
    cx = (entry["macs"], entry["params"])
    out: dict[str, Any] = {"key": key(*job), "kind": kind, "index": index, "seed": seed}
    out["hash"] = entry["hash"]
    started = time.time()
    if kind == "screen":
        record = evaluate_task(make_task(text, seed, PROXY, complexity=cx, epochs=SCREEN_EPOCHS))
        out["rungs"] = [_rung(record, SCREEN_EPOCHS)]
    elif kind == "rungs":
        with tempfile.TemporaryDirectory() as tmp:
            state = os.path.join(tmp, "rung0.pt")
            task = make_task(text, seed, PROXY, complexity=cx, epochs=PROXY.rungs[0])
            task["state_path"] = state
            first = evaluate_task(task)
            out["rungs"] = [_rung(first, PROXY.rungs[0])]
            if first["status"] == "ok" and os.path.exists(state):
                task = make_task(
                    text, seed, PROXY, complexity=cx, epochs=PROXY.rungs[1] - PROXY.rungs[0]
                )
                task["resume_path"] = state
                out["rungs"].append(_rung(evaluate_task(task), PROXY.rungs[1]))
    else:  # the main job's final step (evolve.final.run_final), without its seconds cap
        final = FinalConfig()
        arch = Architecture.from_json(text)
        t = arch.train
        lr = min(10.0, t.lr * final.lr_factor(t.batch_size, t.optimizer))
        arch = arch.replace(train=replace(t, batch_size=final.batch_size, lr=round(lr, 6)))
        task = make_task(
            arch.to_json(), seed, PROXY, complexity=cx, final=True, epochs=final.epochs
        )
        record = evaluate_task(task)
        out["final"] = {
            "status": record["status"],
            "test": record.get("test_accuracy"),
            "epochs": record.get("epochs"),
            "batch_size": final.batch_size,
            "lr": arch.train.lr,
            "seconds": record.get("train_seconds"),
            "loss": [h["loss"] for h in record.get("history") or []],
            "error": record.get("error"),
        }
    out["wall"] = round(time.time() - started, 2)
    return out


def _init(threads: int) -> None:
    torch.set_num_threads(threads)


def read_records(path: Path) -> dict[str, dict[str, Any]]:
    """The finished jobs by key; a line cut short by a kill is left out."""
    done: dict[str, dict[str, Any]] = {}
    if not path.exists():
        return done
    for line in path.read_text().splitlines():
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(rec, dict) and "key" in rec:
            done[rec["key"]] = rec
    return done


def _meta(args: argparse.Namespace) -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "machine": f"{os.cpu_count()} cores, {cpu}",
        "torch": torch.__version__,
        "python": platform.python_version(),
        "workers": args.workers,
        "threads_per_worker": args.threads,
        "protocol": {
            "proxy": {
                "dataset": PROXY.dataset,
                "subset": PROXY.subset,
                "val_size": PROXY.val_size,
                "holdout": PROXY.holdout,
                "split_seed": PROXY.split_seed,
                "rungs": list(PROXY.rungs),
                "time_limit": PROXY.time_limit,
            },
            "screen_epochs": SCREEN_EPOCHS,
            "final": {
                "epochs": FinalConfig().epochs,
                "batch_size": FinalConfig().batch_size,
                "lr_scaling": FinalConfig().lr_scaling,
                "seconds": None,
            },
            "caps": {"max_macs": MAX_MACS, "max_params": MAX_PARAMS},
        },
        "plan": {
            "archs": args.archs,
            "seeds2": args.seeds2,
            "finals": args.finals,
            "seed": args.seed,
        },
    }


def record(args: argparse.Namespace) -> None:
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    arch_path, rec_path = out / "architectures.jsonl", out / "records.jsonl"
    if arch_path.exists():
        entries = [json.loads(line) for line in arch_path.read_text().splitlines() if line]
    else:
        entries = plan(args.archs, args.seed)
        arch_path.write_text("".join(json.dumps(e, sort_keys=True) + "\n" for e in entries))
    meta_path = out / "meta.json"
    if not meta_path.exists():
        meta_path.write_text(json.dumps(_meta(args), indent=2) + "\n")
    done = read_records(rec_path)
    todo = [j for j in jobs(len(entries), args.seeds2, args.finals) if key(*j) not in done]
    if args.limit is not None:
        todo = todo[: args.limit]
    print(f"record: {len(done)} jobs done, {len(todo)} to run", file=sys.stderr)
    started = time.time()
    if rec_path.exists() and rec_path.stat().st_size:
        with rec_path.open("rb") as fh:  # a line cut short by a kill: end it, or the next
            fh.seek(-1, os.SEEK_END)  # record would be glued to it and lost
            if fh.read(1) != b"\n":
                with rec_path.open("a") as out:
                    out.write("\n")
    with (
        rec_path.open("a") as fh,
        ProcessPoolExecutor(args.workers, initializer=_init, initargs=(args.threads,)) as pool,
    ):
        pending = {}
        queue = list(todo)
        finished = 0
        while queue or pending:
            while queue and len(pending) < args.workers:
                job = queue.pop(0)
                pending[pool.submit(run_job, job, entries[job[1]])] = job
            ready, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in ready:
                job = pending.pop(fut)
                rec = fut.result()
                fh.write(json.dumps(rec, sort_keys=True) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
                finished += 1
                accs = [r["val"] for r in rec.get("rungs", [])] or [
                    rec.get("final", {}).get("test")
                ]
                per = (time.time() - started) / finished
                print(
                    f"[{len(done) + finished}] {rec['key']} {accs} {rec['wall']:.0f}s "
                    f"(eta {per * (len(queue) + len(pending)) / 3600:.1f} h)",
                    file=sys.stderr,
                    flush=True,
                )


def status(args: argparse.Namespace) -> None:
    done = read_records(args.out / "records.jsonl")
    kinds = Counter(
        r["kind"] + (f"-s{r['seed']}" if r["kind"] == "rungs" else "") for r in done.values()
    )
    hours = sum(r.get("wall", 0) for r in done.values()) / 3600
    print(f"{len(done)} jobs recorded ({dict(sorted(kinds.items()))}), {hours:.2f} worker-hours")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("record", "status"):
        p = sub.add_parser(name)
        p.add_argument("--out", type=Path, required=True)
        if name == "record":
            p.add_argument("--archs", type=int, default=300)
            p.add_argument("--seeds2", type=int, default=100)
            p.add_argument("--finals", type=int, default=40)
            p.add_argument("--seed", type=int, default=0)
            p.add_argument("--workers", type=int, default=1)
            p.add_argument("--threads", type=int, default=1)
            p.add_argument("--limit", type=int, default=None, help="run at most N jobs")
    args = ap.parse_args()
    {"record": record, "status": status}[args.cmd](args)


if __name__ == "__main__":
    main()
