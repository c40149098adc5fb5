"""A learned controller: an LSTM that proposes architectures, trained with REINFORCE.

The meta-learner of Zoph & Le (2017), on the random-graph space of RandWire: step by step the
controller emits a base width, then for every stage the generator family, the family's
parameters, the number of nodes and the op of its nodes. Each decision is a softmax over a
fixed list of choices, fed back as the next step's input. Its reward is the search's
FLOP-aware fitness (accuracy under a hard MAC budget or MnasNet's soft target); the update is
REINFORCE with a moving-average baseline and an entropy bonus.

Its decisions are drawn from its own :class:`torch.Generator`, seeded from the run's seed; the
graphs that realise them (:meth:`Controller.build`) from the run's :class:`random.Random`. Its
whole state (weights, optimizer, baseline, generator) goes into the run's checkpoint, so an
``rl`` run resumes like every other strategy.
"""

from __future__ import annotations

import contextlib
import copy
import random
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from evolve.space import SearchSpace
from genesis import Architecture, Stage, build_architecture
from graphs import family_names, get_family, random_dag

__all__ = ["Controller", "Decisions"]


@contextlib.contextmanager
def _one_thread():
    """The controller is tiny: one thread, so it never fights the training workers for cores."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _param_slots() -> list[tuple[str, str, tuple]]:
    """(family, parameter, choices) of every registered family's controller choices, in
    registration order: ``er p``, ``ws k``, ``ws p``, ``ba m``, then families added later."""
    return [
        (fam, key, tuple(values))
        for fam in family_names()
        for key, values in get_family(fam).choices.items()
    ]


@dataclass
class Decisions:
    """What the controller chose for one architecture, and the indices it sampled."""

    width: int
    stages: list[dict[str, Any]]  # per stage: family, params, nodes, op
    actions: list[tuple[int, int]]  # (decision slot, choice index) that shaped the architecture
    picks: list[int] = field(default_factory=list)  # every slot's sampled index, for the replay


class Controller(nn.Module):
    """LSTM policy over the decisions of a :class:`~evolve.space.SpaceConfig` layout.

    Parameters
    ----------
    space : SearchSpace
        What may be built (families, node range, widths, ops, preset).
    seed : int
        Seeds the weights and the sampling generator.
    hidden : int
        LSTM width.
    lr, entropy, baseline_decay : float
        Adam learning rate, entropy bonus weight, moving-average decay of the baseline.
    """

    def __init__(
        self,
        space: SearchSpace,
        seed: int = 0,
        hidden: int = 64,
        lr: float = 5e-3,
        entropy: float = 1e-2,
        baseline_decay: float = 0.9,
    ):
        super().__init__()
        cfg = space.cfg
        self.space = space
        probe = build_architecture(cfg.preset, "er", {"p": 0.5}, seed=0, nodes=3)
        self.n_stages = len(probe.stages)
        lo, hi = cfg.nodes
        self.node_choices = tuple(range(lo, hi + 1))
        # The fixed list of decision slots: (name, choices). Per stage: the family, every
        # registered family's parameters (graphs.families), the node count and the op.
        self.param_slots = _param_slots()
        slots: list[tuple[str, tuple]] = [("width", tuple(cfg.channels))]
        for _ in range(self.n_stages):
            slots += [
                ("family", tuple(cfg.families)),
                *((f"{fam}_{key}", values) for fam, key, values in self.param_slots),
                ("nodes", self.node_choices),
                ("op", tuple(cfg.ops)),
            ]
        self.slots = slots
        g = torch.Generator().manual_seed(seed)
        width = max(len(c) for _, c in slots)
        self.embed = nn.Embedding(width + 1, hidden)  # index `width` is the start token
        self.cell = nn.LSTMCell(hidden, hidden)
        self.heads = nn.ModuleList(nn.Linear(hidden, len(c)) for _, c in slots)
        with torch.no_grad():
            for p in self.parameters():
                p.uniform_(-0.1, 0.1, generator=g)
        self.start = width
        self.optimizer = torch.optim.Adam(self.parameters(), lr=lr)
        self.entropy_weight = entropy
        self.baseline_decay = baseline_decay
        self.baseline: float | None = None
        self.gen = torch.Generator().manual_seed(seed + 1)

    # -- sampling --------------------------------------------------------------------------------
    def _rollout(self, forced: list[int] | None = None):
        """Walk the decision slots; sample (or replay ``forced``) each; return indices, log-probs
        and entropies of every slot."""
        h = torch.zeros(1, self.cell.hidden_size)
        c = torch.zeros(1, self.cell.hidden_size)
        token = torch.tensor([self.start])
        picks, logps, ents = [], [], []
        for i, head in enumerate(self.heads):
            h, c = self.cell(self.embed(token), (h, c))
            logits = head(h)[0]
            dist = torch.distributions.Categorical(logits=logits)
            if forced is None:
                pick = int(torch.multinomial(dist.probs.detach(), 1, generator=self.gen))
            else:
                pick = forced[i]
            picks.append(pick)
            logps.append(dist.log_prob(torch.tensor(pick)))
            ents.append(dist.entropy())
            token = torch.tensor([pick])
        return picks, logps, ents

    def decide(self) -> Decisions:
        """Sample one architecture's decisions."""
        with _one_thread(), torch.no_grad():
            picks, _, _ = self._rollout()
        return self._interpret(picks)

    def _interpret(self, picks: list[int]) -> Decisions:
        width = self.slots[0][1][picks[0]]
        used = [0]
        stages = []
        per_stage = len(self.param_slots) + 3  # family, the parameters, nodes, op
        for k in range(self.n_stages):
            base = 1 + per_stage * k
            value = [self.slots[base + j][1][picks[base + j]] for j in range(per_stage)]
            fam, n, op = value[0], value[-2], value[-1]
            idx = [j for j, (f, _, _) in enumerate(self.param_slots, start=1) if f == fam]
            chosen = {self.param_slots[j - 1][1]: value[j] for j in idx}
            params, n = get_family(fam).fit(chosen, n)  # e.g. WS's even k < n, BA's m < n
            used += [base, *(base + j for j in idx), base + per_stage - 2, base + per_stage - 1]
            stages.append({"family": fam, "params": params, "nodes": n, "op": op})
        actions = [(i, picks[i]) for i in sorted(set(used))]
        return Decisions(width, stages, actions, list(picks))

    def build(self, d: Decisions, rng: random.Random) -> Architecture:
        """The architecture of decisions ``d`` (graphs drawn from ``rng``), trained as every
        new individual of the space is (:meth:`SearchSpace.initial_train`)."""
        cfg = self.space.cfg
        skeleton = build_architecture(
            cfg.preset,
            "er",
            {"p": 0.5},
            seed=rng,
            channels=d.width,
            nodes=3,
            num_classes=cfg.classes,
        )
        stages = []
        for stage, spec in zip(skeleton.stages, d.stages, strict=True):
            G = random_dag(spec["family"], spec["nodes"], seed=rng, op=spec["op"], **spec["params"])
            origin = {
                "family": spec["family"],
                "params": spec["params"],
                "nodes": spec["nodes"],
                "controller": True,
            }
            stages.append(Stage(G, stage.channels, stage.stride, origin=origin))
        return skeleton.replace(
            train=self.space.initial_train(rng, skeleton.train),
            stages=tuple(stages),
            meta={**skeleton.meta, "controller": {"width": d.width, "stages": d.stages}},
        )

    # -- learning --------------------------------------------------------------------------------
    def update(self, batch: list[tuple[Decisions, float]]) -> dict[str, float]:
        """One REINFORCE step on a batch of (decisions, reward); returns the loss terms."""
        if not batch:
            return {}
        with _one_thread():
            return self._update(batch)

    def _update(self, batch: list[tuple[Decisions, float]]) -> dict[str, float]:
        rewards = torch.tensor([r for _, r in batch], dtype=torch.float32)
        mean = float(rewards.mean())
        if self.baseline is None:
            self.baseline = mean
        advantages = rewards - self.baseline
        self.optimizer.zero_grad()
        loss = torch.zeros(())
        entropy = torch.zeros(())
        n_slots = len(self.slots)
        for (d, _), adv in zip(batch, advantages, strict=True):
            # replay the whole sampled sequence: unused slots were fed back as inputs too
            forced = list(d.picks) or [0] * n_slots
            for slot, pick in d.actions:
                forced[slot] = pick
            _, logps, ents = self._rollout(forced)
            chosen = [i for i, _ in d.actions]
            logp = torch.stack([logps[i] for i in chosen]).sum()
            ent = torch.stack([ents[i] for i in chosen]).mean()
            loss = loss - adv * logp - self.entropy_weight * ent
            entropy = entropy + ent.detach()
        loss = loss / len(batch)
        loss.backward()
        self.optimizer.step()
        self.baseline = self.baseline_decay * self.baseline + (1 - self.baseline_decay) * mean
        return {
            "loss": loss.item(),
            "reward": mean,
            "baseline": self.baseline,
            "entropy": float(entropy) / len(batch),
        }

    # -- checkpointing ---------------------------------------------------------------------------
    def get_state(self) -> dict[str, Any]:
        """Everything needed to continue exactly: weights, optimizer, baseline, generator."""
        return {
            "weights": {k: v.clone() for k, v in self.state_dict().items()},
            "optimizer": copy.deepcopy(self.optimizer.state_dict()),  # not the live tensors
            "baseline": self.baseline,
            "generator": self.gen.get_state(),
        }

    def set_state(self, state: dict[str, Any]) -> None:
        self.load_state_dict(state["weights"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.baseline = state["baseline"]
        self.gen.set_state(state["generator"])
