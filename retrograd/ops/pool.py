"""Pooling: max and average over sliding windows, and adaptive (fixed output size) pooling.

Windows are visited with KH*KW strided slices of the (padded) input, each covering every
output pixel at once: for max pooling a running maximum remembers which window offset won
(the first one on ties, as in PyTorch; a NaN always wins so that it propagates), and backward
sends each output's gradient to that input entry only. Average pooling's backward spreads
each gradient evenly over its window.

Adaptive pooling splits each axis of size n into o bins, bin i covering
[floor(i n / o), ceil((i + 1) n / o)). Adaptive average pooling is then linear and separable,
out = P_h x P_w^T with averaging matrices, so it is written with matmul and needs no backward
of its own. Adaptive max pooling visits the k-th entry of every bin at once (bins shorter than
the longest repeat their last entry, which cannot change a maximum).
1-D pooling is 2-D pooling of height 1.
"""
import math

import numpy as np

from .. import threads
from ..autograd.function import Function
from ..tensor import Tensor
from .conv import _as_4d, _spatial_pair

__all__ = ["max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d",
           "adaptive_avg_pool2d", "adaptive_max_pool1d", "adaptive_max_pool2d"]


def _pool_output_size(size, kernel, stride, pad, dilation, ceil_mode):
    span = size + 2 * pad - dilation * (kernel - 1) - 1
    out = (math.ceil(span / stride) if ceil_mode else span // stride) + 1
    if ceil_mode and (out - 1) * stride >= size + pad:
        out -= 1  # the last window must start inside the input or its left padding
    return out


def _window(array, i, j, out_size, stride, dilation):
    (oh, ow), (sh, sw), (dh, dw) = out_size, stride, dilation
    return array[:, :, i * dh:i * dh + sh * (oh - 1) + 1:sh, j * dw:j * dw + sw * (ow - 1) + 1:sw]


def _padded(x, pad, out_size, kernel, stride, dilation, fill):
    """x padded by ``pad`` on each side, and at the bottom/right as far as ceil_mode's last
    windows reach."""
    h, w = x.shape[2:]
    need_h = (out_size[0] - 1) * stride[0] + dilation[0] * (kernel[0] - 1) + 1
    need_w = (out_size[1] - 1) * stride[1] + dilation[1] * (kernel[1] - 1) + 1
    extra_h = max(need_h - (h + 2 * pad[0]), 0)
    extra_w = max(need_w - (w + 2 * pad[1]), 0)
    if not (pad[0] or pad[1] or extra_h or extra_w):
        return x
    return np.pad(x, ((0, 0), (0, 0), (pad[0], pad[0] + extra_h), (pad[1], pad[1] + extra_w)),
                  constant_values=fill)


def _lowest(dtype):
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


def _scatter_to_indices(grad, indices, shape):
    """The gradient of an adaptive max pooling: each output's gradient added to the input entry
    its maximum came from (``indices``: flat positions in each H*W plane)."""
    n, c, h, w = shape
    planes = np.arange(n * c).reshape(n, c, 1, 1) * (h * w)
    dx = np.bincount((indices + planes).ravel(), weights=grad.ravel(), minlength=n * c * h * w)
    return Tensor._make(dx.reshape(shape).astype(grad.dtype, copy=False))


def _offset_dtype(count):
    """The smallest integer type numbering ``count`` window offsets (and -1 for none)."""
    return np.int8 if count < 2 ** 7 else np.int16 if count < 2 ** 15 else np.int32


def _assign_where(target, mask, value, scratch):
    """``target[mask] = value`` with arithmetic, several times faster than a masked copy:
    target += (value - target) * mask."""
    np.subtract(value, target, out=scratch)
    scratch *= mask
    target += scratch


class MaxPool2d(Function):
    """out = max over each window; dx = dout at the window's (first) maximum

    The forward keeps, per output, which window offset won (a small integer); backward routes
    each gradient through that offset's strided view of the input, one view per offset, and
    the flat int64 indices are only computed when asked for (``return_indices``).
    """

    once_differentiable = True

    @staticmethod
    def forward(ctx, x, kernel, stride, pad, dilation, out_size, return_indices):
        a = x.array
        xp = _padded(a, pad, out_size, kernel, stride, dilation, _lowest(a.dtype))
        offsets = [(i, j) for i in range(kernel[0]) for j in range(kernel[1])]
        # Padding never wins, not even against -inf: PyTorch only looks at real entries.
        inside = None if xp is a else _padded(np.ones((1, 1) + a.shape[2:], dtype=bool), pad,
                                              out_size, kernel, stride, dilation, False)
        best = np.empty(a.shape[:2] + tuple(out_size), dtype=a.dtype)
        winner = np.empty(best.shape, dtype=_offset_dtype(len(offsets)))
        shares = threads.batch_shares(a.shape[0], a.nbytes)
        threads.in_parallel(lambda rows: _max_of_windows(
            xp[rows], inside, offsets, out_size, stride, dilation, best[rows], winner[rows]),
            shares)
        ctx.winner, ctx.padded_shape, ctx.shares = winner, xp.shape, shares
        overlapping = any(s < k * d for s, k, d in zip(stride, kernel, dilation))
        # Windows that tile the padded input exactly write every gradient entry once.
        tiling = (not overlapping and dilation == (1, 1) and tuple(stride) == tuple(kernel)
                  and all(o * s == n for o, s, n in zip(out_size, stride, xp.shape[2:])))
        ctx.geometry = (a.shape, offsets, stride, pad, dilation, out_size, overlapping, tiling)
        if return_indices:
            return best, _flat_indices(winner, a.shape, kernel, stride, pad, dilation)
        return best

    @staticmethod
    def backward(ctx, grad, *_indices_grad):
        shape, offsets, stride, pad, dilation, out_size, overlapping, tiling = ctx.geometry
        g = grad.array
        dxp = (np.empty if tiling else np.zeros)(ctx.padded_shape, dtype=g.dtype)

        def route(rows):
            """Sends the gradients of the samples ``rows`` to their windows' winners."""
            grads, winner, dx = g[rows], ctx.winner[rows], dxp[rows]
            chosen = np.empty(grads.shape, dtype=bool)
            routed = np.empty_like(grads) if overlapping else None
            for k, (i, j) in enumerate(offsets):
                target = _window(dx, i, j, out_size, stride, dilation)
                np.equal(winner, k, out=chosen)
                if overlapping:  # an input entry can win in several windows: add up
                    target += np.multiply(grads, chosen, out=routed)
                else:  # disjoint windows: each entry is written once at most
                    np.multiply(grads, chosen, out=target)
        threads.in_parallel(route, ctx.shares)
        if dxp.shape != shape:  # drop the padding (a copy; dxp itself stays unshared)
            dxp = np.ascontiguousarray(dxp[:, :, pad[0]:pad[0] + shape[2],
                                           pad[1]:pad[1] + shape[3]])
        return (Tensor._make(dxp),) + (None,) * 6


def _max_of_windows(xp, inside, offsets, out_size, stride, dilation, best, winner):
    """Writes the maximum of each window of the padded input ``xp`` into ``best`` and the
    offset it came from into ``winner`` (``inside``: where ``xp`` is not padding, or None)."""
    windows = [_window(xp, i, j, out_size, stride, dilation) for i, j in offsets]
    np.copyto(best, windows[0])
    for values in windows[1:]:
        np.maximum(best, values, out=best)  # NaN propagates, as in PyTorch
    # Without padding every window holds its maximum (or a NaN, below), so the last offset
    # can be the default rather than a test; with padding, -1 marks "no input entry".
    last = len(offsets) - 1 if inside is None else -1
    winner[...] = last
    hit, scratch = np.empty(best.shape, dtype=bool), np.empty_like(winner)
    for k in reversed(range(last if inside is None else len(offsets))):
        np.equal(windows[k], best, out=hit)  # backwards, so that the first maximum stays
        if inside is not None:
            hit &= _window(inside, *offsets[k], out_size, stride, dilation)
        _assign_where(winner, hit, k, scratch)
    if best.dtype.kind == "f" and np.isnan(best).any():
        for k, values in enumerate(windows):  # forwards: the last NaN wins, as in PyTorch
            _assign_where(winner, np.isnan(values), k, scratch)
    # A window left at -1 lies entirely in the padding (possible with dilation): its maximum
    # is the padding's value, which comes from no input entry.


def _flat_indices(winner, shape, kernel, stride, pad, dilation):
    """PyTorch's return_indices: each maximum's position as a flat index into H*W (-1 where
    ``winner`` is -1: no input entry)."""
    oh, ow = winner.shape[2:]
    ki, kj = np.divmod(winner.astype(np.int64), kernel[1])
    rows = np.arange(oh).reshape(-1, 1) * stride[0] - pad[0] + ki * dilation[0]
    cols = np.arange(ow).reshape(1, -1) * stride[1] - pad[1] + kj * dilation[1]
    return np.where(winner < 0, -1, rows * shape[3] + cols)


class AdaptiveMaxPool2d(Function):
    """out = max over each adaptive bin; dx = dout at the bin's (first) maximum"""

    once_differentiable = True

    @staticmethod
    def forward(ctx, x, out_size):
        a = x.array
        (row_starts, row_ends), (col_starts, col_ends) = (
            _adaptive_bins(n, o) for n, o in zip(a.shape[2:], out_size))
        best = indices = None
        for i in range(int((row_ends - row_starts).max())):
            rows = np.minimum(row_starts + i, row_ends - 1)[:, None]
            for j in range(int((col_ends - col_starts).max())):
                cols = np.minimum(col_starts + j, col_ends - 1)[None, :]
                values = a[:, :, rows, cols]
                if best is None:
                    best, indices = values, np.broadcast_to(rows * a.shape[3] + cols,
                                                            values.shape).copy()
                    continue
                better = values > best
                if a.dtype.kind == "f":
                    better |= np.isnan(values)
                np.copyto(best, values, where=better)
                np.copyto(indices, rows * a.shape[3] + cols, where=better)
        ctx.indices, ctx.input_shape = indices, a.shape
        return best, indices

    @staticmethod
    def backward(ctx, grad, _indices_grad):
        return _scatter_to_indices(grad.array, ctx.indices, ctx.input_shape), None


class AvgPool2d(Function):
    """out = sum over each window / divisor; dx = each output's gradient / divisor, spread over
    its window"""

    once_differentiable = True

    @staticmethod
    def forward(ctx, x, kernel, stride, pad, out_size, divisor):
        a = x.array
        if isinstance(divisor, np.ndarray) and a.dtype.kind == "f":
            divisor = divisor.astype(a.dtype)  # an int64 array would promote float32 results
        xp = _padded(a, pad, out_size, kernel, stride, (1, 1), 0)
        total = np.zeros(a.shape[:2] + tuple(out_size), dtype=a.dtype)
        for i in range(kernel[0]):
            for j in range(kernel[1]):
                total += _window(xp, i, j, out_size, stride, (1, 1))
        ctx.geometry = (a.shape, xp.shape, kernel, stride, pad, out_size, divisor)
        # Integer inputs give integer averages truncated toward zero, as in PyTorch.
        return (total / divisor).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        shape, padded_shape, kernel, stride, pad, out_size, divisor = ctx.geometry
        share = (grad.array / divisor).astype(grad.dtype, copy=False)
        dxp = np.zeros(padded_shape, dtype=share.dtype)
        for i in range(kernel[0]):
            for j in range(kernel[1]):
                _window(dxp, i, j, out_size, stride, (1, 1))[...] += share
        dx = dxp[:, :, pad[0]:pad[0] + shape[2], pad[1]:pad[1] + shape[3]]
        return (Tensor._make(np.ascontiguousarray(dx)),) + (None,) * 5


# ------------------------------------------------------------------------------ functions
def _pool_geometry(op, input, x, spatial_dims, kernel_size, stride, padding, dilation,
                   ceil_mode):
    """Kernel, stride, padding, dilation and output size as pairs for the 4-D view ``x`` of
    ``input`` (named in errors)."""
    kernel = _spatial_pair(kernel_size, spatial_dims, op, "kernel_size", 1, 1)
    if stride is None or (isinstance(stride, (tuple, list)) and not stride):
        stride = kernel
    else:
        stride = _spatial_pair(stride, spatial_dims, op, "stride", 1, 1)
    pad = _spatial_pair(padding, spatial_dims, op, "padding", 0, 0)
    dilation = _spatial_pair(dilation, spatial_dims, op, "dilation", 1, 1)
    if pad[0] > kernel[0] // 2 or pad[1] > kernel[1] // 2:
        raise RuntimeError(f"{op}: padding {padding!r} should be at most half of the kernel "
                           f"size {kernel_size!r}")
    out_size = tuple(_pool_output_size(n, k, s, p, d, ceil_mode) for n, k, s, p, d in
                     zip(x.shape[2:], kernel, stride, pad, dilation))
    if min(out_size) < 1:
        raise RuntimeError(f"{op}: input of shape {tuple(input.shape)} is too small for kernel "
                           f"{kernel_size!r} (output size {out_size[2 - spatial_dims:]})")
    return kernel, stride, pad, dilation, out_size


def _max_pool(op, spatial_dims, input, kernel_size, stride, padding, dilation, ceil_mode,
              return_indices):
    x, restore = _as_4d(op, input, spatial_dims)
    geometry = _pool_geometry(op, input, x, spatial_dims, kernel_size, stride, padding,
                              dilation, ceil_mode)
    if return_indices:
        out, indices = MaxPool2d.apply(x, *geometry, True)
        return restore(out), restore(indices)
    return restore(MaxPool2d.apply(x, *geometry, False))


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Maximum over KH x KW windows of (N, C, H, W) or (C, H, W) input; ``return_indices``
    also gives each maximum's flat position in its H*W plane. Ties go to the first maximum in
    the window (row-major), NaN propagates."""
    return _max_pool("max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Maximum over windows of K entries of (N, C, L) or (C, L) input."""
    return _max_pool("max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)


def _avg_pool(op, spatial_dims, input, kernel_size, stride, padding, ceil_mode,
              count_include_pad, divisor_override):
    x, restore = _as_4d(op, input, spatial_dims)
    kernel, stride, pad, _, out_size = _pool_geometry(op, input, x, spatial_dims, kernel_size,
                                                      stride, padding, 1, ceil_mode)
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError(f"{op}: divisor_override must not be zero")
    divisor = divisor_override or _avg_divisors(x.shape[2:], kernel, stride, pad, out_size,
                                                count_include_pad)
    return restore(AvgPool2d.apply(x, kernel, stride, pad, out_size, divisor))


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """Mean over KH x KW windows of (N, C, H, W) or (C, H, W) input (see ``_avg_divisors`` for
    what each window divides by)."""
    return _avg_pool("avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, divisor_override)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """Mean over windows of K entries of (N, C, L) or (C, L) input."""
    return _avg_pool("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, None)


def _avg_divisors(size, kernel, stride, pad, out_size, count_include_pad):
    """How many elements each window averages: PyTorch counts padding (if asked) but never
    the part of a ceil_mode window beyond the padded input."""
    divisors = []
    for n, k, s, p, o in zip(size, kernel, stride, pad, out_size):
        start = np.arange(o) * s - p
        end = np.minimum(start + k, n + p)
        if not count_include_pad:
            start, end = np.maximum(start, 0), np.minimum(end, n)
        divisors.append(end - start)
    counts = np.outer(*divisors)
    if (counts == counts.flat[0]).all():
        return int(counts.flat[0])
    return counts


# ------------------------------------------------------------------------ adaptive pooling
def _adaptive_bins(size, out):
    """PyTorch's adaptive bins: output i covers input[floor(i*n/o) : ceil((i+1)*n/o)]."""
    starts = (np.arange(out) * size) // out
    ends = -((-(np.arange(1, out + 1) * size)) // out)
    return starts, ends


def _adaptive_output_size(op, x, spatial_dims, output_size, minimum):
    """The output size as a pair; ``None`` entries keep the input's size."""
    if isinstance(output_size, (tuple, list)):
        if len(output_size) != spatial_dims:
            raise ValueError(f"{op}: output_size must have {spatial_dims} entries, got "
                             f"{output_size!r}")
        output_size = tuple(x.shape[4 - spatial_dims + i] if s is None else s
                            for i, s in enumerate(output_size))
    return _spatial_pair(output_size, spatial_dims, op, "output_size", minimum, 1)


def _averaging_matrix(size, out, dtype):
    starts, ends = _adaptive_bins(size, out)
    positions = np.arange(size)
    inside = (positions >= starts[:, None]) & (positions < ends[:, None])
    return Tensor._make((inside / (ends - starts)[:, None]).astype(dtype))


def _adaptive_avg_pool(op, spatial_dims, input, output_size):
    x, restore = _as_4d(op, input, spatial_dims)
    oh, ow = _adaptive_output_size(op, x, spatial_dims, output_size, 0)
    h, w = x.shape[2:]
    if (oh, ow) == (1, 1):
        out = x.mean(dim=(2, 3), keepdim=True)
    elif oh and ow and h % oh == 0 and w % ow == 0:  # equal bins: a reshape and a mean
        out = x.reshape(x.shape[0], x.shape[1], oh, h // oh, ow, w // ow).mean(dim=(3, 5))
    else:
        out = _averaging_matrix(h, oh, x.dtype) @ x @ _averaging_matrix(w, ow, x.dtype).mT
    return restore(out)


def adaptive_avg_pool2d(input, output_size):
    """Average pooling of (N, C, H, W) or (C, H, W) input to a fixed (OH, OW)."""
    return _adaptive_avg_pool("adaptive_avg_pool2d", 2, input, output_size)


def adaptive_avg_pool1d(input, output_size):
    """Average pooling of (N, C, L) or (C, L) input to a fixed length."""
    return _adaptive_avg_pool("adaptive_avg_pool1d", 1, input, output_size)


def _adaptive_max_pool(op, spatial_dims, input, output_size, return_indices):
    x, restore = _as_4d(op, input, spatial_dims)
    out_size = _adaptive_output_size(op, x, spatial_dims, output_size, 1)
    h, w = x.shape[2:]
    if h % out_size[0] == 0 and w % out_size[1] == 0:  # equal bins: a plain max pooling
        kernel = (h // out_size[0], w // out_size[1])
        pooled = MaxPool2d.apply(x, kernel, kernel, (0, 0), (1, 1), out_size, return_indices)
    else:
        out, indices = AdaptiveMaxPool2d.apply(x, out_size)
        pooled = (out, indices) if return_indices else out
    if return_indices:
        return restore(pooled[0]), restore(pooled[1])
    return restore(pooled)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max pooling of (N, C, H, W) or (C, H, W) input to a fixed (OH, OW)."""
    return _adaptive_max_pool("adaptive_max_pool2d", 2, input, output_size, return_indices)


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Max pooling of (N, C, L) or (C, L) input to a fixed length."""
    return _adaptive_max_pool("adaptive_max_pool1d", 1, input, output_size, return_indices)
