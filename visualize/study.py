"""The tables of a generator study: one row per trained network, one per setting, in words.

Reads a study's run folder (``genesis study generators``) like any run folder: the log through
:func:`visualize.read_run` (bounded reads, every value type-checked, an entry of the wrong type
dropped and noted), architectures through :meth:`~visualize.runs.RunData.architecture` (inside
the folder only). It writes, into the folder, files a study owns (never one the run keeps):

- ``study.csv``: one row per network: setting, graph seed, train seed, MACs, params, the widths
  chosen, the graph statistics (:func:`graphs.graph_stats`, the mean over the network's stages)
  and the accuracy with the split it was measured on;
- ``summary.csv``: one row per setting: n, mean, std, a 95% confidence interval (Student's t),
  the spread over graph instances and over training seeds apart, and Welch's t-test against the
  best setting;
- ``summary.txt``: the same in words: which differences exceed the noise and which do not;
- ``study_bars.png`` (mean ± std per setting over its n networks, grouped by family:
  RandWire's Figure 3), ``study_macs.png`` (accuracy against MACs), ``study_stats.png``
  (accuracy against each graph statistic, with Spearman's rho, n and p) and
  ``study_heatmap.png`` (each network at its clustering x path length, coloured by accuracy:
  You et al. 2020's map, for the few networks of a study). Accuracy axes start just below
  chance (1 / the networks' classes), drawn and labelled; every colour is in a legend.

Accuracies are in points (percent) in the words, fractions in the CSV files.
"""

from __future__ import annotations

import math
import os
import statistics
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from genesis.files import atomic_write
from genesis.tables import csv_bytes
from visualize.axes import literal_text, plain_label
from visualize.runs import RunData, number, read_run

__all__ = [
    "STAT_COLUMNS",
    "STUDY_FILES",
    "SettingSummary",
    "is_study",
    "study_rows",
    "summarize_settings",
    "FAMILY_COLORS",
    "family_color",
    "plain_target",
    "study_plots",
    "summary_lines",
    "OpsAnalysis",
    "ops_analysis",
    "ops_lines",
    "write_study_outputs",
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

#: What :func:`write_study_outputs` writes into a study folder.
STUDY_FILES = (
    "study.csv",
    "summary.csv",
    "summary.txt",
    "study_bars.png",
    "study_macs.png",
    "study_stats.png",
    "study_heatmap.png",
)

#: What :func:`write_study_outputs` adds for a study of node ops (``genesis study ops``).
OPS_FILES = ("ops.csv", "ops_correlation.csv", "study_ops.png")

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
        arch = run.architecture(e["hash"])
        stats: dict[str, float | None] = dict.fromkeys(STAT_COLUMNS)
        if arch is not None:
            per_stage = arch.stage_stats()
            for k in STAT_COLUMNS:
                values = [number(s.get(k)) for s in per_stage]
                values = [v for v in values if v is not None]
                stats[k] = round(statistics.fmean(values), 4) if values else None
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
    out = []
    for index in sorted(groups):
        members = groups[index]
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
        out.append(
            SettingSummary(
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
        )
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
    return out


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


def plain_target(folder: Path, name: str) -> Path:
    """``folder/name``, refused when it is a link or not a regular file (a hostile folder)."""
    path = folder / name
    if os.path.islink(path) or (path.exists() and not path.is_file()):
        from genesis import GenesisError

        raise GenesisError(f"{str(path)!r} is not a regular file; not overwritten")
    return path


def write_study_outputs(path: str | os.PathLike, plots: bool = True) -> dict[str, Any]:
    """Write ``study.csv``, ``summary.csv``, ``summary.txt`` and (``plots``) the figures of
    :func:`study_plots` into the study folder ``path``.

    Returns
    -------
    dict
        ``rows`` (study.csv's rows), ``summaries`` (:class:`SettingSummary` per setting),
        ``lines`` (summary.txt's lines), ``figures`` (name -> path) and ``problems`` (what of
        the folder was not readable).

    Raises
    ------
    GenesisError
        When ``path`` is no run folder, or not a study's.
    """
    from genesis import GenesisError

    run = read_run(path)
    if not is_study(run):
        raise GenesisError(
            f"{str(run.path)!r} is not a study folder (no [study] table in config.toml)"
        )
    rows = study_rows(run)
    summaries = summarize_settings(rows)
    splits = {r["split"] for r in rows if r["split"]}
    lines = summary_lines(summaries, splits.pop() if len(splits) == 1 else "")
    ops = ops_analysis(rows)
    if ops is not None:
        lines += ops_lines(ops)
        _write_ops_tables(run.path, ops)
    columns = [c for c in rows[0] if c != "setting_index"] if rows else ["setting"]
    atomic_write(plain_target(run.path, "study.csv"), csv_bytes(rows, columns))
    summary_columns = [
        "setting",
        "n",
        "failed",
        "macs",
        "mean",
        "std",
        "ci95_low",
        "ci95_high",
        "std_graphs",
        "std_train",
        "diff_vs_best",
        "p_vs_best",
        "beyond_noise",
    ]
    summary_rows = [
        {
            "setting": s.label,
            "n": s.n,
            "failed": s.failed,
            "macs": None if s.macs is None else round(s.macs),
            "mean": _round(s.mean),
            "std": _round(s.std),
            "ci95_low": _round(s.ci_low),
            "ci95_high": _round(s.ci_high),
            "std_graphs": _round(s.std_graphs),
            "std_train": _round(s.std_train),
            "diff_vs_best": _round(s.diff),
            "p_vs_best": None if s.p_value is None else f"{s.p_value:.4g}",
            "beyond_noise": None if s.beyond_noise is None else str(s.beyond_noise).lower(),
        }
        for s in summaries
    ]
    atomic_write(plain_target(run.path, "summary.csv"), csv_bytes(summary_rows, summary_columns))
    text = ("\n".join(lines) + "\n").encode("utf-8", errors="backslashreplace")
    atomic_write(plain_target(run.path, "summary.txt"), text)
    figures = {}
    if plots:
        for name in STUDY_FILES[3:]:
            plain_target(run.path, name)
        chance = run.chance()
        figures = study_plots(rows, summaries, run.path, chance)
        if ops is not None:
            target = plain_target(run.path, OPS_FILES[2])
            figures.update(ops_plot(ops, _split_name(rows), target, chance))
        figures.update(_drawings(run, rows))
    return {
        "rows": rows,
        "summaries": summaries,
        "lines": lines,
        "figures": figures,
        "problems": run.problems,
    }


def _write_ops_tables(folder: Path, ops: OpsAnalysis) -> None:
    """``ops.csv`` (per setting: mean, std and n with each op) and ``ops_correlation.csv``."""
    columns = ["setting"] + [f"{op} {k}" for op in ops.ops for k in ("mean", "std", "n")]
    table = []
    for x in ops.settings:
        row: dict[str, Any] = {"setting": x}
        for op in ops.ops:
            accs = ops.cells.get((x, op), [])
            row[f"{op} mean"] = _round(ops.mean(x, op))
            row[f"{op} std"] = _round(statistics.stdev(accs)) if len(accs) > 1 else None
            row[f"{op} n"] = len(accs)
        table.append(row)
    atomic_write(plain_target(folder, OPS_FILES[0]), csv_bytes(table, columns))
    pairs = [
        {**p, **{k: _round(p[k]) for k in ("pearson", "pearson_p", "spearman", "spearman_p")}}
        for p in ops.pairs
    ]
    columns = ["op_a", "op_b", "settings", "pearson", "pearson_p", "spearman", "spearman_p"]
    atomic_write(plain_target(folder, OPS_FILES[1]), csv_bytes(pairs, columns))


@literal_text()
def ops_plot(
    ops: OpsAnalysis,
    split: str,
    path: str | os.PathLike,
    chance: tuple[float, int] | None = None,
) -> dict[str, Path]:
    """Each op's mean accuracy per setting (± std), one line per op (RandWire's Figure 6 as
    one panel), with the range of Pearson r between two ops, their n and p, in the title;
    the accuracy axis from chance (``chance``: (accuracy, classes)) or 0."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from genesis.ops import op_colors
    from visualize.axes import accuracy_axis, save_figure

    colors = op_colors()
    fig, ax = plt.subplots(figsize=(max(4.5, 0.7 * len(ops.settings) + 2), 3.6))
    xs = list(range(len(ops.settings)))
    for k, op in enumerate(ops.ops):
        pts = [
            (x, 100 * ops.mean(s, op), 100 * statistics.stdev(ops.cells[(s, op)]))
            if len(ops.cells.get((s, op), [])) > 1
            else (x, 100 * ops.mean(s, op), 0.0)
            for x, s in zip(xs, ops.settings, strict=True)
            if ops.mean(s, op) is not None
        ]
        if not pts:
            continue
        shift = 0.08 * (k - (len(ops.ops) - 1) / 2)
        ax.errorbar(
            [p[0] + shift for p in pts],
            [p[1] for p in pts],
            yerr=[p[2] for p in pts],
            marker="o",
            ms=4,
            capsize=2,
            label=plain_label(op),
            color=colors.get(op),
        )
    ax.set_xticks(xs, [plain_label(x) for x in ops.settings], rotation=60, ha="right", fontsize=7)
    ax.set_ylabel(f"{split} accuracy (%), mean ± std")
    accuracy_axis(ax, chance, scale=100)
    tested = [p for p in ops.pairs if p["pearson"] is not None]
    if tested:
        rs = [p["pearson"] for p in tested]
        ns = sorted({p["settings"] for p in tested})
        ps = [p["pearson_p"] for p in tested if p["pearson_p"] is not None]
        n = f"n = {ns[0]}" if len(ns) == 1 else f"n = {ns[0]} to {ns[-1]}"
        p = f"p <= {_p(max(ps))}" if ps else "p -"
        ax.set_title(
            f"Pearson r between ops: {min(rs):+.2f} to {max(rs):+.2f} ({n} settings, {p})",
            fontsize=8,
        )
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return {"ops": save_figure(fig, Path(path))}


def _drawings(run: RunData, rows: list[dict[str, Any]]) -> dict[str, Path]:
    """One drawing per setting (its first graph instance), ``drawings/setting-<i>.svg``."""
    from genesis import GenesisError
    from visualize.render import render_architecture

    first: dict[int, dict[str, Any]] = {}
    for r in sorted(rows, key=lambda r: (r["setting_index"], r["graph_seed"], r["train_seed"])):
        first.setdefault(r["setting_index"], r)
    if not first:
        return {}
    folder = run.path / "drawings"
    if os.path.islink(folder) or (folder.exists() and not folder.is_dir()):
        raise GenesisError(f"{str(folder)!r} is not a plain folder; no drawing written")
    folder.mkdir(exist_ok=True)
    out = {}
    for index, r in first.items():
        arch = run.architecture(r["hash"])
        if arch is not None:
            name = f"setting-{index}.svg"
            out[f"drawing {index}"] = render_architecture(arch, plain_target(folder, name))
    return out


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


# -- plots ---------------------------------------------------------------------------------------
#: Colours of the families in the study plots (others cycle through the rest).
FAMILY_COLORS = {"er": "#4477AA", "ba": "#EE6677", "ws": "#228833"}
_OTHER_COLORS = ("#CCBB44", "#66CCEE", "#AA3377", "#BBBBBB")


def family_color(family: str, seen: dict[str, str]) -> str:
    """A family's colour in every study figure (an unknown one gets the next free colour,
    remembered in ``seen``)."""
    if family in FAMILY_COLORS:
        return FAMILY_COLORS[family]
    if family not in seen:
        seen[family] = _OTHER_COLORS[len(seen) % len(_OTHER_COLORS)]
    return seen[family]


def _split_name(rows: list[dict[str, Any]]) -> str:
    splits = {r["split"] for r in rows if r["split"]}
    return {"val": "validation", "test": "test"}.get(splits.pop(), "?") if len(splits) == 1 else "?"


@literal_text()
def study_plots(
    rows: list[dict[str, Any]],
    summaries: list[SettingSummary],
    folder: str | os.PathLike,
    chance: tuple[float, int] | None = None,
) -> dict[str, Path]:
    """The study's figures, written into ``folder`` (PNG): ``bars`` (each setting's mean ±
    std over its n networks, grouped by family: RandWire's Figure 3), ``macs`` (accuracy
    against MACs), ``stats`` (accuracy against each graph statistic, with Spearman's rho, its
    n and p) and ``heatmap`` (every network at its clustering x average path length, coloured
    by its accuracy: You et al. 2020's map, readable for the few networks of a study). A
    figure without data is left out.

    Every colour is named in a legend (families) or a colour bar (accuracy); an accuracy axis
    starts just below chance, drawn and labelled, when ``chance`` ((accuracy, classes):
    :meth:`~visualize.runs.RunData.chance`) is known, else at 0; MACs are ticked as counts.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    from visualize.axes import accuracy_axis, count_axis, save_figure, spearman_text

    folder = Path(folder)
    out: dict[str, Path] = {}
    ok = [r for r in rows if number(r["accuracy"]) is not None]
    if not ok:
        return out
    split = _split_name(rows)
    family_of = {r["setting"]: r["family"] for r in rows}
    other: dict[str, str] = {}

    # 1. bars with error bars, grouped by family, from chance (or 0)
    scored = [s for s in summaries if s.mean is not None]
    fig, ax = plt.subplots(figsize=(max(6.0, 0.5 * len(scored) + 3.8), 3.6))  # legend beside
    order = sorted(scored, key=lambda s: (family_of.get(s.label, ""), s.index))
    xs, gap, last = [], 0.0, None
    for i, s in enumerate(order):
        fam = family_of.get(s.label, "")
        gap += 0.6 if last is not None and fam != last else 0.0
        last = fam
        xs.append(i + gap)
    base = 100 * chance[0] if chance is not None else 0.0
    for x, s in zip(xs, order, strict=True):
        ax.bar(
            x,
            100 * s.mean - base,
            bottom=base,
            yerr=None if s.std is None else 100 * s.std,
            color=family_color(family_of.get(s.label, ""), other),
            capsize=3,
            width=0.8,
        )
    ax.set_xticks(
        xs,
        [f"{plain_label(s.label)} (n={s.n})" for s in order],
        rotation=60,
        ha="right",
        fontsize=7,
    )
    ax.set_ylabel(f"{split} accuracy (%), mean ± std")
    accuracy_axis(ax, chance, scale=100)
    families = list(dict.fromkeys(family_of.get(s.label, "") for s in order))
    handles = [Patch(color=family_color(f, other), label=_family_name(f)) for f in families]
    ax.legend(
        handles=handles + ax.get_legend_handles_labels()[0],
        fontsize=7,
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
    )
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    out["bars"] = save_figure(fig, folder / "study_bars.png")

    # 2. accuracy against MACs
    fig, ax = plt.subplots(figsize=(5.0, 3.6))
    with_macs = 0
    for fam in sorted({r["family"] for r in ok}):
        pts = [(r["macs"], 100 * r["accuracy"]) for r in ok if r["family"] == fam and r["macs"]]
        with_macs += len(pts)
        if pts:
            ax.scatter(
                *zip(*pts, strict=True),
                s=16,
                alpha=0.75,
                label=_family_name(fam),
                color=family_color(fam, other),
            )
    count_axis(ax.xaxis)
    ax.set_xlabel("MACs per example")
    ax.set_ylabel(f"{split} accuracy (%)")
    ax.set_title(f"n = {with_macs} networks", fontsize=8)
    accuracy_axis(ax, chance, scale=100)
    ax.legend(fontsize=7, loc="lower right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    out["macs"] = save_figure(fig, folder / "study_macs.png")

    # 3. accuracy against each graph statistic, with Spearman's rho, n and p
    keys = [k for k in STAT_COLUMNS if sum(number(r[k]) is not None for r in ok) >= 2]
    if keys:
        cols = 3
        nrows = math.ceil(len(keys) / cols)
        fig, axes = plt.subplots(
            nrows, cols, figsize=(10.5, 2.8 * nrows), sharey=True, squeeze=False
        )
        for ax, key in zip(axes.flat, keys, strict=False):
            pts = [
                (r[key], 100 * r["accuracy"], r["family"]) for r in ok if number(r[key]) is not None
            ]
            for fam in sorted({p[2] for p in pts}):
                sel = [(x, y) for x, y, f in pts if f == fam]
                ax.scatter(
                    *zip(*sel, strict=True),
                    s=12,
                    alpha=0.7,
                    color=family_color(fam, other),
                    label=_family_name(fam),
                )
            ax.set_title(spearman_text([p[0] for p in pts], [p[1] for p in pts]), fontsize=7)
            ax.set_xlabel(key.replace("_", " ") + " (mean of stages)", fontsize=8)
            ax.grid(alpha=0.3)
        for ax in list(axes.flat)[: len(keys)]:
            accuracy_axis(ax, chance, scale=100)
        for ax in list(axes.flat)[len(keys) :]:
            ax.axis("off")
        for ax in axes[:, 0]:
            ax.set_ylabel(f"{split} acc. (%)", fontsize=8)
        axes[0, 0].legend(fontsize=6, loc="lower right")
        fig.tight_layout()
        out["stats"] = save_figure(fig, folder / "study_stats.png")

    # 4. every network at its clustering x average path length, coloured by its accuracy
    pts = [
        (r["clustering"], r["avg_path_length"], 100 * r["accuracy"], r["family"])
        for r in ok
        if number(r["clustering"]) is not None and number(r["avg_path_length"]) is not None
    ]
    if len(pts) >= 2:
        accs = [p[2] for p in pts]
        fig, ax = plt.subplots(figsize=(5.2, 3.8))
        markers = dict(zip(sorted({p[3] for p in pts}), _MARKERS * len(pts), strict=False))
        shown = None
        for fam, marker in markers.items():
            sel = [p for p in pts if p[3] == fam]
            shown = ax.scatter(
                [p[0] for p in sel],
                [p[1] for p in sel],
                c=[p[2] for p in sel],
                cmap="viridis",
                vmin=min(accs),
                vmax=max(accs) if max(accs) > min(accs) else min(accs) + 1e-6,
                marker=marker,
                s=48,
                edgecolor="black",
                lw=0.5,
            )
        fig.colorbar(shown, ax=ax, label=f"{split} accuracy (%)")
        ax.legend(
            handles=[
                Line2D([], [], ls="", marker=m, color="#BBBBBB", mec="black", label=_family_name(f))
                for f, m in markers.items()
            ],
            fontsize=7,
            title="family (colour: accuracy)",
            title_fontsize=7,
        )
        ax.set_title(f"n = {len(pts)} networks, one point each", fontsize=8)
        ax.set_xlabel("clustering coefficient (mean of stages)")
        ax.set_ylabel("average path length (mean of stages)")
        ax.grid(alpha=0.3)
        fig.tight_layout()
        out["heatmap"] = save_figure(fig, folder / "study_heatmap.png")
    return out


#: Marker of each family in the map of clustering x path length (colour is accuracy there).
_MARKERS = ("o", "s", "^", "D", "v", "P", "X")


def _family_name(family: str) -> str:
    """A family as its legend names it."""
    return plain_label(family) or "(no family)"
