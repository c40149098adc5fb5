"""Datasets: Debian's Fashion-MNIST, IDX folders, CIFAR-10 batches, the synthetic set, splits."""

from __future__ import annotations

import gzip
import hashlib
import os
import pickle
import pickletools
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch

import genesis.data
import genesis.data.cifar
import genesis.data.idx
import genesis.data.images
import genesis.data.sources
from genesis.data import Dataset, load_dataset, make_splits, read_idx, synthetic_dataset
from graphs import GenesisError

REPO = Path(__file__).resolve().parents[2]
DEBIAN = Path("/usr/share/datasets")

STEMS = {
    "train_x": "train-images-idx3-ubyte",
    "train_y": "train-labels-idx1-ubyte",
    "test_x": "t10k-images-idx3-ubyte",
    "test_y": "t10k-labels-idx1-ubyte",
}


# -- helpers --------------------------------------------------------------------------------------
def idx_bytes(array: np.ndarray) -> bytes:
    """An unsigned-byte IDX file: magic 0x0000 08 <ndim>, big-endian dims, then the bytes."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return header + array.tobytes()


def write_idx(path: Path, array: np.ndarray) -> Path:
    data = idx_bytes(array)
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)
    return path


def idx_arrays(n_train: int = 12, n_test: int = 5, size: int = 6, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    return {
        "train_x": rng.integers(0, 256, (n_train, size, size), dtype=np.uint8),
        "train_y": (np.arange(n_train) % 10).astype(np.uint8),
        "test_x": rng.integers(0, 256, (n_test, size, size), dtype=np.uint8),
        "test_y": (np.arange(n_test) % 4).astype(np.uint8),
    }


def write_idx_folder(folder: Path, arrays: dict, gz: bool) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    suffix = ".gz" if gz else ""
    return {k: write_idx(folder / f"{STEMS[k]}{suffix}", a) for k, a in arrays.items()}


def py2_pickle(obj) -> bytes:
    """``obj`` pickled the way Python 2's cPickle wrote the CIFAR-10 batches.

    Protocol 2, strings as (SHORT_)BINSTRING, NumPy's ``numpy.core.multiarray._reconstruct``:
    a protocol-3 pickle with the opcodes swapped one for one (same argument layout).
    """
    raw = bytearray(pickle.dumps(obj, protocol=3))
    swap = {"SHORT_BINBYTES": b"U", "BINBYTES": b"T", "BINUNICODE": b"T"}
    for op, _, pos in pickletools.genops(bytes(raw)):
        if op.name in swap:
            raw[pos : pos + 1] = swap[op.name]
    raw[1] = 2  # PROTO 2
    return bytes(raw).replace(b"cnumpy._core.multiarray\n", b"cnumpy.core.multiarray\n")


def cifar_batch(n: int, seed: int, how: str = "py2") -> tuple[bytes, np.ndarray, list[int]]:
    rng = np.random.default_rng(seed)
    data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
    labels = [int(v) for v in rng.integers(0, 10, n)]
    batch = {
        b"batch_label": b"fake batch",
        b"labels": labels,
        b"data": data,
        b"filenames": [f"img_{seed}_{i}.png".encode() for i in range(n)],
    }
    raw = py2_pickle(batch) if how == "py2" else pickle.dumps(batch, protocol=4)
    return raw, data, labels


def write_cifar_folder(folder: Path, n: int = 3, how: str = "py2") -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for seed, name in enumerate([*(f"data_batch_{i}" for i in range(1, 6)), "test_batch"]):
        raw, data, labels = cifar_batch(n + seed % 2, seed, how)  # batches of unequal size
        (folder / name).write_bytes(raw)
        written[name] = (data, labels)
    return written


def unique_dataset(n: int = 200, n_test: int = 30, classes: int = 7) -> Dataset:
    """Every training example is different: its first two pixels spell its index."""
    rng = np.random.default_rng(1)
    x = rng.integers(0, 256, (n, 1, 4, 4), dtype=np.uint8)
    x[:, 0, 0, 0], x[:, 0, 0, 1] = np.arange(n) // 256, np.arange(n) % 256
    y = np.arange(n) % classes
    tx = rng.integers(0, 256, (n_test, 1, 4, 4), dtype=np.uint8)
    return Dataset(
        "unique",
        torch.from_numpy(x),
        torch.from_numpy(y),
        torch.from_numpy(tx),
        torch.from_numpy(np.arange(n_test) % classes),
        classes,
    )


def rows(x: torch.Tensor) -> list[bytes]:
    return [bytes(r) for r in x.reshape(len(x), -1).numpy()]


def index_of(x: torch.Tensor) -> np.ndarray:
    """The index a :func:`unique_dataset` example spells."""
    return x[:, 0, 0, 0].numpy().astype(int) * 256 + x[:, 0, 0, 1].numpy()


# -- Fashion-MNIST from Debian's package ----------------------------------------------------------
@pytest.mark.slow  # reads 30 MB; installed by ./setup.sh, so it runs (is not skipped) by default
def test_fashion_mnist_loads_from_debian_files(monkeypatch):
    monkeypatch.setattr(genesis.data.sources, "DATA_DIRS", ("", str(DEBIAN)))
    data = load_dataset("fashion-mnist")
    assert data.name == "fashion-mnist" and data.flip is True
    assert data.train_x.shape == (60000, 1, 28, 28) and data.train_x.dtype == torch.uint8
    assert data.test_x.shape == (10000, 1, 28, 28) and data.test_x.dtype == torch.uint8
    assert data.train_y.dtype == data.test_y.dtype == torch.int64
    assert data.num_classes == 10 and data.shape == (1, 28, 28)
    # Fashion-MNIST is balanced: 6000 training and 1000 test images of each class.
    assert torch.bincount(data.train_y).tolist() == [6000] * 10
    assert torch.bincount(data.test_y).tolist() == [1000] * 10
    assert 0 < data.train_x.float().mean() < 255
    s = make_splits(data)
    assert (len(s.train_y), len(s.val_y), len(s.test_y)) == (55000, 5000, 10000)


# -- IDX folders ----------------------------------------------------------------------------------
@pytest.mark.parametrize("gz", [False, True], ids=["raw", "gz"])
def test_any_idx_folder_loads(tmp_path, gz):
    arrays = idx_arrays()
    write_idx_folder(tmp_path / "digits", arrays, gz)
    data = load_dataset(str(tmp_path / "digits"))
    assert data.name == str(tmp_path / "digits") and data.flip is False
    assert data.train_x.shape == (12, 1, 6, 6) and data.test_x.shape == (5, 1, 6, 6)
    assert data.train_x.dtype == torch.uint8 and data.train_y.dtype == torch.int64
    np.testing.assert_array_equal(data.train_x[:, 0].numpy(), arrays["train_x"])
    np.testing.assert_array_equal(data.test_x[:, 0].numpy(), arrays["test_x"])
    np.testing.assert_array_equal(data.train_y.numpy(), arrays["train_y"])
    np.testing.assert_array_equal(data.test_y.numpy(), arrays["test_y"])
    assert data.num_classes == 10


def test_mixed_raw_and_gz_files(tmp_path):
    arrays = idx_arrays()
    write_idx_folder(tmp_path, {k: v for k, v in arrays.items() if k.endswith("x")}, gz=True)
    write_idx_folder(tmp_path, {k: v for k, v in arrays.items() if k.endswith("y")}, gz=False)
    data = load_dataset(str(tmp_path))
    np.testing.assert_array_equal(data.train_x[:, 0].numpy(), arrays["train_x"])
    np.testing.assert_array_equal(data.train_y.numpy(), arrays["train_y"])


@pytest.mark.parametrize("name, flip", [("mnist", False), ("fashion-mnist", True)])
def test_named_idx_dataset_found_in_data_dirs(tmp_path, monkeypatch, name, flip):
    arrays = idx_arrays()
    write_idx_folder(tmp_path / "root" / name, arrays, gz=True)
    monkeypatch.setattr(
        genesis.data.sources, "DATA_DIRS", ("", str(tmp_path / "empty"), str(tmp_path / "root"))
    )
    data = load_dataset(name)
    assert data.name == name and data.flip is flip  # digits must not be flipped
    np.testing.assert_array_equal(data.train_x[:, 0].numpy(), arrays["train_x"])


def test_read_idx_reads_labels_and_images(tmp_path):
    labels = np.array([3, 1, 4, 1, 5], dtype=np.uint8)
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    assert read_idx(write_idx(tmp_path / "l", labels)).tolist() == labels.tolist()
    raw = (tmp_path / "l").read_bytes()
    assert raw[:8] == bytes.fromhex("00000801") + (5).to_bytes(4, "big")
    out = read_idx(write_idx(tmp_path / "i.gz", images))
    assert out.shape == (2, 3, 4) and (out == images).all()
    assert gzip.decompress((tmp_path / "i.gz").read_bytes())[:4] == bytes.fromhex("00000803")


@pytest.mark.parametrize("gz", [False, True], ids=["raw", "gz"])
@pytest.mark.parametrize("missing", sorted(STEMS))
def test_missing_idx_file_is_named(tmp_path, gz, missing):
    paths = write_idx_folder(tmp_path, idx_arrays(), gz)
    paths[missing].unlink()
    with pytest.raises(GenesisError, match=re.escape(f"lacks {STEMS[missing]}[.gz]")):
        load_dataset(str(tmp_path))


@pytest.mark.parametrize("gz", [False, True], ids=["raw", "gz"])
@pytest.mark.parametrize("which", ["train_x", "test_y"])
def test_truncated_idx_file_is_named(tmp_path, gz, which):
    paths = write_idx_folder(tmp_path, idx_arrays(), gz)
    path = paths[which]
    path.write_bytes(path.read_bytes()[:-7])  # gz: a cut stream; raw: missing data bytes
    with pytest.raises(GenesisError, match=re.escape(path.name)) as info:
        load_dataset(str(tmp_path))
    assert re.search("truncated|cannot read", str(info.value)), info.value


def test_padded_idx_file_is_refused(tmp_path):
    path = write_idx(tmp_path / "x", np.zeros((2, 3, 3), dtype=np.uint8))
    path.write_bytes(path.read_bytes() + b"\0")
    with pytest.raises(
        GenesisError, match=r"'.*/x' is truncated or padded: header says \[2, 3, 3\]"
    ):
        read_idx(path)


@pytest.mark.parametrize("gz", [False, True], ids=["raw", "gz"])
@pytest.mark.parametrize(
    "magic", ["00000903", "00000d03", "08000003", "0000"], ids=["int8", "float", "swapped", "short"]
)
def test_bad_magic_number_is_named(tmp_path, gz, magic):
    paths = write_idx_folder(tmp_path, idx_arrays(), gz)
    path = paths["train_y"]
    raw = idx_bytes(idx_arrays()["train_y"])
    bad = bytes.fromhex(magic) + raw[4:] if len(magic) == 8 else bytes.fromhex(magic)
    path.write_bytes(gzip.compress(bad) if gz else bad)
    with pytest.raises(GenesisError, match=re.escape(path.name) + ".*bad magic number"):
        load_dataset(str(tmp_path))


def test_not_gzip_data_behind_gz_name(tmp_path):
    paths = write_idx_folder(tmp_path, idx_arrays(), gz=True)
    paths["test_x"].write_bytes(b"this is not gzip data at all")
    with pytest.raises(GenesisError, match="cannot read IDX file .*t10k-images-idx3-ubyte.gz"):
        load_dataset(str(tmp_path))


def test_idx_files_that_disagree(tmp_path):
    arrays = idx_arrays()
    arrays["train_y"] = arrays["train_y"][:-1]
    write_idx_folder(tmp_path, arrays, gz=False)
    with pytest.raises(GenesisError, match="disagree"):
        load_dataset(str(tmp_path))


# -- CIFAR-10 python batches ----------------------------------------------------------------------
@pytest.mark.parametrize("how", ["py2", "protocol4"])
def test_cifar10_folder_loads(tmp_path, how):
    written = write_cifar_folder(tmp_path / "cifar", n=3, how=how)
    data = load_dataset(str(tmp_path / "cifar"))
    n_train = sum(len(written[f"data_batch_{i}"][1]) for i in range(1, 6))
    assert n_train == 17
    assert data.train_x.shape == (n_train, 3, 32, 32) and data.train_x.dtype == torch.uint8
    assert data.test_x.shape == (len(written["test_batch"][1]), 3, 32, 32)
    assert data.train_y.dtype == data.test_y.dtype == torch.int64
    assert data.num_classes == 10 and data.flip is True and data.shape == (3, 32, 32)
    assert data.name == f"cifar10:{tmp_path / 'cifar'}"
    # Batches in order 1..5; each row is 1024 red, 1024 green, 1024 blue bytes, row-major.
    want_x = np.concatenate([written[f"data_batch_{i}"][0] for i in range(1, 6)])
    want_y = sum((written[f"data_batch_{i}"][1] for i in range(1, 6)), [])
    np.testing.assert_array_equal(data.train_x.numpy().reshape(n_train, -1), want_x)
    assert data.train_y.tolist() == want_y
    first = written["data_batch_1"][0][0]
    assert data.train_x[0, 1, 0, 5].item() == first[1024 + 5]  # green, row 0, column 5
    assert data.train_x[0, 2, 31, 31].item() == first[3071]
    assert data.test_y.tolist() == written["test_batch"][1]


class _RunsCode:
    """Pickles as a call of ``os.system`` (what a crafted batch would do)."""

    def __init__(self, command: str):
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


@pytest.mark.parametrize("where", ["data", "labels"])
def test_crafted_cifar_batch_is_refused_without_running_it(tmp_path, where):
    write_cifar_folder(tmp_path, n=2, how="protocol4")
    marker = tmp_path / "pwned"
    evil = {b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, 1]}
    evil[where.encode()] = _RunsCode(f"touch {marker}")
    (tmp_path / "data_batch_3").write_bytes(pickle.dumps(evil))
    with pytest.raises(GenesisError, match=r"data_batch_3' refers to (posix|os|nt)\.system"):
        load_dataset(str(tmp_path))
    assert not marker.exists()


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "cannot read CIFAR-10 batch"),
        (b"\x80\x04not a pickle", "cannot read CIFAR-10 batch"),
        (pickle.dumps({b"labels": [1]}), "is not a CIFAR-10 batch"),
        (pickle.dumps({b"data": np.zeros((2, 100), np.uint8), b"labels": [1, 2]}), "not a CIFAR"),
        (pickle.dumps([1, 2, 3]), "is not a CIFAR-10 batch"),
        (pickle.dumps({b"data": np.zeros((2, 3072), np.uint8), b"labels": [1]}), "label"),
    ],
    ids=["empty", "garbage", "no-data", "wrong-size", "not-a-dict", "labels-count"],
)
def test_corrupt_cifar_batch_is_named(tmp_path, content, message):
    write_cifar_folder(tmp_path, n=2, how="protocol4")
    (tmp_path / "test_batch").write_bytes(content)
    with pytest.raises(GenesisError, match=f"test_batch.*{message}|{message}.*test_batch"):
        load_dataset(str(tmp_path))


def test_missing_cifar_batch_is_named(tmp_path):
    write_cifar_folder(tmp_path, n=2)
    (tmp_path / "data_batch_5").unlink()
    with pytest.raises(GenesisError, match="data_batch_5"):
        load_dataset(str(tmp_path))


# -- named datasets, specs ------------------------------------------------------------------------
def test_missing_fashion_mnist_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setattr(genesis.data.sources, "DATA_DIRS", ("", str(tmp_path)))
    with pytest.raises(GenesisError, match="apt-get install dataset-fashion-mnist") as info:
        load_dataset("fashion-mnist")
    assert "'fashion-mnist' not found" in str(info.value) and str(tmp_path) in str(info.value)
    with pytest.raises(GenesisError, match="point --dataset at a folder"):
        load_dataset("mnist")


@pytest.mark.parametrize("spec", ["cifar-100", "imagenet", "no/such/folder"])
def test_unknown_dataset_spec(spec):
    with pytest.raises(GenesisError, match=f"unknown dataset {re.escape(repr(spec))}"):
        load_dataset(spec)


def test_folder_with_neither_idx_nor_cifar(tmp_path):
    (tmp_path / "readme.txt").write_text("nothing here")
    with pytest.raises(GenesisError, match="lacks train-images-idx3-ubyte"):
        load_dataset(str(tmp_path))


@pytest.mark.parametrize(
    "spec",
    [
        "synthetic:",
        "synthetic:3x32",
        "synthetic:1x8x8x2",
        "synthetic:0x8x8",
        "synthetic:axbxc",
        "synthetic:-1x8x8",
        "synthetic:1x8.5x8",
    ],
)
def test_bad_synthetic_spec(spec):
    with pytest.raises(GenesisError, match="synthetic dataset shape must be CxHxW"):
        load_dataset(spec)


@pytest.mark.parametrize(
    "spec, shape", [("synthetic", (1, 28, 28)), ("synthetic:3x8x6", (3, 8, 6))]
)
def test_synthetic_spec(spec, shape):
    data = load_dataset(spec)
    assert data.shape == shape and data.num_classes == 10 and data.name == "synthetic"
    assert (
        data.train_x.dtype == torch.uint8 and len(data.train_y) == 512 and len(data.test_y) == 256
    )


def test_synthetic_dataset_is_seeded_and_learnable_in_principle():
    a = synthetic_dataset((1, 8, 8), n_train=300, n_test=50, seed=3)
    b = synthetic_dataset((1, 8, 8), n_train=300, n_test=50, seed=3)
    c = synthetic_dataset((1, 8, 8), n_train=300, n_test=50, seed=4)
    assert torch.equal(a.train_x, b.train_x) and torch.equal(a.test_y, b.test_y)
    assert not torch.equal(a.train_x, c.train_x)
    assert set(a.train_y.tolist()) == set(range(10))
    # Nearest class mean classifies the test set well: the classes are separable.
    x = a.train_x.float().flatten(1)
    means = torch.stack([x[a.train_y == k].mean(0) for k in range(10)])
    pred = torch.cdist(a.test_x.float().flatten(1), means).argmin(1)
    assert (pred == a.test_y).float().mean() > 0.9


# -- splits ---------------------------------------------------------------------------------------
def test_splits_partition_the_training_set():
    data = unique_dataset(n=200)
    s = make_splits(data, val_size=40, split_seed=3)
    assert (len(s.train_y), len(s.val_y)) == (160, 40) and s.split_seed == 3
    train_rows, val_rows = rows(s.train_x), rows(s.val_x)
    assert not set(train_rows) & set(val_rows)
    assert Counter(train_rows) + Counter(val_rows) == Counter(rows(data.train_x))
    # Labels travel with their images.
    assert s.train_y.tolist() == (index_of(s.train_x) % data.num_classes).tolist()
    assert s.val_y.tolist() == (index_of(s.val_x) % data.num_classes).tolist()
    # The cut is random, not the first or last examples.
    assert sorted(index_of(s.val_x).tolist()) != list(range(40))
    assert sorted(index_of(s.val_x).tolist()) != list(range(160, 200))


def test_test_set_is_the_official_one_untouched():
    data = unique_dataset()
    before = data.test_x.clone(), data.test_y.clone()
    s = make_splits(data, val_size=20, split_seed=5, subset=10)
    assert s.test_x is data.test_x and s.test_y is data.test_y
    assert torch.equal(s.test_x, before[0]) and torch.equal(s.test_y, before[1])
    assert s.dataset is data


def test_same_seed_same_split_different_seed_different():
    data = unique_dataset()
    a = make_splits(data, val_size=30, split_seed=11)
    torch.rand(3), np.random.random(), hash(object())  # the global generators move on
    b = make_splits(data, val_size=30, split_seed=11)
    c = make_splits(data, val_size=30, split_seed=12)
    assert torch.equal(a.val_x, b.val_x) and torch.equal(a.train_x, b.train_x)
    assert torch.equal(a.val_y, b.val_y)
    assert set(index_of(a.val_x)) != set(index_of(c.val_x))


SPLIT_DIGEST = """
import hashlib
from genesis.data import make_splits, synthetic_dataset
s = make_splits(synthetic_dataset((1, 4, 4), n_train=300, n_test=10), val_size=50, split_seed=7)
h = hashlib.sha256()
for t in (s.train_x, s.train_y, s.val_x, s.val_y):
    h.update(t.numpy().tobytes())
print(h.hexdigest())
"""


def test_split_is_the_same_in_a_fresh_process():
    h = hashlib.sha256()
    s = make_splits(synthetic_dataset((1, 4, 4), n_train=300, n_test=10), val_size=50, split_seed=7)
    for t in (s.train_x, s.train_y, s.val_x, s.val_y):
        h.update(t.numpy().tobytes())
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    proc = subprocess.run(
        [sys.executable, "-c", SPLIT_DIGEST],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == h.hexdigest()


@pytest.mark.parametrize("val_size, n_val", [(None, 20), (0.25, 50), (1, 1), (199, 199)])
def test_val_size_forms(val_size, n_val):
    s = make_splits(unique_dataset(n=200), val_size=val_size)
    assert len(s.val_y) == n_val and len(s.train_y) == 200 - n_val


def test_subset_keeps_val_unchanged():
    data = unique_dataset(n=200)
    full = make_splits(data, val_size=40, split_seed=2)
    sub = make_splits(data, val_size=40, split_seed=2, subset=25)
    assert torch.equal(sub.val_x, full.val_x) and torch.equal(sub.val_y, full.val_y)
    assert len(sub.train_y) == 25
    assert set(rows(sub.train_x)) <= set(rows(full.train_x))
    bigger = make_splits(data, val_size=40, split_seed=2, subset=10_000)
    assert torch.equal(bigger.train_x, full.train_x)


@pytest.mark.parametrize("val_size", [0, -5, 200, 500, 0.0, 1.0, 1.5, -0.1])
def test_bad_val_size(val_size):
    with pytest.raises(GenesisError, match=r"does not fit 200 training examples: .* of 1\.\.199"):
        make_splits(unique_dataset(n=200), val_size=val_size)


@pytest.mark.parametrize("subset", [0, -1])
def test_bad_subset(subset):
    with pytest.raises(GenesisError, match="subset must be a positive number"):
        make_splits(unique_dataset(), val_size=10, subset=subset)
