"""``rl``: the meta-learner baseline, an LSTM controller trained with REINFORCE (Zoph & Le 2017)
on the constrained score (see :mod:`evolve.controller`). Over-budget draws reward 0."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

from evolve.fitness import Individual, constrained_score
from evolve.strategies.base import Proposal, Strategy, register_strategy
from evolve.strategies.constrained import ScalarScore
from evolve.strategies.params import ScoreParams

__all__ = ["ReinforcementLearning"]


@register_strategy
class ReinforcementLearning(ScalarScore, Strategy):
    """Candidates from a learned controller; every one joins the population."""

    name = "rl"
    Params = ScoreParams

    def __init__(self, cfg, space):
        super().__init__(cfg, space)
        from evolve.controller import Controller  # torch: only when this strategy runs

        self.controller = Controller(space, seed=cfg.search.seed)

    def propose(
        self, gen: int, population: list[Individual], rng: random.Random
    ) -> Iterator[Proposal]:
        while True:
            d = self.controller.decide()
            yield Proposal(self.controller.build(d, rng), origin="controller", tag=d)

    def learn(self, trained: list[Any], skipped: list[Any]) -> str | None:
        """One REINFORCE step on the generation's rewards."""
        cap, p = self.cfg.search.max_macs, self.params
        pairs = [(d, constrained_score(r, cap, p.target_macs, p.penalty)) for d, r in trained]
        pairs += [(d, 0.0) for d in skipped]
        stats = self.controller.update(pairs)
        if not stats:
            return None
        return (
            f"controller: mean reward {stats['reward']:.4f}, baseline "
            f"{stats['baseline']:.4f}, entropy {stats['entropy']:.3f}"
        )

    def get_state(self) -> dict[str, Any]:
        return {"controller": self.controller.get_state()}

    def set_state(self, state: dict[str, Any]) -> None:
        if state.get("controller") is not None:
            self.controller.set_state(state["controller"])
