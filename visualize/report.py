"""A self-contained HTML report of a run folder: ``report.html`` beside the run's files.

Settings, a summary, a table of the Pareto members (validation accuracy, test accuracy when the
final step ran, MACs, params, hash, links to their JSON, weights and ONNX), the plots, every
Pareto architecture rendered (with trained edge weights when its final weights exist) and the
lineage of the most accurate one. Plots and drawings are embedded (PNG as data URIs, SVG
inline), so the file opens anywhere; links to the run's own files are relative. It works on a
run in progress or killed (what exists so far, with a note of what is missing) and on a finished
one.

A run folder may come from someone else, so every string read from it is data: HTML text and
attributes go through :func:`html.escape` (quotes included), links are made only to plain
relative paths that resolve to a regular file inside the folder (:meth:`RunData.inside`), and
drawings reach the DOT source through :func:`graphviz.escape`. The report is written with
:func:`genesis.runfolder.atomic_write` (a fresh temporary file, then a rename: never through a
symlink), and an output inside a run folder must be an ``.html`` file at its top that is not one
of the run's own files.
"""

from __future__ import annotations

import base64
import html
import io
import os
import re
import tempfile
import time
import urllib.parse
from collections import Counter
from pathlib import Path
from typing import Any

from genesis import GenesisError
from genesis.complexity import format_count
from genesis.runfolder import MAX_WEIGHTS_BYTES, RUN_FILES, atomic_write, read_bytes_bounded
from visualize.plots import (
    costs_plot,
    front_points,
    fronts_plot,
    lineage_graph,
    pareto_plot,
    progress_plot,
    stats_plot,
)
from visualize.render import architecture_graph, edge_weights
from visualize.runs import RunData, number, read_run
from visualize.studyplots import ops_plot, study_plots
from visualize.studystats import (
    is_study,
    ops_analysis,
    ops_lines,
    study_rows,
    summarize_settings,
    summary_lines,
)

__all__ = ["check_output", "draw_counts", "generations_text", "write_report"]

#: Each objective cost in words (headings).
_COST_NAMES = {"macs": "MACs", "memory": "peak memory", "latency": "latency"}

#: Config tables a run of each kind (:attr:`RunData.kind`) writes but does not use.
_UNUSED_TABLES = {"search": ("tune",), "tune": ("space",)}

#: The cap a skipped draw was over, as its reason names it (``macs 3e6 > max_macs 2e6``).
_CAP = re.compile(r"max_[a-z_]{1,20}")

#: Measured costs a Pareto member may carry: record key, column heading.
_MEASURED = (("latency_ms", "latency (ms)"), ("memory_kb", "memory (KiB)"))

_CSS = """
body{font-family:Helvetica,Arial,sans-serif;margin:24px auto;max-width:1100px;color:#222}
h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ddd;padding:3px 8px;
text-align:right}th{background:#f3f3f3}td.l,th.l{text-align:left}code{font-size:12px}
.note{background:#fff7e0;border:1px solid #f0d890;padding:6px 10px;font-size:13px}
.arch svg{max-width:100%;height:auto}img{max-width:100%}.small{color:#666;font-size:12px}
"""

# Marks the page once every image has decoded, so a headless browser can tell it loaded whole.
_CHECK = """
<script>
window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.images);
  var ok = imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length;
  document.body.setAttribute('data-images', ok + '/' + imgs.length);
});
</script>
"""


def _png(path: Path | None) -> str:
    if path is None:
        return "<p class='small'>nothing to plot yet</p>"
    data = base64.b64encode(path.read_bytes()).decode()
    return f"<img alt='{html.escape(path.stem)}' src='data:image/png;base64,{data}'>"


def _svg(dot) -> str:
    svg = dot.pipe(format="svg").decode("utf-8")
    return svg[svg.find("<svg") :]  # drop the XML prolog and doctype: inline SVG


def _esc(value: Any) -> str:
    """Any value as HTML text or attribute content."""
    return html.escape(str(value), quote=True)


def _fmt(value: Any, digits: int = 4) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return _esc(value)


def _si(value: Any) -> str:
    value = number(value)
    return format_count(value) if value is not None else "–"


def _link(run: RunData, rel: Any, text: str) -> str:
    """A relative link to the file ``rel`` names, only if it is a regular file inside the run."""
    if run.inside(rel) is None:
        return "–"
    return f"<a href='{_esc(urllib.parse.quote(rel, safe='/'))}'>{_esc(text)}</a>"


def _is_run_folder(path: Path) -> bool:
    return (path / "config.toml").exists() and any(
        os.path.lexists(path / name) for name in ("run.json", "evaluations.jsonl")
    )


def check_output(out: str | os.PathLike) -> Path:
    """``out`` if a report may be written there; refuses to replace a file of a run folder.

    Inside a run folder (or any folder below one) a report may only be an ``.html`` file at the
    folder's top whose name is not one of :data:`genesis.runfolder.RUN_FILES`; a folder is never
    replaced.

    Raises
    ------
    GenesisError
        Naming the rule and the path.
    """
    out = Path(out)
    if out.is_dir() and not out.is_symlink():
        raise GenesisError(f"report output {str(out)!r} is a folder; name an .html file")
    try:
        parent = out.parent.resolve()
    except (OSError, RuntimeError) as exc:
        raise GenesisError(f"report output folder {str(out.parent)!r} is unusable: {exc}") from None
    for folder in (parent, *parent.parents):
        if not _is_run_folder(folder):
            continue
        if folder != parent or out.name in RUN_FILES or out.suffix.lower() not in (".html", ".htm"):
            raise GenesisError(
                f"report output {str(out)!r} lies inside the run folder {str(folder)!r}: there "
                "it may only be an .html file at the folder's top (not one of the run's files)"
            )
    return out


def write_report(
    run_dir: str | os.PathLike,
    baseline_dir: str | os.PathLike | None = None,
    out: str | os.PathLike | None = None,
) -> Path:
    """Write ``report.html`` (or ``out``) for the run in ``run_dir``; returns its path.

    Raises
    ------
    GenesisError
        Only when ``run_dir`` is no run folder at all; a partial run gives a partial report.
    """
    run = read_run(run_dir)
    out = check_output(out if out else run.path / "report.html")
    if is_study(run):
        if baseline_dir:
            raise GenesisError("--baseline compares searches; a study folder has no front")
        return _write_study_report(run, out)
    baseline = read_run(baseline_dir) if baseline_dir else None
    parts: list[str] = []
    add = parts.append
    title = f"genesis run {run.path.name}"
    add(
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{_esc(title)}</title>"
        f"<style>{_CSS}</style></head><body>"
    )
    add(f"<h1>{_esc(title)}</h1>")
    add(
        f"<p class='small'>status <b>{_esc(run.status)}</b> · strategy "
        f"{_esc(run.strategy)} · report written {time.strftime('%Y-%m-%d %H:%M:%S')}</p>"
    )
    if run.status != "finished":
        add(
            "<p class='note'>This run has not finished (or was interrupted): the report shows "
            "what exists so far.</p>"
        )
    notes_at = len(parts)  # the notes of what could not be read, filled in at the end
    add("")

    # -- summary ---------------------------------------------------------------------------------
    points = run.points()
    last = run.logbook[-1] if run.logbook else {}
    counts = draw_counts(run)
    add("<h2>Summary</h2><table>")
    for name, value in (
        ("candidates trained (first rung)", counts["trained"]),
        ("trainings at later rungs (promoted)", counts["promoted"]),
        ("failed trainings, by status", _tally(counts["failed"])),
        ("skipped (over a cap), by cap", _tally(counts["skipped"])),
        ("cached (evaluated before, not trained again)", counts["cached"]),
        ("duplicates (drawn again while it trained)", counts["duplicate"]),
        ("distinct architectures evaluated", len(points)),
        ("best validation accuracy", max((p[0] for p in points), default=None)),
        ("Pareto front size", len(front_points([p for p in points if p[0] > 0]))),
        ("hypervolume (last generation)", last.get("hypervolume")),
        ("generations", generations_text(run)),
        ("final test accuracy (retrained on the full training set)", _test_accuracies(run)),
    ):
        add(f"<tr><th class='l'>{name}</th><td class='l'>{_fmt(value)}</td></tr>")
    add(
        "</table><p class='small'>Accuracy is on the validation split (cut from the training "
        "set) after the short proxy training, at the highest rung each network reached; test "
        "accuracy comes only from the final step. MACs count multiply-adds of convolutions and "
        "linear layers; FLOPs = 2 x MACs.</p>"
    )

    # -- Pareto members --------------------------------------------------------------------------
    final = {r.get("hash"): r for r in run.final}
    add("<h2>Pareto members</h2>")
    if run.objective != ("macs",):
        add(
            "<p class='small'>The front is over validation accuracy x "
            f"{_esc(' x '.join(_COST_NAMES[c] for c in run.objective))} (search objective).</p>"
        )
    if run.pareto:
        measured = [(k, h) for k, h in _MEASURED if any(m.get(k) is not None for m in run.pareto)]
        add(
            "<table><tr><th class='l'>hash</th><th>val acc</th><th>test acc</th><th>MACs</th>"
            "<th>FLOPs</th><th>params</th>"
            + "".join(f"<th>{h}</th>" for _, h in measured)
            + "<th class='l'>origin</th><th>JSON</th><th>weights</th><th>ONNX</th>"
            "<th>PyTorch</th></tr>"
        )
        for m in run.pareto:
            f = final.get(m["hash"], {})
            add(
                f"<tr><td class='l'><code>{_esc(m['hash'])}</code></td>"
                f"<td>{_fmt(m.get('accuracy'))}</td><td>{_fmt(f.get('test_accuracy'))}</td>"
                f"<td>{_si(m.get('macs'))}</td><td>{_si(m.get('flops'))}</td>"
                f"<td>{_si(m.get('params'))}</td>"
                + "".join(f"<td>{_fmt(m.get(k))}</td>" for k, _ in measured)
                + f"<td class='l'>{_fmt(m.get('origin'))}</td>"
                f"<td>{_link(run, m.get('architecture'), 'json')}</td>"
                f"<td>{_link(run, f.get('weights'), 'pt')}</td>"
                f"<td>{_link(run, f.get('onnx'), 'onnx')}</td>"
                f"<td>{_link(run, f.get('python'), 'py')}</td></tr>"
            )
        add("</table>")
    else:
        add("<p class='small'>no generation has finished yet</p>")
    if run.final:
        add(
            "<h3>Final retraining (full training set, official test split)</h3><table><tr>"
            "<th class='l'>hash</th><th>status</th><th>test acc</th><th>epochs</th>"
            "<th>params</th><th>MACs</th><th>seconds</th></tr>"
        )
        for r in run.final:
            add(
                f"<tr><td class='l'><code>{_esc(r['hash'])}</code></td>"
                f"<td>{_fmt(r.get('status'))}</td><td>{_fmt(r.get('test_accuracy'))}</td>"
                f"<td>{_fmt(r.get('epochs'), 2)}</td><td>{_si(r.get('params'))}</td>"
                f"<td>{_si(r.get('macs'))}</td><td>{_fmt(r.get('train_seconds'), 1)}</td></tr>"
            )
        add("</table>")

    # -- plots -----------------------------------------------------------------------------------
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        add(
            f"<h2>Accuracy against {_esc(' and '.join(_COST_NAMES[c] for c in run.objective))}</h2>"
        )
        add(_png(pareto_plot(run, t / "pareto.png", baseline)))
        add("<h2>Progress (hypervolume history)</h2>")
        add(_png(progress_plot(run, t / "progress.png")))
        add("<h2>The front after every generation</h2>")
        add(_png(fronts_plot(run, t / "fronts.png")))
        costs, rho = costs_plot(run, t / "costs.png")
        if costs is not None:
            add("<h2>Measured costs against MACs</h2>")
            add("<p class='small'>" + _esc("; ".join(rho)) + "</p>")
            add(_png(costs))
        add("<h2>Graph structure against accuracy</h2>")
        add(_png(stats_plot(run, t / "stats.png")))

    # -- drawings --------------------------------------------------------------------------------
    add("<h2>Pareto architectures</h2>")
    for m in run.pareto:
        arch = run.architecture(m["hash"])
        if arch is None:
            add(f"<p class='note'>architecture {_esc(m['hash'])} could not be read</p>")
            continue
        weights = _trained_weights(run, arch, final.get(m["hash"], {}).get("weights"))
        note = " (edge width: trained sigmoid(w))" if weights else ""
        add(
            f"<h3><code>{_esc(m['hash'])}</code> · val acc {_fmt(m.get('accuracy'))} · "
            f"{_si(m.get('macs'))} MACs{note}</h3>"
        )
        try:
            add(f"<div class='arch'>{_svg(architecture_graph(arch, weights))}</div>")
        except Exception as exc:  # graphviz missing or failing: say so, keep the report
            add(f"<p class='note'>cannot render: {_esc(exc)}</p>")
    if points:
        best = max(points, key=lambda p: p[0])[-1]
        add(f"<h2>Lineage of the most accurate (<code>{_esc(best)}</code>)</h2>")
        try:
            add(f"<div class='arch'>{_svg(lineage_graph(run, best))}</div>")
        except Exception as exc:
            add(f"<p class='note'>cannot render: {_esc(exc)}</p>")

    # -- settings --------------------------------------------------------------------------------
    add("<h2>Settings</h2>" + _settings_tables(run))
    return _finish(run, parts, notes_at, out)


def draw_counts(run: RunData) -> dict[str, Any]:
    """What became of every candidate the log names: ``trained`` (candidates trained at the
    first rung), ``promoted`` (trainings at later rungs), ``failed`` (status -> trainings that
    did not finish ok, any rung), ``skipped`` (cap -> draws never trained: over ``max_macs``,
    ``max_params``, ``max_memory_kb``, or measured over ``max_latency_ms``, status ``over_cap``),
    ``cached`` (drawn again after they were evaluated) and ``duplicate`` (drawn again while
    they trained)."""
    counts: dict[str, Any] = {
        "trained": 0,
        "promoted": 0,
        "failed": Counter(),
        "skipped": Counter(),
        "cached": 0,
        "duplicate": 0,
    }
    for e in [*run.evaluations, *run.untrained]:
        kind, result = e.get("kind"), e.get("result") or {}
        status = result.get("status")
        if kind == "skipped" or (kind == "train" and status == "over_cap"):
            counts["skipped"][_cap(e.get("reason") or result.get("error"))] += 1
        elif kind == "train":
            counts["promoted" if e.get("rung") else "trained"] += 1
            if status != "ok":
                counts["failed"][status or "?"] += 1
        elif kind in ("cached", "duplicate"):
            counts[kind] += 1
    return counts


def _cap(reason: Any) -> str:
    """The cap a skipped draw was over, from its reason (``macs 3e6 > max_macs 2e6``)."""
    found = _CAP.search(reason) if isinstance(reason, str) else None
    return found.group(0) if found else "a cap"


def generations_text(run: RunData) -> str | None:
    """How many generations the run closed, in the config's terms: generation 0 is the first
    population, ``search.generations`` counts those after it (``generations = 2`` closes
    generations 0, 1 and 2: "the first population and 2 generations"). The planned number is
    said when the config bounds the run by generations (no ``budget`` nor ``budget_evals``)."""
    if not run.logbook:
        return None
    done = max(0, int(run.logbook[-1]["generation"]))
    text = "the first population" + (
        f" and {done} generation{'s' if done != 1 else ''}" if done else " only"
    )
    search = run.config.get("search", {})
    planned = search.get("generations")
    budgeted = any(number(search.get(k)) is not None for k in ("budget", "budget_evals"))
    if isinstance(planned, int) and not isinstance(planned, bool) and not budgeted:
        text += f" (of {planned} in the config)"
    return text


def _tally(counter: Counter) -> str:
    """``3 (oom 2, error 1)``; ``0`` when empty."""
    total = sum(counter.values())
    if not total:
        return "0"
    return f"{total} (" + ", ".join(f"{k} {n}" for k, n in counter.most_common()) + ")"


def _test_accuracies(run: RunData) -> str | None:
    """``hash: test accuracy`` of every retrained member of ``final.json`` that has one."""
    scored = [r for r in run.final if r.get("test_accuracy") is not None]
    if not scored:
        return None
    return "; ".join(f"{r['hash']}: {r['test_accuracy']:.4f}" for r in scored)


def _finish(run: RunData, parts: list[str], notes_at: int, out: Path) -> Path:
    """Close the page, put the notes of what could not be read at ``notes_at``, write it."""
    parts.append(_CHECK + "</body></html>")
    missing = [p for p in run.problems if "not written yet" not in p or run.status == "finished"]
    if missing:
        notes = "<br>".join(_esc(p) for p in dict.fromkeys(missing))
        parts[notes_at] = f"<p class='note'>Not shown (could not be read):<br>{notes}</p>"
    try:
        atomic_write(out, "\n".join(parts).encode("utf-8", errors="replace"))
    except OSError as exc:
        raise GenesisError(f"cannot write report {str(out)!r}: {exc.strerror or exc}") from None
    return out


def _damage_section(run: RunData, add, tmp: Path) -> None:
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
    add("<pre>" + _esc("\n".join(damage_summary(rows))) + "</pre>")
    figures = damage_plots(rows, tmp)
    for kind in ("node", "edge"):
        if kind in figures:
            add(_png(figures[kind]))


def _head(title: str) -> str:
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{_esc(title)}</title>"
        f"<style>{_CSS}</style></head><body><h1>{_esc(title)}</h1>"
    )


def _own_tables(run: RunData) -> list[tuple[str, dict]]:
    """The config's tables, ``[strategy]`` narrowed to the run's own strategy's table
    (``[strategy.<name>]``; none when that strategy has no parameters)."""
    out = []
    for table, values in run.config.items():
        if table != "strategy":
            out.append((table, values))
            continue
        name = run.config.get("search", {}).get("strategy")
        own = values.get(name) if isinstance(name, str) else None
        if isinstance(own, dict) and own:
            out.append((f"strategy.{name}", own))
    return out


def _settings_tables(run: RunData) -> str:
    """The config's tables that the run used: an architecture search has no ``[tune]`` (its
    config carries the defaults unused), a tuning run no ``[space]`` (its architecture is
    fixed); a study shows what it wrote."""
    if not run.config:
        return "<p class='note'>config.toml is missing</p>"
    unused = _UNUSED_TABLES.get(run.kind, ())
    parts = []
    for table, values in _own_tables(run):
        if table in unused:
            continue
        parts.append(f"<h3>[{_esc(table)}]</h3><table>")
        for k, v in values.items():
            parts.append(
                f"<tr><th class='l'>{_esc(k)}</th><td class='l'><code>"
                f"{_esc(_short(v))}</code></td></tr>"
            )
        parts.append("</table>")
    return "".join(parts)


def _write_study_report(run: RunData, out: Path) -> Path:
    """The report of a study folder: the summary in words, the per-setting table, the figures,
    one drawing per setting and every network's row. Nothing but ``out`` is written (the
    figures are drawn in a temporary folder and embedded)."""
    rows = study_rows(run)
    summaries = summarize_settings(rows)
    splits = {r["split"] for r in rows if r["split"]}
    split = splits.pop() if len(splits) == 1 else ""
    parts = [_head(f"genesis study {run.path.name}")]
    add = parts.append
    add(
        f"<p class='small'>status <b>{_esc(run.status)}</b> · {len(rows)} networks · report "
        f"written {time.strftime('%Y-%m-%d %H:%M:%S')}</p>"
    )
    if run.status != "finished":
        add("<p class='note'>This study has not finished: the report shows what exists.</p>")
    notes_at = len(parts)
    add("")
    add("<h2>Summary</h2><pre>" + _esc("\n".join(summary_lines(summaries, split))) + "</pre>")
    add(
        "<table><tr><th class='l'>setting</th><th>n</th><th>failed</th><th>MACs</th>"
        "<th>mean</th><th>std</th><th>95% interval</th><th>std graphs</th><th>std seeds</th>"
        "<th>vs best</th><th>p (Welch)</th></tr>"
    )
    for sm in summaries:
        interval = f"{_fmt(sm.ci_low)} – {_fmt(sm.ci_high)}" if sm.ci_low is not None else "–"
        add(
            f"<tr><td class='l'>{_esc(sm.label)}</td><td>{sm.n}</td><td>{sm.failed}</td>"
            f"<td>{_si(sm.macs)}</td><td>{_fmt(sm.mean)}</td><td>{_fmt(sm.std)}</td>"
            f"<td>{interval}</td><td>{_fmt(sm.std_graphs)}</td><td>{_fmt(sm.std_train)}</td>"
            f"<td>{_fmt(sm.diff)}</td>"
            f"<td>{'–' if sm.p_value is None else f'{sm.p_value:.3g}'}</td></tr>"
        )
    add(
        "</table><p class='small'>Accuracy is on the "
        f"{_esc({'val': 'validation', 'test': 'test'}.get(split, 'recorded'))} split; a study "
        "reads the test split only with --final. MACs are genesis info's count "
        "(multiply-adds of convolutions and linear layers; FLOPs = 2 x MACs).</p>"
    )
    with tempfile.TemporaryDirectory() as tmp:
        chance = run.chance()
        figures = study_plots(rows, summaries, tmp, chance)
        for key, title in (
            ("bars", "Accuracy per setting (mean ± std over its networks)"),
            ("macs", "Accuracy against MACs"),
            ("stats", "Accuracy against graph statistics (Spearman's rho, n and p)"),
            ("heatmap", "Accuracy over clustering x average path length (one point a network)"),
        ):
            add(f"<h2>{title}</h2>")
            add(_png(figures.get(key)))
        ops = ops_analysis(rows)
        if ops is not None:
            add("<h2>Node ops (the same graphs with each op)</h2>")
            add("<pre>" + _esc("\n".join(ops_lines(ops))) + "</pre>")
            add(_png(ops_plot(ops, split or "?", Path(tmp) / "ops.png", chance)["ops"]))
        _damage_section(run, add, Path(tmp))
    add("<h2>One graph per setting</h2>")
    first: dict[int, dict[str, Any]] = {}
    for r in sorted(rows, key=lambda r: (r["setting_index"], r["graph_seed"], r["train_seed"])):
        first.setdefault(r["setting_index"], r)
    for r in first.values():
        arch = run.architecture(r["hash"])
        add(f"<h3>{_esc(r['setting'])} · graph seed {r['graph_seed']} · {_esc(r['widths'])}</h3>")
        if arch is None:
            add("<p class='note'>its architecture could not be read</p>")
            continue
        try:
            add(f"<div class='arch'>{_svg(architecture_graph(arch))}</div>")
        except Exception as exc:  # graphviz missing or failing: say so, keep the report
            add(f"<p class='note'>cannot render: {_esc(exc)}</p>")
    add(
        "<h2>Networks</h2><table><tr><th class='l'>setting</th><th>graph</th><th>seed</th>"
        "<th>MACs</th><th>params</th><th>edges</th><th>clustering</th><th>path length</th>"
        "<th>accuracy</th><th class='l'>status</th><th>JSON</th></tr>"
    )
    for r in rows:
        ref = f"architectures/{r['hash']}.json"
        add(
            f"<tr><td class='l'>{_esc(r['setting'])}</td><td>{r['graph_seed']}</td>"
            f"<td>{r['train_seed']}</td><td>{_si(r['macs'])}</td><td>{_si(r['params'])}</td>"
            f"<td>{_fmt(r['edges'], 1)}</td><td>{_fmt(r['clustering'], 3)}</td>"
            f"<td>{_fmt(r['avg_path_length'], 2)}</td><td>{_fmt(r['accuracy'])}</td>"
            f"<td class='l'>{_esc(r['status'])}</td><td>{_link(run, ref, 'json')}</td></tr>"
        )
    add("</table><h2>Settings</h2>" + _settings_tables(run))
    return _finish(run, parts, notes_at, out)


def _short(value: Any, limit: int = 2000) -> str:
    """A config value as text, cut to ``limit`` characters."""
    text = str(value)
    return text if len(text) <= limit else text[:limit] + "..."


def _trained_weights(run: RunData, arch, rel: Any):
    """Edge weights from the final ``state_dict`` of an architecture, if there is one.

    Only a regular file inside the run folder is read, at most
    :data:`genesis.runfolder.MAX_WEIGHTS_BYTES`, and with ``weights_only`` (no pickle code runs).
    """
    path = run.inside(rel)
    if path is None:
        return None
    import torch

    try:
        data = read_bytes_bounded(path, MAX_WEIGHTS_BYTES)
        state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
        if not isinstance(state, dict):
            raise GenesisError(f"not a state_dict but a {type(state).__name__}")
        return edge_weights(arch, state)
    except Exception as exc:
        run.problems.append(f"{rel}: {exc}")
        return None
