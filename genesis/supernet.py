"""The supernet of a stage DAG: every candidate wiring and every op at once, for gradient NAS.

Each stage of a template architecture (a preset's stem, widths, strides and head) holds a
*candidate graph* (:func:`graphs.candidates.candidate_graph`): the node-ordered complete DAG
over ``N`` compute nodes, or the union of ``K`` random graphs of a family. Its edges carry one
architecture weight each, a *gate*; its compute nodes carry a *mixed op*, a softmax over the
space's ops (DARTS).
The pieces follow the compiler's conventions (:mod:`genesis.compiler`, :mod:`genesis.layers`):

- a node the stage input feeds takes the input alone, with the stage's stride and width change;
  every other node aggregates its candidate inputs as RandWire does, ``sum sigmoid(a_e) x_u``,
  the gates being the architecture weights of its in-edges;
- the node's output is ``sum_o p_o op_o(agg)`` with ``p = softmax(b / T)`` (or a Gumbel-softmax
  sample at temperature ``T``), each ``op_o`` the module the registry builds for that op;
- the output node takes a gated average of every compute node, ``sum g_u x_u / sum g_u``;
- the stem and head are the compiler's.

:meth:`Supernet.expected_costs` gives the expected MACs and parameters as differentiable
tensors: each node's op costs weighted by its softmax, each node weighted by the probability
that it reaches the output when each edge is kept with probability ``sigmoid(a_e)``. At a
one-hot architecture (0/1 ops and edges) they are exactly :func:`genesis.count_complexity` of the
derived network (:meth:`Supernet.derive`).

References
----------
.. [1] H. Liu, K. Simonyan, Y. Yang. "DARTS: Differentiable Architecture Search". ICLR 2019.
.. [2] B. Wu et al. "FBNet: Hardware-Aware Efficient ConvNet Design via Differentiable Neural
   Architecture Search". CVPR 2019.
.. [3] S. Xie et al. "Exploring Randomly Wired Neural Networks for Image Recognition". ICCV 2019.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import networkx as nx
import torch
from torch import nn

from genesis.compiler import _head, _stem_layer, init_weights
from genesis.complexity import count_complexity, feature_plan
from genesis.genome import Architecture, Stage
from genesis.limits import MAX_ACTIVATIONS, MAX_PARAMS
from genesis.ops import get_op
from graphs import GenesisError, compute_nodes
from graphs.candidates import candidate_graph
from graphs.dag import relabel_canonical

__all__ = ["Choice", "Supernet", "candidate_graph"]

#: A subnetwork of the supernet: per stage, the op index of every kept compute node and the
#: kept gated edges; ``None`` for a stage means the whole mixed supernet.
Choice = Sequence[tuple[dict[int, int], frozenset[tuple[int, int]]]]


@dataclass(frozen=True)
class _StagePlan:
    """What a supernet stage is made of, as plain data."""

    nodes: tuple[int, ...]  # compute nodes, topological order
    fed: frozenset[int]  # nodes the stage input feeds (alone)
    edges: tuple[tuple[int, int], ...]  # gated edges: compute -> compute or output
    output: int  # the output node


class _MixedOp(nn.Module):
    """Every op of the space at one node; the caller weights their outputs."""

    def __init__(self, ops: Sequence[str], c_in: int, c_out: int, stride: int):
        super().__init__()
        self.ops = nn.ModuleList(get_op(name).factory(c_in, c_out, stride) for name in ops)


class Supernet(nn.Module):
    """All architectures of a template's candidate stages in one module (see the module doc).

    Parameters
    ----------
    template : Architecture
        Stem, head, stage widths and strides; each stage's graph is its candidate graph
        (:func:`candidate_graph`); its nodes' ops are ignored.
    ops : sequence of str
        The ops every mixed op offers (registered names), at least one.
    seed : int
        Weight initialisation (:func:`genesis.compiler.init_weights`); the architecture
        weights start at 0 (every op equally likely, every gate 0.5).

    Raises
    ------
    GenesisError
        For an unknown op, or a supernet past :data:`~genesis.limits.MAX_PARAMS` parameters or
        :data:`~genesis.limits.MAX_ACTIVATIONS` feature-map elements (all ops together),
        checked before anything is built.

    Examples
    --------
    >>> from genesis.presets import build_architecture
    >>> base = build_architecture("fashion-mnist", "er", {"p": 0.5}, channels=4, stages=1)
    >>> t = base.replace(stages=(Stage(candidate_graph(3), 4, 1),))
    >>> net = Supernet(t, ["sep_conv_3x3", "identity"])
    >>> net(torch.zeros(2, 1, 28, 28)).shape
    torch.Size([2, 10])
    >>> macs, params = net.expected_costs(*net.one_hot(net.choice(top_k=2)))
    >>> int(macs) == count_complexity(net.derive(top_k=2)).macs
    True
    """

    def __init__(self, template: Architecture, ops: Sequence[str], seed: int = 0):
        super().__init__()
        if not ops:
            raise GenesisError("a supernet needs at least one op, got none")
        self.template, self.op_names = template, tuple(ops)
        specs = [get_op(name) for name in self.op_names]  # unknown ops raise first
        plan = feature_plan(template)
        base = count_complexity(template)
        self.fixed_macs = base.stem.macs + base.head.macs
        self.fixed_params = base.stem.params + base.head.params
        self.plans: list[_StagePlan] = []
        macs, params = [], []
        activations = base.activations
        for stage, (c_in, h_in, w_in), (_, h, w) in zip(
            template.stages, plan.stages_in, plan.stages_out, strict=True
        ):
            G = stage.graph
            src, dst = G.graph["input"], G.graph["output"]
            nodes = tuple(compute_nodes(G))
            fed = frozenset(v for v in nodes if G.has_edge(src, v))
            edges = tuple(sorted((u, v) for u, v in G.edges if u != src))
            self.plans.append(_StagePlan(nodes, fed, edges, dst))
            rows_m, rows_p = [], []
            for v in nodes:
                first = v in fed
                args = (c_in if first else stage.channels, stage.channels)
                args += (stage.stride if first else 1, h_in if first else h, w_in if first else w)
                cx = [spec.complexity(*args) for spec in specs]
                rows_m.append([c.macs for c in cx])
                rows_p.append([c.params for c in cx])
            macs.append(torch.tensor(rows_m, dtype=torch.float64))
            params.append(torch.tensor(rows_p, dtype=torch.float64))
            activations += len(nodes) * (len(specs) - 1) * stage.channels * h * w
        total = self.fixed_params + sum(int(p.sum()) for p in params)
        if total > MAX_PARAMS:
            raise GenesisError(
                f"the supernet has {total} parameters; the cap is MAX_PARAMS = {MAX_PARAMS}"
            )
        if activations > MAX_ACTIVATIONS:
            raise GenesisError(
                f"the supernet's layers output {activations} feature-map elements for one "
                f"example; the cap is MAX_ACTIVATIONS = {MAX_ACTIVATIONS}"
            )
        self._macs, self._params = macs, params
        with torch.random.fork_rng(devices=[]):  # leave the caller's random state alone
            self._build(template, plan)
        init_weights(self, seed)

    def _build(self, template: Architecture, plan) -> None:
        c = template.input_shape[0]
        stem = []
        for i, layer in enumerate(template.stem):
            stem.append(_stem_layer(c, layer.channels, layer.kernel, layer.stride, i == 0))
            c = layer.channels
        self.stem = nn.Sequential(*stem)
        self.cells = nn.ModuleList()
        for stage, p, (c_in, _, _) in zip(template.stages, self.plans, plan.stages_in, strict=True):
            cell = nn.ModuleDict()
            for v in p.nodes:
                first = v in p.fed
                cell[f"n{v}"] = _MixedOp(
                    self.op_names,
                    c_in if first else stage.channels,
                    stage.channels,
                    stage.stride if first else 1,
                )
            self.cells.append(cell)
        self.alpha_ops = nn.ParameterList(
            nn.Parameter(torch.zeros(len(p.nodes), len(self.op_names))) for p in self.plans
        )
        self.alpha_edges = nn.ParameterList(
            nn.Parameter(torch.zeros(len(p.edges))) for p in self.plans
        )
        h = template.head
        self.head = _head(plan.stages_out[-1][0], h.channels, h.dropout, template.num_classes)

    # -- parameters ------------------------------------------------------------------------------
    def arch_parameters(self) -> list[nn.Parameter]:
        """The architecture weights: each stage's op logits, then its edge logits."""
        return [*self.alpha_ops, *self.alpha_edges]

    def weight_parameters(self) -> list[nn.Parameter]:
        """Every other parameter (the ops', stem's and head's weights)."""
        arch = {id(p) for p in self.arch_parameters()}
        return [p for p in self.parameters() if id(p) not in arch]

    def op_probs(
        self, temperature: float = 1.0, generator: torch.Generator | None = None
    ) -> list[torch.Tensor]:
        """Each stage's (nodes, ops) op probabilities: ``softmax(b / T)``, or with a
        ``generator`` a Gumbel-softmax sample (Jang et al. 2017) drawn from it."""
        out = []
        for a in self.alpha_ops:
            logits = a
            if generator is not None:
                u = torch.rand(a.shape, generator=generator, device=a.device)
                logits = a - torch.log(-torch.log(u.clamp(1e-10, 1.0 - 1e-7)))
            out.append(torch.softmax(logits / temperature, dim=-1))
        return out

    def edge_probs(self) -> list[torch.Tensor]:
        """Each stage's gates, ``sigmoid(a_e)`` per gated edge."""
        return [torch.sigmoid(a) for a in self.alpha_edges]

    # -- forward ---------------------------------------------------------------------------------
    def forward(
        self,
        x: torch.Tensor,
        temperature: float = 1.0,
        generator: torch.Generator | None = None,
        choice: Choice | None = None,
        probs: Sequence[torch.Tensor] | None = None,
    ) -> torch.Tensor:
        """Logits of the mixed supernet, or with ``choice`` of one subnetwork with the
        inherited weights (kept gates as trained, the output an average, as derived).

        The op weights are :meth:`op_probs` at ``temperature`` (a Gumbel-softmax sample with a
        ``generator``), or ``probs`` when given (the same sample the cost term reads)."""
        if probs is None:
            probs = self.op_probs(temperature, generator)
        gates = self.edge_probs()
        x = self.stem(x)
        for k, (p, cell) in enumerate(zip(self.plans, self.cells, strict=True)):
            picked = None if choice is None else choice[k]
            out = {}
            index = {e: i for i, e in enumerate(p.edges)}
            for i, v in enumerate(p.nodes):
                if picked is not None and v not in picked[0]:
                    continue
                if v in p.fed:
                    agg = x
                else:
                    ins = [(u, gates[k][index[u, v]]) for u, w in p.edges if w == v]
                    if picked is not None:
                        ins = [(u, g) for u, g in ins if (u, v) in picked[1]]
                        if len(ins) == 1:
                            ins = [(ins[0][0], None)]
                    agg = None
                    for u, g in ins:
                        term = out[u] if g is None else g * out[u]
                        agg = term if agg is None else agg + term
                ops = cell[f"n{v}"].ops
                if picked is not None:
                    out[v] = ops[picked[0][v]](agg)
                    continue
                y = None
                for j, op in enumerate(ops):
                    term = probs[k][i, j] * op(agg)
                    y = term if y is None else y + term
                out[v] = y
            ins = [(u, gates[k][index[u, w]]) for u, w in p.edges if w == p.output]
            if picked is not None:
                ins = [(u, torch.ones_like(g)) for u, g in ins if (u, p.output) in picked[1]]
            x = sum(g * out[u] for u, g in ins) / sum(g for _, g in ins)
        return self.head(x)

    # -- costs -----------------------------------------------------------------------------------
    def expected_costs(
        self,
        op_probs: Sequence[torch.Tensor] | None = None,
        edge_probs: Sequence[torch.Tensor] | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Expected MACs and parameters (float64 tensors, differentiable in the probabilities).

        Each compute node costs its ops' counts weighted by its op probabilities, times the
        probability that it reaches the output when every gated edge is kept independently with
        its probability (default: :meth:`op_probs` at temperature 1, :meth:`edge_probs`). A
        kept node with more than one input adds one gate parameter per input, as compiled. At
        0/1 probabilities this is the derived network's exact count.
        """
        op_probs = self.op_probs() if op_probs is None else op_probs
        edge_probs = self.edge_probs() if edge_probs is None else edge_probs
        macs = torch.tensor(float(self.fixed_macs), dtype=torch.float64)
        params = torch.tensor(float(self.fixed_params), dtype=torch.float64)
        for k, p in enumerate(self.plans):
            dev = op_probs[k].device
            g = edge_probs[k].double()
            alive = {p.output: torch.ones((), dtype=torch.float64, device=dev)}
            for v in reversed(p.nodes):
                lost = torch.ones((), dtype=torch.float64, device=dev)
                for i, (u, w) in enumerate(p.edges):
                    if u == v:
                        lost = lost * (1 - g[i] * alive[w])
                alive[v] = 1 - lost
            for i, v in enumerate(p.nodes):
                q = op_probs[k][i].double()
                macs = macs + alive[v] * (q @ self._macs[k][i].to(dev))
                fan = sum((g[j] for j, (_, w) in enumerate(p.edges) if w == v), g.new_zeros(()))
                gate_params = torch.where(fan > 1, fan, torch.zeros_like(fan))
                params = params + alive[v] * (q @ self._params[k][i].to(dev) + gate_params)
        return macs, params

    # -- derivation ------------------------------------------------------------------------------
    def choice(self, top_k: int = 2) -> list[tuple[dict[int, int], frozenset[tuple[int, int]]]]:
        """The subnetwork the architecture weights pick (see :meth:`derive`)."""
        out = []
        for k, p in enumerate(self.plans):
            a_ops = self.alpha_ops[k].detach().cpu()
            a_edges = self.alpha_edges[k].detach().cpu().tolist()
            kept = set()
            for v in [*p.nodes, p.output]:
                if v in p.fed:
                    continue
                ins = sorted(
                    ((-a_edges[i], u) for i, (u, w) in enumerate(p.edges) if w == v),
                )
                if v == p.output:  # every gate of at least 0.5; at least the strongest
                    chosen = [u for a, u in ins if -a >= 0.0] or [ins[0][1]]
                else:
                    chosen = [u for _, u in ins[:top_k]]
                kept.update((u, v) for u in chosen)
            G = nx.DiGraph(kept)
            G.add_node(p.output)
            reach = nx.ancestors(G, p.output)
            ops = {v: int(a_ops[i].argmax()) for i, v in enumerate(p.nodes) if v in reach}
            alive = reach | {p.output}
            out.append((ops, frozenset((u, v) for u, v in kept if u in alive and v in alive)))
        return out

    def derive(self, top_k: int = 2, meta: dict[str, Any] | None = None) -> Architecture:
        """The ordinary architecture the weights pick: each node its ``top_k`` strongest
        in-edges (by gate) and its most probable op; the output node every in-edge whose gate
        is at least 0.5 (at least its strongest); nodes that no longer reach the output are
        dropped. Each stage's ``origin`` records the kept gates (``edge_weights``, by the
        derived node ids) and the supernet graph; ``meta`` is the architecture's."""
        stages = []
        for k, (ops, kept) in enumerate(self.choice(top_k)):
            stage, p = self.template.stages[k], self.plans[k]
            src = stage.graph.graph["input"]
            G = nx.DiGraph(input=src, output=p.output)
            G.add_nodes_from([src, p.output])
            G.add_nodes_from((v, {"op": self.op_names[j]}) for v, j in ops.items())
            G.add_edges_from(kept)
            G.add_edges_from((src, v) for v in ops if v in p.fed)
            index = {e: i for i, e in enumerate(p.edges)}
            H = relabel_canonical(G)
            new = dict(zip([src, *compute_nodes(G), p.output], sorted(H), strict=True))
            gates = torch.sigmoid(self.alpha_edges[k].detach().cpu()).tolist()
            weights = sorted([new[u], new[v], round(gates[index[u, v]], 4)] for u, v in kept)
            origin = dict(stage.origin or {})
            origin["edge_weights"] = weights
            stages.append(Stage(H, stage.channels, stage.stride, origin=origin))
        return self.template.replace(stages=tuple(stages), meta=dict(meta or {}))

    def one_hot(self, choice: Choice) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """0/1 op and edge probabilities of a subnetwork, for :meth:`expected_costs`."""
        ops, edges = [], []
        for p, (picked, kept) in zip(self.plans, choice, strict=True):
            q = torch.zeros(len(p.nodes), len(self.op_names))
            for i, v in enumerate(p.nodes):
                if v in picked:
                    q[i, picked[v]] = 1.0
            ops.append(q)
            edges.append(torch.tensor([float(e in kept) for e in p.edges]))
        return ops, edges
