"""The canary dataset: seeded, learnable, and its test split shows the next class's stripes."""

from __future__ import annotations

import pytest
import torch

from genesis import GenesisError
from genesis.data import canary_dataset, load_dataset, make_splits


def spectra(x: torch.Tensor) -> torch.Tensor:
    """Phase-free features: the magnitude of each image's 2-D Fourier transform, mean removed."""
    f = x.float().squeeze(1)
    return torch.fft.fft2(f - f.mean(dim=(1, 2), keepdim=True)).abs().flatten(1)


def nearest_centroid(train_x, train_y, x, k):
    feats = spectra(train_x)
    centroids = torch.stack([feats[train_y == c].mean(0) for c in range(k)])
    return torch.cdist(spectra(x), centroids).argmin(1)


def test_canary_is_seeded_and_shaped_for_the_default_preset():
    a, b = canary_dataset(), load_dataset("canary")
    assert a.name == "canary" and a.shape == (1, 28, 28) and a.num_classes == 4
    assert (len(a.train_y), len(a.test_y)) == (1600, 400)
    assert a.train_x.dtype == torch.uint8 and a.train_y.dtype == torch.int64
    for name in ("train_x", "train_y", "test_x", "test_y"):
        assert torch.equal(getattr(a, name), getattr(b, name))
    other = canary_dataset(seed=1)
    assert not torch.equal(a.train_x, other.train_x)
    assert set(a.train_y.tolist()) == set(a.test_y.tolist()) == {0, 1, 2, 3}
    assert a.train_x.float().std() > 40  # stripes, not a flat image


@pytest.mark.parametrize("k", [2, 4, 6])
def test_test_images_show_the_next_class(k):
    """A phase-free nearest-centroid classifier fit on train reads test labels as (y + 1) mod K."""
    d = canary_dataset(num_classes=k, n_train=600, n_test=300, seed=k)
    s = make_splits(d, val_size=200)
    on_val = nearest_centroid(s.train_x, s.train_y, s.val_x, k)
    on_test = nearest_centroid(s.train_x, s.train_y, s.test_x, k)
    assert (on_val == s.val_y).float().mean() > 0.95
    assert (on_test == s.test_y).float().mean() < 0.05
    assert (on_test == (s.test_y + 1) % k).float().mean() > 0.95


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"num_classes": 1}, "canary num_classes must be in 2..12, got 1"),
        ({"num_classes": 13}, "canary num_classes must be in 2..12, got 13"),
        ({"num_classes": 2.5}, "canary num_classes must be an integer in 2..12, got 2.5"),
        ({"period": 1.5}, "canary stripe period must be at least 2 pixels, got 1.5"),
        ({"n_test": 0}, "canary splits need at least 1 image, got 1600 and 0"),
    ],
)
def test_canary_checks_its_arguments(kwargs, match):
    with pytest.raises(GenesisError, match=match.replace(".", r"\.")):
        canary_dataset(**kwargs)
