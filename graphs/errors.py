"""The one exception type of the project.

It lives in ``graphs`` because that is the bottom of the import chain (``graphs <- genesis <-
evolve``); ``genesis`` re-exports it. Messages state the rule and the offending value, like
networkx's ``NetworkXError`` messages, so a person can act on them.
"""

__all__ = ["GenesisError", "RunFailed"]


class GenesisError(ValueError):
    """Bad input to genesis: a graph, a genome, a config or a flag that breaks a stated rule.

    Examples
    --------
    >>> raise GenesisError("watts_strogatz needs even k < n, got k=3, n=8")
    Traceback (most recent call last):
    ...
    graphs.errors.GenesisError: watts_strogatz needs even k < n, got k=3, n=8
    """


class RunFailed(GenesisError):
    """A run that ran but produced nothing to use: a search, tune or study in which no
    candidate trained. The command line prints it in one line and exits with 1 (not 2: the
    input may be fine, e.g. a worker that could not import genesis).

    Examples
    --------
    >>> issubclass(RunFailed, GenesisError)
    True
    """
