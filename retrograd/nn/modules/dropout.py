"""Dropout layers: active in training mode only (``module.eval()`` makes them the identity).

Inverted dropout zeroes each element (``Dropout``) or each whole channel (``Dropout2d``, for
feature maps whose neighbouring values are strongly correlated) with probability ``p`` and
scales what is kept by ``1 / (1 - p)``, so the expected activation is the same in both modes.
"""
from ...ops.creation import ones
from .. import functional as F
from .module import Module

__all__ = ["Dropout", "Dropout2d"]


class _DropoutNd(Module):
    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"{type(self).__name__}: dropout probability has to be between 0 "
                             f"and 1, but got {p}")
        self.p, self.inplace = p, inplace

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """Zeroes elements with probability ``p`` during training, scaling the rest by 1/(1-p)."""

    def forward(self, input):
        return F.dropout(input, self.p, self.training, self.inplace)


class Dropout2d(_DropoutNd):
    """Zeroes whole channels of (N, C, H, W) or (C, H, W) input with probability ``p`` during
    training, scaling the rest by 1/(1-p)."""

    def forward(self, input):
        if input.ndim not in (3, 4):
            raise ValueError(f"Dropout2d: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, "
                             f"got shape {tuple(input.shape)}")
        if not self.training or self.p == 0:
            return input
        # One dropout draw per channel, broadcast over its H x W values.
        channel_mask = F.dropout(ones(input.shape[:-2] + (1, 1), dtype=input.dtype), self.p)
        return input * channel_mask
