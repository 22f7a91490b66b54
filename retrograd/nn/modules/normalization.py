"""Per-sample normalization layers: ``LayerNorm`` and ``GroupNorm``.

Both compute y = (x - mean) / sqrt(var + eps) * weight + bias with statistics of each sample
alone (so they behave the same in training and eval mode and keep no running statistics):
``LayerNorm`` over its last ``len(normalized_shape)`` dimensions, with an elementwise weight and
bias of shape ``normalized_shape``; ``GroupNorm`` over each group of ``num_channels /
num_groups`` channels (and all spatial positions), with a per-channel weight and bias.
"""
import numbers

from ...ops.creation import empty
from ...ops.normalization import group_norm, layer_norm
from .. import init
from ..parameter import Parameter
from .module import Module

__all__ = ["LayerNorm", "GroupNorm"]


class _AffineNorm(Module):
    """A normalization with an optional elementwise weight (starting at ones) and bias (at
    zeros)."""

    def _register_affine(self, shape, weight, bias, dtype, device):
        for name, wanted in (("weight", weight), ("bias", weight and bias)):
            self.register_parameter(
                name, Parameter(empty(shape, dtype=dtype, device=device)) if wanted else None)
        self.reset_parameters()

    def reset_parameters(self):
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)


class LayerNorm(_AffineNorm):
    """Normalizes (*, *normalized_shape) input over its last ``len(normalized_shape)`` dims."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True,
                 device=None, dtype=None):
        super().__init__()
        if isinstance(normalized_shape, numbers.Integral):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(int(n) for n in normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        self._register_affine(self.normalized_shape, elementwise_affine, bias, dtype, device)

    def forward(self, input):
        return layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}")


class GroupNorm(_AffineNorm):
    """Normalizes (N, C, *) input over each group of C / num_groups channels of each sample."""

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None,
                 dtype=None, *, bias=True):
        super().__init__()
        if num_groups <= 0 or num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_channels={num_channels} must be divisible by "
                             f"num_groups={num_groups}")
        self.num_groups = num_groups
        self.num_channels = num_channels
        self.eps = eps
        self.affine = affine
        self._register_affine((num_channels,), affine, bias, dtype, device)

    def forward(self, input):
        if input.ndim < 2 or input.shape[1] != self.num_channels:
            raise RuntimeError(f"GroupNorm: expected input of shape (N, {self.num_channels}, "
                               f"*), got {tuple(input.shape)}")
        return group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, "
                f"affine={self.affine}, bias={self.bias is not None}")
