"""Random stage DAGs from classic random-graph generators, converted the RandWire way.

Three families from the RandWire paper, each numbering its nodes as the paper does before
:func:`graphs.dag.to_dag` points the edges from lower to higher number:

- :func:`erdos_renyi` (ER): any order; networkx's labels.
- :func:`watts_strogatz` (WS): clockwise around the ring; networkx's labels.
- :func:`barabasi_albert` (BA): the ``m`` seed nodes first, then in order of arrival.

Any other undirected networkx generator is reached by name through :func:`from_networkx`. The
families registry (:mod:`graphs.families`) names the three, with their defaults and ranges, and
:func:`graphs.random_dag` dispatches on a family name (``"er"``, ``"ws"``, ``"ba"``,
``"nx:<name>"``).
Every function takes ``seed`` the networkx way: an int, a :class:`random.Random`, or None.
"""

from __future__ import annotations

import contextlib
import inspect
import os
import pickle
import random
import select
import signal
import time
from collections.abc import Callable
from typing import Any

import networkx as nx
from networkx.utils import py_random_state

from graphs import limits
from graphs.dag import DEFAULT_OP, check_size, to_dag
from graphs.errors import GenesisError

__all__ = [
    "erdos_renyi",
    "watts_strogatz",
    "barabasi_albert",
    "ba_isolated_graph",
    "from_networkx",
]


def _check_n(name: str, n: Any) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or n < 2:
        raise GenesisError(f"{name} needs n >= 2 nodes, got n={n!r}")


def _check_p(name: str, p: Any) -> None:
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
        raise GenesisError(f"{name} needs a probability p in [0, 1], got p={p!r}")


@py_random_state("seed")
def erdos_renyi(n: int, p: float, seed=None, op: str = DEFAULT_OP) -> nx.DiGraph:
    """Stage DAG from an Erdős–Rényi G(n, p) graph.

    Parameters
    ----------
    n : int
        Compute nodes, at least 2.
    p : float
        Probability of each of the n(n-1)/2 edges, in [0, 1].
    seed : int, random.Random or None
        Randomness, networkx style.
    op : str
        Op of every compute node.

    Returns
    -------
    networkx.DiGraph
        A valid stage DAG with compute nodes ``1..n``.

    Raises
    ------
    GenesisError
        If ``n < 2`` or ``p`` is outside [0, 1].

    Notes
    -----
    Cost: O(n^2) draws (networkx's ``gnp_random_graph``).

    References
    ----------
    .. [1] P. Erdős, A. Rényi. "On random graphs I". Publ. Math. Debrecen 6, 1959.

    Examples
    --------
    >>> G = erdos_renyi(8, 0.3, seed=1)
    >>> G.graph["input"], G.graph["output"], G.number_of_nodes()
    (0, 9, 10)
    """
    _check_n("erdos_renyi", n)
    _check_p("erdos_renyi", p)
    return to_dag(nx.gnp_random_graph(n, p, seed=seed), op=op)


@py_random_state("seed")
def watts_strogatz(n: int, k: int, p: float, seed=None, op: str = DEFAULT_OP) -> nx.DiGraph:
    """Stage DAG from a Watts–Strogatz small-world graph.

    The ring lattice joins each node to its ``k`` nearest neighbours (k/2 on each side); each
    edge is rewired clockwise with probability ``p``. Nodes are numbered clockwise around the
    ring, as in RandWire.

    Parameters
    ----------
    n : int
        Compute nodes, at least 2.
    k : int
        Ring degree, even and less than ``n``.
    p : float
        Rewiring probability in [0, 1].
    seed : int, random.Random or None
        Randomness, networkx style.
    op : str
        Op of every compute node.

    Raises
    ------
    GenesisError
        If ``n < 2``, ``k`` is odd or ``k >= n``, or ``p`` is outside [0, 1].

    Notes
    -----
    Cost: O(n k) draws. ``n k / 2`` edges before conversion, always.

    References
    ----------
    .. [1] D. J. Watts, S. H. Strogatz. "Collective dynamics of 'small-world' networks".
       Nature 393, 1998.

    Examples
    --------
    >>> G = watts_strogatz(32, 4, 0.75, seed=0)
    >>> G.number_of_nodes() - 2
    32
    """
    _check_n("watts_strogatz", n)
    if isinstance(k, bool) or not isinstance(k, int) or k < 2 or k % 2 or k >= n:
        raise GenesisError(f"watts_strogatz needs even k with 2 <= k < n, got k={k!r}, n={n}")
    _check_p("watts_strogatz", p)
    return to_dag(nx.watts_strogatz_graph(n, k, p, seed=seed), op=op)


@py_random_state("seed")
def ba_isolated_graph(n: int, m: int, seed=None) -> nx.Graph:
    """Barabási–Albert graph grown from ``m`` isolated seed nodes, as in the RandWire paper.

    Node ``t >= m`` arrives with ``m`` edges to distinct earlier nodes; the first arrival joins
    all ``m`` seeds, later ones pick targets with probability proportional to degree. The graph
    has exactly ``m (n - m)`` edges. (networkx >= 2.6 grows from a star instead; see
    :func:`barabasi_albert` with ``initial="star"``.)

    Examples
    --------
    >>> ba_isolated_graph(10, 3, seed=0).number_of_edges()
    21
    """
    G = nx.empty_graph(n)
    targets = list(range(m))
    repeated: list[int] = []  # every node once per unit of degree: sampling it is preferential
    for source in range(m, n):
        G.add_edges_from((source, t) for t in targets)
        repeated.extend(targets)
        repeated.extend([source] * m)
        chosen: set[int] = set()
        while len(chosen) < m:
            chosen.add(seed.choice(repeated))
        targets = sorted(chosen)
    return G


@py_random_state("seed")
def barabasi_albert(
    n: int, m: int, seed=None, initial: str = "isolated", op: str = DEFAULT_OP
) -> nx.DiGraph:
    """Stage DAG from a Barabási–Albert preferential-attachment graph.

    Nodes are numbered seed nodes first, then in order of arrival, as in RandWire.

    Parameters
    ----------
    n : int
        Compute nodes, at least 2.
    m : int
        Edges each arriving node brings, ``1 <= m < n``.
    seed : int, random.Random or None
        Randomness, networkx style.
    initial : {"isolated", "star"}
        ``"isolated"`` (default): the paper's variant, grown from ``m`` nodes without edges, so a
        stage has ``m`` input nodes. ``"star"``: networkx's ``barabasi_albert_graph`` (>= 2.6),
        grown from a star on ``m + 1`` nodes, which leaves a single input node.
    op : str
        Op of every compute node.

    Raises
    ------
    GenesisError
        If ``n < 2``, ``m`` is not in ``[1, n)``, or ``initial`` is unknown.

    Notes
    -----
    Cost: O(n m) draws. Edges before conversion: ``m (n - m)`` for ``"isolated"``,
    ``m + m (n - m - 1)`` for ``"star"``.

    References
    ----------
    .. [1] A.-L. Barabási, R. Albert. "Emergence of scaling in random networks". Science 286,
       1999.

    Examples
    --------
    >>> G = barabasi_albert(32, 5, seed=0)
    >>> len(list(G.successors(G.graph["input"])))
    5
    """
    _check_n("barabasi_albert", n)
    if isinstance(m, bool) or not isinstance(m, int) or not 1 <= m < n:
        raise GenesisError(f"barabasi_albert needs 1 <= m < n, got m={m!r}, n={n}")
    if initial == "isolated":
        graph = ba_isolated_graph(n, m, seed=seed)
    elif initial == "star":
        graph = nx.barabasi_albert_graph(n, m, seed=seed)
    else:
        raise GenesisError(f"barabasi_albert initial must be 'isolated' or 'star', got {initial!r}")
    return to_dag(graph, op=op)


def _nx_generator(name: str) -> Callable[..., nx.Graph]:
    func = getattr(nx, name, None)
    module = getattr(func, "__module__", "") or ""
    if name.startswith("_") or not callable(func) or not module.startswith("networkx.generators"):
        raise GenesisError(
            f"unknown networkx generator {name!r}; give a generator function of networkx, e.g. "
            "powerlaw_cluster_graph, random_regular_graph, newman_watts_strogatz_graph"
        )
    return func


def _limit_memory(extra: int) -> None:
    """Cap this process's address space at its current size plus ``extra`` bytes (Linux)."""
    import resource

    try:
        with open("/proc/self/statm") as f:
            current = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):  # pragma: no cover - not Linux
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    want = current + extra
    if hard != resource.RLIM_INFINITY:
        want = min(want, hard)
    resource.setrlimit(resource.RLIMIT_AS, (want, hard))


def _generate(name: str, func: Callable[..., Any], kwargs: dict[str, Any]) -> tuple[str, Any]:
    """``("ok", undirected simple graph within the caps)``, ``("error", why it failed)`` or
    ``("refused", the whole message)``."""
    try:
        graph = func(**kwargs)
    except MemoryError:
        return "error", f"needs more than GENERATOR_MEMORY = {limits.GENERATOR_MEMORY} bytes"
    except RecursionError:
        return "error", "recursed too deeply"
    except Exception as exc:  # noqa: BLE001 - any failure of a generator on user parameters
        return "error", str(exc) or type(exc).__name__
    if not isinstance(graph, nx.Graph):
        return "refused", f"networkx {name} returned {type(graph).__name__}, not a graph"
    if graph.number_of_nodes() > limits.MAX_NODES or graph.number_of_edges() > limits.MAX_EDGES:
        try:
            check_size(graph.number_of_nodes(), graph.number_of_edges(), "the graph")
        except GenesisError as exc:
            return "error", str(exc)
    if graph.is_directed():
        graph = graph.to_undirected()
    if graph.is_multigraph():
        graph = nx.Graph(graph)
    return "ok", graph


def _generate_bounded(name: str, func: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
    """:func:`_generate` in a forked child, killed after ``GENERATOR_SECONDS``.

    The child's address space is capped at ``GENERATOR_MEMORY`` more than the parent's. Where
    there is no ``fork`` the generator runs in this process, without a deadline.
    """
    seconds = limits.GENERATOR_SECONDS
    if not hasattr(os, "fork"):  # pragma: no cover - Windows
        return _generate(name, func, kwargs)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: generate, send the outcome, leave without cleanup
        status = 1
        try:
            os.close(read_end)
            _limit_memory(limits.GENERATOR_MEMORY)
            try:
                data = pickle.dumps(_generate(name, func, kwargs))
            except BaseException as exc:  # noqa: BLE001 - reported to the parent
                data = pickle.dumps(("error", f"{type(exc).__name__}: {exc}"))
            view = memoryview(data)
            while view:
                view = view[os.write(write_end, view) :]
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    chunks: list[bytes] = []
    deadline = time.monotonic() + seconds
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([read_end], [], [], left)[0]:
                raise GenesisError(
                    f"networkx {name} ran past GENERATOR_SECONDS = {seconds:g} s and was stopped"
                )
            chunk = os.read(read_end, 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(read_end)
        with contextlib.suppress(ProcessLookupError):  # already gone
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    if not chunks:
        return "error", "its process died (out of memory?)"
    return pickle.loads(b"".join(chunks))  # noqa: S301 - from our own child


def from_networkx(name: str, seed=None, op: str = DEFAULT_OP, **params: Any) -> nx.DiGraph:
    """Stage DAG from any undirected networkx generator, called by name with keyword parameters.

    Parameters
    ----------
    name : str
        A networkx generator, e.g. ``"powerlaw_cluster_graph"``, ``"random_regular_graph"``,
        ``"newman_watts_strogatz_graph"``.
    seed : int, random.Random or None
        Passed on as the generator's ``seed`` when it takes one.
    op : str
        Op of every compute node.
    **params
        The generator's own keyword arguments (e.g. ``n=16, m=2, p=0.3``).

    Raises
    ------
    GenesisError
        For an unknown generator, parameters it rejects (whatever it raises), a result that is
        not a graph, has fewer than 2 nodes or more than the caps
        (:data:`graphs.limits.MAX_NODES`, :data:`graphs.limits.MAX_EDGES`), or a generator that
        runs past :data:`graphs.limits.GENERATOR_SECONDS` or needs more than
        :data:`graphs.limits.GENERATOR_MEMORY` bytes.

    Notes
    -----
    Some generators hang or grow exponentially at their defaults (``hypercube_graph(n)`` has
    ``2**n`` nodes), so the generator runs in a forked child process with a deadline and an
    address-space cap; the graph comes back by pipe. Cost: one ``fork`` (milliseconds) plus the
    generator. Where there is no ``fork`` (Windows) it runs in this process, unbounded.

    Examples
    --------
    >>> G = from_networkx("random_regular_graph", d=3, n=8, seed=0)
    >>> G.number_of_nodes() - 2
    8
    """
    func = _nx_generator(name)
    kwargs = dict(params)
    if isinstance(seed, random.Random):  # numpy-seeded generators take an int, not a Random
        seed = seed.getrandbits(32)
    try:
        accepts_seed = "seed" in inspect.signature(func).parameters
    except (TypeError, ValueError):  # pragma: no cover - builtins without a signature
        accepts_seed = False
    if accepts_seed:
        kwargs["seed"] = seed
    status, graph = _generate_bounded(name, func, kwargs)
    if status == "refused":
        raise GenesisError(graph)
    if status != "ok":
        shown = ", ".join(f"{k}={v!r}" for k, v in params.items())
        raise GenesisError(f"networkx {name}({shown}) failed: {graph}")
    if graph.number_of_nodes() < 2:
        raise GenesisError(
            f"networkx {name} gave {graph.number_of_nodes()} node(s); a stage needs n >= 2"
        )
    try:
        order = sorted(graph)
    except TypeError:  # labels that do not sort (tuples of mixed types...): keep arrival order
        order = list(graph)
    return to_dag(graph, order=order, op=op)
