"""A run folder's log and front as tables: ``evaluations.csv`` and ``pareto.csv``, ready for
pandas (``pd.read_csv``).

:meth:`genesis.runfolder.RunFolder.write_tables` rebuilds both whole from
``evaluations.jsonl`` and ``pareto.json``; this module turns their entries into rows. Every
table is written by :func:`genesis.tables.csv_bytes` (no cell a spreadsheet runs as a formula).
"""

from __future__ import annotations

from typing import Any

from genesis.runlayout import is_hash
from genesis.tables import csv_bytes

__all__ = ["entries_table", "final_accuracies"]


def final_accuracies(finals: Any) -> dict[str, Any]:
    """Hash -> the test accuracy the final step measured, from ``final.json``'s entries.

    Entries that are not objects, lack a valid hash (:func:`genesis.runlayout.is_hash`) or a
    numeric ``test_accuracy`` are left out; anything but a list gives an empty mapping.

    Parameters
    ----------
    finals : Any
        ``final.json`` as read (a list of objects when it is sound).

    Returns
    -------
    dict
        ``{hash: test_accuracy}``.

    Examples
    --------
    >>> final_accuracies([{"hash": "25947824abf5d7875e06", "test_accuracy": 0.9}, {"hash": "x"}])
    {'25947824abf5d7875e06': 0.9}
    """
    return {
        f["hash"]: f.get("test_accuracy")
        for f in (finals if isinstance(finals, list) else [])
        if isinstance(f, dict)
        and is_hash(f.get("hash"))
        and isinstance(f.get("test_accuracy"), (int, float))
    }


def _plain(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def _cell(value: Any) -> tuple[bool, Any]:
    """(kept, value) of a field in a table: plain values as they are, a list of plain values
    joined by ``;`` (parents, a learning curve), anything else left out."""
    if _plain(value):
        return True, value
    if isinstance(value, list) and all(_plain(v) for v in value):
        return True, ";".join("" if v is None else str(v) for v in value)
    return False, None


def _row(entry: dict[str, Any], top: bool) -> dict[str, Any]:
    """The cells of one entry: its plain fields (with ``top``), then its result's."""
    row: dict[str, Any] = {}
    fields = [(k, v) for k, v in entry.items() if k != "result"] if top else []
    result = entry.get("result")
    if isinstance(result, dict):
        fields += list(result.items())
    for k, v in fields:
        kept, cell = _cell(v)
        if kept and k not in row:
            row[k] = cell
    return row


def entries_table(
    entries: list[dict[str, Any]], top: bool = True, final: dict[str, Any] | None = None
) -> bytes:
    """CSV of log entries (see :meth:`genesis.runfolder.RunFolder.write_tables`).

    Parameters
    ----------
    entries : list of dict
        Log entries (``evaluations.jsonl``), or ``{"result": member}`` of the front.
    top : bool
        Whether the entries' own plain fields are columns (the log's), before their result's.
    final : dict, optional
        Hash -> the test accuracy the final step measured (:func:`final_accuracies`): a last
        column, ``final_test_accuracy``, where there is one.

    Returns
    -------
    bytes
        The table, columns in first-seen order; a list of plain values joined by ``;``, nested
        tables left out.

    Examples
    --------
    >>> entries_table([{"hash": "a", "parents": ["b", "c"], "result": {"accuracy": 0.5}}])
    b'hash,parents,accuracy\\r\\na,b;c,0.5\\r\\n'
    """
    rows = [_row(e, top) for e in entries]
    columns: dict[str, None] = {}
    for row in rows:
        columns.update(dict.fromkeys(row))
    if final:
        h = "hash" if top else None
        for row, e in zip(rows, entries, strict=True):
            key = e.get(h) if h else (e.get("result") or {}).get("hash")
            row["final_test_accuracy"] = final.get(key) if isinstance(key, str) else None
        columns["final_test_accuracy"] = None
    return csv_bytes(rows, list(columns))
