"""A found network as plain PyTorch source: one file that imports only torch.

:func:`python_source` writes the module that :func:`genesis.compiler.compile_architecture`
builds as a Python file anyone can read, copy and import without genesis installed:

- ``RandWireNet(nn.Module)``: ``__init__`` builds the very submodules genesis builds, under the
  same names (``stem0``, ``s0.n3``, ``s0.gate3``, ``head``...), as ``nn.Sequential`` of standard
  layers, so a ``state_dict`` saved by genesis (``genesis train --out``, a search's final
  weights) loads into it unchanged; ``forward`` is the straight-line code the compiler
  generates (:attr:`torch.fx.GraphModule.code`), node by node;
- ``build_model(weights=None)``: the network in eval mode, with the weights of a ``state_dict``
  file (read with ``torch.load(weights_only=True)``) or a dict when given;
- the architecture JSON, as a string constant (``ARCHITECTURE``), so the file says what it is;
- ``PREPROCESS``, what the weights expect of their input (a :class:`genesis.preprocess.Preprocess`
  as a dict literal: input shape, channel order, mean, std, scale, class names; None when not
  known), and ``preprocess(images)``: uint8 ``(N, C, H, W)`` or ``(N, H, W)`` pixels, or floats
  in [0, 1], normalised as the training normalised them (for uint8, its very arithmetic).

For a search's final step (``member``: the search's hash of the network, the file's name), the
docstring names that hash and says that ``ARCHITECTURE`` holds the recipe that trained the
weights (the final step's batch, learning rate and epochs), not the one the search scored.

:func:`export_python` writes the file and checks it: the source it generated, run in memory,
fed the module's weights, must give the module's outputs within float32's tolerance.

Nothing from the architecture file reaches the source except as ``repr()`` of a value validated
when the file was read: the name (one printable line, :func:`genesis.genome.check_line`) and the
architecture's JSON (ASCII) are string constants, ``PREPROCESS`` the literal of validated finite
numbers and class names (each one printable line), and every number comes from the built
module. The docstring holds only genesis's own words, the hash (hex digits) and numbers of the
validated training recipe. The file replaces ``path`` only once its check passed: a failed check
leaves whatever was there before.
"""

from __future__ import annotations

import ast
import json
import os
import re
import textwrap
import types
from dataclasses import fields
from pathlib import Path

import torch
from torch import fx, nn

from genesis.compiler import InputCheck
from genesis.files import checked_write
from genesis.genome import Architecture
from genesis.layersource import layer_source
from genesis.preprocess import Preprocess
from graphs import GenesisError

__all__ = ["python_source", "export_python", "STANDALONE_ATOL", "STANDALONE_RTOL"]

#: The check's tolerance, ``|file - genesis| <= atol + rtol * |genesis|``: float32's defaults of
#: :func:`torch.testing.assert_close` (the two compute in float32, in the same memory format,
#: so the same kernels run; what remains is the order of float sums).
STANDALONE_ATOL = 1e-5
STANDALONE_RTOL = 1.3e-6

#: A module name the docstring may show (else it says ``model``).
_MODULE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


_HEADER = '''"""RandWireNet {hash}: a network found by genesis.

Written by genesis {version} from architecture {hash} (its name is NAME below).
{recipe}Plain PyTorch: this file imports only torch.

    from {module} import build_model, preprocess  # this file, importable as {module}.py
    model = build_model("weights.pt")  # a state_dict saved by genesis; build_model(): untrained
    logits = model(preprocess(images))  # uint8 (N, {c}, {h}, {w}) pixels, or floats in [0, 1]

{normalised}

The submodule names (stem0, s0.n3, s0.gate3, head, ...) are genesis's, so its weights load
unchanged. Node k of stage s aggregates its inputs with weights sigmoid(s<s>.gate<k>) and applies
its op; each stage's output node averages the nodes that feed it (RandWire, Xie et al. 2019).
"""

import os

import torch
from torch import nn

#: The architecture's name, as its file gave it.
NAME = {name!r}

#: The architecture genome this network was built from (genesis's JSON).
ARCHITECTURE = {arch_json!r}

INPUT_SHAPE = {shape!r}

#: What the weights expect of their input, as genesis recorded their training: input shape
#: (C, H, W), channel order, per-channel mean and std in [0, 1] units, the scale uint8 pixels
#: are divided by, and the name of each class index. None: not known.
PREPROCESS = {preprocess}


class InputCheck(nn.Module):
    """Pass a batch through unchanged; raise ValueError unless its shape is (N, {c}, {h}, {w})."""

    def forward(self, x):
        if x.dim() != 4 or tuple(x.shape[1:]) != INPUT_SHAPE:
            raise ValueError(
                f"model expects input of shape (N, {c}, {h}, {w}), got {{tuple(x.shape)}}"
            )
        return x


class {cls}(nn.Module):
    def __init__(self):
        super().__init__()
'''

_FOOTER = '''

def preprocess(images):
    """``images`` as the network expects them: uint8 pixels (N, C, H, W), or (N, H, W) for one
    channel, or float pixels in [0, 1], normalised per channel as in training:
    (pixels / scale - mean) / std with PREPROCESS's numbers; a float32 (N, C, H, W) tensor."""
    if PREPROCESS is None:
        raise ValueError(
            "the normalisation these weights were trained with is not known (PREPROCESS is "
            "None): normalise the images as they were in training"
        )
    x = torch.as_tensor(images)
    if x.dim() == 3 and INPUT_SHAPE[0] == 1:
        x = x.unsqueeze(1)
    if x.dim() != 4 or tuple(x.shape[1:]) != INPUT_SHAPE:
        raise ValueError(
            f"preprocess expects images of shape (N, {{', '.join(map(str, INPUT_SHAPE))}}), "
            f"got {{tuple(x.shape)}}"
        )
    mean = torch.tensor(PREPROCESS["mean"], dtype=torch.float32).view(1, -1, 1, 1)
    std = torch.tensor(PREPROCESS["std"], dtype=torch.float32).view(1, -1, 1, 1)
    if x.dtype == torch.uint8:  # the training's own float32 arithmetic
        scale = PREPROCESS["scale"]
        return (x.float() - mean * scale) * (1 / (std * scale))
    if not x.is_floating_point():
        raise ValueError(f"preprocess expects uint8 pixels or floats in [0, 1], got {{x.dtype}}")
    return (x.float() - mean) / std


def build_model(weights=None):
    """The network in eval mode; ``weights``: a state_dict, or the path of one saved with
    torch.save (loaded with weights_only=True: no code in the file runs)."""
    model = {cls}()
    if weights is not None:
        if isinstance(weights, (str, os.PathLike)):
            weights = torch.load(weights, map_location="cpu", weights_only=True)
        model.load_state_dict(weights)
    return model.eval()
'''


def python_source(
    model: fx.GraphModule,
    arch: Architecture,
    module_name: str = "model",
    *,
    preprocess: Preprocess | None = None,
    member: str | None = None,
) -> str:
    """The source of a standalone file that rebuilds ``model`` (compiled from ``arch``).

    Parameters
    ----------
    preprocess : Preprocess, optional
        What the weights expect of their input: ``PREPROCESS`` and ``preprocess(images)``.
    member : str, optional
        A search's hash of the network (its final step's file name), when ``arch`` is that
        network with the recipe the final step trained it with: the docstring names the
        hash and the recipe.

    Raises
    ------
    GenesisError
        When a submodule is not a standard layer (an op registered with a module of its own),
        ``preprocess`` does not fit ``arch``, or ``member`` is not a hash.

    Examples
    --------
    >>> from genesis.compiler import compile_architecture
    >>> from genesis.presets import build_architecture
    >>> arch = build_architecture("fashion-mnist", seed=0)
    >>> text = python_source(compile_architecture(arch), arch)
    >>> "import genesis" in text, "def build_model(weights=None):" in text
    (False, True)
    """
    from genesis import __version__, architecture_hash
    from genesis.genome import check_line
    from genesis.limits import MAX_NAME_CHARS
    from genesis.runfolder import is_hash

    # the name was checked when the architecture was built; checked again, as the one string
    # of the input that reaches the source (as a repr)
    check_line(arch.name, "architecture name", MAX_NAME_CHARS, "MAX_NAME_CHARS")
    if member is not None and not is_hash(member):
        raise GenesisError(f"member must be an architecture hash, got {member!r}")
    c, h, w = arch.input_shape
    lines = [
        _HEADER.format(
            version=__version__,
            hash=member or architecture_hash(arch),
            recipe=_recipe(arch) if member else "",
            normalised=_NORMALISED if preprocess is not None else _UNKNOWN,
            preprocess=_literal(arch, preprocess),
            module=module_name if _MODULE.fullmatch(module_name) else "model",
            name=arch.name,
            arch_json=json.dumps(arch.to_dict(), ensure_ascii=True, separators=(",", ":")),
            shape=tuple(arch.input_shape),
            c=c,
            h=h,
            w=w,
            cls="RandWireNet",
        ).rstrip("\n")
    ]
    body = []
    for name, child in model.named_children():
        if isinstance(child, InputCheck):
            body.append(f"self.{name} = InputCheck()")
        elif name.startswith("s") and name[1:].isdigit():
            body.append(f"self.{name} = nn.Module()")
            for sub, op in child.named_children():
                body.append(f"self.{name}.{sub} = {layer_source(op)}")
            for gate, p in child.named_parameters(recurse=False):
                body.append(f"self.{name}.{gate} = nn.Parameter(torch.zeros({p.numel()}))")
        else:
            body.append(f"self.{name} = {layer_source(child)}")
    lines.append(textwrap.indent("\n".join(body), " " * 8))
    forward = "\n".join(line.rstrip() for line in model.code.strip().splitlines())
    lines.append("\n" + textwrap.indent(forward, " " * 4))
    lines.append(_FOOTER.format(cls="RandWireNet"))
    return "\n".join(lines)


_NORMALISED = """\
preprocess() normalises as the training did, (pixels / scale - mean) / std per channel, with
the numbers of PREPROCESS below (scale, mean, std, channel order; class_names names each
output)."""

_UNKNOWN = """\
How the weights were normalised in training is not known to this file (PREPROCESS is None):
feed model() images normalised as they were in training."""


def _recipe(arch: Architecture) -> str:
    """The docstring's paragraph on a final step's recipe: genesis's words and the validated
    numbers of ``arch.train``."""
    t = arch.train
    return (
        "ARCHITECTURE below holds that genome with the recipe that trained the weights saved\n"
        "beside this file in the search's final step, not the recipe the search scored it with:\n"
        f"batch {int(t.batch_size)}, learning rate {float(t.lr)!r}, {int(t.epochs)} epochs "
        "(so its own hash differs).\n"
    )


def _literal(arch: Architecture, preprocess: Preprocess | None) -> str:
    """``preprocess`` as a Python literal (repr of validated values), checked to read back."""
    if preprocess is None:
        return "None"
    preprocess.fits(arch.input_shape, arch.num_classes, "the preprocessing")
    value = {f.name: getattr(preprocess, f.name) for f in fields(preprocess)}
    lines = ["{"]
    for key, item in value.items():
        if key == "class_names" and item:  # one name a line
            lines += [f"    {key!r}: (", *(f"        {name!r}," for name in item), "    ),"]
        else:
            lines.append(f"    {key!r}: {item!r},")
    text = "\n".join([*lines, "}"])
    # only literals: what the file holds reads back as what was validated
    assert ast.literal_eval(text) == value
    return text


def _run(source: str, path: Path) -> types.ModuleType:
    """The module ``source`` defines, run in memory: what was generated here, never a file that
    may have changed on disk since."""
    module = types.ModuleType("_genesis_standalone")
    module.__file__ = str(path)
    exec(compile(source, str(path), "exec"), module.__dict__)
    return module


def _memory_format(model: nn.Module) -> torch.memory_format:
    """channels_last when ``model``'s convolution weights are stored so (a model trained on
    CUDA or left so by training), else contiguous."""
    for p in model.parameters():
        if (
            p.dim() == 4
            and not p.is_contiguous()
            and p.is_contiguous(memory_format=torch.channels_last)
        ):
            return torch.channels_last
    return torch.contiguous_format


def _check_preprocess(module: types.ModuleType, preprocess: Preprocess, path: Path) -> None:
    """The file's ``preprocess()`` of random uint8 pixels must equal, bit for bit, what the
    trainer feeds a network trained with ``preprocess``'s statistics."""
    from genesis.batches import Batches

    g = torch.Generator().manual_seed(0)
    pixels = torch.randint(0, 256, (3, *preprocess.input_shape), generator=g, dtype=torch.uint8)
    mean = torch.tensor(preprocess.mean, dtype=torch.float32)
    std = torch.tensor(preprocess.std, dtype=torch.float32)
    if preprocess.scale == 255:  # the trainer's scale; another one has no trainer to match
        want = Batches(pixels, pixels, mean, std, False, False, g).normalise(pixels)
    else:
        want = (pixels.float() - mean.view(1, -1, 1, 1) * preprocess.scale) * (
            1 / (std.view(1, -1, 1, 1) * preprocess.scale)
        )
    try:
        got = module.preprocess(pixels)
    except Exception as exc:
        raise GenesisError(
            f"the source for {str(path)!r} cannot preprocess ({type(exc).__name__}: {exc}); "
            "nothing written"
        ) from None
    if not (got.shape == want.shape and torch.equal(got.contiguous(), want.contiguous())):
        raise GenesisError(
            f"the source for {str(path)!r} preprocesses otherwise than the training normalised; "
            "nothing written"
        )


def export_python(
    model: fx.GraphModule,
    arch: Architecture,
    path: str | os.PathLike,
    check: bool = True,
    *,
    preprocess: Preprocess | None = None,
    member: str | None = None,
) -> float | None:
    """Write :func:`python_source` to ``path`` and (``check``) compare the file's network,
    given ``model``'s weights, with ``model`` on a random batch: the largest difference.

    ``preprocess`` and ``member`` are :func:`python_source`'s. With ``preprocess``, the check
    also holds the file's ``preprocess()`` of uint8 pixels equal to genesis's normalisation.

    The file's network runs in ``model``'s memory format (channels_last after a training that
    left it so), so both run the same kernels; the tolerance is :data:`STANDALONE_ATOL` +
    :data:`STANDALONE_RTOL` x ``|output|``. ``path`` is replaced only when the check passes.

    Raises
    ------
    GenesisError
        When the file's outputs break the tolerance (saying by how much), or a submodule cannot
        be written as plain PyTorch; ``path`` is left as it was.
    """
    from genesis.export import _example

    path = Path(path)
    source = python_source(model, arch, module_name=path.stem, preprocess=preprocess, member=member)
    if not check:
        checked_write(path, source.encode())
        return None
    result: list[float] = []

    def verify(_tmp: Path) -> None:
        try:
            module = _run(source, path)
            standalone = module.build_model({k: v.cpu() for k, v in model.state_dict().items()})
        except Exception as exc:
            raise GenesisError(
                f"the source for {str(path)!r} does not build ({type(exc).__name__}: {exc}); "
                "nothing written"
            ) from None
        fmt = _memory_format(model)
        standalone = standalone.to(memory_format=fmt)
        was = model.training
        model.eval()
        x = _example(arch, batch=3)
        with torch.no_grad():
            want = model.cpu()(x).double()
            got = standalone(x.contiguous(memory_format=fmt)).double()
        model.train(was)
        err = (got - want).abs()
        diff = float(err.max())
        bound = STANDALONE_ATOL + STANDALONE_RTOL * want.abs()
        if got.shape != want.shape or not bool(torch.isfinite(err).all() and (err <= bound).all()):
            worst = float((err - bound).max()) if got.shape == want.shape else float("nan")
            raise GenesisError(
                f"the source for {str(path)!r} computes something else: outputs of shape "
                f"{tuple(got.shape)} differ from genesis's {tuple(want.shape)} by up to "
                f"{diff:.3g} (over the tolerance atol={STANDALONE_ATOL:g} + "
                f"rtol={STANDALONE_RTOL:g} x |output| by {worst:.3g}); nothing written"
            )
        if preprocess is not None:
            _check_preprocess(module, preprocess, path)
        result.append(diff)

    checked_write(path, source.encode(), verify)
    return result[0]
