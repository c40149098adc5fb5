"""Trade-off studies of graph generators, the way RandWire ran them (``genesis study``).

A study trains a fixed list of networks, one per (setting, graph instance, training seed), every
one with the same recipe, and writes one record per training to the run folder's
``evaluations.jsonl``. A :class:`Setting` is a graph family with its parameters, nodes per
stage and node op; instance ``g`` of a setting draws its stage graphs with seed
``study.seed + g`` (so instance ``g`` of two settings, or of two ops, is drawn alike), and
training ``t`` trains with seed ``study.seed + t``. With ``match_macs`` every network's widths
are scaled so that its MACs are within ``tolerance`` of the target
(:func:`genesis.matching.match_macs`): generators are compared at equal compute, as in Xie et
al.'s Figure 3.

The settings and grids are :mod:`evolve.studysettings`, the configuration and its caps
:mod:`evolve.studyconfig` (their names are found here too); this module builds the study's
trainings and runs them.

A study runs on the search's engine: the same executors (local worker processes or Ray, one
task per training), the same training task (:func:`evolve.evaluate.make_task`), a run folder
with its writer lock, a line of progress per finished training, and a resume that keeps every
finished training (the log is the study's only state: a resumed study trains what the log
lacks). The test split is read only with ``final = true``: each network then trains on the
whole training set and is scored on the official test split.

References
----------
.. [1] S. Xie, A. Kirillov, R. Girshick, K. He. "Exploring Randomly Wired Neural Networks for
   Image Recognition". ICCV 2019.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from evolve.studyconfig import MAX_STUDY_NETWORKS, StudyConfig, StudyRunConfig
from evolve.studysettings import DEFAULT_GRID, GRIDS, PAPER_GRID, PAPER_OPS, Setting

__all__ = [
    # re-exported from evolve.studysettings and evolve.studyconfig, where they are defined
    "DEFAULT_GRID",
    "GRIDS",
    "MAX_STUDY_NETWORKS",
    "PAPER_GRID",
    "PAPER_OPS",
    "Setting",
    "StudyConfig",
    "StudyRunConfig",
    # defined here
    "StudyJob",
    "study_jobs",
    "run_study",
]


@dataclass
class StudyJob:
    """One training of the study: which setting, instance and seed, and the matched network."""

    key: str  # "s<setting>[-o<op>]-g<instance>-t<train seed index>", unique in the study
    setting: int  # index into the config's settings
    group: int  # index of its bar (StudyConfig.variants): the setting, or the setting x op
    op_index: int | None  # index into the config's ops (None: the setting's own op)
    op: str  # the op of every compute node
    label: str  # the bar's label
    graph_seed: int  # the seed its graphs were drawn with
    train_seed: int  # the seed it trains with
    arch: Any  # the Architecture (widths matched)
    hash: str  # genesis.architecture_hash
    macs: int
    params: int
    widths: str  # the widths chosen, e.g. "stem 6, stages 6/12/24, head 0"
    skipped: str | None = None  # why it is not trained (a hard cap), or None


def study_jobs(cfg: StudyRunConfig) -> list[StudyJob]:
    """Every training of the study, in order (setting, then instance, then seed): the
    networks built and matched, the caps checked. Raises :class:`GenesisError` when a target
    is out of reach for any network, before anything trains."""
    from genesis import architecture_hash
    from genesis.complexity import count_complexity
    from genesis.matching import widths_of
    from genesis.presets import get_preset

    s = cfg.study
    recipe = get_preset(s.preset).train
    train = replace(
        recipe,
        epochs=max(1, math.ceil(cfg.proxy.epochs or recipe.epochs)),
        batch_size=s.batch_size or recipe.batch_size,
    )
    jobs = []
    for group, (i, j, op, label) in enumerate(s.variants()):
        setting = s.settings[i]
        for g in range(s.graph_seeds):
            graph_seed = s.seed + g
            arch = _network(s, setting, op, label, graph_seed, train)
            cx = count_complexity(arch)
            skipped = None
            if s.max_macs is not None and cx.macs > s.max_macs:
                skipped = f"{cx.macs:,} MACs is over the cap max_macs = {s.max_macs:g}"
            elif s.max_params is not None and cx.params > s.max_params:
                skipped = f"{cx.params:,} params is over the cap max_params = {s.max_params}"
            h = architecture_hash(arch)
            for t in range(s.train_seeds):
                jobs.append(
                    StudyJob(
                        key=f"s{i}-g{g}-t{t}" if j is None else f"s{i}-o{j}-g{g}-t{t}",
                        setting=i,
                        group=group,
                        op_index=j,
                        op=op,
                        label=label,
                        graph_seed=graph_seed,
                        train_seed=s.seed + t,
                        arch=arch,
                        hash=h,
                        macs=cx.macs,
                        params=cx.params,
                        widths=str(widths_of(arch)),
                        skipped=skipped,
                    )
                )
    return jobs


def _network(s: StudyConfig, setting: Setting, op: str, label: str, graph_seed: int, train: Any):
    """The network of one instance of a setting (with ``op``), its widths matched to
    ``s.match_macs`` when the study matches them."""
    from genesis import build_architecture
    from genesis.matching import match_macs

    arch = build_architecture(
        s.preset,
        setting.family,
        setting.params,
        seed=graph_seed,
        channels=s.channels,
        nodes=setting.nodes,
        op=op,
        train=train,
    )
    if s.match_macs is not None:
        arch, macs = match_macs(
            arch, s.match_macs, s.tolerance, what=f"{label} graph seed {graph_seed}"
        )
    return arch


def _entry(cfg: StudyRunConfig, job: StudyJob, record: dict[str, Any], kind: str) -> dict[str, Any]:
    setting = cfg.study.settings[job.setting]
    return {
        "kind": kind,  # "train" or "skipped"
        "key": job.key,
        "setting": job.setting,
        "group": job.group,
        "label": job.label,
        "base": setting.label,  # the setting's own label (without the op of an ops study)
        "family": setting.family,
        "params": setting.params,
        "nodes": setting.nodes,
        "op": job.op,
        "op_index": job.op_index,
        "graph_seed": job.graph_seed,
        "train_seed": job.train_seed,
        "hash": job.hash,
        "seed": job.train_seed,
        "widths": job.widths,
        "result": record,
    }


def run_study(
    cfg: StudyRunConfig,
    folder: Any,
    executor: Any,
    log: Callable[[str], None] = print,
    weights: bool = True,
    jobs: list[StudyJob] | None = None,
) -> list[dict[str, Any]]:
    """Train every network of the study that the folder's log lacks; every entry of the log.

    Parameters
    ----------
    cfg : StudyRunConfig
        The study (the folder's own config on a resume).
    folder : genesis.runfolder.RunFolder
        A created, or reopened, run folder; its writer lock held by the caller.
    executor : evolve.executors.Executor
        Where the trainings run.
    log : callable
        Receives one line per finished training.
    weights : bool
        Keep each trained network's weights in ``weights/<key>.pt`` (for ``genesis study
        damage --study``).
    jobs : list of StudyJob, optional
        :func:`study_jobs` of ``cfg``, when the caller built them already.

    Returns
    -------
    list of dict
        The log's entries, one per training (``kind`` "train") or network over a cap
        (``kind`` "skipped"), in study order.
    """
    from genesis.tracking import Tracker

    jobs = study_jobs(cfg) if jobs is None else jobs
    done, todo = _resumed(folder, jobs, log)
    started = time.perf_counter()
    if weights:
        (folder.path / "weights").mkdir(exist_ok=True)
    tasks = _queue(cfg, folder, todo, done, log, weights)
    tracker = Tracker(folder.path)
    finished = _reporter(cfg, folder, jobs, done, len(tasks), started, tracker, log)
    try:
        if tasks:
            executor.run(tasks, finished)
    finally:
        tracker.close()
    return [done[j.key] for j in jobs if j.key in done]


def _resumed(folder, jobs: list[StudyJob], log) -> tuple[dict[str, Any], list[StudyJob]]:
    """The log repaired and read: its entries by key, and the jobs it lacks."""
    folder.repair_log()
    folder.remove_stale_temps()
    done = {e["key"]: e for e in folder.read_evaluations() if isinstance(e, dict) and "key" in e}
    todo = [j for j in jobs if j.key not in done]
    if done and todo:
        log(f"resuming: {len(done)} of {len(jobs)} trainings are in the log")
    return done, todo


def _queue(cfg, folder, todo: list[StudyJob], done: dict[str, Any], log, weights: bool) -> list:
    """The ``(key, task)`` of every job to train; a job over a cap is logged as skipped (into
    ``done``) instead."""
    from evolve.evaluate import failure_record, make_task

    tasks = []
    for job in todo:
        folder.save_architecture(job.hash, job.arch.to_json())
        task = make_task(
            job.arch,
            job.train_seed,
            cfg.proxy,
            complexity=(job.macs, job.params),
            final=cfg.study.final,
            epochs=cfg.proxy.epochs,
            weights_path=str(folder.path / "weights" / f"{job.key}.pt") if weights else None,
        )
        if job.skipped:
            entry = _entry(cfg, job, failure_record(task, "skipped", job.skipped), "skipped")
            folder.append_evaluation(entry)
            done[job.key] = entry
            log(f"{job.label} graph {job.graph_seed}: skipped, {job.skipped}")
            continue
        tasks.append((job.key, task))
    return tasks


def _reporter(cfg, folder, jobs, done, queued: int, started: float, tracker, log):
    """The callback of each finished training: its entry appended to the log and tracked, and
    a line of progress (the estimate of what is left from the ``queued`` trainings' pace)."""
    from evolve.records import format_clock

    total, count = len(jobs), [len(done)]
    split = "test" if cfg.study.final else "validation"
    by_key = {j.key: j for j in jobs}

    def finished(key: str, record: dict[str, Any]) -> None:
        job = by_key[key]
        entry = _entry(cfg, job, record, "train")
        folder.append_evaluation(entry)
        tracker.training(f"study/{job.key}", record)
        done[job.key] = entry
        count[0] += 1
        elapsed = time.perf_counter() - started
        fresh = count[0] - (total - queued)
        left = elapsed / fresh * (total - count[0]) if fresh else 0.0
        acc = record.get("accuracy")
        score = f"{split} acc {acc:.4f}" if acc is not None else f"{record.get('status')}"
        log(
            f"[{count[0]}/{total}] {job.label} graph {job.graph_seed} "
            f"seed {job.train_seed}: {score}, {job.macs:,} MACs ({job.widths}) | "
            f"{format_clock(elapsed)} elapsed, ~{format_clock(left)} left"
        )

    return finished
