"""The configs runs start from, for what their flags and files leave out.

The main job's defaults are the dataclasses' own (:class:`~evolve.config.EvolveConfig`); a
tuning run starts from :func:`tune_base` and becomes one by :func:`tuning_config`; a run
folder's own config takes what it lacks from :func:`run_base` (what keeps an older run doing
what it did).
"""

from __future__ import annotations

from dataclasses import replace

from evolve.config import EvolveConfig, SearchConfig
from evolve.execution import ExecutionConfig
from evolve.trainings import FinalConfig, ProxyConfig
from evolve.tune import BASE_ARCHITECTURE

__all__ = ["run_base", "tune_base", "tuning_config"]


def run_base() -> EvolveConfig:
    """What a run folder's config takes for the keys it lacks.

    A run writes every field of its config, so a key is missing only when the field was added
    after the run was made; it takes the value that keeps that run doing what it did: one rung
    (``proxy.rungs = []``), the architecture's own final batch and learning rate, no final time
    limit, no compute budget, no held-out examples. (The other defaults changed with the main
    job's on 2026-12-02, but an older run's config holds those fields.)
    """
    return EvolveConfig(
        search=SearchConfig(seconds=None, max_macs=None, max_params=None),
        proxy=ProxyConfig(subset=4000, rungs=()),
        final=FinalConfig(top_k=2, epochs=1.0, batch_size=None, lr_scaling="keep", seconds=None),
        execution=ExecutionConfig(workers=1),
    )


def tune_base() -> EvolveConfig:
    """What a tuning run takes for what its flags and config leave out: the main job's
    defaults less what suits a search of architectures on 2 CPU cores (no MAC or parameter cap:
    the architecture is given; no time limit; every candidate trains its own epochs, one rung;
    the best retrained at its own, tuned, batch size and learning rate, with no time limit).
    """
    return EvolveConfig(
        search=SearchConfig(seconds=None, max_macs=None, max_params=None),
        proxy=ProxyConfig(rungs=()),
        final=FinalConfig(batch_size=None, seconds=None),
    )


def tuning_config(
    cfg: EvolveConfig,
    method: str,
    budget_evals: int | None = None,
    final_epochs: float | None = None,
) -> EvolveConfig:
    """The config of a tuning run built from a search config.

    One fixed architecture (:data:`BASE_ARCHITECTURE` in the run folder), each candidate
    trained for its own epochs, the best one retrained at the end.

    Parameters
    ----------
    cfg : EvolveConfig
        The config the flags and the config file made; its ``tune`` table lists the values.
    method : str
        ``"grid"`` or ``"random"``: the search strategy of the run.
    budget_evals : int or None
        Trained evaluations; None with ``"grid"`` means the grid's size, with ``"random"`` the
        config's own budget.
    final_epochs : float or None
        Epochs of the final training of the best; None means the architecture's own.

    Returns
    -------
    EvolveConfig
        ``search.strategy = method``, ``proxy.epochs = None`` (each candidate's own),
        ``final.top_k = 1``, ``final.epochs = final_epochs`` and
        ``tune.architecture = BASE_ARCHITECTURE``; the other sections unchanged.

    Raises
    ------
    GenesisError
        When ``method`` is neither ``"grid"`` nor ``"random"`` (from ``EvolveConfig``).

    Examples
    --------
    >>> cfg = tuning_config(EvolveConfig(), "grid")
    >>> cfg.search.strategy, cfg.search.budget_evals, cfg.tune.architecture, cfg.final.top_k
    ('grid', 12, 'base.json', 1)
    """
    search = replace(cfg.search, strategy=method)
    if budget_evals is None and method == "grid":
        search = replace(search, budget_evals=cfg.tune.grid_size)
    return cfg.__class__(
        search=search,
        space=cfg.space,
        proxy=replace(cfg.proxy, epochs=None),
        final=replace(cfg.final, top_k=1, epochs=final_epochs),
        execution=cfg.execution,
        tune=replace(cfg.tune, architecture=BASE_ARCHITECTURE),
    )
