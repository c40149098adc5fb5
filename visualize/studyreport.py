"""The HTML report of a study folder (``genesis study``): the summary in words, the table per
setting, the figures, the node ops and the graph damage when the study has them, one drawing
per setting and every network's row. Every string from the folder is escaped
(:mod:`visualize.html`); nothing but the report is written (the figures are drawn in a
temporary folder and embedded)."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from visualize.html import esc, finish_page, fmt, link, page_head, png, settings_tables, si, svg
from visualize.render import architecture_graph
from visualize.runs import RunData
from visualize.studyplots import ops_plot, study_plots
from visualize.studystats import (
    SettingSummary,
    ops_analysis,
    ops_lines,
    study_rows,
    summarize_settings,
    summary_lines,
)

__all__ = ["damage_section", "write_study_report"]


def write_study_report(run: RunData, out: Path) -> Path:
    """Write the report of the study folder ``run`` to ``out``; returns ``out``.

    Raises
    ------
    GenesisError
        When ``out`` cannot be written.
    """
    rows = study_rows(run)
    summaries = summarize_settings(rows)
    splits = {r["split"] for r in rows if r["split"]}
    split = splits.pop() if len(splits) == 1 else ""
    title = f"genesis study {run.path.name}"
    parts = [page_head(title) + f"<h1>{esc(title)}</h1>"]
    add = parts.append
    add(
        f"<p class='small'>status <b>{esc(run.status)}</b> · {len(rows)} networks · report "
        f"written {time.strftime('%Y-%m-%d %H:%M:%S')}</p>"
    )
    if run.status != "finished":
        add("<p class='note'>This study has not finished: the report shows what exists.</p>")
    notes_at = len(parts)
    add("")
    add("<h2>Summary</h2><pre>" + esc("\n".join(summary_lines(summaries, split))) + "</pre>")
    add(_settings_table(summaries, split))
    with tempfile.TemporaryDirectory() as tmp:
        _figures(run, rows, summaries, split, add, Path(tmp))
    _drawings(run, rows, add)
    add(_networks_table(run, rows) + "<h2>Settings</h2>" + settings_tables(run))
    return finish_page(run, parts, notes_at, out)


def _settings_table(summaries: list[SettingSummary], split: str) -> str:
    """One row per setting: n, failures, MACs, mean, spread, interval and the test."""
    parts = []
    add = parts.append
    add(
        "<table><tr><th class='l'>setting</th><th>n</th><th>failed</th><th>MACs</th>"
        "<th>mean</th><th>std</th><th>95% interval</th><th>std graphs</th><th>std seeds</th>"
        "<th>vs best</th><th>p (Welch)</th></tr>"
    )
    for sm in summaries:
        interval = f"{fmt(sm.ci_low)} – {fmt(sm.ci_high)}" if sm.ci_low is not None else "–"
        add(
            f"<tr><td class='l'>{esc(sm.label)}</td><td>{sm.n}</td><td>{sm.failed}</td>"
            f"<td>{si(sm.macs)}</td><td>{fmt(sm.mean)}</td><td>{fmt(sm.std)}</td>"
            f"<td>{interval}</td><td>{fmt(sm.std_graphs)}</td><td>{fmt(sm.std_train)}</td>"
            f"<td>{fmt(sm.diff)}</td>"
            f"<td>{'–' if sm.p_value is None else f'{sm.p_value:.3g}'}</td></tr>"
        )
    add(
        "</table><p class='small'>Accuracy is on the "
        f"{esc({'val': 'validation', 'test': 'test'}.get(split, 'recorded'))} split; a study "
        "reads the test split only with --final. MACs are genesis info's count "
        "(multiply-adds of convolutions and linear layers; FLOPs = 2 x MACs).</p>"
    )
    return "\n".join(parts)


def _figures(run: RunData, rows, summaries, split: str, add, tmp: Path) -> None:
    """The study's figures, its node ops and its graph damage, drawn in ``tmp`` and embedded."""
    chance = run.chance()
    figures = study_plots(rows, summaries, tmp, chance)
    for key, title in (
        ("bars", "Accuracy per setting (mean ± std over its networks)"),
        ("macs", "Accuracy against MACs"),
        ("stats", "Accuracy against graph statistics (Spearman's rho, n and p)"),
        ("heatmap", "Accuracy over clustering x average path length (one point a network)"),
    ):
        add(f"<h2>{title}</h2>")
        add(png(figures.get(key)))
    ops = ops_analysis(rows)
    if ops is not None:
        add("<h2>Node ops (the same graphs with each op)</h2>")
        add("<pre>" + esc("\n".join(ops_lines(ops))) + "</pre>")
        add(png(ops_plot(ops, split or "?", tmp / "ops.png", chance)["ops"]))
    damage_section(run, add, tmp)


def _drawings(run: RunData, rows: list[dict[str, Any]], add) -> None:
    """One drawing per setting: its first graph instance."""
    add("<h2>One graph per setting</h2>")
    first: dict[int, dict[str, Any]] = {}
    for r in sorted(rows, key=lambda r: (r["setting_index"], r["graph_seed"], r["train_seed"])):
        first.setdefault(r["setting_index"], r)
    for r in first.values():
        arch = run.architecture(r["hash"])
        add(f"<h3>{esc(r['setting'])} · graph seed {r['graph_seed']} · {esc(r['widths'])}</h3>")
        if arch is None:
            add("<p class='note'>its architecture could not be read</p>")
            continue
        try:
            add(f"<div class='arch'>{svg(architecture_graph(arch))}</div>")
        except Exception as exc:  # graphviz missing or failing: say so, keep the report
            add(f"<p class='note'>cannot render: {esc(exc)}</p>")


def _networks_table(run: RunData, rows: list[dict[str, Any]]) -> str:
    """Every network's row: setting, seeds, costs, graph statistics, accuracy, its JSON."""
    parts = []
    add = parts.append
    add(
        "<h2>Networks</h2><table><tr><th class='l'>setting</th><th>graph</th><th>seed</th>"
        "<th>MACs</th><th>params</th><th>edges</th><th>clustering</th><th>path length</th>"
        "<th>accuracy</th><th class='l'>status</th><th>JSON</th></tr>"
    )
    for r in rows:
        ref = f"architectures/{r['hash']}.json"
        add(
            f"<tr><td class='l'>{esc(r['setting'])}</td><td>{r['graph_seed']}</td>"
            f"<td>{r['train_seed']}</td><td>{si(r['macs'])}</td><td>{si(r['params'])}</td>"
            f"<td>{fmt(r['edges'], 1)}</td><td>{fmt(r['clustering'], 3)}</td>"
            f"<td>{fmt(r['avg_path_length'], 2)}</td><td>{fmt(r['accuracy'])}</td>"
            f"<td class='l'>{esc(r['status'])}</td><td>{link(run, ref, 'json')}</td></tr>"
        )
    add("</table>")
    return "\n".join(parts)


def damage_section(run: RunData, add, tmp: Path) -> None:
    """The study's graph damage (``genesis study damage --study``), when it has been scored:
    read from ``damage/damage.jsonl`` (bounded, a regular file only), drawn afresh."""
    from genesis.runfolder import read_jsonl
    from visualize.damage import damage_plots, damage_summary

    folder = run.path / "damage"
    if not folder.is_dir() or folder.is_symlink():
        return
    values, problems = read_jsonl(folder / "damage.jsonl", strict=False)
    run.problems.extend(f"damage/{p}" for p in problems)
    rows = [
        r
        for v in values
        if isinstance(v, dict) and isinstance(v.get("rows"), list)
        for r in v["rows"]
        if isinstance(r, dict)
    ]
    if not rows:
        return
    add("<h2>Graph damage (one node or edge removed, not retrained)</h2>")
    add("<pre>" + esc("\n".join(damage_summary(rows))) + "</pre>")
    figures = damage_plots(rows, tmp)
    for kind in ("node", "edge"):
        if kind in figures:
            add(png(figures[kind]))
