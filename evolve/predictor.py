"""An accuracy predictor trained on a run's own evaluations: a random forest over cheap features.

GRAF's finding (Kadlecová et al. 2024) is that cheap graph features fed to a random forest
predict accuracy better than graph neural networks at 20 to 1,000 training architectures, the
sizes a search on one machine has. :class:`Predictor` fits scikit-learn's
``RandomForestRegressor`` on :func:`genesis.features.architecture_features` rows and predicts a
mean and a spread (the standard deviation over the trees), which an acquisition function turns
into a choice. :func:`held_out_tau` measures it the way the ``predictor`` strategy decides
whether to trust it: the cross-validated Kendall tau of its predictions, beside that of MACs
alone (:func:`macs_tau`).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
from scipy.stats import kendalltau
from sklearn.ensemble import RandomForestRegressor
from sklearn.model_selection import KFold

from genesis import Architecture, GenesisError
from genesis.features import feature_matrix, feature_names

__all__ = ["MACS_COLUMN", "Predictor", "held_out_tau", "macs_tau", "rows_of"]

#: The column of :func:`genesis.features.feature_names` that holds log10(1 + MACs).
MACS_COLUMN = feature_names().index("macs_log10")


def rows_of(archs_or_rows: Sequence[Architecture] | np.ndarray) -> np.ndarray:
    """Feature rows: architectures are turned into rows, rows are taken as they are."""
    if isinstance(archs_or_rows, np.ndarray):
        return np.asarray(archs_or_rows, dtype=float)
    items = list(archs_or_rows)
    if items and isinstance(items[0], Architecture):
        return feature_matrix(items)
    return np.asarray(items, dtype=float).reshape(len(items), -1)


class Predictor:
    """A random forest from feature rows to accuracy, with the spread over its trees.

    Parameters
    ----------
    trees : int
        Trees in the forest.
    seed : int
        ``random_state`` of the forest: one seed, one model, for the same rows.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.arange(40.0).reshape(20, 2)
    >>> p = Predictor(trees=20, seed=0).fit(X, X[:, 0] / 40)
    >>> mean, std = p.predict(X[:3])
    >>> bool(mean[0] < mean[2]), bool((std >= 0).all())
    (True, True)
    """

    def __init__(self, trees: int = 100, seed: int = 0):
        self.trees, self.seed = trees, seed
        self.model: RandomForestRegressor | None = None

    def fit(
        self, archs_or_rows: Sequence[Architecture] | np.ndarray, accuracies: Sequence[float]
    ) -> Predictor:
        """Fit on architectures (or their feature rows) and their accuracies; returns self."""
        X, y = rows_of(archs_or_rows), np.asarray(accuracies, dtype=float)
        if len(X) != len(y) or len(y) < 2:
            raise GenesisError(
                f"a predictor needs at least 2 rows with one accuracy each, got {len(X)} rows "
                f"and {len(y)} accuracies"
            )
        self.model = RandomForestRegressor(
            n_estimators=self.trees,
            min_samples_leaf=2,
            oob_score=len(y) >= 3,  # out-of-bag predictions: a held-out estimate for free
            random_state=self.seed,
            n_jobs=1,
        )
        with warnings.catch_warnings():  # a row in every tree's sample has no OOB prediction
            warnings.simplefilter("ignore", UserWarning)
            self.model.fit(X, y)
        return self

    def oob(self) -> np.ndarray | None:
        """Each training row's prediction by the trees that did not see it (out-of-bag); None
        below 3 rows. A row every tree saw gets the mean of the others."""
        assert self.model is not None, "fit before oob"
        pred = getattr(self.model, "oob_prediction_", None)
        if pred is None:
            return None
        pred = np.asarray(pred, dtype=float).ravel()
        ok = np.isfinite(pred)
        return np.where(ok, pred, pred[ok].mean() if ok.any() else 0.0)

    def predict(
        self, archs_or_rows: Sequence[Architecture] | np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """(mean, std) of the predicted accuracy of each: the forest's prediction and the
        standard deviation of its trees' predictions."""
        assert self.model is not None, "fit before predict"
        X = rows_of(archs_or_rows)
        per_tree = np.stack([t.predict(X) for t in self.model.estimators_])
        return per_tree.mean(axis=0), per_tree.std(axis=0)


def _tau(a: np.ndarray, b: np.ndarray) -> float:
    """Kendall's tau-b, 0 where it is undefined (a constant side)."""
    tau = kendalltau(a, b).statistic
    return 0.0 if np.isnan(tau) else float(tau)


def held_out_tau(
    archs_or_rows: Sequence[Architecture] | np.ndarray,
    accuracies: Sequence[float],
    folds: int = 5,
    trees: int = 100,
    seed: int = 0,
    fitted: Predictor | None = None,
) -> float:
    """Kendall's tau between accuracies and a predictor's out-of-fold predictions.

    Each row is predicted by a forest fit on the other folds (k-fold cross-validation, the
    folds shuffled with ``seed``); tau is taken over all rows at once. ``folds = 0``: by the
    trees of one forest that did not see it (out-of-bag, one fit; ``fitted`` when given).

    Parameters
    ----------
    archs_or_rows : architectures or feature rows
    accuracies : sequence of float
    folds : int
        Folds, at most one per row; 0 for out-of-bag predictions.
    trees, seed : int
        The forests' size and seed (:class:`Predictor`).
    fitted : Predictor, optional
        With ``folds = 0``: the forest already fit on these rows.

    Returns
    -------
    float
        Tau in [-1, 1]; 0 when it is undefined.

    Notes
    -----
    Cost: ``folds`` forest fits (one, or none, out-of-bag).
    """
    X, y = rows_of(archs_or_rows), np.asarray(accuracies, dtype=float)
    if folds == 0:
        model = fitted or Predictor(trees, seed).fit(X, y)
        pred = model.oob()
        return 0.0 if pred is None else _tau(pred, y)
    k = min(folds, len(y))
    if k < 2:
        return 0.0
    out = np.empty(len(y))
    for train, test in KFold(k, shuffle=True, random_state=seed).split(X):
        out[test] = Predictor(trees, seed).fit(X[train], y[train]).predict(X[test])[0]
    return _tau(out, y)


def macs_tau(archs_or_rows: Sequence[Architecture] | np.ndarray, accuracies: Sequence[float]):
    """Kendall's tau between MACs and accuracy: the predictor to beat (more MACs, better)."""
    X = rows_of(archs_or_rows)
    return _tau(X[:, MACS_COLUMN], np.asarray(accuracies, dtype=float))
