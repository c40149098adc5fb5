"""Reading a run folder, for the report, the plots and compare: :mod:`genesis.rundata`.

The reader lives in genesis so that :func:`genesis.load_run` and the report read a folder
the same way; this module names it where visualisation has always found it.
"""

from genesis.rundata import RunData, number, read_run

__all__ = ["RunData", "number", "read_run"]
