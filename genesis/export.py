"""Export a compiled architecture to ONNX and to a ``torch.export`` program, JSON embedded.

Both artefacts carry the architecture JSON as metadata (ONNX ``metadata_props`` key
``genesis.architecture``; the ``.pt2`` archive's extra file ``genesis.architecture.json``), so an
exported model says what it is. The batch dimension is dynamic.

Given the :class:`~genesis.preprocess.Preprocess` of the weights, they carry what a user needs
to feed the model too, as timm's ``pretrained_cfg`` does: the ONNX model in ``metadata_props``
(``genesis.preprocess``: its JSON; and keys any ONNX reader can use: ``mean``, ``std``,
``input_shape``, ``class_names`` and ``scale`` as JSON text, ``channel_order`` as ``grey``,
``RGB`` or ``unnamed``, ``normalisation`` as the formula), the program as the extra file
``genesis.preprocess.json``. Without it, ``normalisation`` says ``unknown``.

Both exports are checked: the written file is loaded again (onnxruntime for ONNX, when it is
installed; ``torch.export.load`` for the program) and its outputs on a random batch are compared
with the module's. Outputs that differ by more than ``atol + rtol * |pytorch|`` (``ATOL`` and
``RTOL``, numpy's ``allclose`` rule), or are not finite, raise :class:`GenesisError` and leave no
file behind, so ``genesis export`` exits 2 rather than ship a model that computes something else.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import stat
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from genesis.files import checked_write
from genesis.genome import Architecture
from genesis.preprocess import Preprocess
from graphs import GenesisError

__all__ = [
    "ATOL",
    "METADATA_KEY",
    "NORMALISATION",
    "PREPROCESS_KEY",
    "RTOL",
    "export_onnx",
    "export_program",
    "load_weights",
    "onnx_metadata",
    "read_onnx_architecture",
    "read_onnx_preprocess",
]

METADATA_KEY = "genesis.architecture"

#: The metadata key (and, with ``.json``, the program's extra file) of the preprocessing JSON.
PREPROCESS_KEY = "genesis.preprocess"

#: The ``normalisation`` metadata of a model whose preprocessing is known.
NORMALISATION = "(pixels / scale - mean) / std, per channel"

#: Largest absolute difference allowed between an export's outputs and the module's (logits).
ATOL = 1e-4
#: Largest difference allowed relative to the module's output, on top of ``ATOL``.
RTOL = 1e-4


def load_weights(model: nn.Module, path: str | os.PathLike) -> nn.Module:
    """Load a ``state_dict`` file into ``model`` safely (``torch.load(weights_only=True)``).

    Raises
    ------
    GenesisError
        If the file is missing, is not a regular file (a FIFO, ``/dev/zero``), is not a plain
        tensor ``state_dict``, or does not fit ``model``.
    """
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise GenesisError(f"weights file {str(path)!r} does not exist") from None
    except OSError as exc:
        raise GenesisError(f"cannot read weights file {str(path)!r}: {exc.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise GenesisError(f"cannot read weights file {str(path)!r}: not a regular file")
    try:
        state = torch.load(Path(path), map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise GenesisError(f"weights file {str(path)!r} does not exist") from None
    except Exception as exc:  # unpickling refused or corrupt archive: the file is the problem
        raise GenesisError(
            f"cannot read weights file {str(path)!r} as a torch state_dict "
            f"({type(exc).__name__}: {exc})"
        ) from None
    if not isinstance(state, dict):
        raise GenesisError(
            f"weights file {str(path)!r} holds {type(state).__name__}, not a state_dict"
        )
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()
        raise GenesisError(
            f"weights file {str(path)!r} does not fit this architecture: "
            f"{' '.join(line.strip() for line in first[:3])}"
        ) from None
    return model


def _example(arch: Architecture, batch: int = 2) -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    return torch.randn(batch, *arch.input_shape, generator=g)


@contextlib.contextmanager
def _quiet():
    """Silence the exporters' progress lines and deprecation chatter."""
    logger = logging.getLogger("torch.onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


def _compare(
    what: str, path: Path, got: np.ndarray, want: np.ndarray, atol: float, rtol: float
) -> float:
    """Max ``|got - want|``; raises when it breaks the tolerance (``path`` is then not written:
    the check runs before the file replaces it, :func:`genesis.files.checked_write`)."""
    if got.shape != want.shape:
        raise GenesisError(
            f"{what} for {str(path)!r} gives outputs of shape {tuple(got.shape)}, PyTorch "
            f"{tuple(want.shape)}; nothing written"
        )
    err = np.abs(got.astype(np.float64) - want.astype(np.float64))
    diff = float(err.max()) if err.size else 0.0
    bound = atol + rtol * np.abs(want.astype(np.float64))
    if not (np.isfinite(err).all() and (err <= bound).all()):
        raise GenesisError(
            f"{what} for {str(path)!r} computes something else: its outputs differ from "
            f"PyTorch's by up to {diff:.3g}, beyond the tolerance atol={atol:g} + rtol={rtol:g} "
            "x |output|; nothing written"
        )
    return diff


def onnx_metadata(arch: Architecture, preprocess: Preprocess | None) -> dict[str, str]:
    """The ``metadata_props`` an ONNX export of ``arch`` carries (see the module docstring).

    Examples
    --------
    >>> from genesis.presets import build_architecture
    >>> arch = build_architecture("fashion-mnist", seed=0)
    >>> onnx_metadata(arch, None)["normalisation"]
    'unknown'
    >>> p = Preprocess((1, 28, 28), "grey", (0.286,), (0.353,))
    >>> meta = onnx_metadata(arch, p)
    >>> meta["mean"], meta["std"], meta["input_shape"], meta["channel_order"]
    ('[0.286]', '[0.353]', '[1, 28, 28]', 'grey')
    """
    meta = {METADATA_KEY: arch.to_json(indent=None)}
    if preprocess is None:
        meta["normalisation"] = "unknown"
        return meta
    preprocess.fits(arch.input_shape, arch.num_classes, "the preprocessing")
    return {
        **meta,
        PREPROCESS_KEY: preprocess.to_json(),
        "normalisation": NORMALISATION,
        "mean": json.dumps(list(preprocess.mean)),
        "std": json.dumps(list(preprocess.std)),
        "scale": json.dumps(preprocess.scale),
        "input_shape": json.dumps(list(preprocess.input_shape)),
        "channel_order": preprocess.channels,
        "class_names": json.dumps(list(preprocess.class_names), ensure_ascii=True),
    }


def export_onnx(
    model: nn.Module,
    arch: Architecture,
    path: str | os.PathLike,
    check: bool = True,
    atol: float = ATOL,
    rtol: float = RTOL,
    preprocess: Preprocess | None = None,
) -> float | None:
    """Write ``model`` (built from ``arch``) as ONNX with a dynamic batch and the JSON embedded.

    Parameters
    ----------
    preprocess : Preprocess, optional
        What the weights expect of their input, written to ``metadata_props``
        (:func:`onnx_metadata`); without it the metadata says ``normalisation: unknown``.
    check : bool
        Reload the file with onnxruntime (when installed) and compare its outputs with the
        module's on a random batch of 3 (another batch size than the traced one).
    atol, rtol : float
        The tolerance of that check: ``|onnx - pytorch| <= atol + rtol * |pytorch|``.

    Returns
    -------
    float or None
        Largest absolute difference between onnxruntime's and PyTorch's outputs on a random
        batch, or None when onnxruntime is not installed or ``check`` is False.

    Raises
    ------
    GenesisError
        When the outputs break the tolerance or are not finite, or ``preprocess`` does not fit
        ``arch``; ``path`` is then left as it was (the file replaces it only once checked).
    """
    import onnx

    path = Path(path)
    metadata = onnx_metadata(arch, preprocess)
    model = model.eval()
    x = _example(arch)
    with _quiet():
        program = torch.onnx.export(
            model, (x,), dynamo=True, dynamic_shapes=({0: "batch"},), verbose=False
        )
    proto = program.model_proto
    for key, value in metadata.items():
        proto.metadata_props.add(key=key, value=value)
    buf = io.BytesIO()
    onnx.save(proto, buf)
    try:
        import onnxruntime
    except ImportError:
        onnxruntime = None
    if not check or onnxruntime is None:
        checked_write(path, buf.getvalue())
        return None
    result: list[float] = []

    def verify(tmp: Path) -> None:
        session = onnxruntime.InferenceSession(str(tmp), providers=["CPUExecutionProvider"])
        probe = _example(arch, batch=3)
        (got,) = session.run(None, {session.get_inputs()[0].name: probe.numpy()})
        with torch.no_grad():
            want = model(probe).numpy()
        result.append(_compare("ONNX model", path, np.asarray(got), want, atol, rtol))

    checked_write(path, buf.getvalue(), verify)
    return result[0]


def read_onnx_architecture(path: str | os.PathLike) -> Architecture:
    """The architecture embedded in an ONNX file written by :func:`export_onnx`."""
    import onnx

    proto = onnx.load(str(path), load_external_data=False)
    for prop in proto.metadata_props:
        if prop.key == METADATA_KEY:
            return Architecture.from_json(prop.value, source=f"{path} metadata")
    raise GenesisError(f"{path} carries no {METADATA_KEY!r} metadata")


def read_onnx_preprocess(path: str | os.PathLike) -> Preprocess | None:
    """The preprocessing an ONNX file written by :func:`export_onnx` carries (validated:
    :meth:`Preprocess.from_json`), or None when it says ``normalisation: unknown`` or carries
    none."""
    import onnx

    proto = onnx.load(str(path), load_external_data=False)
    for prop in proto.metadata_props:
        if prop.key == PREPROCESS_KEY:
            return Preprocess.from_json(prop.value, f"{str(path)!r} metadata {PREPROCESS_KEY}")
    return None


def export_program(
    model: nn.Module,
    arch: Architecture,
    path: str | os.PathLike,
    atol: float = ATOL,
    rtol: float = RTOL,
    preprocess: Preprocess | None = None,
) -> float:
    """Write a ``torch.export`` program (``.pt2``) with a dynamic batch and the JSON embedded
    (and ``preprocess``, when given, as the extra file ``genesis.preprocess.json``).

    Returns the largest absolute difference between the reloaded program's outputs
    (``torch.export.load``) and the module's on a random batch of 3.

    Raises
    ------
    GenesisError
        When they differ by more than ``atol + rtol * |pytorch|`` or are not finite; ``path`` is
        then left as it was.
    """
    path = Path(path)
    extra = {f"{METADATA_KEY}.json": arch.to_json(indent=None)}
    if preprocess is not None:
        preprocess.fits(arch.input_shape, arch.num_classes, "the preprocessing")
        extra[f"{PREPROCESS_KEY}.json"] = preprocess.to_json()
    model = model.eval()
    batch = torch.export.Dim("batch", min=1, max=65536)
    with _quiet():
        program = torch.export.export(model, (_example(arch),), dynamic_shapes=({0: batch},))
    buf = io.BytesIO()
    torch.export.save(program, buf, extra_files=extra)
    result: list[float] = []

    def verify(tmp: Path) -> None:
        probe = _example(arch, batch=3)
        with torch.no_grad():
            got = torch.export.load(tmp).module()(probe)
            want = model(probe)
        result.append(_compare("torch.export program", path, got.numpy(), want.numpy(), atol, rtol))

    checked_write(path, buf.getvalue(), verify)
    return result[0]
