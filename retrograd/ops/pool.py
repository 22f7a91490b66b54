"""Pooling: max and average over sliding windows, and adaptive average pooling.

Windows are visited with KH*KW strided slices of the (padded) input, each covering every
output pixel at once: for max pooling a running maximum remembers which window offset won
(the first one on ties, as in PyTorch), and backward sends each output's gradient to that
offset only. Average pooling's backward spreads each gradient evenly over its window.
Adaptive average pooling is linear and separable, out = P_h x P_w^T with averaging matrices, so
it is written with matmul and needs no backward of its own.
"""
import math

import numpy as np

from ..autograd.function import Function
from ..tensor import Tensor
from .conv import _pair

__all__ = ["max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d",
           "adaptive_avg_pool2d", "adaptive_max_pool2d"]


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


class MaxPool2d(Function):
    """out = max over each window; d out = dx at the window's (first) maximum"""

    @staticmethod
    def forward(ctx, x, kernel, stride, pad, dilation, out_size):
        a = x.array
        xp = _padded(a, pad, out_size, kernel, stride, dilation, -np.inf)
        best = _window(xp, 0, 0, out_size, stride, dilation).copy()
        winner = np.zeros(best.shape, dtype=np.int16 if kernel[0] * kernel[1] < 2 ** 15
                          else np.int32)
        for i in range(kernel[0]):
            for j in range(kernel[1]):
                if i == 0 and j == 0:
                    continue
                values = _window(xp, i, j, out_size, stride, dilation)
                # NaN wins, as in PyTorch, so that it propagates.
                better = (values > best) | np.isnan(values)
                np.copyto(best, values, where=better)
                winner[better] = i * kernel[1] + j
        ctx.winner = winner
        ctx.geometry = (a.shape, xp.shape, kernel, stride, pad, dilation, out_size)
        return best, _flat_indices(winner, a.shape, kernel, stride, pad, dilation)

    @staticmethod
    def backward(ctx, grad, _indices_grad):
        shape, padded_shape, kernel, stride, pad, dilation, out_size = ctx.geometry
        g = grad.array
        dxp = np.zeros(padded_shape, dtype=g.dtype)
        for i in range(kernel[0]):
            for j in range(kernel[1]):
                _window(dxp, i, j, out_size, stride, dilation)[...] += np.where(
                    ctx.winner == i * kernel[1] + j, g, 0)
        dx = dxp[:, :, pad[0]:pad[0] + shape[2], pad[1]:pad[1] + shape[3]]
        return (Tensor._make(np.ascontiguousarray(dx)),) + (None,) * 5

    once_differentiable = True


def _flat_indices(winner, shape, kernel, stride, pad, dilation):
    """PyTorch's return_indices: each maximum's position as a flat index into H*W."""
    oh, ow = winner.shape[2:]
    ki, kj = np.divmod(winner.astype(np.int64), kernel[1])
    rows = np.arange(oh).reshape(-1, 1) * stride[0] - pad[0] + ki * dilation[0]
    cols = np.arange(ow).reshape(1, -1) * stride[1] - pad[1] + kj * dilation[1]
    return rows * shape[3] + cols


class AvgPool2d(Function):
    """out = sum over each window / divisor; dx = each output's gradient / divisor, spread over
    its window"""

    once_differentiable = True

    @staticmethod
    def forward(ctx, x, kernel, stride, pad, out_size, divisor):
        a = x.array
        xp = _padded(a, pad, out_size, kernel, stride, (1, 1), 0)
        total = np.zeros(a.shape[:2] + tuple(out_size), dtype=a.dtype)
        for i in range(kernel[0]):
            for j in range(kernel[1]):
                total += _window(xp, i, j, out_size, stride, (1, 1))
        ctx.geometry = (a.shape, xp.shape, kernel, stride, pad, out_size, divisor)
        return total / divisor

    @staticmethod
    def backward(ctx, grad):
        shape, padded_shape, kernel, stride, pad, out_size, divisor = ctx.geometry
        share = grad.array / divisor
        dxp = np.zeros(padded_shape, dtype=share.dtype)
        for i in range(kernel[0]):
            for j in range(kernel[1]):
                _window(dxp, i, j, out_size, stride, (1, 1))[...] += share
        dx = dxp[:, :, pad[0]:pad[0] + shape[2], pad[1]:pad[1] + shape[3]]
        return (Tensor._make(np.ascontiguousarray(dx)),) + (None,) * 5


def _as_4d(op, x, spatial_dims):
    if x.ndim == spatial_dims + 1:
        return x.unsqueeze(0), True
    if x.ndim != spatial_dims + 2:
        raise RuntimeError(f"{op}: expected a {spatial_dims + 1}-D or {spatial_dims + 2}-D input, "
                           f"got shape {tuple(x.shape)}")
    return x, False


def _pool_geometry(op, x, kernel_size, stride, padding, dilation, ceil_mode):
    kernel = _pair(kernel_size, op, "kernel_size")
    stride = kernel if stride is None or stride == [] or stride == () else _pair(stride, op,
                                                                                 "stride")
    pad = _pair(padding, op, "padding")
    dilation = _pair(dilation, op, "dilation")
    if pad[0] > kernel[0] // 2 or pad[1] > kernel[1] // 2:
        raise RuntimeError(f"{op}: padding {pad} should be at most half of the kernel size "
                           f"{kernel}")
    out_size = tuple(_pool_output_size(n, k, s, p, d, ceil_mode) for n, k, s, p, d in
                     zip(x.shape[2:], kernel, stride, pad, dilation))
    if min(out_size) < 1:
        raise RuntimeError(f"{op}: input of shape {tuple(x.shape)} is too small for kernel "
                           f"{kernel} (output size {out_size})")
    return kernel, stride, pad, dilation, out_size


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    x, added = _as_4d("max_pool2d", input, 2)
    geometry = _pool_geometry("max_pool2d", x, kernel_size, stride, padding, dilation, ceil_mode)
    out, indices = MaxPool2d.apply(x, *geometry)
    if added:
        out, indices = out.squeeze(0), indices.squeeze(0)
    return (out, indices) if return_indices else out


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    x, added = _as_4d("avg_pool2d", input, 2)
    kernel, stride, pad, _, out_size = _pool_geometry("avg_pool2d", x, kernel_size, stride,
                                                      padding, 1, ceil_mode)
    divisor = divisor_override or _avg_divisors(x.shape[2:], kernel, stride, pad, out_size,
                                                count_include_pad)
    out = AvgPool2d.apply(x, kernel, stride, pad, out_size, divisor)
    return out.squeeze(0) if added else out


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
    return counts.astype(np.float32)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    out = max_pool2d(input.unsqueeze(-2), (1, _one(kernel_size)),
                     None if stride is None else (1, _one(stride)), (0, _one(padding)),
                     (1, _one(dilation)), ceil_mode, return_indices)
    if return_indices:
        return out[0].squeeze(-2), out[1].squeeze(-2)
    return out.squeeze(-2)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    return avg_pool2d(input.unsqueeze(-2), (1, _one(kernel_size)),
                      None if stride is None else (1, _one(stride)), (0, _one(padding)),
                      ceil_mode, count_include_pad).squeeze(-2)


def _one(value):
    return int(value[0] if isinstance(value, (tuple, list)) else value)


def _adaptive_bins(size, out):
    """PyTorch's adaptive bins: output i averages input[floor(i*n/o) : ceil((i+1)*n/o)]."""
    starts = (np.arange(out) * size) // out
    ends = -((-(np.arange(1, out + 1) * size)) // out)
    return starts, ends


def _averaging_matrix(size, out, dtype):
    starts, ends = _adaptive_bins(size, out)
    positions = np.arange(size)
    inside = (positions >= starts[:, None]) & (positions < ends[:, None])
    return Tensor._make((inside / (ends - starts)[:, None]).astype(dtype))


def adaptive_avg_pool2d(input, output_size):
    """Average pooling to a fixed output size: out = P_h x P_w^T with averaging matrices."""
    x, added = _as_4d("adaptive_avg_pool2d", input, 2)
    oh, ow = _pair(output_size if not isinstance(output_size, (tuple, list)) else tuple(
        x.shape[2 + i] if s is None else s for i, s in enumerate(output_size)),
        "adaptive_avg_pool2d", "output_size")
    h, w = x.shape[2:]
    if (oh, ow) == (1, 1):
        out = x.mean(dim=(2, 3), keepdim=True)
    elif h % oh == 0 and w % ow == 0:
        out = x.reshape(x.shape[0], x.shape[1], oh, h // oh, ow, w // ow).mean(dim=(3, 5))
    else:
        out = _averaging_matrix(h, oh, x.dtype) @ x @ _averaging_matrix(w, ow, x.dtype).mT
    return out.squeeze(0) if added else out


def adaptive_avg_pool1d(input, output_size):
    return adaptive_avg_pool2d(input.unsqueeze(-2), (1, _one(output_size))).squeeze(-2)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max pooling to a fixed output size (evenly divisible sizes only)."""
    x, added = _as_4d("adaptive_max_pool2d", input, 2)
    oh, ow = _pair(output_size, "adaptive_max_pool2d", "output_size")
    h, w = x.shape[2:]
    if h % oh or w % ow:
        raise NotImplementedError(f"adaptive_max_pool2d: input size {(h, w)} must be divisible "
                                  f"by the output size {(oh, ow)}")
    out = max_pool2d(x, (h // oh, w // ow), return_indices=return_indices)
    if added:
        return tuple(o.squeeze(0) for o in out) if return_indices else out.squeeze(0)
    return out
