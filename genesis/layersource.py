"""The constructor source of genesis's standard layers, for the standalone file.

:func:`layer_source` writes a built submodule (a convolution, a norm, a pooling, ``nn.Sequential``
of them...) back as the PyTorch expression that builds it: numbers from the module itself,
never text from an architecture file.
"""

from __future__ import annotations

from torch import nn

from graphs import GenesisError

__all__ = ["layer_source"]


def layer_source(m: nn.Module) -> str:
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
        inner = [layer_source(c) for c in m]
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
