"""Search strategies as registered parts: one class per strategy, found by name.

The search loop (:mod:`evolve.search`) knows only the :class:`Strategy` protocol, never a
strategy's name. A strategy is one class registered with :func:`register_strategy` (timm's
``@register_model``, Optuna's samplers behind ``BaseSampler``):

- ``nsga2`` (default): non-dominated sorting over (accuracy, *objective costs) with hypervolume
  contribution or crowding distance (:mod:`evolve.strategies.nsga2`);
- ``constrained``: one score under a hard MAC budget or MnasNet's soft target, elitist;
- ``regularized``: aging evolution (Real et al. 2019);
- ``random``: RandWire-style sampling, the baseline;
- ``rl``: an LSTM controller trained with REINFORCE (:mod:`evolve.controller`);
- ``predictor``: a random forest fit on the run's own evaluations screens a pool of
  candidates (:mod:`evolve.strategies.predicted`);
- ``grid``: every point of a hyperparameter grid (``genesis tune``).
"""

from evolve.strategies.base import (
    Proposal,
    Strategy,
    get_strategy,
    register_strategy,
    strategy_names,
)

# isort: off
# Registration order is the order names are listed in (help texts, error messages).
from evolve.strategies import nsga2  # noqa: F401
from evolve.strategies import constrained  # noqa: F401
from evolve.strategies import regularized  # noqa: F401
from evolve.strategies import random_sampling  # noqa: F401
from evolve.strategies import rl  # noqa: F401
from evolve.strategies import predicted  # noqa: F401
from evolve.strategies import grid  # noqa: F401
# isort: on

__all__ = ["Proposal", "Strategy", "get_strategy", "register_strategy", "strategy_names"]
