"""The HTML of the reports: escaping, numbers as text, links inside a run folder, embedded
figures (PNG as data URIs, SVG inline), the page's head and style, the config's tables, and the
page written whole.

A run folder may come from someone else, so every string read from it is data: text and
attributes go through :func:`html.escape` (quotes included), and links are made only to plain
relative paths that resolve to a regular file inside the folder (:meth:`RunData.inside`).
"""

from __future__ import annotations

import base64
import html
import urllib.parse
from pathlib import Path
from typing import Any

from genesis import GenesisError
from genesis.complexity import format_count
from genesis.runfolder import atomic_write
from visualize.runs import RunData, number

__all__ = [
    "CHECK",
    "CSS",
    "esc",
    "finish_page",
    "fmt",
    "link",
    "page_head",
    "png",
    "settings_tables",
    "si",
    "svg",
]

#: Config tables a run of each kind (:attr:`RunData.kind`) writes but does not use.
_UNUSED_TABLES = {"search": ("tune",), "tune": ("space",)}

#: The style of every report page.
CSS = """
body{font-family:Helvetica,Arial,sans-serif;margin:24px auto;max-width:1100px;color:#222}
h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ddd;padding:3px 8px;
text-align:right}th{background:#f3f3f3}td.l,th.l{text-align:left}code{font-size:12px}
.note{background:#fff7e0;border:1px solid #f0d890;padding:6px 10px;font-size:13px}
.arch svg{max-width:100%;height:auto}img{max-width:100%}.small{color:#666;font-size:12px}
"""

# Marks the page once every image has decoded, so a headless browser can tell it loaded whole.
CHECK = """
<script>
window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.images);
  var ok = imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length;
  document.body.setAttribute('data-images', ok + '/' + imgs.length);
});
</script>
"""


def png(path: Path | None) -> str:
    """The PNG at ``path`` as an ``<img>`` with a data URI (a note when there is none)."""
    if path is None:
        return "<p class='small'>nothing to plot yet</p>"
    data = base64.b64encode(path.read_bytes()).decode()
    return f"<img alt='{html.escape(path.stem)}' src='data:image/png;base64,{data}'>"


def svg(dot) -> str:
    """A graphviz drawing as inline SVG."""
    svg = dot.pipe(format="svg").decode("utf-8")
    return svg[svg.find("<svg") :]  # drop the XML prolog and doctype: inline SVG


def esc(value: Any) -> str:
    """Any value as HTML text or attribute content."""
    return html.escape(str(value), quote=True)


def fmt(value: Any, digits: int = 4) -> str:
    """A value as HTML text: a float with ``digits`` decimals, None as a dash."""
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return esc(value)


def si(value: Any) -> str:
    """A count as text with its SI prefix (``1.2M``); a dash when it is not a number."""
    value = number(value)
    return format_count(value) if value is not None else "–"


def link(run: RunData, rel: Any, text: str) -> str:
    """A relative link to the file ``rel`` names, only if it is a regular file inside the run."""
    if run.inside(rel) is None:
        return "–"
    return f"<a href='{esc(urllib.parse.quote(rel, safe='/'))}'>{esc(text)}</a>"


def page_head(title: str) -> str:
    """The page up to its ``<body>``: charset, title and style."""
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{esc(title)}</title>"
        f"<style>{CSS}</style></head><body>"
    )


def finish_page(run: RunData, parts: list[str], notes_at: int, out: Path) -> Path:
    """Close the page, put the notes of what could not be read at ``notes_at``, write it."""
    parts.append(CHECK + "</body></html>")
    missing = [p for p in run.problems if "not written yet" not in p or run.status == "finished"]
    if missing:
        notes = "<br>".join(esc(p) for p in dict.fromkeys(missing))
        parts[notes_at] = f"<p class='note'>Not shown (could not be read):<br>{notes}</p>"
    try:
        atomic_write(out, "\n".join(parts).encode("utf-8", errors="replace"))
    except OSError as exc:
        raise GenesisError(f"cannot write report {str(out)!r}: {exc.strerror or exc}") from None
    return out


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


def settings_tables(run: RunData) -> str:
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
        parts.append(f"<h3>[{esc(table)}]</h3><table>")
        for k, v in values.items():
            parts.append(
                f"<tr><th class='l'>{esc(k)}</th><td class='l'><code>"
                f"{esc(_short(v))}</code></td></tr>"
            )
        parts.append("</table>")
    return "".join(parts)


def _short(value: Any, limit: int = 2000) -> str:
    """A config value as text, cut to ``limit`` characters."""
    text = str(value)
    return text if len(text) <= limit else text[:limit] + "..."
