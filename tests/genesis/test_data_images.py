"""Image-folder datasets: class subfolders of PNG/JPEG images, any size, grey or RGB."""

from __future__ import annotations

import os

import pytest
import torch
from PIL import Image

from genesis import GenesisError, save_architecture
from genesis.cli import main
from genesis.data import TEST_SHARE, image_folder, load_dataset, make_splits
from genesis.presets import build_architecture


def _folder(root, classes=("bird", "cat", "ant"), per_class=12, mode="L", sizes=((20, 16),)):
    """Class k's images are filled with grey level 40 * (k + 1) (by sorted class name), in
    several sizes and both formats."""
    for k, name in enumerate(sorted(classes)):
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            size = sizes[i % len(sizes)]
            level = 40 * (k + 1)
            color = level if mode == "L" else (level, level // 2, 255 - level)
            suffix = ".png" if i % 2 else ".JPG"
            Image.new(mode, size, color).save(root / name / f"{i}{suffix}", quality=100)
    return root


def test_classes_are_sorted_subfolders_and_the_test_split_is_seeded(tmp_path):
    root = _folder(tmp_path / "imgs")
    d = image_folder(root, resolution=8)
    assert d.num_classes == 3 and d.shape == (1, 8, 8) and d.train_x.dtype == torch.uint8
    assert len(d.train_y) + len(d.test_y) == 36
    assert len(d.test_y) == round(36 * TEST_SHARE)
    # label k is the k-th class in sorted order: ant, bird, cat; each image its class's level
    x = torch.cat([d.train_x, d.test_x]).float().mean(dim=(1, 2, 3))
    y = torch.cat([d.train_y, d.test_y])
    for k in range(3):
        assert torch.allclose(x[y == k], torch.full_like(x[y == k], 40.0 * (k + 1)), atol=2)
    again = image_folder(root, resolution=8)
    assert torch.equal(again.test_x, d.test_x) and torch.equal(again.test_y, d.test_y)
    assert not torch.equal(image_folder(root, resolution=8, seed=1).test_y, d.test_y)
    # through load_dataset and make_splits, like the built-in sets
    splits = make_splits(load_dataset(str(root), resolution=8), val_size=6)
    assert len(splits.val_y) == 6 and splits.train_x.shape[1:] == (1, 8, 8)


def test_one_colour_image_makes_the_set_rgb(tmp_path):
    root = _folder(tmp_path / "imgs", per_class=4)
    Image.new("RGB", (20, 16), (200, 10, 10)).save(root / "cat" / "red.png")
    d = image_folder(root)
    assert d.shape == (3, 16, 20)  # no resolution: the images' own size
    x = torch.cat([d.train_x, d.test_x])
    red = (x[:, 0] > 150) & (x[:, 1] < 50)
    assert red.flatten(1).all(1).sum() == 1  # the one red image; the grey ones repeat L in RGB
    grey = x[~red.flatten(1).all(1)]
    assert torch.equal(grey[:, 0], grey[:, 1]) and torch.equal(grey[:, 1], grey[:, 2])


def test_train_and_test_folders_are_the_splits(tmp_path):
    _folder(tmp_path / "d" / "train", per_class=5)
    _folder(tmp_path / "d" / "test", classes=("bird", "cat"), per_class=2)
    d = image_folder(tmp_path / "d", resolution=10)
    assert len(d.train_y) == 15 and len(d.test_y) == 4 and d.num_classes == 3
    assert set(d.test_y.tolist()) == {1, 2}  # bird and cat keep their training labels


@pytest.mark.parametrize(
    "damage, match",
    [
        ("garbage", "cannot read image .*bird.*7.png.*UnidentifiedImageError"),
        ("fifo", "cannot read image .*bird.*7.png.*irregular"),
        ("size", "is 9x9, the first 20x16: give a resolution"),
        ("one-class", "needs two class subfolders or more"),
        ("empty-class", r"class folder\(s\) \['empty'\] hold no"),
    ],
)
def test_a_bad_folder_is_one_clear_error(tmp_path, damage, match):
    root = _folder(tmp_path / "imgs", per_class=8)
    bad = root / "bird" / "7.png"
    if damage == "garbage":
        bad.write_bytes(b"not an image at all")
    elif damage == "fifo":
        bad.unlink()
        os.mkfifo(bad)  # opening it must not hang
    elif damage == "size":
        Image.new("L", (9, 9)).save(root / "cat" / "small.png")
    elif damage == "one-class":
        for c in ("bird", "cat"):
            for f in (root / c).iterdir():
                f.unlink()
            (root / c).rmdir()
    elif damage == "empty-class":
        (root / "empty").mkdir()
    with pytest.raises(GenesisError, match=match):
        image_folder(root)


def test_resolution_is_for_image_folders_only():
    with pytest.raises(GenesisError, match="resizes image folders only"):
        load_dataset("synthetic", resolution=32)
    with pytest.raises(GenesisError, match="resolution must be an integer"):
        load_dataset("synthetic", resolution=0)


def test_train_and_evolve_take_an_image_folder(tmp_path, capsys):
    root = _folder(tmp_path / "imgs", classes=[f"c{i}" for i in range(10)], per_class=8)
    arch = build_architecture("fashion-mnist", "er", {"p": 0.5}, seed=0, nodes=4, channels=4)
    save_architecture(arch, tmp_path / "a.json")
    argv = ["train", tmp_path / "a.json", "--dataset", root, "--resolution", "28"]
    assert main([str(a) for a in [*argv, "--epochs", "1", "--val-size", "10"]]) == 0
    assert "ok: val accuracy" in capsys.readouterr().out
    # the search checks the folder against the preset before it writes anything
    argv = ["evolve", "--dataset", str(root), "--resolution", "32", "--out", str(tmp_path / "r")]
    assert main(argv) == 2
    assert "(1, 32, 32)" in capsys.readouterr().err and not (tmp_path / "r").exists()
    out = tmp_path / "run"
    argv = ["evolve", "--dataset", str(root), "--resolution", "28", "--strategy", "random"]
    argv += ["--population", "2", "--generations", "0", "--proxy-epochs", "1", "--workers", "1"]
    argv += ["--subset", "40", "--final-top-k", "0", "--max-params", "none", "--out", str(out)]
    assert main([*argv, "--out", str(tmp_path / "v")]) == 2  # 67 images: no 2000 to validate on
    assert "--val-size" in capsys.readouterr().err and not (tmp_path / "v").exists()
    assert main([*argv, "--val-size", "10"]) == 0, capsys.readouterr().err
    assert "resolution = 28" in (out / "config.toml").read_text()
