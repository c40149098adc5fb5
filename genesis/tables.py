"""CSV, safely: the one writer of every table genesis writes, and the one rule for its text.

A run folder's tables (``evaluations.csv``, ``pareto.csv``, ``logbook.csv``), a study's
(``study.csv``, ``summary.csv``, ``ops.csv``, ``ops_correlation.csv``) and graph damage's
(``damage.csv``) hold text read from files that may come from someone else: a setting's label,
a family name, an error message, a record's keys. A spreadsheet opening such a table runs a
cell that begins with ``=``, ``+``, ``-`` or ``@`` as a formula (CSV injection, CWE-1236).
:func:`safe_cell` applies OWASP's rule to every text cell, the header's included, and
:func:`csv_bytes` is the only place genesis turns rows into CSV. Numbers stay numbers: only
``str`` cells are touched, so ``-0.5`` written as a float reads back as ``-0.5``.

Imports nothing of genesis (the run folder, the study tables and the damage tables all use it).

References
----------
.. [1] OWASP, "CSV Injection". https://owasp.org/www-community/attacks/CSV_Injection
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = ["FORMULA_STARTS", "csv_bytes", "safe_cell"]

#: First characters that make a spreadsheet read a cell as a formula (OWASP): equals, plus,
#: minus, at, tab and carriage return. A text cell beginning with one gets a leading ``'``.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """``value`` as a CSV cell that no spreadsheet runs as a formula.

    A ``str`` that begins with one of :data:`FORMULA_STARTS` is prefixed with a single quote
    (OWASP's rule); every other value, numbers included, is returned unchanged.

    Examples
    --------
    >>> safe_cell("=HYPERLINK(\\"http://x\\")"), safe_cell("-1+2"), safe_cell("@SUM(A1)")
    ('\\'=HYPERLINK("http://x")', "'-1+2", "'@SUM(A1)")
    >>> safe_cell(-0.5), safe_cell("ER(p=0.2)"), safe_cell(None)
    (-0.5, 'ER(p=0.2)', None)
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_bytes(
    rows: Iterable[Mapping[str, Any]],
    columns: Sequence[str],
    header: bool = True,
) -> bytes:
    """``rows`` as UTF-8 CSV text: a header of ``columns`` (unless ``header`` is false), then
    one line per row with its values in that order.

    A key a row lacks, or holds as None, is an empty cell; keys not in ``columns`` are left out.
    Every cell, the header's too, goes through :func:`safe_cell`. Lines end in ``\\r\\n`` (RFC
    4180), so the :mod:`csv` module quotes a cell holding either (and a comma or a quote):
    ``csv.DictReader`` (on a file opened with ``newline=""``) and ``pandas.read_csv`` read the
    table back, a cell with a stray carriage return included. What UTF-8 cannot encode
    (a lone surrogate, from a JSON ``\\ud800``) is written as its escape.

    Examples
    --------
    >>> csv_bytes([{"name": "=1+1", "x": -0.5}, {"name": "ok"}], ["name", "x"]).decode()
    "name,x\\r\\n'=1+1,-0.5\\r\\nok,\\r\\n"
    """
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    if header:
        writer.writerow([safe_cell(c) for c in columns])
    for row in rows:
        writer.writerow([safe_cell("" if row.get(k) is None else row[k]) for k in columns])
    return buf.getvalue().encode("utf-8", errors="backslashreplace")
