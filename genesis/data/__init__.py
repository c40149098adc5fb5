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
  test split), read with Pillow into uint8 tensors, headers first (see :func:`image_folder`);
- ``"synthetic"`` or ``"synthetic:CxHxW"``: a tiny seeded dataset of class-dependent patterns,
  for tests;
- ``"canary"``: a tiny seeded dataset whose test split detects being read by mistake (see
  :func:`canary_dataset`), for end-to-end tests of a real search.

Every dataset names its classes (``Dataset.classes``, one printable line each, carried by every
model trained on it: :mod:`genesis.preprocess`): Fashion-MNIST's ten official names
(:data:`FASHION_MNIST_CLASSES`), CIFAR-10's (:data:`CIFAR10_CLASSES`), an image folder's class
subfolder names (a name that is not one printable line of at most ``MAX_CLASS_NAME_CHARS`` is
refused), and the labels themselves (``"0"``, ``"1"``, ...) for MNIST, other IDX folders and the
synthetic sets.

The canary
----------
In ``"canary"`` each class is a stripe orientation (class ``k`` of ``K``: stripes at ``k * 180 / K``
degrees, random phase, plus noise), which a net of a few hundred parameters learns in about
sixty SGD steps. The training images (and so the validation split cut from them) show the
stripes of their own class; every *test* image of label ``y`` shows the stripes of class
``(y + 1) mod K``. A net trained on train/val therefore scores near 1 on ``val`` and near 0 on
``test``: a search record with a low accuracy means the search scored on ``test``, a final
record with a high one means the final step scored on ``val`` (or trained on ``test``).

Hostile folders
---------------
A dataset folder may come from someone else, so it is read as hostile data: only regular files
(never a FIFO or a device), never through a symbolic link (a link in a dataset folder is
refused, not followed), every read bounded, never any code run, and each cap below checked
before the work it bounds; a file that breaks a rule is one :class:`GenesisError` naming the
file and the rule (the CLI prints it as one line, exit code 2).

=========================  =====================================================================
Cap                        What it bounds
=========================  =====================================================================
``MAX_IDX_BYTES``          the data of one IDX file, from its header, before it is read
                           (decompressed no further for gzip); its file, plus 1 MiB
``MAX_IDX_DIMS``           the dimensions an IDX file declares
``MAX_CIFAR_BATCH_BYTES``  one CIFAR-10 batch file, before it is unpickled
``MAX_IMAGE_BYTES``        one image file
``MAX_IMAGE_PIXELS``       width x height an image declares in its header, before it is decoded
``MAX_DECODED_BYTES``      the tensors an image folder decodes to, plus its largest image's
                           decode, from the headers, before any image is decoded
``MAX_IMAGES``             the images of one image folder
``MAX_ENTRIES``            the files and folders listed in one image folder
``MAX_DEPTH``              folders between a class folder and an image
``MAX_CLASSES``            class folders (:data:`genesis.limits.MAX_CLASSES`)
=========================  =====================================================================
"""

from genesis.data.cifar import CIFAR10_CLASSES, MAX_CIFAR_BATCH_BYTES
from genesis.data.dataset import Dataset, Splits, check_fits, make_splits, validation_size
from genesis.data.generated import canary_dataset, synthetic_dataset
from genesis.data.idx import FASHION_MNIST_CLASSES, MAX_IDX_BYTES, MAX_IDX_DIMS, read_idx
from genesis.data.images import (
    IMAGE_FORMATS,
    IMAGE_SUFFIXES,
    MAX_DECODED_BYTES,
    MAX_DEPTH,
    MAX_ENTRIES,
    MAX_IMAGE_BYTES,
    MAX_IMAGE_PIXELS,
    MAX_IMAGES,
    TEST_SHARE,
    image_folder,
)
from genesis.data.sources import DATA_DIRS, load_dataset

__all__ = [
    "Dataset",
    "Splits",
    "CIFAR10_CLASSES",
    "DATA_DIRS",
    "FASHION_MNIST_CLASSES",
    "IMAGE_FORMATS",
    "IMAGE_SUFFIXES",
    "MAX_CIFAR_BATCH_BYTES",
    "MAX_DECODED_BYTES",
    "MAX_DEPTH",
    "MAX_ENTRIES",
    "MAX_IDX_BYTES",
    "MAX_IDX_DIMS",
    "MAX_IMAGES",
    "MAX_IMAGE_BYTES",
    "MAX_IMAGE_PIXELS",
    "TEST_SHARE",
    "canary_dataset",
    "check_fits",
    "image_folder",
    "load_dataset",
    "make_splits",
    "read_idx",
    "synthetic_dataset",
    "validation_size",
]
