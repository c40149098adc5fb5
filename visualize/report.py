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

The HTML helpers (escaping, numbers, links, figures, the page) are :mod:`visualize.html`, the
report of a study folder :mod:`visualize.studyreport`.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from genesis import GenesisError
from genesis.runfolder import MAX_WEIGHTS_BYTES, RUN_FILES, read_bytes_bounded
from visualize.html import esc, finish_page, fmt, link, page_head, png, settings_tables, si, svg
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
from visualize.studyreport import write_study_report
from visualize.studystats import is_study

__all__ = ["check_output", "draw_counts", "generations_text", "write_report"]

#: Each objective cost in words (headings).
_COST_NAMES = {"macs": "MACs", "memory": "peak memory", "latency": "latency"}

#: The cap a skipped draw was over, as its reason names it (``macs 3e6 > max_macs 2e6``).
_CAP = re.compile(r"max_[a-z_]{1,20}")

#: Measured costs a Pareto member may carry: record key, column heading.
_MEASURED = (("latency_ms", "latency (ms)"), ("memory_kb", "memory (KiB)"))


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
        return write_study_report(run, out)
    baseline = read_run(baseline_dir) if baseline_dir else None
    parts: list[str] = []
    add = parts.append
    title = f"genesis run {run.path.name}"
    add(page_head(title))
    add(f"<h1>{esc(title)}</h1>")
    add(
        f"<p class='small'>status <b>{esc(run.status)}</b> · strategy "
        f"{esc(run.strategy)} · report written {time.strftime('%Y-%m-%d %H:%M:%S')}</p>"
    )
    if run.status != "finished":
        add(
            "<p class='note'>This run has not finished (or was interrupted): the report shows "
            "what exists so far.</p>"
        )
    notes_at = len(parts)  # the notes of what could not be read, filled in at the end
    add("")
    points = run.points()
    _summary_section(run, points, add)
    _members_section(run, add)
    _final_section(run, add)
    with tempfile.TemporaryDirectory() as tmp:
        _plots_section(run, baseline, add, Path(tmp))
    _drawings_section(run, points, add)
    add("<h2>Settings</h2>" + settings_tables(run))
    return finish_page(run, parts, notes_at, out)


def _summary_section(run: RunData, points: list, add) -> None:
    """What became of the candidates, the best accuracy, the front and the final step."""
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
        add(f"<tr><th class='l'>{name}</th><td class='l'>{fmt(value)}</td></tr>")
    add(
        "</table><p class='small'>Accuracy is on the validation split (cut from the training "
        "set) after the short proxy training, at the highest rung each network reached; test "
        "accuracy comes only from the final step. MACs count multiply-adds of convolutions and "
        "linear layers; FLOPs = 2 x MACs.</p>"
    )


def _members_section(run: RunData, add) -> None:
    """The Pareto members: accuracies, costs, origin and links to their files."""
    final = {r.get("hash"): r for r in run.final}
    add("<h2>Pareto members</h2>")
    if run.objective != ("macs",):
        add(
            "<p class='small'>The front is over validation accuracy x "
            f"{esc(' x '.join(_COST_NAMES[c] for c in run.objective))} (search objective).</p>"
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
                f"<tr><td class='l'><code>{esc(m['hash'])}</code></td>"
                f"<td>{fmt(m.get('accuracy'))}</td><td>{fmt(f.get('test_accuracy'))}</td>"
                f"<td>{si(m.get('macs'))}</td><td>{si(m.get('flops'))}</td>"
                f"<td>{si(m.get('params'))}</td>"
                + "".join(f"<td>{fmt(m.get(k))}</td>" for k, _ in measured)
                + f"<td class='l'>{fmt(m.get('origin'))}</td>"
                f"<td>{link(run, m.get('architecture'), 'json')}</td>"
                f"<td>{link(run, f.get('weights'), 'pt')}</td>"
                f"<td>{link(run, f.get('onnx'), 'onnx')}</td>"
                f"<td>{link(run, f.get('python'), 'py')}</td></tr>"
            )
        add("</table>")
    else:
        add("<p class='small'>no generation has finished yet</p>")


def _final_section(run: RunData, add) -> None:
    """The final retraining of the chosen members, when it ran."""
    if not run.final:
        return
    add(
        "<h3>Final retraining (full training set, official test split)</h3><table><tr>"
        "<th class='l'>hash</th><th>status</th><th>test acc</th><th>epochs</th>"
        "<th>params</th><th>MACs</th><th>seconds</th></tr>"
    )
    for r in run.final:
        add(
            f"<tr><td class='l'><code>{esc(r['hash'])}</code></td>"
            f"<td>{fmt(r.get('status'))}</td><td>{fmt(r.get('test_accuracy'))}</td>"
            f"<td>{fmt(r.get('epochs'), 2)}</td><td>{si(r.get('params'))}</td>"
            f"<td>{si(r.get('macs'))}</td><td>{fmt(r.get('train_seconds'), 1)}</td></tr>"
        )
    add("</table>")


def _plots_section(run: RunData, baseline: RunData | None, add, t: Path) -> None:
    """The plots, drawn in the temporary folder ``t`` and embedded."""
    add(f"<h2>Accuracy against {esc(' and '.join(_COST_NAMES[c] for c in run.objective))}</h2>")
    add(png(pareto_plot(run, t / "pareto.png", baseline)))
    add("<h2>Progress (hypervolume history)</h2>")
    add(png(progress_plot(run, t / "progress.png")))
    add("<h2>The front after every generation</h2>")
    add(png(fronts_plot(run, t / "fronts.png")))
    costs, rho = costs_plot(run, t / "costs.png")
    if costs is not None:
        add("<h2>Measured costs against MACs</h2>")
        add("<p class='small'>" + esc("; ".join(rho)) + "</p>")
        add(png(costs))
    add("<h2>Graph structure against accuracy</h2>")
    add(png(stats_plot(run, t / "stats.png")))


def _drawings_section(run: RunData, points: list, add) -> None:
    """Every Pareto architecture drawn (trained edge weights when its final weights exist),
    and the lineage of the most accurate."""
    final = {r.get("hash"): r for r in run.final}
    add("<h2>Pareto architectures</h2>")
    for m in run.pareto:
        arch = run.architecture(m["hash"])
        if arch is None:
            add(f"<p class='note'>architecture {esc(m['hash'])} could not be read</p>")
            continue
        weights = _trained_weights(run, arch, final.get(m["hash"], {}).get("weights"))
        note = " (edge width: trained sigmoid(w))" if weights else ""
        add(
            f"<h3><code>{esc(m['hash'])}</code> · val acc {fmt(m.get('accuracy'))} · "
            f"{si(m.get('macs'))} MACs{note}</h3>"
        )
        try:
            add(f"<div class='arch'>{svg(architecture_graph(arch, weights))}</div>")
        except Exception as exc:  # graphviz missing or failing: say so, keep the report
            add(f"<p class='note'>cannot render: {esc(exc)}</p>")
    if points:
        best = max(points, key=lambda p: p[0])[-1]
        add(f"<h2>Lineage of the most accurate (<code>{esc(best)}</code>)</h2>")
        try:
            add(f"<div class='arch'>{svg(lineage_graph(run, best))}</div>")
        except Exception as exc:
            add(f"<p class='note'>cannot render: {esc(exc)}</p>")


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
