"""Decoding an image folder's images: each opened by its content (PNG or JPEG, whatever its
name), its header checked before any pixel is decoded, then decoded, made grey or RGB and
resized.

Listing the folder is :mod:`genesis.data.imagetree`'s; :func:`genesis.data.images.image_folder`
puts the two together.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np

from genesis.data.imagetree import ImageTree
from graphs import GenesisError

__all__ = [
    "DECODE_BYTES_PER_PIXEL",
    "GREY_MODES",
    "IMAGE_FORMATS",
    "MAX_IMAGE_PIXELS",
    "decode",
    "open_image",
]

#: Pillow formats an image may be, told by its content (``Image.open(..., formats=...)``), not
#: by its name: a GIF, BMP or TIFF file named ``.png`` is refused.
IMAGE_FORMATS = ("PNG", "JPEG")

# What Pillow may call a file it opened as one of IMAGE_FORMATS: a camera's JPEG holding several
# pictures is "MPO" (its first picture is read).
_FORMAT_NAMES = (*IMAGE_FORMATS, "MPO")

#: Modes read as one grey channel; any other is read as RGB, grey when its channels agree.
GREY_MODES = ("1", "L", "LA", "I", "I;16", "F")

#: Most bytes a pixel takes while Pillow decodes it (RGB, RGBA, CMYK, "I" and "F" take 4).
DECODE_BYTES_PER_PIXEL = 4

#: Most pixels (width x height) one image may declare in its header; checked before it is
#: decoded. 2**25 is 33.5 megapixels (a 24-megapixel camera photo fits); decoding one takes at
#: most 4 bytes a pixel, 128 MiB.
MAX_IMAGE_PIXELS = 2**25


@contextlib.contextmanager
def open_image(tree: ImageTree, parts: tuple[str, ...]) -> Iterator[Any]:
    """One image opened by Pillow, its header checked, nothing decoded: PNG or JPEG by its
    content, at most :data:`MAX_IMAGE_PIXELS`. Whatever fails inside (decoding too) is one
    :class:`GenesisError` naming the file.

    Parameters
    ----------
    tree, parts : ImageTree, tuple of str
        The open image folder, and the image file as the parts of its path below the root.

    Yields
    ------
    PIL.Image.Image
        The image, its header read; closed when the block ends.
    """
    from PIL import Image

    path = tree.path(parts)
    with tree.open(parts) as f:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                img = Image.open(f, formats=IMAGE_FORMATS)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise GenesisError(
                f"image {path!r}: {exc}; the cap is MAX_IMAGE_PIXELS = {MAX_IMAGE_PIXELS}"
            ) from None
        except Image.UnidentifiedImageError:
            raise GenesisError(
                f"cannot read image {path!r}: UnidentifiedImageError: its content is not "
                f"{' or '.join(IMAGE_FORMATS)}, whatever its name (only those are read)"
            ) from None
        except Exception as exc:  # a damaged header
            raise GenesisError(f"cannot read image {path!r}: {type(exc).__name__}: {exc}") from None
        try:
            _check_header(img, path)
            yield img
        except GenesisError:
            raise
        except Exception as exc:  # not an image after all, truncated, damaged
            raise GenesisError(f"cannot read image {path!r}: {type(exc).__name__}: {exc}") from None
        finally:
            img.close()


def _check_header(img: Any, path: str) -> None:
    """The header of an image Pillow opened: PNG or JPEG, a size and mode it can hold, at most
    :data:`MAX_IMAGE_PIXELS`."""
    width, height = img.size
    if img.format not in _FORMAT_NAMES:
        raise GenesisError(
            f"cannot read image {path!r}: its content is {img.format}, not "
            f"{' or '.join(IMAGE_FORMATS)}"
        )
    if width < 1 or height < 1 or len(img.getbands()) > DECODE_BYTES_PER_PIXEL:
        raise GenesisError(
            f"cannot read image {path!r}: its header declares {width}x{height} pixels "
            f"of mode {img.mode}"
        )
    if width * height > MAX_IMAGE_PIXELS:
        raise GenesisError(
            f"image {path!r} declares {width}x{height} = {width * height} pixels in "
            f"its header; the cap is MAX_IMAGE_PIXELS = {MAX_IMAGE_PIXELS} (nothing "
            "decoded)"
        )


def decode(
    tree: ImageTree, parts: tuple[str, ...], planned: tuple[int, int, bool], resolution: int | None
) -> tuple[np.ndarray, bool]:
    """One image as uint8 ``(H, W)`` grey or ``(H, W, 3)`` RGB (resized when ``resolution``
    is given), and whether it is colour.

    Parameters
    ----------
    tree, parts : ImageTree, tuple of str
        As :func:`open_image`'s.
    planned : (int, int, bool)
        What its header said at first (width, height, colour mode), which it must still say.
    resolution : int, optional
        The side it is resized to (bilinear).

    Returns
    -------
    (numpy.ndarray, bool)
        Its pixels, and whether any pixel is not grey.
    """
    from PIL import Image

    with open_image(tree, parts) as img:
        if (*img.size, img.mode not in GREY_MODES) != planned:
            raise GenesisError(
                f"image {tree.path(parts)!r} changed while read: its header said "
                f"{planned[0]}x{planned[1]}, now {img.size[0]}x{img.size[1]} of mode {img.mode}"
            )
        img.load()
        out = img.convert("L" if img.mode in GREY_MODES else "RGB")
        img.close()  # its decoded pixels are no longer needed
        colour = out.mode == "RGB"
        if colour:  # grey when its three channels agree everywhere
            rgb = np.asarray(out)
            if (rgb[..., 0] == rgb[..., 1]).all() and (rgb[..., 1] == rgb[..., 2]).all():
                out, colour = out.convert("L"), False
            del rgb
        if resolution is not None and out.size != (resolution, resolution):
            out = out.resize((resolution, resolution), Image.Resampling.BILINEAR)
        return np.asarray(out), colour
