"""The caps of a stage graph, checked before any heavy work (hashing, statistics, compiling).

A stage DAG is small data: RandWire's stages have 32 nodes and the search grows them to 16 by
default. A file from someone else could hold far more, and the Weisfeiler-Lehman hash of a stage
(:mod:`genesis.fingerprint`) runs one iteration per node, so it costs O(n (n + e)): about 0.4 s
at the caps below, 50 s and gigabytes at 5000 nodes. The caps are checked where a graph enters
(:func:`graphs.validate_dag`, the genome's JSON reader, :func:`graphs.from_networkx`), so a
graph past them is refused at once with one line naming the cap.

A networkx generator named by the user (``nx:<name>``) runs in a child process under
:data:`GENERATOR_SECONDS` of wall-clock time and :data:`GENERATOR_MEMORY` bytes of extra address
space, since some generators hang or grow exponentially at their defaults
(:func:`graphs.from_networkx`).
"""

from __future__ import annotations

__all__ = ["MAX_NODES", "MAX_EDGES", "GENERATOR_SECONDS", "GENERATOR_MEMORY"]

#: Most compute nodes one stage may have (input and output not counted).
MAX_NODES = 256

#: Most edges one stage may have, input and output edges included (16 per node at the cap).
MAX_EDGES = 4096

#: Wall-clock seconds a networkx generator may run before it is stopped and refused.
GENERATOR_SECONDS = 5.0

#: Bytes of address space a networkx generator may add to its process before it fails.
GENERATOR_MEMORY = 2 * 1024**3
