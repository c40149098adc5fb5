"""The torch modules behind the registered ops (:mod:`genesis.ops`).

Only the module factories import this file, when a compiler builds a network, so the op
registry's names and cost functions need no torch.
"""

from __future__ import annotations

from torch import nn

__all__ = ["SepConv", "ReLUConvBN", "Pool", "PoolConv", "Identity"]


class SepConv(nn.Sequential):
    """ReLU -> depthwise k x k (dilated) conv -> pointwise 1x1 conv -> BN (RandWire's node op)."""

    def __init__(self, c_in: int, c_out: int, stride: int, k: int = 3, dilation: int = 1):
        pad = dilation * (k - 1) // 2
        super().__init__(
            nn.ReLU(),
            nn.Conv2d(c_in, c_in, k, stride, pad, dilation=dilation, groups=c_in, bias=False),
            nn.Conv2d(c_in, c_out, 1, bias=False),
            nn.BatchNorm2d(c_out),
        )


class ReLUConvBN(nn.Sequential):
    """ReLU -> k x k conv -> BN."""

    def __init__(self, c_in: int, c_out: int, stride: int, k: int = 3):
        super().__init__(
            nn.ReLU(), nn.Conv2d(c_in, c_out, k, stride, k // 2, bias=False), nn.BatchNorm2d(c_out)
        )


class Pool(nn.Sequential):
    """3x3 max or average pooling; a 1x1 conv with BN follows when the width changes."""

    def __init__(self, c_in: int, c_out: int, stride: int, kind: str = "max"):
        pool = (
            nn.MaxPool2d(3, stride, 1)
            if kind == "max"
            else nn.AvgPool2d(3, stride, 1, count_include_pad=False)
        )
        layers: list[nn.Module] = [pool]
        if c_in != c_out:
            layers += [nn.Conv2d(c_in, c_out, 1, bias=False), nn.BatchNorm2d(c_out)]
        super().__init__(*layers)


class PoolConv(nn.Sequential):
    """ReLU -> 3x3 max or average pooling -> 1x1 conv -> BN: RandWire's pooling node ops
    (Xie et al. 2019, Figure 6), whose 1x1 conv mixes channels at every node."""

    def __init__(self, c_in: int, c_out: int, stride: int, kind: str = "max"):
        pool = (
            nn.MaxPool2d(3, stride, 1)
            if kind == "max"
            else nn.AvgPool2d(3, stride, 1, count_include_pad=False)
        )
        super().__init__(
            nn.ReLU(), pool, nn.Conv2d(c_in, c_out, 1, bias=False), nn.BatchNorm2d(c_out)
        )


class Identity(nn.Sequential):
    """The input itself; a strided 1x1 conv with BN where the shape changes."""

    def __init__(self, c_in: int, c_out: int, stride: int):
        layers: list[nn.Module] = []
        if c_in != c_out or stride != 1:
            layers = [nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out)]
        super().__init__(*layers)
