"""Resizing (``interpolate``): nearest-neighbour and (bi)linear interpolation.

Both are linear maps applied separately along each spatial axis, so a 2-D resize is
out = R_h x R_w^T with small interpolation matrices R (out_size, in_size): one-hot rows for
the nearest modes, two weights per row for linear. Written with matmul, the backward
(R_h^T dout R_w) and higher derivatives come from the engine.
"""
import math

import numpy as np

from ..tensor import Tensor

__all__ = ["interpolate", "upsample"]


def _source_scale(in_size, out_size, scale_factor, align_corners):
    if align_corners:
        return (in_size - 1) / (out_size - 1) if out_size > 1 else 0.0
    return 1.0 / scale_factor if scale_factor else in_size / out_size


def _resize_matrix(in_size, out_size, mode, scale_factor, align_corners, dtype):
    scale = _source_scale(in_size, out_size, scale_factor, align_corners)
    dst = np.arange(out_size)
    matrix = np.zeros((out_size, in_size))
    if mode in ("nearest", "nearest-exact"):
        # 'nearest' takes the source pixel left of the sampling point (PyTorch's historical
        # rule), 'nearest-exact' the one whose centre is closest to it.
        offset = 0.5 if mode == "nearest-exact" else 0.0
        src = np.minimum(np.floor((dst + offset) * scale).astype(np.int64), in_size - 1)
        matrix[dst, src] = 1.0
    else:
        src = dst * scale if align_corners else np.maximum((dst + 0.5) * scale - 0.5, 0.0)
        low = np.minimum(np.floor(src).astype(np.int64), in_size - 1)
        high = np.minimum(low + 1, in_size - 1)
        frac = src - low
        np.add.at(matrix, (dst, low), 1.0 - frac)  # tiny (out, in) matrix: add.at is fine
        np.add.at(matrix, (dst, high), frac)
    return Tensor._make(matrix.astype(dtype))


# mode -> the number of spatial dims it takes (None: 1 or 2)
_MODES = {"nearest": None, "nearest-exact": None, "linear": 1, "bilinear": 2}


def _per_axis(value, spatial, name):
    if isinstance(value, (tuple, list)):
        if len(value) != spatial:
            raise ValueError(f"interpolate: {name} {tuple(value)} must have one entry per "
                             f"spatial dimension of the input ({spatial})")
        return tuple(value)
    return (value,) * spatial


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resizes (N, C, L) or (N, C, H, W) input to ``size`` or by ``scale_factor``; modes
    'nearest', 'nearest-exact', 'linear' (3-D input) and 'bilinear' (4-D input)."""
    if mode not in _MODES:
        raise NotImplementedError(f"interpolate: mode {mode!r} is not supported (use one of "
                                  f"{sorted(_MODES)})")
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not supported")
    spatial = input.ndim - 2
    if spatial not in (1, 2) or _MODES[mode] not in (None, spatial):
        raise ValueError(f"interpolate: mode {mode!r} does not take input of shape "
                         f"{tuple(input.shape)}")
    if _MODES[mode] is None and align_corners is not None:
        raise ValueError("interpolate: align_corners only applies to the linear modes")
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size and scale_factor")
    in_sizes = input.shape[2:]
    if size is not None:
        sizes = tuple(int(n) for n in _per_axis(size, spatial, "size"))
        factors = (None,) * spatial
    else:
        factors = tuple(float(f) for f in _per_axis(scale_factor, spatial, "scale_factor"))
        sizes = tuple(int(math.floor(n * f)) for n, f in zip(in_sizes, factors))
        if recompute_scale_factor:
            factors = (None,) * spatial
    if min(sizes) < 1 or min(in_sizes) < 1:
        raise ValueError(f"interpolate: input and output sizes must be positive, got input of "
                         f"shape {tuple(input.shape)} and output size {sizes}")
    matrices = [_resize_matrix(n, o, mode, f, bool(align_corners), input.dtype)
                for n, o, f in zip(in_sizes, sizes, factors)]
    out = input @ matrices[-1].mT
    if spatial == 2:
        out = matrices[0] @ out
    return out


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """The older name of ``interpolate``."""
    return interpolate(input, size, scale_factor, mode, align_corners)
