"""A generator study's numbers: one row per network read from its log, each setting's mean,
spread, 95% interval and Welch's t-test against the best, the node ops' rank agreement, and all
of it in words (``summary.txt``).

Accuracies are in points (percent) in the words, fractions in the rows.
"""

from __future__ import annotations

import math
import statistics
import warnings
from dataclasses import dataclass
from typing import Any

from visualize.runs import RunData, number

__all__ = [
    "ALPHA",
    "STAT_COLUMNS",
    "OpsAnalysis",
    "SettingSummary",
    "is_study",
    "ops_analysis",
    "ops_lines",
    "split_name",
    "study_rows",
    "summarize_settings",
    "summary_lines",
]

#: Graph statistics in ``study.csv`` (each the mean over the network's stages), as
#: :func:`graphs.graph_stats` names them: ``input_nodes`` are the stage's sources (the nodes the
#: input feeds), ``output_nodes`` its sinks, ``depth`` its longest input-to-output path.
STAT_COLUMNS = (
    "edges",
    "degree_mean",
    "degree_std",
    "degree_max",
    "clustering",
    "avg_path_length",
    "depth",
    "input_nodes",
    "output_nodes",
)

#: Significance level of the test against the best setting.
ALPHA = 0.05

_LABEL_LIMIT = 80


def is_study(run: RunData) -> bool:
    """Whether ``run`` is a study folder (its config has a ``[study]`` table)."""
    return isinstance(run.config.get("study"), dict)


def _label(value: Any) -> str | None:
    if not isinstance(value, str) or not value:
        return None
    return value if len(value) <= _LABEL_LIMIT else value[:_LABEL_LIMIT] + "..."


def _count(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 10**12:
        return None
    return value


def _whole(value: Any) -> int | None:
    """A count read back as a number (the reader makes every number a float)."""
    v = number(value)
    return int(v) if v is not None and v >= 0 and v == int(v) else None


def study_rows(run: RunData) -> list[dict[str, Any]]:
    """One row per network the study logged, in log order, for ``study.csv``.

    An entry without a usable label, setting index or seeds is left out and noted in
    ``run.problems``. A failed or skipped training is a row with its status and no accuracy.
    """
    rows, bad = [], 0
    for e in run.evaluations:
        if e.get("kind") not in ("train", "skipped"):
            continue
        label = _label(e.get("label"))
        setting, graph_seed, train_seed = (
            _count(e.get(k)) for k in ("setting", "graph_seed", "train_seed")
        )
        if label is None or None in (setting, graph_seed, train_seed):
            bad += 1
            continue
        group = _count(e.get("group"))  # its bar: the setting, or setting x op (ops study)
        r = e["result"]
        stats = _stage_stats(run.architecture(e["hash"]))
        ok = r.get("status") == "ok"
        rows.append(
            {
                "setting": label,
                "setting_index": setting if group is None else group,
                "base": _label(e.get("base")) or label,
                "family": _label(e.get("family")) or "",
                "nodes": _count(e.get("nodes")),
                "op": _label(e.get("op")) or "",
                "graph_seed": graph_seed,
                "train_seed": train_seed,
                "hash": e["hash"],
                "macs": _whole(r.get("macs")),
                "params": _whole(r.get("params")),
                "widths": _label(e.get("widths")) or "",
                **stats,
                "split": r.get("split") if r.get("split") in ("val", "test") else "",
                "accuracy": r.get("accuracy") if ok else None,
                "status": r.get("status") or "",
                "error": (r.get("error") or "")[:200] if isinstance(r.get("error"), str) else "",
            }
        )
    if bad:
        run.problems.append(
            f"evaluations.jsonl: {bad} study entries without a setting were left out"
        )
    return rows


def _stage_stats(arch: Any) -> dict[str, float | None]:
    """Each of :data:`STAT_COLUMNS`, the mean over the stages of ``arch`` (None: unreadable)."""
    stats: dict[str, float | None] = dict.fromkeys(STAT_COLUMNS)
    if arch is not None:
        per_stage = arch.stage_stats()
        for k in STAT_COLUMNS:
            values = [number(s.get(k)) for s in per_stage]
            values = [v for v in values if v is not None]
            stats[k] = round(statistics.fmean(values), 4) if values else None
    return stats


@dataclass
class SettingSummary:
    """One setting's accuracies over its networks."""

    label: str
    index: int
    n: int  # trainings that finished ok
    failed: int  # trainings that failed or were skipped (over a cap)
    mean: float | None
    std: float | None  # sample standard deviation over every training
    ci_low: float | None  # 95% confidence interval of the mean (Student's t)
    ci_high: float | None
    std_graphs: float | None  # std over graph instances of each instance's mean
    std_train: float | None  # pooled std within an instance, over training seeds
    diff: float | None = None  # mean minus the best setting's mean
    p_value: float | None = None  # Welch's t-test against the best setting
    beyond_noise: bool | None = None  # p_value < ALPHA
    macs: float | None = None  # mean MACs


def summarize_settings(rows: list[dict[str, Any]]) -> list[SettingSummary]:
    """Per setting (in study order): the mean, spread and test against the best mean.

    Notes
    -----
    The interval is ``mean ± t(0.975, n - 1) * std / sqrt(n)``. The test is Welch's unequal
    variances t-test (:func:`scipy.stats.ttest_ind` with ``equal_var=False``) of each setting
    against the setting with the highest mean; its p-values are not corrected for the number
    of settings compared.
    """
    from scipy import stats

    groups: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(row["setting_index"], []).append(row)
    out = [_summary(index, groups[index], stats) for index in sorted(groups)]
    _test_against_best(out, groups, stats)
    return out


def _summary(index: int, members: list[dict[str, Any]], stats: Any) -> SettingSummary:
    """One setting's summary, without the test against the best."""
    accs = [r["accuracy"] for r in members if number(r["accuracy"]) is not None]
    n = len(accs)
    mean = statistics.fmean(accs) if accs else None
    std = statistics.stdev(accs) if n > 1 else None
    low = high = None
    if std is not None:
        half = float(stats.t.ppf(0.975, n - 1)) * std / math.sqrt(n)
        low, high = mean - half, mean + half
    by_graph: dict[int, list[float]] = {}
    for r in members:
        if number(r["accuracy"]) is not None:
            by_graph.setdefault(r["graph_seed"], []).append(r["accuracy"])
    graph_means = [statistics.fmean(v) for v in by_graph.values()]
    within = [statistics.variance(v) for v in by_graph.values() if len(v) > 1]
    macs = [r["macs"] for r in members if r["macs"] is not None]
    return SettingSummary(
        label=members[0]["setting"],
        index=index,
        n=n,
        failed=len(members) - n,
        mean=mean,
        std=std,
        ci_low=low,
        ci_high=high,
        std_graphs=statistics.stdev(graph_means) if len(graph_means) > 1 else None,
        std_train=math.sqrt(statistics.fmean(within)) if within else None,
        macs=statistics.fmean(macs) if macs else None,
    )


def _test_against_best(out: list[SettingSummary], groups: dict, stats: Any) -> None:
    """Each scored summary's difference to the best mean and Welch's t-test against it."""
    scored = [s for s in out if s.mean is not None]
    if scored:
        best = max(scored, key=lambda s: s.mean)
        best_accs = _accs(groups[best.index])
        for s in scored:
            s.diff = s.mean - best.mean
            if s is best:
                continue
            accs = _accs(groups[s.index])
            if len(accs) > 1 and len(best_accs) > 1:
                with warnings.catch_warnings():  # near-identical samples: scipy warns, p stays
                    warnings.simplefilter("ignore", RuntimeWarning)
                    p = float(stats.ttest_ind(accs, best_accs, equal_var=False).pvalue)
                if math.isfinite(p):
                    s.p_value = p
                    s.beyond_noise = p < ALPHA


def _accs(members: list[dict[str, Any]]) -> list[float]:
    return [r["accuracy"] for r in members if number(r["accuracy"]) is not None]


def _pts(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.2f}"


def summary_lines(summaries: list[SettingSummary], split: str) -> list[str]:
    """The summary in words: the best setting, then which settings differ from it beyond the
    noise (Welch's t, p < 0.05) and which do not, then the failures."""
    scored = [s for s in summaries if s.mean is not None]
    if not scored:
        return ["no training finished: nothing to compare"]
    best = max(scored, key=lambda s: s.mean)
    name = {"val": "validation", "test": "test"}.get(split, split or "?")
    lines = [
        f"accuracy on the {name} split, mean over each setting's trainings (in points)",
        f"best: {best.label}, {_pts(best.mean)} ± {_pts(best.std)} (std, n = {best.n})",
    ]
    worse = [s for s in scored if s.beyond_noise]
    same = [s for s in scored if s is not best and s.beyond_noise is False]
    untested = [s for s in scored if s is not best and s.beyond_noise is None]
    if worse:
        lines.append("below the best beyond the noise (Welch's t, p < 0.05):")
        lines += [f"  {s.label}: {_pts(s.diff)} points (p = {s.p_value:.3g})" for s in worse]
    if same:
        lines.append("within the noise of the best (p >= 0.05):")
        lines += [f"  {s.label}: {_pts(s.diff)} points (p = {s.p_value:.3g})" for s in same]
    if untested:
        lines.append("not tested (fewer than 2 trainings, or no spread):")
        lines += [f"  {s.label}: {_pts(s.diff)} points" for s in untested]
    spread = [s for s in scored if s.std_graphs is not None and s.std_train is not None]
    if spread:
        g = statistics.fmean(s.std_graphs for s in spread)
        t = statistics.fmean(s.std_train for s in spread)
        lines.append(
            f"spread: {_pts(g)} points over graph instances, {_pts(t)} over training seeds "
            "(mean std per setting)"
        )
    failed = [s for s in summaries if s.failed]
    for s in failed:
        lines.append(f"{s.label}: {s.failed} training(s) failed or skipped (see study.csv)")
    lines.append(
        "p-values are not corrected for the number of settings compared; with many settings "
        "some small p-values are expected by chance"
    )
    return lines


@dataclass
class OpsAnalysis:
    """A study of node ops: each setting's mean accuracy with each op, and how alike the ops
    rank the settings (RandWire's Figure 6: Pearson 0.91-0.98 between its ops)."""

    ops: list[str]  # in study order
    settings: list[str]  # the settings' own labels, in study order
    cells: dict[tuple[str, str], list[float]]  # (setting, op) -> accuracies that finished
    # op_a, op_b, settings (n), pearson, spearman and their p-values (None: n < 3)
    pairs: list[dict[str, Any]]

    def mean(self, setting: str, op: str) -> float | None:
        accs = self.cells.get((setting, op), [])
        return statistics.fmean(accs) if accs else None


def ops_analysis(rows: list[dict[str, Any]]) -> OpsAnalysis | None:
    """The ops table of ``study.csv``'s rows, or None when no setting was trained with two ops
    or more (a generators study)."""
    from scipy import stats

    ops: list[str] = []
    settings: list[str] = []
    cells: dict[tuple[str, str], list[float]] = {}
    for r in rows:
        base, op = r.get("base") or r["setting"], r.get("op") or ""
        if op not in ops:
            ops.append(op)
        if base not in settings:
            settings.append(base)
        accs = cells.setdefault((base, op), [])
        if number(r["accuracy"]) is not None:
            accs.append(r["accuracy"])
    if len(ops) < 2 or not any(sum((b, o) in cells for o in ops) >= 2 for b in settings):
        return None
    analysis = OpsAnalysis(ops, settings, cells, [])
    for i, a in enumerate(ops):
        for b in ops[i + 1 :]:
            both = [
                (analysis.mean(x, a), analysis.mean(x, b))
                for x in settings
                if analysis.mean(x, a) is not None and analysis.mean(x, b) is not None
            ]
            pearson = spearman = pearson_p = spearman_p = None
            xs, ys = [p[0] for p in both], [p[1] for p in both]
            if len(both) >= 3 and len(set(xs)) > 1 and len(set(ys)) > 1:
                r, rho = stats.pearsonr(xs, ys), stats.spearmanr(xs, ys)
                pearson, pearson_p = float(r.statistic), _finite(r.pvalue)
                spearman, spearman_p = float(rho.statistic), _finite(rho.pvalue)
            analysis.pairs.append(
                {
                    "op_a": a,
                    "op_b": b,
                    "settings": len(both),
                    "pearson": pearson,
                    "pearson_p": pearson_p,
                    "spearman": spearman,
                    "spearman_p": spearman_p,
                }
            )
    return analysis


def _finite(value: Any) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def _p(value: float | None) -> str:
    return "-" if value is None else f"{value:.2g}"


def ops_lines(analysis: OpsAnalysis) -> list[str]:
    """The ops part of ``summary.txt``: each op's best setting, then the rank agreement."""
    lines = ["node ops (each setting's graphs with every op, matched MACs):"]
    for op in analysis.ops:
        means = [(analysis.mean(x, op), x) for x in analysis.settings]
        means = [m for m in means if m[0] is not None]
        if means:
            best = max(means)
            mean = statistics.fmean(m[0] for m in means)
            lines.append(f"  {op}: best {best[1]} {_pts(best[0])}, mean of settings {_pts(mean)}")
    for p in analysis.pairs:
        if p["pearson"] is None:
            lines.append(
                f"  {p['op_a']} vs {p['op_b']}: fewer than 3 settings with both, no correlation"
            )
        else:
            lines.append(
                f"  {p['op_a']} vs {p['op_b']}: Pearson r {p['pearson']:+.2f} (p = "
                f"{_p(p['pearson_p'])}), Spearman rho {p['spearman']:+.2f} (p = "
                f"{_p(p['spearman_p'])}) over n = {p['settings']} settings"
            )
    rs = [p["pearson"] for p in analysis.pairs if p["pearson"] is not None]
    if rs:
        lines.append(
            f"  the ops rank the settings alike where r is near 1 (RandWire: 0.91-0.98); here "
            f"{min(rs):+.2f} to {max(rs):+.2f}"
        )
    return lines


def split_name(rows: list[dict[str, Any]]) -> str:
    """The split the rows were scored on, in words (``"?"``: none or several)."""
    splits = {r["split"] for r in rows if r["split"]}
    return {"val": "validation", "test": "test"}.get(splits.pop(), "?") if len(splits) == 1 else "?"
