"""Zero-cost scores: how promising an untrained network looks, from one batch at initialization.

Two training-free proxies from the NAS literature, for ranking candidates before any training:

- :func:`naswot_score` (Mellor et al. 2021): the binary activation pattern of every ReLU over a
  minibatch; networks that map different inputs to different patterns score higher.
- :func:`synflow_score` (Tanaka et al. 2020; used as a NAS proxy by Abdelfattah et al. 2021):
  the "synaptic flow" of a network with all weights made positive, on an all-ones input.

Both take a built module (:func:`genesis.compiler.compile_architecture`) and cost one forward
(and, for synflow, one backward) pass; neither changes the module they are given.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

__all__ = ["naswot_score", "synflow_score"]


def naswot_score(model: nn.Module, x: torch.Tensor) -> float:
    """NASWOT: ``log |det K|`` of the Hamming-similarity kernel of ReLU activation codes.

    Each example of the batch ``x`` gets a binary code (one bit per ReLU output unit: active or
    not); ``K[i, j]`` counts the bits examples ``i`` and ``j`` share. A network whose codes
    tell the examples apart has a well-conditioned ``K`` and a high score. An input batch whose
    examples all look alike gives ``-inf``.

    Notes
    -----
    Cost: one forward pass in ``eval`` mode plus an ``N x N`` log-determinant.

    References
    ----------
    .. [1] J. Mellor, J. Turner, A. Storkey, E. J. Crowley. "Neural Architecture Search without
       Training". ICML 2021.
    """
    n = x.shape[0]
    kernel = torch.zeros(n, n, dtype=torch.float64)

    def hook(_module, _inputs, output):
        codes = (output.detach().reshape(n, -1) > 0).double()
        kernel.add_(codes @ codes.T + (1 - codes) @ (1 - codes).T)

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, nn.ReLU)]
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(x)
    finally:
        model.train(was_training)
        for h in handles:
            h.remove()
    sign, logdet = torch.linalg.slogdet(kernel)
    return float(logdet) if sign > 0 else float("-inf")


def synflow_score(model: nn.Module, input_shape: tuple[int, ...]) -> float:
    """SynFlow: ``sum |theta * dR/dtheta|`` with every weight made positive and an all-ones input.

    ``R`` is the sum of the network's outputs for one all-ones example, in double precision and
    ``eval`` mode (batch norm then applies its initial, identity statistics). The score grows
    with how much signal the wiring lets through; it sees no data.

    Notes
    -----
    Cost: one forward and one backward pass of one example, on a copy of the module.

    References
    ----------
    .. [1] H. Tanaka, D. Kunin, D. L. K. Yamins, S. Ganguli. "Pruning neural networks without any
       data by iteratively conserving synaptic flow". NeurIPS 2020.
    .. [2] M. S. Abdelfattah et al. "Zero-Cost Proxies for Lightweight NAS". ICLR 2021.
    """
    net = copy.deepcopy(model).double().eval()
    with torch.no_grad():
        for p in net.parameters():
            p.abs_()
    net.zero_grad()
    out = net(torch.ones((1, *input_shape), dtype=torch.float64))
    out.sum().backward()
    with torch.no_grad():
        total = sum((p * p.grad).abs().sum() for p in net.parameters() if p.grad is not None)
    return float(total)
