"""The op registry: what a compute node of a stage does after it aggregates its inputs.

Each op is registered with :func:`register_op` as a *module factory* ``(c_in, c_out, stride) ->
torch.nn.Module`` together with a *complexity function* ``(c_in, c_out, stride, h, w) ->
Complexity`` that counts multiply-adds and parameters without building the module (pycls's
``*_cx`` functions), its colour in renderings and whether the search offers it by default. One
test holds the factory and the count equal for every registered op. The factories import their
torch modules (:mod:`genesis.layers`) only when called, so this registry imports without torch.

Every op maps ``(N, c_in, H, W)`` to ``(N, c_out, ceil(H / stride), ceil(W / stride))``. The
nodes a stage's input feeds get ``stride = stage stride`` and ``c_in`` = the stage input width;
all others get ``stride = 1`` and ``c_in = c_out``.

MACs count the multiply-adds of convolutions and linear layers only, the quantity RandWire,
NSGA-Net and NNI call "FLOPs" and exactly half of what ``torch.utils.flop_counter`` counts.
Batch norm, ReLU, pooling and the weighted sums of the aggregation are not counted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from graphs import DEFAULT_OP, GenesisError
from graphs.registry import Registry

if TYPE_CHECKING:  # the modules are built lazily, so the registry imports without torch
    from torch import nn

__all__ = [
    "DEFAULT_OP",
    "OPS",
    "Complexity",
    "OpSpec",
    "register_op",
    "unregister_op",
    "get_op",
    "op_names",
    "default_ops",
    "op_colors",
    "conv_cx",
    "bn_cx",
    "linear_cx",
]


@dataclass(frozen=True)
class Complexity:
    """Multiply-adds and parameters of a piece of network, and the spatial size it outputs."""

    macs: int  # multiply-adds of convolutions and linear layers
    params: int  # trainable parameters
    h: int = 1  # output height
    w: int = 1  # output width

    def __add__(self, other: Complexity) -> Complexity:
        return Complexity(self.macs + other.macs, self.params + other.params, other.h, other.w)


def _out(size: int, stride: int) -> int:
    return -(-size // stride)


def conv_cx(
    c_in: int, c_out: int, k: int, stride: int, h: int, w: int, groups: int = 1, bias: bool = False
) -> Complexity:
    """A k x k convolution with 'same' padding (pycls's ``conv2d_cx``)."""
    ho, wo = _out(h, stride), _out(w, stride)
    per_out = k * k * (c_in // groups)
    return Complexity(per_out * c_out * ho * wo, per_out * c_out + (c_out if bias else 0), ho, wo)


def bn_cx(c: int, h: int, w: int) -> Complexity:
    """Batch norm: two parameters per channel, no MACs counted."""
    return Complexity(0, 2 * c, h, w)


def linear_cx(c_in: int, c_out: int) -> Complexity:
    """A linear layer with bias."""
    return Complexity(c_in * c_out, c_in * c_out + c_out)


# -- complexity -----------------------------------------------------------------------------------
def _sep_cx(k: int) -> Callable[..., Complexity]:
    def cx(c_in: int, c_out: int, stride: int, h: int, w: int) -> Complexity:
        dw = conv_cx(c_in, c_in, k, stride, h, w, groups=c_in)
        pw = conv_cx(c_in, c_out, 1, 1, dw.h, dw.w)
        return dw + pw + bn_cx(c_out, pw.h, pw.w)

    return cx


def _conv_cx(k: int) -> Callable[..., Complexity]:
    def cx(c_in: int, c_out: int, stride: int, h: int, w: int) -> Complexity:
        conv = conv_cx(c_in, c_out, k, stride, h, w)
        return conv + bn_cx(c_out, conv.h, conv.w)

    return cx


def _pool_cx(c_in: int, c_out: int, stride: int, h: int, w: int) -> Complexity:
    out = Complexity(0, 0, _out(h, stride), _out(w, stride))
    if c_in != c_out:
        out = out + conv_cx(c_in, c_out, 1, 1, out.h, out.w) + bn_cx(c_out, out.h, out.w)
    return out


def _pool_conv_cx(c_in: int, c_out: int, stride: int, h: int, w: int) -> Complexity:
    ho, wo = _out(h, stride), _out(w, stride)  # pooling itself counts no MACs (as pycls)
    return conv_cx(c_in, c_out, 1, 1, ho, wo) + bn_cx(c_out, ho, wo)


def _identity_cx(c_in: int, c_out: int, stride: int, h: int, w: int) -> Complexity:
    if c_in == c_out and stride == 1:
        return Complexity(0, 0, h, w)
    conv = conv_cx(c_in, c_out, 1, stride, h, w)
    return conv + bn_cx(c_out, conv.h, conv.w)


# -- registry -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class OpSpec:
    """A registered op: how to build it, how to count it, how to draw it, whether to search it."""

    name: str  # registry key, stored in architecture JSON
    factory: Callable[[int, int, int], nn.Module]  # (c_in, c_out, stride) -> module
    complexity: Callable[[int, int, int, int, int], Complexity]  # (c_in, c_out, stride, h, w)
    description: str = ""  # one line for `genesis info` and renderings
    color: str = ""  # fill colour in renderings ("" for the renderer's grey)
    search: bool = False  # in the search space's default ops


#: Op name -> :class:`OpSpec`, in registration order. Extend it with :func:`register_op`.
OPS: Registry[OpSpec] = Registry("op", "unknown op {name}; known ops: {known}", sort=True)


def register_op(
    name: str,
    complexity: Callable[..., Complexity],
    description: str = "",
    *,
    color: str = "",
    search: bool = False,
):
    """Decorator registering a module factory ``(c_in, c_out, stride) -> nn.Module`` as op ``name``.

    Parameters
    ----------
    name : str
        Registry key. Re-registering a name replaces it.
    complexity : callable
        ``(c_in, c_out, stride, h, w) -> Complexity`` counting the module built by the factory:
        conv and linear multiply-adds, trainable parameters, output size.
    description : str
        One line shown in listings.
    color : str
        Fill colour of its nodes in renderings (``"#RRGGBB"``); empty for grey.
    search : bool
        Whether the search space offers the op by default (:func:`default_ops`).

    Notes
    -----
    Keep the factory free of a top-level torch import (import the module class inside it, as
    the built-in ops import :mod:`genesis.layers`): the registry's names and cost functions are
    read by ``import genesis`` and the search space, which never build a module.

    Examples
    --------
    >>> @register_op("conv_5x5", complexity=_conv_cx(5), description="ReLU-conv5x5-BN")
    ... def _conv5(c_in, c_out, stride):
    ...     from genesis.layers import ReLUConvBN
    ...     return ReLUConvBN(c_in, c_out, stride, k=5)
    >>> "conv_5x5" in op_names()
    True
    >>> unregister_op("conv_5x5")
    """
    if not isinstance(name, str) or not name or name != name.strip():
        raise GenesisError(f"an op name must be a non-empty string without spaces, got {name!r}")
    if not callable(complexity):
        raise GenesisError(f"op {name!r} needs a callable complexity function")

    def wrap(factory: Callable[[int, int, int], nn.Module]):
        OPS.register(name, OpSpec(name, factory, complexity, description, color, search))
        return factory

    return wrap


def unregister_op(name: str) -> None:
    """Remove op ``name`` (tests that register their own); unknown names raise."""
    OPS.unregister(name)


def get_op(name: str) -> OpSpec:
    """The registered op ``name``; raises :class:`GenesisError` listing the known ones."""
    return OPS.get(name)


def op_names() -> list[str]:
    """Registered op names, sorted."""
    return OPS.names()


def default_ops() -> tuple[str, ...]:
    """The ops the search space offers by default (``search=True``), in registration order."""
    return tuple(name for name, spec in OPS.items() if spec.search)


def op_colors() -> dict[str, str]:
    """Op name -> fill colour in renderings, for the ops registered with one."""
    return {name: spec.color for name, spec in OPS.items() if spec.color}


@register_op(
    "sep_conv_3x3", _sep_cx(3), "ReLU-SepConv3x3-BN (RandWire)", color="#88CCEE", search=True
)
def _sep_conv_3x3(c_in: int, c_out: int, stride: int) -> nn.Module:
    from genesis.layers import SepConv

    return SepConv(c_in, c_out, stride, k=3)


@register_op("sep_conv_5x5", _sep_cx(5), "ReLU-SepConv5x5-BN", color="#44AA99", search=True)
def _sep_conv_5x5(c_in: int, c_out: int, stride: int) -> nn.Module:
    from genesis.layers import SepConv

    return SepConv(c_in, c_out, stride, k=5)


@register_op(
    "dil_sep_conv_3x3", _sep_cx(3), "ReLU-SepConv3x3 dilation 2-BN", color="#117733", search=True
)
def _dil_sep_conv_3x3(c_in: int, c_out: int, stride: int) -> nn.Module:
    from genesis.layers import SepConv

    return SepConv(c_in, c_out, stride, k=3, dilation=2)


@register_op("conv_3x3", _conv_cx(3), "ReLU-Conv3x3-BN", color="#DDCC77", search=True)
def _conv_3x3(c_in: int, c_out: int, stride: int) -> nn.Module:
    from genesis.layers import ReLUConvBN

    return ReLUConvBN(c_in, c_out, stride, k=3)


@register_op("conv_1x1", _conv_cx(1), "ReLU-Conv1x1-BN", color="#CC6677")
def _conv_1x1(c_in: int, c_out: int, stride: int) -> nn.Module:
    from genesis.layers import ReLUConvBN

    return ReLUConvBN(c_in, c_out, stride, k=1)


@register_op(
    "max_pool_3x3",
    _pool_cx,
    "MaxPool3x3 (+Conv1x1-BN when the width changes)",
    color="#AA4499",
    search=True,
)
def _max_pool_3x3(c_in: int, c_out: int, stride: int) -> nn.Module:
    from genesis.layers import Pool

    return Pool(c_in, c_out, stride, "max")


@register_op(
    "avg_pool_3x3", _pool_cx, "AvgPool3x3 (+Conv1x1-BN when the width changes)", color="#882255"
)
def _avg_pool_3x3(c_in: int, c_out: int, stride: int) -> nn.Module:
    from genesis.layers import Pool

    return Pool(c_in, c_out, stride, "avg")


@register_op(
    "max_pool_conv_1x1",
    _pool_conv_cx,
    "ReLU-MaxPool3x3-Conv1x1-BN (RandWire Figure 6)",
    color="#CC99BB",
)
def _max_pool_conv_1x1(c_in: int, c_out: int, stride: int) -> nn.Module:
    from genesis.layers import PoolConv

    return PoolConv(c_in, c_out, stride, "max")


@register_op(
    "avg_pool_conv_1x1",
    _pool_conv_cx,
    "ReLU-AvgPool3x3-Conv1x1-BN (RandWire Figure 6)",
    color="#661100",
)
def _avg_pool_conv_1x1(c_in: int, c_out: int, stride: int) -> nn.Module:
    from genesis.layers import PoolConv

    return PoolConv(c_in, c_out, stride, "avg")


@register_op(
    "identity", _identity_cx, "Identity (Conv1x1-BN when the shape changes)", color="#DDDDDD"
)
def _identity(c_in: int, c_out: int, stride: int) -> nn.Module:
    from genesis.layers import Identity

    return Identity(c_in, c_out, stride)


_LAYERS = ("SepConv", "ReLUConvBN", "Pool", "PoolConv", "Identity")


def __getattr__(name: str):
    """The module classes, moved to :mod:`genesis.layers`, still reachable here (imports torch)."""
    if name in _LAYERS:
        from genesis import layers

        return getattr(layers, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
