"""Hostile dataset folders: every read bounded, no symlink followed, caps checked before work.

Each case is refused with one :class:`GenesisError` naming the file and the rule (through the
CLI: one line, exit code 2), before the work it would cost: an image is refused from its
header before it is decoded, an IDX file from its header before its data is read, a CIFAR-10
batch from its size before it is unpickled.
"""

from __future__ import annotations

import gzip
import os
import pickle
import resource
import struct
import subprocess
import sys
import tracemalloc
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFile
from test_cli_fuzz import _deadline
from test_data import STEMS, idx_arrays, idx_bytes, write_cifar_folder, write_idx_folder
from test_data_images import _folder
from test_limits import _one_line

import genesis.data
import genesis.data.cifar
import genesis.data.idx
import genesis.data.imagedecode
import genesis.data.images
import genesis.data.imagetree
import genesis.data.sources
from genesis import GenesisError, save_architecture
from genesis.cli import main
from genesis.data import (
    MAX_DEPTH,
    MAX_IMAGE_PIXELS,
    image_folder,
    load_dataset,
    read_idx,
)
from genesis.presets import build_architecture


# -- helpers --------------------------------------------------------------------------------------
def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_declaring(width: int, height: int, idat: bytes = b"") -> bytes:
    """A grey 8-bit PNG whose header (IHDR) declares ``width x height``, with ``idat`` as its
    compressed pixels: the header is all that a refusal before decoding may read."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", ihdr)
        + _chunk(b"IDAT", idat or zlib.compress(b"\0" * (width + 1)))
        + _chunk(b"IEND", b"")
    )


@pytest.fixture(scope="module")
def black_9400() -> bytes:
    """A real, decodable 9400x9400 grey PNG of 86 KB (Pillow's bomb check admits it: 88.4
    megapixels): decoding 16 of them takes 1.4 GB."""
    rows = b"\0" * 9401 * 100
    z = zlib.compressobj(9)
    idat = b"".join([*(z.compress(rows) for _ in range(94)), z.flush()])
    return png_declaring(9400, 9400, idat)


@pytest.fixture
def decodes(monkeypatch) -> list:
    """The sizes of the images Pillow decodes from now on (``ImageFile.load`` with work to do)."""
    calls = []
    load = ImageFile.ImageFile.load

    def spy(self):
        if self.tile:
            calls.append(self.size)
        return load(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", spy)
    return calls


def _arch(tmp_path: Path) -> Path:
    arch = build_architecture("fashion-mnist", "er", {"p": 0.5}, seed=0, nodes=4, channels=4)
    save_architecture(arch, tmp_path / "a.json")
    return tmp_path / "a.json"


def _peak(fn) -> int:
    """Bytes allocated at the peak of ``fn()`` (NumPy's buffers included), whatever it raises."""
    tracemalloc.start()
    try:
        fn()
    except GenesisError:
        pass
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


# -- image folders: sizes, from the header ---------------------------------------------------------
@pytest.mark.parametrize("side", [9400, 20000], ids=["under-pillow-limit", "over-pillow-limit"])
def test_a_huge_declared_size_is_refused_from_the_header(tmp_path, decodes, side):
    root = _folder(tmp_path / "imgs", per_class=4)
    (root / "cat" / "huge.png").write_bytes(png_declaring(side, side))
    with pytest.raises(GenesisError, match="huge.png.*MAX_IMAGE_PIXELS") as info:
        image_folder(root, resolution=8)
    assert f"MAX_IMAGE_PIXELS = {MAX_IMAGE_PIXELS}" in str(info.value)
    assert decodes == []  # refused before any image was decoded


def test_an_image_at_the_pixel_cap_is_read(tmp_path, monkeypatch):
    root = _folder(tmp_path / "imgs", per_class=3)
    monkeypatch.setattr(genesis.data.imagedecode, "MAX_IMAGE_PIXELS", 20 * 16)
    assert image_folder(root).shape == (1, 16, 20)
    Image.new("L", (21, 16)).save(root / "ant" / "wide.png")
    with pytest.raises(GenesisError, match=r"wide.png' declares 21x16 = 336 pixels"):
        image_folder(root, resolution=8)


@pytest.mark.parametrize(
    "cap, resolution, ok",
    [(11_520 + 1280, None, True), (11_520 + 1279, None, False), (2304 + 1280, 8, True)],
    ids=["at-cap", "over-cap", "resized"],
)
def test_the_decoded_bytes_cap_is_checked_before_decoding(
    tmp_path, monkeypatch, decodes, cap, resolution, ok
):
    # 36 grey images of 20x16: 11,520 bytes of tensors (2304 at 8x8), 1280 to decode one
    root = _folder(tmp_path / "imgs")
    monkeypatch.setattr(genesis.data.images, "MAX_DECODED_BYTES", cap)
    if ok:
        assert len(image_folder(root, resolution=resolution).train_y) == 30
        assert len(decodes) == 36
        return
    with pytest.raises(GenesisError, match=f"the cap is MAX_DECODED_BYTES = {cap}") as info:
        image_folder(root, resolution=resolution)
    assert "36 images of 1x16x20 = 11520 bytes" in str(info.value)
    assert decodes == []


def test_colour_counts_three_channels_in_the_cap(tmp_path, monkeypatch, decodes):
    root = _folder(tmp_path / "imgs", per_class=4, mode="RGB")
    monkeypatch.setattr(genesis.data.images, "MAX_DECODED_BYTES", 12 * 3 * 8 * 8 + 4 * 320 - 1)
    with pytest.raises(GenesisError, match="12 images of 3x8x8"):
        image_folder(root, resolution=8)
    assert decodes == []


def test_grey_images_in_a_colour_mode_are_one_channel(tmp_path):
    """Decided after decoding, as before: the tensors are cut to one channel at the end."""
    root = _folder(tmp_path / "imgs", per_class=4)
    for f in (root / "cat").iterdir():
        Image.open(f).convert("RGB").save(root / "cat" / f"{f.stem}-rgb.png")
    d = image_folder(root, resolution=8)
    assert d.shape == (1, 8, 8) and d.train_x.is_contiguous()


# -- image folders: formats, by content -----------------------------------------------------------
@pytest.mark.parametrize("fmt", ["GIF", "BMP", "TIFF", "PPM", "WEBP"])
@pytest.mark.parametrize("suffix", [".png", ".jpg"])
def test_only_png_and_jpeg_by_content(tmp_path, fmt, suffix):
    if fmt == "WEBP" and not Image.registered_extensions().get(".webp"):
        pytest.skip("this Pillow cannot write WebP")
    root = _folder(tmp_path / "imgs", per_class=4)
    Image.new("L", (20, 16), 7).save(root / "bird" / f"other{suffix}", format=fmt)
    with pytest.raises(GenesisError, match=f"other{suffix}.*not PNG or JPEG"):
        image_folder(root)


def test_a_jpeg_named_png_and_a_camera_mpo_are_read(tmp_path):
    root = _folder(tmp_path / "imgs", per_class=4)
    Image.new("L", (20, 16), 7).save(root / "bird" / "jpeg.png", format="JPEG")
    grey, red = Image.new("RGB", (20, 16), (9, 9, 9)), Image.new("RGB", (20, 16), (200, 0, 0))
    grey.save(root / "cat" / "two.jpg", format="MPO", save_all=True, append_images=[red])
    d = image_folder(root)
    assert len(d.train_y) + len(d.test_y) == 14 and d.shape == (1, 16, 20)  # its first picture


# -- image folders: no symbolic link followed -----------------------------------------------------
@pytest.fixture
def outside(tmp_path) -> Path:
    """Valid images outside the dataset folder, which a link may point at."""
    return _folder(tmp_path / "outside", classes=("x",), per_class=6)


@pytest.mark.parametrize(
    "link, target",
    [
        ("evil", "outside/x"),  # a class folder
        ("evil", "/"),  # cls -> /
        ("bird/more", "outside/x"),  # a folder inside a class folder
        ("bird/a/b/deep", "/"),
        ("cat/stolen.png", "outside/x/0.png"),  # an image
        ("cat/zero.png", "/dev/zero"),
    ],
)
def test_a_symbolic_link_is_refused_not_followed(tmp_path, outside, decodes, link, target):
    root = _folder(tmp_path / "imgs", per_class=4)
    (root / link).parent.mkdir(parents=True, exist_ok=True)
    (root / link).symlink_to(target if target.startswith("/") else tmp_path / target)
    with pytest.raises(GenesisError, match=f"{link}' is a symbolic link; .* follows none"):
        image_folder(root)
    assert decodes == []


def test_linked_train_folder_is_refused(tmp_path, outside):
    _folder(tmp_path / "d" / "real", per_class=3)
    _folder(tmp_path / "d" / "test", per_class=1)
    (tmp_path / "d" / "train").symlink_to(tmp_path / "d" / "real")
    with pytest.raises(GenesisError, match="train' is a symbolic link"):
        load_dataset(str(tmp_path / "d"))


def test_hidden_links_are_skipped(tmp_path):
    root = _folder(tmp_path / "imgs", per_class=4)
    (root / ".cache").symlink_to("/")
    (root / "bird" / ".0.png").symlink_to("/dev/zero")
    assert image_folder(root).num_classes == 3


def test_a_link_swapped_in_after_the_walk_is_not_followed(tmp_path, outside, monkeypatch):
    """Files are opened one name at a time with O_NOFOLLOW: a class folder replaced by a link
    between listing and reading is refused, not followed."""
    root = _folder(tmp_path / "imgs", per_class=4)
    walk = genesis.data.imagetree.images_below

    def then_swap(tree, top):
        found = walk(tree, top)
        if top[-1] == "cat":
            (root / "cat").rename(tmp_path / "cat-real")
            (root / "cat").symlink_to(tmp_path / "cat-real")
        return found

    monkeypatch.setattr(genesis.data.imagetree, "images_below", then_swap)
    with pytest.raises(GenesisError, match="cat' is a symbolic link"):
        image_folder(root)


# -- image folders: the walk ----------------------------------------------------------------------
def test_nesting_past_max_depth_is_refused(tmp_path):
    root = _folder(tmp_path / "imgs", per_class=4)
    deep = root / "bird" / Path(*["d"] * MAX_DEPTH)
    deep.mkdir(parents=True)
    Image.new("L", (20, 16)).save(deep / "deep.png")
    assert len(image_folder(root).train_y) == 11  # MAX_DEPTH folders down: read
    (deep / "e").mkdir()
    with pytest.raises(GenesisError, match=f"{MAX_DEPTH + 1} folders below .*MAX_DEPTH ="):
        image_folder(root)


def test_deep_nesting_is_one_line_through_the_cli(tmp_path, capsys):
    root = _folder(tmp_path / "imgs", per_class=4)
    deep = root / "cat"
    for _ in range(1100):  # pathlib's rglob: RecursionError (os.makedirs and rmtree too)
        deep = deep / "a"
        deep.mkdir()
    try:
        code = main(["train", str(_arch(tmp_path)), "--dataset", str(root), "--resolution", "28"])
    finally:  # removed here, bottom up: pytest's recursive cleanup of tmp_path would fail on it
        while deep != root / "cat":
            deep.rmdir()
            deep = deep.parent
    _one_line(code, *capsys.readouterr(), "MAX_DEPTH", "/cat/a/a/")


def test_entries_and_images_are_capped(tmp_path, monkeypatch):
    root = _folder(tmp_path / "imgs")  # 3 folders, 36 images
    monkeypatch.setattr(genesis.data.imagetree, "MAX_ENTRIES", 38)
    with pytest.raises(GenesisError, match="more than MAX_ENTRIES = 38 files and folders"):
        image_folder(root)
    monkeypatch.setattr(genesis.data.imagetree, "MAX_ENTRIES", 39)
    monkeypatch.setattr(genesis.data.imagetree, "MAX_IMAGES", 35)
    with pytest.raises(GenesisError, match="more than 35 images .*MAX_IMAGES = 35"):
        image_folder(root)
    monkeypatch.setattr(genesis.data.imagetree, "MAX_IMAGES", 36)
    assert image_folder(root).num_classes == 3


def test_class_folders_are_capped(tmp_path, monkeypatch):
    root = _folder(tmp_path / "imgs", per_class=2)
    monkeypatch.setattr(genesis.data.imagetree, "MAX_CLASSES", 2)
    with pytest.raises(GenesisError, match="holds 3 class folders; the cap is MAX_CLASSES = 2"):
        image_folder(root)


def test_hostile_images_under_a_2_gib_address_space_are_one_line(tmp_path, black_9400):
    """The attacker's folder: 16 PNGs of 9400x9400 in 1.4 MB, all decoded at once (1.4 GB
    grey, 7.7 GB in colour) then stacked: a MemoryError and its traceback."""
    root = tmp_path / "bomb"
    for c in ("a", "b"):
        (root / c).mkdir(parents=True)
        for i in range(8):
            (root / c / f"{i}.png").write_bytes(black_9400)

    def limit_memory():
        resource.setrlimit(resource.RLIMIT_AS, (2 * 2**30, 2 * 2**30))

    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    argv = ["train", str(_arch(tmp_path)), "--dataset", str(root)]
    proc = subprocess.run(
        [sys.executable, "-m", "genesis", *argv],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        preexec_fn=limit_memory,
    )
    _one_line(proc.returncode, proc.stdout, proc.stderr, "0.png' declares 9400x9400", "MAX_IMAGE")


# -- IDX ------------------------------------------------------------------------------------------
def test_an_idx_set_without_examples_is_one_line(tmp_path, capsys):
    arrays = {k: v[:0] for k, v in idx_arrays().items()}
    write_idx_folder(tmp_path / "d", arrays, gz=False)
    code = main(["train", str(_arch(tmp_path)), "--dataset", str(tmp_path / "d")])
    _one_line(code, *capsys.readouterr(), "hold no examples")


@pytest.mark.parametrize(
    "content, needle",
    [
        (b"", "is empty"),
        (bytes.fromhex("00000803") + b"\0\0\0\5\0", "header of 3 dimensions needs 16 bytes"),
        (bytes.fromhex("00000809"), "declares 9 dimensions; it may have 1 to MAX_IDX_DIMS"),
        (bytes.fromhex("00000800"), "declares 0 dimensions"),
    ],
    ids=["empty", "short-header", "many-dims", "no-dims"],
)
@pytest.mark.parametrize("gz", [False, True], ids=["raw", "gz"])
def test_empty_and_short_idx_files_are_named(tmp_path, content, needle, gz):
    path = tmp_path / ("x.gz" if gz else "x")
    path.write_bytes(gzip.compress(content) if gz else content)
    with pytest.raises(GenesisError, match=needle) as info:
        read_idx(path)
    assert str(path) in str(info.value)


def _gzip_stream(*parts: bytes, zeros: int = 0) -> bytes:
    z = zlib.compressobj(9, wbits=31)
    out = [z.compress(p) for p in parts]
    block = b"\0" * 2**20
    out += [z.compress(block) for _ in range(zeros // 2**20)]
    return b"".join([*out, z.flush()])


def test_a_gzip_bomb_is_refused_without_inflating_it(tmp_path):
    # 128 MiB of zeros behind a header that declares 10 bytes: 128 KB on disk
    bomb = tmp_path / "x.gz"
    bomb.write_bytes(_gzip_stream(idx_bytes(np.zeros(10, np.uint8)), zeros=2**27))
    with pytest.raises(GenesisError, match=r"truncated or padded: header says \[10\]"):
        read_idx(bomb)
    assert _peak(lambda: read_idx(bomb)) < 4 * 2**20
    # a header declaring more than the cap is refused before any data is inflated
    huge = tmp_path / "huge.gz"
    huge.write_bytes(_gzip_stream(bytes.fromhex("00000801") + (2**31).to_bytes(4, "big")))
    with pytest.raises(GenesisError, match=r"declares \[2147483648\].* MAX_IDX_BYTES = "):
        read_idx(huge)


def test_an_idx_file_is_checked_against_its_size_before_it_is_read(tmp_path, monkeypatch):
    path = tmp_path / "x"
    path.write_bytes(idx_bytes(np.zeros((2, 3, 3), np.uint8)))
    with open(path, "r+b") as f:
        f.truncate(64 * 2**20)  # sparse: 64 MiB of zeros after 18 data bytes
    assert _peak(lambda: read_idx(path)) < 2**20
    with pytest.raises(GenesisError, match="header says \\[2, 3, 3\\], file has 67108848 data"):
        read_idx(path)
    monkeypatch.setattr(genesis.data.idx, "MAX_IDX_BYTES", 2**25)
    with pytest.raises(GenesisError, match="has 67108864 bytes; the cap is MAX_IDX_BYTES"):
        read_idx(path)


@pytest.mark.parametrize("kind", ["dev-zero", "fifo", "outside"])
def test_idx_files_are_regular_files_never_links(tmp_path, kind):
    paths = write_idx_folder(tmp_path / "d", idx_arrays(), gz=False)
    target = paths["train_x"]
    target.unlink()
    if kind == "dev-zero":
        target.symlink_to("/dev/zero")
    elif kind == "fifo":
        os.mkfifo(target)
    else:
        write_idx_folder(tmp_path / "other", idx_arrays(seed=5), gz=False)
        target.symlink_to(tmp_path / "other" / STEMS["train_x"])
    need = r"irregular file \(a FIFO\)" if kind == "fifo" else "is a symbolic link"
    with _deadline(10), pytest.raises(GenesisError, match=f"{STEMS['train_x']}.*{need}"):
        load_dataset(str(tmp_path / "d"))


# -- CIFAR-10 -------------------------------------------------------------------------------------
def test_a_cifar_batch_over_its_cap_is_refused_before_unpickling(tmp_path, monkeypatch):
    write_cifar_folder(tmp_path, n=2, how="protocol4")
    # a pickle that asks for 1 GiB of bytes, the rest sparse: 1 GiB of zeros on no disk
    batch = tmp_path / "data_batch_2"
    batch.write_bytes(b"\x80\x04\x8e" + (2**30).to_bytes(8, "little"))
    with open(batch, "r+b") as f:
        f.truncate(2**30 + 11)
    assert _peak(lambda: load_dataset(str(tmp_path))) < 4 * 2**20
    with pytest.raises(GenesisError, match=r"data_batch_2.*MAX_CIFAR_BATCH_BYTES = 67108864"):
        load_dataset(str(tmp_path))
    # a real batch over a lowered cap
    write_cifar_folder(tmp_path, n=2, how="protocol4")
    size = (tmp_path / "data_batch_1").stat().st_size
    monkeypatch.setattr(genesis.data.cifar, "MAX_CIFAR_BATCH_BYTES", size - 1)
    with pytest.raises(GenesisError, match=f"data_batch_1': it has {size} bytes; the cap is"):
        load_dataset(str(tmp_path))


@pytest.mark.parametrize("kind", ["fifo", "link"])
def test_cifar_batches_are_regular_files_never_links(tmp_path, kind):
    write_cifar_folder(tmp_path / "d", n=2, how="protocol4")
    write_cifar_folder(tmp_path / "other", n=5, how="protocol4")
    batch = tmp_path / "d" / "test_batch"
    batch.unlink()
    if kind == "fifo":
        os.mkfifo(batch)
    else:
        batch.symlink_to(tmp_path / "other" / "test_batch")
    need = "irregular file" if kind == "fifo" else "is a symbolic link"
    with _deadline(10), pytest.raises(GenesisError, match=f"test_batch.*{need}"):
        load_dataset(str(tmp_path / "d"))


def test_the_restricted_unpickler_stays(tmp_path):
    write_cifar_folder(tmp_path, n=2, how="protocol4")
    (tmp_path / "test_batch").write_bytes(pickle.dumps({b"data": Path("/")}))
    with pytest.raises(GenesisError, match="refers to pathlib"):
        load_dataset(str(tmp_path))
