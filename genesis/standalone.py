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
- the architecture JSON, as a string constant (``ARCHITECTURE``), so the file says what it is.

:func:`export_python` writes the file and checks it: the source it generated, run in memory,
fed the module's weights, must give the module's outputs within float32's tolerance.

Nothing from the architecture file reaches the source except as ``repr()`` of a value validated
when the file was read: the name (one printable line, :func:`genesis.genome.check_line`) and the
architecture's JSON (ASCII) are string constants, and every number comes from the built module.
The docstring holds only genesis's own words and the canonical hash (hex digits). The file
replaces ``path`` only once its check passed: a failed check leaves whatever was there before.
"""

from __future__ import annotations

import json
import os
import re
import textwrap
import types
from pathlib import Path

import torch
from torch import fx, nn

from genesis.compiler import InputCheck
from genesis.files import checked_write
from genesis.genome import Architecture
from graphs import GenesisError

__all__ = ["python_source", "export_python", "STANDALONE_ATOL", "STANDALONE_RTOL"]

#: The check's tolerance, ``|file - genesis| <= atol + rtol * |genesis|``: float32's defaults of
#: :func:`torch.testing.assert_close` (the two compute in float32, in the same memory format,
#: so the same kernels run; what remains is the order of float sums).
STANDALONE_ATOL = 1e-5
STANDALONE_RTOL = 1.3e-6

#: A module name the docstring may show (else it says ``model``).
_MODULE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


def _layer(m: nn.Module) -> str:
    """Constructor source of one standard layer."""
    if isinstance(m, nn.Conv2d):
        args = [str(m.in_channels), str(m.out_channels), str(m.kernel_size[0])]
        for name, default in (("stride", 1), ("padding", 0), ("dilation", 1), ("groups", 1)):
            value = getattr(m, name)
            value = value[0] if isinstance(value, tuple) else value
            if value != default:
                args.append(f"{name}={value}")
        if m.bias is None:
            args.append("bias=False")
        return f"nn.Conv2d({', '.join(args)})"
    if isinstance(m, nn.BatchNorm2d):
        extra = (
            "" if m.eps == 1e-5 and m.momentum == 0.1 else f", eps={m.eps}, momentum={m.momentum}"
        )
        return f"nn.BatchNorm2d({m.num_features}{extra})"
    if isinstance(m, nn.ReLU):
        return "nn.ReLU()"
    if isinstance(m, nn.MaxPool2d):
        return f"nn.MaxPool2d({m.kernel_size}, {m.stride}, {m.padding})"
    if isinstance(m, nn.AvgPool2d):
        return (
            f"nn.AvgPool2d({m.kernel_size}, {m.stride}, {m.padding}, "
            f"count_include_pad={m.count_include_pad})"
        )
    if isinstance(m, nn.AdaptiveAvgPool2d):
        return f"nn.AdaptiveAvgPool2d({m.output_size})"
    if isinstance(m, nn.Flatten):
        return "nn.Flatten()"
    if isinstance(m, nn.Dropout):
        return f"nn.Dropout({m.p})"
    if isinstance(m, nn.Linear):
        return f"nn.Linear({m.in_features}, {m.out_features})"
    if type(m) is nn.Sequential or (isinstance(m, nn.Sequential) and not _own_forward(m)):
        inner = [_layer(c) for c in m]
        if not inner:
            return "nn.Sequential()"
        return "nn.Sequential(\n" + "".join(f"    {_indent(x)},\n" for x in inner) + ")"
    raise GenesisError(
        f"cannot write {type(m).__name__} as plain PyTorch (only standard layers and "
        "nn.Sequential of them are; an op registered with its own module needs genesis)"
    )


def _own_forward(m: nn.Module) -> bool:
    """Whether a Sequential subclass changes what Sequential computes."""
    return type(m).forward is not nn.Sequential.forward


def _indent(text: str) -> str:
    return text.replace("\n", "\n    ")


_HEADER = '''"""RandWireNet {hash}: a network found by genesis.

Written by genesis {version} from architecture {hash} (its name is NAME below).
Plain PyTorch: this file imports only torch.

    from {module} import build_model    # this file, importable as {module}.py
    model = build_model("weights.pt")  # a state_dict saved by genesis; build_model(): untrained
    logits = model(images)             # float (N, {c}, {h}, {w}), normalised as in training

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


def python_source(model: fx.GraphModule, arch: Architecture, module_name: str = "model") -> str:
    """The source of a standalone file that rebuilds ``model`` (compiled from ``arch``).

    Raises
    ------
    GenesisError
        When a submodule is not a standard layer (an op registered with a module of its own).

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

    # the name was checked when the architecture was built; checked again, as the one string
    # of the input that reaches the source (as a repr)
    check_line(arch.name, "architecture name", MAX_NAME_CHARS, "MAX_NAME_CHARS")
    c, h, w = arch.input_shape
    lines = [
        _HEADER.format(
            version=__version__,
            hash=architecture_hash(arch),
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
                body.append(f"self.{name}.{sub} = {_layer(op)}")
            for gate, p in child.named_parameters(recurse=False):
                body.append(f"self.{name}.{gate} = nn.Parameter(torch.zeros({p.numel()}))")
        else:
            body.append(f"self.{name} = {_layer(child)}")
    lines.append(textwrap.indent("\n".join(body), " " * 8))
    forward = "\n".join(line.rstrip() for line in model.code.strip().splitlines())
    lines.append("\n" + textwrap.indent(forward, " " * 4))
    lines.append(_FOOTER.format(cls="RandWireNet"))
    return "\n".join(lines)


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


def export_python(
    model: fx.GraphModule, arch: Architecture, path: str | os.PathLike, check: bool = True
) -> float | None:
    """Write :func:`python_source` to ``path`` and (``check``) compare the file's network,
    given ``model``'s weights, with ``model`` on a random batch: the largest difference.

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
    source = python_source(model, arch, module_name=path.stem)
    if not check:
        checked_write(path, source.encode())
        return None
    result: list[float] = []

    def verify(_tmp: Path) -> None:
        try:
            standalone = _run(source, path).build_model(
                {k: v.cpu() for k, v in model.state_dict().items()}
            )
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
        result.append(diff)

    checked_write(path, source.encode(), verify)
    return result[0]
