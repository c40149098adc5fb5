"""Datasets as tensors: Fashion-MNIST / MNIST IDX files, CIFAR-10 batches, a synthetic set.

Small image datasets fit in memory many times over, so a :class:`Dataset` holds them as uint8
tensors that the trainer moves to the device once; there is no DataLoader. :func:`make_splits`
cuts a fixed, seeded validation split from the training set: the search only ever sees
``train`` and ``val``; ``test`` is the official test set, for a final evaluation.

Sources (``load_dataset(spec)``):

- ``"fashion-mnist"``: the IDX files of Debian's ``dataset-fashion-mnist``
  (``/usr/share/datasets/fashion-mnist``), or ``$GENESIS_DATA/fashion-mnist``;
- a folder holding the four IDX files (``train-images-idx3-ubyte[.gz]``, ...): MNIST works too;
- a folder of CIFAR-10 python batches (``data_batch_1`` ... ``data_batch_5``, ``test_batch``),
  read as NumPy arrays, never unpickled into objects (see :func:`_read_cifar_batch`);
- a folder of class subfolders of images (PNG or JPEG, torchvision's ``ImageFolder`` layout:
  ``PATH/<class>/<image>``; or ``PATH/train/<class>/...`` with ``PATH/test/<class>/...`` as the
  test split), read once with Pillow into uint8 tensors (see :func:`image_folder`);
- ``"synthetic"`` or ``"synthetic:CxHxW"``: a tiny seeded dataset of class-dependent patterns,
  for tests;
- ``"canary"``: a tiny seeded dataset whose test split detects being read by mistake (see
  :func:`canary_dataset`), for end-to-end tests of a real search.

The canary
----------
In ``"canary"`` each class is a stripe orientation (class ``k`` of ``K``: stripes at ``k * 180 / K``
degrees, random phase, plus noise), which a net of a few hundred parameters learns in about
sixty SGD steps. The training images (and so the validation split cut from them) show the
stripes of their own class; every *test* image of label ``y`` shows the stripes of class
``(y + 1) mod K``. A net trained on train/val therefore scores near 1 on ``val`` and near 0 on
``test``: a search record with a low accuracy means the search scored on ``test``, a final
record with a high one means the final step scored on ``val`` (or trained on ``test``).
"""

from __future__ import annotations

import gzip
import math
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from graphs import GenesisError

__all__ = [
    "Dataset",
    "Splits",
    "DATA_DIRS",
    "IMAGE_SUFFIXES",
    "canary_dataset",
    "image_folder",
    "load_dataset",
    "make_splits",
    "read_idx",
    "synthetic_dataset",
]

#: Where named datasets are looked for, in order.
DATA_DIRS = (
    os.environ.get("GENESIS_DATA", ""),
    "/usr/share/datasets",
)

IDX_FILES = {
    "train_x": "train-images-idx3-ubyte",
    "train_y": "train-labels-idx1-ubyte",
    "test_x": "t10k-images-idx3-ubyte",
    "test_y": "t10k-labels-idx1-ubyte",
}


@dataclass(frozen=True, eq=False)
class Dataset:
    """Images as uint8 ``(N, C, H, W)`` tensors and int64 labels, with the official test split."""

    name: str  # e.g. "fashion-mnist", or the folder it came from
    train_x: torch.Tensor  # uint8 (N, C, H, W)
    train_y: torch.Tensor  # int64 (N,)
    test_x: torch.Tensor  # uint8 (M, C, H, W): the official test set
    test_y: torch.Tensor  # int64 (M,)
    num_classes: int  # labels are 0..num_classes-1
    flip: bool = False  # horizontal flips are a valid augmentation (not for digits)

    @property
    def shape(self) -> tuple[int, int, int]:
        """(C, H, W) of one example."""
        return tuple(self.train_x.shape[1:])  # type: ignore[return-value]

    def mean_std(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-channel mean and std of the training images, in [0, 1] units."""
        x = self.train_x.float().div_(255)
        return x.mean(dim=(0, 2, 3)), x.std(dim=(0, 2, 3)).clamp_min(1e-3)


@dataclass(frozen=True, eq=False)
class Splits:
    """What a run trains and measures on. ``val`` is cut from the official training set."""

    train_x: torch.Tensor
    train_y: torch.Tensor
    val_x: torch.Tensor
    val_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    dataset: Dataset  # where they came from
    split_seed: int  # seed of the train/val cut
    # the held-out part of the validation split (make_splits' ``holdout``): measured, never
    # searched on; empty when none was cut
    holdout_x: torch.Tensor | None = None
    holdout_y: torch.Tensor | None = None

    def full_train(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Every example of the official training set this holds: train, val and holdout (what
        a final training trains on)."""
        xs = [self.train_x, self.val_x] + ([self.holdout_x] if self.holdout_x is not None else [])
        ys = [self.train_y, self.val_y] + ([self.holdout_y] if self.holdout_y is not None else [])
        return torch.cat(xs), torch.cat(ys)


def make_splits(
    data: Dataset,
    val_size: int | float | None = None,
    split_seed: int = 0,
    subset: int | None = None,
    holdout: int = 0,
) -> Splits:
    """Cut a fixed validation split from the training set.

    Parameters
    ----------
    val_size : int or float, optional
        Examples held out (an int) or their share of the training set (a float in (0, 1)).
        Default: 5000 examples, or a tenth of a training set smaller than 50,000.
    split_seed : int
        Seed of the permutation; the same seed gives the same split in any process.
    subset : int, optional
        Keep only this many training examples (after the validation cut), e.g. for a quick
        proxy training during a search. The validation split is unchanged by it.
    holdout : int
        Move this many examples from the end of the validation split to ``holdout``: scored
        on every evaluation, never used to choose (``val_size`` counts both).

    Examples
    --------
    >>> s = make_splits(synthetic_dataset(n_train=100, n_test=10), val_size=20)
    >>> len(s.train_y), len(s.val_y), len(s.test_y)
    (80, 20, 10)
    >>> len(make_splits(synthetic_dataset(n_train=100, n_test=10), 20, holdout=5).holdout_y)
    5
    """
    n = len(data.train_y)
    if val_size is None:
        val_size = min(5000, max(1, n // 10))
    if (
        isinstance(val_size, bool)
        or not isinstance(val_size, (int, float))
        or not math.isfinite(val_size)
    ):
        raise GenesisError(
            f"validation size must be a number of examples or a share, got {val_size!r}"
        )
    n_val = int(round(val_size * n)) if isinstance(val_size, float) else int(val_size)
    if not 0 < n_val < n:
        raise GenesisError(f"validation split must hold 1..{n - 1} examples, got {val_size!r}")
    if isinstance(holdout, bool) or not isinstance(holdout, int) or not 0 <= holdout < n_val:
        raise GenesisError(
            f"holdout must be 0..{n_val - 1} examples of the validation split, got {holdout!r}"
        )
    perm = torch.from_numpy(np.random.default_rng(split_seed).permutation(n))
    val, train = perm[: n_val - holdout], perm[n_val:]
    held = perm[n_val - holdout : n_val]
    if subset is not None:
        if subset < 1:
            raise GenesisError(f"subset must be a positive number of examples, got {subset}")
        train = train[:subset]
    return Splits(
        data.train_x[train],
        data.train_y[train],
        data.train_x[val],
        data.train_y[val],
        data.test_x,
        data.test_y,
        data,
        split_seed,
        data.train_x[held] if holdout else None,
        data.train_y[held] if holdout else None,
    )


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (optionally gzipped) into a NumPy array.

    Raises
    ------
    GenesisError
        If the file is truncated or not an unsigned-byte IDX file.
    """
    path = Path(path)
    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as exc:
        raise GenesisError(f"cannot read IDX file {str(path)!r}: {exc}") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise GenesisError(f"{str(path)!r} is not an unsigned-byte IDX file (bad magic number)")
    ndim = raw[3]
    header = 4 + 4 * ndim
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    if len(raw) != header + int(np.prod(dims)):
        raise GenesisError(
            f"IDX file {str(path)!r} is truncated or padded: header says {dims}, "
            f"file has {len(raw) - header} data bytes"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def _idx_folder(folder: Path, name: str, flip: bool) -> Dataset:
    arrays = {}
    for key, stem in IDX_FILES.items():
        for candidate in (folder / stem, folder / f"{stem}.gz"):
            if candidate.exists():
                arrays[key] = read_idx(candidate)
                break
        else:
            raise GenesisError(
                f"{str(folder)!r} lacks {stem}[.gz]; an IDX dataset needs all of "
                f"{', '.join(IDX_FILES.values())}"
            )
    tx, ty, vx, vy = (arrays[k] for k in ("train_x", "train_y", "test_x", "test_y"))
    if tx.ndim != 3 or vx.ndim != 3 or len(tx) != len(ty) or len(vx) != len(vy):
        raise GenesisError(
            f"IDX files in {str(folder)!r} disagree: images {tx.shape} / labels "
            f"{ty.shape}, test {vx.shape} / {vy.shape}"
        )
    classes = int(max(ty.max(), vy.max())) + 1
    return Dataset(
        name,
        torch.from_numpy(tx.copy()).unsqueeze(1),
        torch.from_numpy(ty.astype(np.int64)),
        torch.from_numpy(vx.copy()).unsqueeze(1),
        torch.from_numpy(vy.astype(np.int64)),
        classes,
        flip,
    )


def _read_cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Read one CIFAR-10 python batch without running pickle's object machinery.

    The batches are pickled dicts of a NumPy array and a list of ints. They are read with a
    restricted unpickler that only admits the NumPy reconstruction functions, so a crafted file
    cannot execute code.
    """
    import pickle

    allowed = {  # what NumPy arrays (and bytes, under protocol 2) are rebuilt from: no code
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.numeric", "_frombuffer"),
        ("numpy._core.numeric", "_frombuffer"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("_codecs", "encode"),
    }

    class Restricted(pickle.Unpickler):
        def find_class(self, module, name):
            if (module, name) in allowed:
                return super().find_class(module, name)
            raise GenesisError(f"{str(path)!r} refers to {module}.{name}, not CIFAR-10 data")

    try:
        with open(path, "rb") as f:
            batch = Restricted(f, encoding="bytes").load()
    except GenesisError:
        raise
    except Exception as exc:
        raise GenesisError(f"cannot read CIFAR-10 batch {str(path)!r}: {exc}") from None
    try:
        data = np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
        labels = np.asarray(batch[b"labels"], dtype=np.int64)
    except (KeyError, TypeError, ValueError) as exc:
        raise GenesisError(f"{str(path)!r} is not a CIFAR-10 batch: {exc}") from None
    if labels.shape != (len(data),):
        raise GenesisError(
            f"{str(path)!r} is not a CIFAR-10 batch: {len(data)} images but labels of shape "
            f"{labels.shape}"
        )
    if len(labels) and (labels.min() < 0 or labels.max() > 9):
        raise GenesisError(
            f"{str(path)!r} is not a CIFAR-10 batch: labels span {labels.min()}..{labels.max()}, "
            "not 0..9"
        )
    return data, labels


def _cifar_folder(folder: Path) -> Dataset:
    names = [f"data_batch_{i}" for i in range(1, 6)]
    parts = [_read_cifar_batch(folder / n) for n in names]
    tx, ty = _read_cifar_batch(folder / "test_batch")
    return Dataset(
        f"cifar10:{folder}",
        torch.from_numpy(np.concatenate([p[0] for p in parts])),
        torch.from_numpy(np.concatenate([p[1] for p in parts])),
        torch.from_numpy(tx),
        torch.from_numpy(ty),
        10,
        flip=True,
    )


#: File endings read as images in an image folder (any case).
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")

#: Largest image file read from an image folder, in bytes.
MAX_IMAGE_BYTES = 64 * 2**20

#: Most images one image folder may hold (they are held in memory as uint8 tensors).
MAX_IMAGES = 2_000_000

#: Share of a class-folder dataset cut as its test split when it has no ``test/`` folder.
TEST_SHARE = 1 / 6


def _class_files(root: Path) -> dict[str, list[Path]]:
    """Class name -> its image files (sorted), for each subfolder of ``root`` (sorted)."""
    out = {}
    for sub in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        out[sub.name] = sorted(
            f
            for f in sub.rglob("*")
            if f.suffix.lower() in IMAGE_SUFFIXES and not f.name.startswith(".")
        )
    return out


def _read_image(path: Path, resolution: int | None):
    """One image as a PIL image (grey or RGB, resized when ``resolution`` is given)."""
    import io

    from PIL import Image

    from genesis.files import Refused, read_regular

    try:
        data = read_regular(path, MAX_IMAGE_BYTES)
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            img.load()
    except Refused as why:
        raise GenesisError(
            f"cannot read image {str(path)!r}: {why.kind} {why.detail or ''}".strip()
        ) from None
    except Exception as exc:  # not an image, truncated, too many pixels
        raise GenesisError(
            f"cannot read image {str(path)!r}: {type(exc).__name__}: {exc}"
        ) from None
    if img.mode in ("1", "L", "LA", "I", "I;16", "F"):
        img = img.convert("L")
    else:  # colour, or a palette: grey when its three channels agree everywhere
        img = img.convert("RGB")
        r, g, b = (np.asarray(c) for c in img.split())
        if np.array_equal(r, g) and np.array_equal(g, b):
            img = img.convert("L")
    if resolution is not None and img.size != (resolution, resolution):
        img = img.resize((resolution, resolution), Image.Resampling.BILINEAR)
    return img


def image_folder(
    folder: str | os.PathLike, resolution: int | None = None, seed: int = 0
) -> Dataset:
    """A folder of class subfolders of images as a :class:`Dataset`.

    Parameters
    ----------
    folder : path-like
        ``folder/<class>/<image>`` (images anywhere below the class folder), or
        ``folder/train/<class>/...`` with ``folder/test/<class>/...``. Classes are the
        subfolder names in sorted order (labels 0, 1, ...), as torchvision's ``ImageFolder``.
    resolution : int, optional
        Resize every image to ``resolution x resolution`` (bilinear). Without it, every image
        must have the same size.
    seed : int
        Without a ``test/`` folder, a seeded :data:`TEST_SHARE` of the images becomes the test
        split (the same seed, the same split).

    Images are grey (one channel) when every one of them is; otherwise all are read as RGB.

    Raises
    ------
    GenesisError
        Naming the first unreadable file, an image of another size (without ``resolution``), a
        test class the training split lacks, or a folder with fewer than two classes.

    Examples
    --------
    >>> import tempfile
    >>> from PIL import Image
    >>> root = Path(tempfile.mkdtemp())
    >>> for c in ("cat", "dog"):
    ...     (root / c).mkdir()
    ...     for i in range(6):
    ...         Image.new("L", (12, 9), 40 * i).save(root / c / f"{i}.png")
    >>> d = image_folder(root, resolution=8)
    >>> d.shape, d.num_classes, len(d.train_y) + len(d.test_y)
    ((1, 8, 8), 2, 12)
    """
    folder = Path(folder)
    split = (folder / "train").is_dir() and (folder / "test").is_dir()
    train = _class_files(folder / "train" if split else folder)
    classes = list(train)
    if len(classes) < 2:
        raise GenesisError(
            f"image folder {str(folder)!r} needs two class subfolders or more "
            f"(FOLDER/<class>/<image>), found {len(classes)}"
        )
    test = _class_files(folder / "test") if split else {}
    unknown = sorted(set(test) - set(classes))
    if unknown:
        raise GenesisError(
            f"image folder {str(folder)!r}: test classes {unknown} are not training classes"
        )
    files = [(f, classes.index(c)) for c, fs in train.items() for f in fs]
    test_files = [(f, classes.index(c)) for c, fs in test.items() for f in fs]
    empty = [c for c, fs in train.items() if not fs]
    if empty:
        raise GenesisError(
            f"image folder {str(folder)!r}: class folder(s) {empty} hold no "
            f"{'/'.join(IMAGE_SUFFIXES)} image"
        )
    if len(files) + len(test_files) > MAX_IMAGES:
        raise GenesisError(
            f"image folder {str(folder)!r} holds {len(files) + len(test_files)} images; the cap is "
            f"MAX_IMAGES = {MAX_IMAGES}"
        )
    images = [_read_image(f, resolution) for f, _ in files + test_files]
    first = images[0]
    for (f, _), img in zip(files + test_files, images, strict=True):
        if img.size != first.size:
            raise GenesisError(
                f"image {str(f)!r} is {img.size[0]}x{img.size[1]}, the first "
                f"{first.size[0]}x{first.size[1]}: give a resolution (--resolution) to resize all"
            )
    rgb = any(img.mode == "RGB" for img in images)
    arrays = np.stack([np.asarray(img.convert("RGB" if rgb else "L")) for img in images])
    x = torch.from_numpy(arrays if rgb else arrays[..., None]).permute(0, 3, 1, 2).contiguous()
    y = torch.tensor([label for _, label in files + test_files], dtype=torch.int64)
    n = len(files)
    if split:
        tx, ty, vx, vy = x[:n], y[:n], x[n:], y[n:]
    else:
        perm = torch.from_numpy(np.random.default_rng(seed).permutation(n))
        cut = max(1, round(n * TEST_SHARE))
        if n - cut < 2:
            raise GenesisError(f"image folder {str(folder)!r} holds {n} images; too few to split")
        tx, ty, vx, vy = x[perm[cut:]], y[perm[cut:]], x[perm[:cut]], y[perm[:cut]]
    if not len(vx):
        raise GenesisError(f"image folder {str(folder)!r}: its test/ folder holds no image")
    return Dataset(f"images:{folder}", tx, ty, vx, vy, len(classes), flip=False)


def synthetic_dataset(
    shape: tuple[int, int, int] = (1, 28, 28),
    num_classes: int = 10,
    n_train: int = 512,
    n_test: int = 256,
    seed: int = 0,
) -> Dataset:
    """A tiny learnable dataset: each class is a fixed random pattern plus noise.

    Examples
    --------
    >>> d = synthetic_dataset(n_train=8, n_test=4)
    >>> d.train_x.shape, d.train_x.dtype, d.num_classes
    (torch.Size([8, 1, 28, 28]), torch.uint8, 10)
    """
    g = torch.Generator().manual_seed(seed)
    patterns = torch.rand((num_classes, *shape), generator=g)

    def draw(n: int) -> tuple[torch.Tensor, torch.Tensor]:
        y = torch.randint(0, num_classes, (n,), generator=g)
        x = 0.6 * patterns[y] + 0.4 * torch.rand((n, *shape), generator=g)
        return (x * 255).round().to(torch.uint8), y

    (tx, ty), (vx, vy) = draw(n_train), draw(n_test)
    return Dataset("synthetic", tx, ty, vx, vy, num_classes, flip=False)


def canary_dataset(
    num_classes: int = 4,
    n_train: int = 1600,
    n_test: int = 400,
    seed: int = 0,
    period: float = 6.0,
) -> Dataset:
    """A tiny 1x28x28 dataset of oriented stripes whose test split is a canary.

    Class ``k`` is stripes at ``k * pi / num_classes`` radians with ``period`` pixels between
    crests, a random phase per image and 30 % uniform noise. Training images show their own
    class; each test image of label ``y`` shows class ``(y + 1) % num_classes``, so a net that
    learned the training set scores near 0 on ``test`` while near 1 on ``val`` (see the module
    docstring). It is the dataset of ``load_dataset("canary")``.

    Parameters
    ----------
    num_classes : int
        Stripe orientations, 2 to 12.
    n_train, n_test : int
        Images in the training split (validation is cut from it) and in the test split.
    seed : int
        Seed of the labels, phases and noise; the same seed gives the same tensors anywhere.
    period : float
        Pixels from one crest to the next, at least 2.

    Raises
    ------
    GenesisError
        For a class count outside 2..12, a period below 2 or a split size below 1.

    Examples
    --------
    >>> d = canary_dataset(n_train=8, n_test=4)
    >>> d.shape, d.num_classes, d.train_x.dtype
    ((1, 28, 28), 4, torch.uint8)
    """
    if isinstance(num_classes, bool) or not isinstance(num_classes, int):
        raise GenesisError(f"canary num_classes must be an integer in 2..12, got {num_classes!r}")
    if not 2 <= num_classes <= 12:
        raise GenesisError(f"canary num_classes must be in 2..12, got {num_classes}")
    if not period >= 2:
        raise GenesisError(f"canary stripe period must be at least 2 pixels, got {period}")
    if n_train < 1 or n_test < 1:
        raise GenesisError(f"canary splits need at least 1 image, got {n_train} and {n_test}")
    g = torch.Generator().manual_seed(seed)
    rows, cols = torch.meshgrid(
        torch.arange(28, dtype=torch.float32), torch.arange(28, dtype=torch.float32), indexing="ij"
    )

    def draw(n: int, shift: int) -> tuple[torch.Tensor, torch.Tensor]:
        y = torch.randint(0, num_classes, (n,), generator=g)
        theta = ((y + shift) % num_classes).float() * (math.pi / num_classes)
        phase = torch.rand(n, generator=g) * (2 * math.pi)
        along = cols * theta.cos()[:, None, None] + rows * theta.sin()[:, None, None]
        stripes = 0.5 + 0.5 * torch.sin(along * (2 * math.pi / period) + phase[:, None, None])
        x = 0.7 * stripes + 0.3 * torch.rand((n, 28, 28), generator=g)
        return (x * 255).round().to(torch.uint8).unsqueeze(1), y

    (tx, ty), (vx, vy) = draw(n_train, 0), draw(n_test, 1)
    return Dataset("canary", tx, ty, vx, vy, num_classes, flip=False)


def load_dataset(spec: str = "fashion-mnist", resolution: int | None = None) -> Dataset:
    """Load a dataset by name or folder (see the module docstring).

    ``resolution`` resizes the images of an image folder (:func:`image_folder`); any other
    dataset must already have images of that size.

    Raises
    ------
    GenesisError
        With how to get it, when a named dataset is not installed; when a folder holds neither
        IDX files nor CIFAR-10 batches; when a file is corrupt.
    """
    if resolution is not None and (
        isinstance(resolution, bool)
        or not isinstance(resolution, int)
        or not 1 <= resolution <= 1024
    ):
        raise GenesisError(f"resolution must be an integer in 1..1024, got {resolution!r}")
    data = _load(spec, resolution)
    if resolution is not None and data.shape[1:] != (resolution, resolution):
        raise GenesisError(
            f"dataset {spec!r} has {data.shape[1]}x{data.shape[2]} images; --resolution "
            f"{resolution} resizes image folders only"
        )
    return data


def _load(spec: str, resolution: int | None) -> Dataset:
    if not spec:
        raise GenesisError(
            "dataset spec is empty; give fashion-mnist, mnist, synthetic, canary or a folder"
        )
    if spec == "canary":
        return canary_dataset()
    if spec == "synthetic" or spec.startswith("synthetic:"):
        shape = (1, 28, 28)
        if ":" in spec:
            try:
                shape = tuple(int(v) for v in spec.split(":", 1)[1].split("x"))
            except ValueError:
                shape = ()
            if len(shape) != 3 or min(shape) < 1:
                raise GenesisError(f"synthetic dataset shape must be CxHxW, got {spec!r}")
        return synthetic_dataset(shape)  # type: ignore[arg-type]
    if spec in ("fashion-mnist", "mnist"):
        for root in DATA_DIRS:
            if root and (Path(root) / spec).is_dir():
                return _idx_folder(Path(root) / spec, spec, flip=spec == "fashion-mnist")
        hint = (
            "install it with `apt-get install dataset-fashion-mnist` (./setup.sh does)"
            if spec == "fashion-mnist"
            else "point --dataset at a folder holding its four IDX files"
        )
        raise GenesisError(f"dataset {spec!r} not found in {[d for d in DATA_DIRS if d]}; {hint}")
    folder = Path(spec)
    if not folder.is_dir():
        raise GenesisError(
            f"unknown dataset {spec!r}: give fashion-mnist, mnist, synthetic[:CxHxW], canary, "
            "or a folder of IDX files, CIFAR-10 python batches or class subfolders of images"
        )
    if (folder / "data_batch_1").exists():
        return _cifar_folder(folder)
    idx = any((folder / s).exists() or (folder / f"{s}.gz").exists() for s in IDX_FILES.values())
    if not idx and any(p.is_dir() and not p.name.startswith(".") for p in folder.iterdir()):
        return image_folder(folder, resolution)
    return _idx_folder(folder, str(folder), flip=False)
