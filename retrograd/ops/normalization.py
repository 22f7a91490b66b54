"""Normalization layers' math: batch, layer, group and instance normalization.

All of them compute  y = (x - mean) / sqrt(var + eps) * weight + bias  with the statistics
taken over different axes. When the statistics come from x itself (training-mode batch norm,
layer norm, group norm), they depend on x too, and with  x_hat = (x - mean) * invstd  the
gradient is

    dx = invstd * (dx_hat - mean(dx_hat) - x_hat * mean(dx_hat * x_hat)),  dx_hat = dy * weight

(means over the normalized axes). With fixed statistics (batch norm in eval mode) it is just
dx = dy * weight * invstd. One fused node does either, so a normalization costs a handful of
array passes instead of a dozen graph nodes.
"""
import math

import numpy as np

from ..autograd.function import Function
from ..autograd.grad_mode import no_grad
from ..tensor import Tensor

__all__ = ["batch_norm", "layer_norm", "group_norm", "instance_norm"]


class Normalize(Function):
    """y = x_hat * w + b, x_hat = (x - mean) * invstd;
    dx = invstd (dx_hat - mean(dx_hat) - x_hat mean(dx_hat x_hat)) for batch statistics,
    dx = invstd dx_hat for fixed ones; dw = dy x_hat, db = dy (summed by the engine)"""

    once_differentiable = True

    @staticmethod
    def forward(ctx, x, weight, bias, mean, var, eps, axes, batch_stats):
        invstd = 1.0 / np.sqrt(var + eps)
        x_hat = (x.array - mean) * invstd
        out = x_hat * weight.array if weight is not None else x_hat.copy()
        if bias is not None:
            out += bias.array
        ctx.x_hat, ctx.invstd, ctx.axes, ctx.batch_stats = x_hat, invstd, axes, batch_stats
        ctx.weight = None if weight is None else weight.array
        return out.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        g, x_hat, axes = grad.array, ctx.x_hat, ctx.axes
        dx = dw = db = None
        if ctx.needs_input_grad[0]:
            dx_hat = g * ctx.weight if ctx.weight is not None else g
            if ctx.batch_stats:
                dx = ctx.invstd * (dx_hat - dx_hat.mean(axis=axes, keepdims=True)
                                   - x_hat * (dx_hat * x_hat).mean(axis=axes, keepdims=True))
            else:
                dx = dx_hat * ctx.invstd
            dx = Tensor._make(dx.astype(g.dtype, copy=False))
        if ctx.needs_input_grad[1]:
            dw = Tensor._make(g * x_hat)
        if ctx.needs_input_grad[2]:
            db = grad
        return dx, dw, db, None, None, None, None, None


def _moments(a, axes):
    """Mean and biased variance of array ``a`` over ``axes`` (kept as size-1 dims), in a's
    dtype. Sums run in float64 so that a large mean cannot swamp a small spread, and the
    variance is taken about the mean (two passes) rather than as E[x^2] - E[x]^2."""
    mean = a.mean(axis=axes, keepdims=True, dtype=np.float64).astype(a.dtype)
    centered = np.subtract(a, mean)
    var = np.square(centered, out=centered).mean(axis=axes, keepdims=True, dtype=np.float64)
    return mean, var.astype(a.dtype)


def _channel_view(param, ndim):
    """A per-channel (C,) parameter as (1, C, 1, ...) to broadcast over (N, C, ...)."""
    if param is None:
        return None
    return param.reshape((1, -1) + (1,) * (ndim - 2))


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Normalizes each channel of (N, C, ...) input over the batch and spatial positions.

    Training mode uses the batch's statistics and updates the running ones in place:
    running = (1 - momentum) * running + momentum * batch, with the unbiased batch variance.
    Eval mode uses the running statistics."""
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected input of at least 2 dimensions (N, C, ...), got "
                         f"shape {tuple(input.shape)}")
    channels = input.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != (channels,):
            raise RuntimeError(f"batch_norm: {name} of shape {tuple(t.shape)} does not match "
                               f"the {channels} channels of input {tuple(input.shape)}")
    axes = (0,) + tuple(range(2, input.ndim))
    shape = (1, channels) + (1,) * (input.ndim - 2)
    if training:
        count = input.numel() // channels
        if count <= 1:
            raise ValueError(f"batch_norm: expected more than 1 value per channel when "
                             f"training, got input of shape {tuple(input.shape)}")
        mean, var = _moments(input.array, axes)
        _update_running_stats(running_mean, running_var, mean.reshape(channels),
                              var.reshape(channels), count, momentum)
    else:
        if running_mean is None or running_var is None:
            raise RuntimeError("batch_norm: running_mean and running_var are needed in eval "
                               "mode (training=False)")
        mean = running_mean.array.reshape(shape)
        var = running_var.array.reshape(shape)
    return Normalize.apply(input, _channel_view(weight, input.ndim),
                           _channel_view(bias, input.ndim), mean, var, eps, axes, True if
                           training else False)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalizes over the last ``len(normalized_shape)`` dimensions of each sample."""
    normalized_shape = ((normalized_shape,) if isinstance(normalized_shape, int)
                        else tuple(normalized_shape))
    k = len(normalized_shape)
    if tuple(input.shape[input.ndim - k:]) != normalized_shape:
        raise RuntimeError(f"layer_norm: normalized_shape {normalized_shape} does not match the "
                           f"last dimensions of input of shape {tuple(input.shape)}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != normalized_shape:
            raise RuntimeError(f"layer_norm: {name} of shape {tuple(t.shape)} does not match "
                               f"normalized_shape {normalized_shape}")
    axes = tuple(range(input.ndim - k, input.ndim))
    return Normalize.apply(input, weight, bias, *_moments(input.array, axes), eps, axes, True)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Normalizes each group of C/num_groups channels of each sample (N, C, ...)."""
    n, c = input.shape[:2]
    if c % num_groups:
        raise RuntimeError(f"group_norm: num_groups={num_groups} must divide the {c} channels "
                           f"of input {tuple(input.shape)}")
    if n * c // num_groups * math.prod(input.shape[2:]) == 1:
        # PyTorch's check (it views the input as a batch of N*C/G samples with G channels).
        raise ValueError(f"group_norm: expected more than 1 value per channel when training, "
                         f"got input of shape {tuple(input.shape)} with num_groups={num_groups}")
    grouped = input.reshape(n, num_groups, -1)
    normalized = Normalize.apply(grouped, None, None, *_moments(grouped.array, (2,)), eps, (2,),
                                 True)
    out = normalized.reshape(input.shape)
    if weight is not None:
        out = out * _channel_view(weight, input.ndim)
    if bias is not None:
        out = out + _channel_view(bias, input.ndim)
    return out


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-5):
    """Normalizes each channel of each sample (N, C, ...) over its spatial positions.

    With ``use_input_stats`` the running statistics (if given) are updated in place with the
    batch average of the per-sample ones; without, they normalize instead (as in eval-mode
    batch norm)."""
    if not use_input_stats:
        return batch_norm(input, running_mean, running_var, weight, bias, False, momentum, eps)
    if input.ndim < 3:
        raise ValueError(f"instance_norm: expected input of at least 3 dimensions (N, C, ...), "
                         f"got shape {tuple(input.shape)}")
    n, channels = input.shape[:2]
    count = math.prod(input.shape[2:])
    if count <= 1:
        raise ValueError(f"instance_norm: expected more than 1 spatial element when training, "
                         f"got input of shape {tuple(input.shape)}")
    axes = tuple(range(2, input.ndim))
    mean, var = _moments(input.array, axes)
    _update_running_stats(running_mean, running_var, mean.reshape(n, channels).mean(axis=0),
                          var.reshape(n, channels).mean(axis=0), count, momentum)
    return Normalize.apply(input, _channel_view(weight, input.ndim),
                           _channel_view(bias, input.ndim), mean, var, eps, axes, True)


def _update_running_stats(running_mean, running_var, mean, var, count, momentum):
    """running = (1 - momentum) * running + momentum * batch statistic, in place; the running
    variance takes the unbiased batch variance (var * count / (count - 1))."""
    with no_grad():
        if running_mean is not None:
            running_mean.mul_(1 - momentum).add_(Tensor._make(mean * momentum))
        if running_var is not None:
            running_var.mul_(1 - momentum).add_(
                Tensor._make(var * (momentum * count / (count - 1))))
