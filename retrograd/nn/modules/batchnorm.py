"""Normalization with running statistics: ``BatchNorm1d/2d/3d`` and ``InstanceNorm1d/2d/3d``.

Batch norm normalizes each channel over the batch and spatial positions,
y = (x - mean) / sqrt(var + eps) * weight + bias. In training mode it uses the batch's
statistics and, with ``track_running_stats``, folds them into the buffers ``running_mean``
and ``running_var``:  running = (1 - momentum) * running + momentum * batch  (the variance
unbiased). ``momentum=None`` makes that a cumulative average instead, momentum = 1 / t at the
t-th batch, counted in the int64 buffer ``num_batches_tracked``. In eval mode the running
statistics normalize (batch statistics if there are none).

Instance norm normalizes each channel of each sample over its spatial positions alone; with
``track_running_stats`` it keeps running statistics the same way and uses them in eval mode.
"""
import warnings

from ... import _dtype
from ...ops.creation import ones, tensor, zeros
from ...ops.normalization import batch_norm, instance_norm
from .normalization import _AffineNorm

__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "InstanceNorm1d", "InstanceNorm2d",
           "InstanceNorm3d"]


class _NormBase(_AffineNorm):
    """Parameters, buffers, init and repr shared by batch and instance norm."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, device=None, dtype=None, *, bias=True):
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if track_running_stats:
            self.register_buffer("running_mean", zeros(num_features, dtype=dtype,
                                                       device=device))
            self.register_buffer("running_var", ones(num_features, dtype=dtype, device=device))
            self.register_buffer("num_batches_tracked", tensor(0, dtype=_dtype.int64,
                                                               device=device))
        else:
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(name, None)
        self._register_affine((num_features,), affine, bias, dtype, device)

    def reset_running_stats(self):
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_var.fill_(1)
            self.num_batches_tracked.zero_()

    def reset_parameters(self):
        self.reset_running_stats()
        super().reset_parameters()

    def _check_input_dim(self, input):
        ranks = self._input_ranks
        if input.ndim not in ranks:
            expected = " or ".join(f"{r}D" for r in ranks)
            raise ValueError(f"{type(self).__name__}: expected {expected} input (got "
                             f"{input.ndim}D input of shape {tuple(input.shape)})")

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


class _BatchNorm(_NormBase):
    def forward(self, input):
        self._check_input_dim(input)
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.add_(1)
            if self.momentum is None:  # cumulative moving average
                momentum = 1.0 / float(self.num_batches_tracked.item())
        # Without running statistics even eval mode has to use the batch's.
        use_batch_stats = self.training or self.running_mean is None
        # In training mode without tracking, the buffers (None) are not updated.
        track = not self.training or self.track_running_stats
        return batch_norm(input, self.running_mean if track else None,
                          self.running_var if track else None, self.weight, self.bias,
                          use_batch_stats, momentum, self.eps)


class BatchNorm1d(_BatchNorm):
    """Batch norm of (N, C) or (N, C, L) input over N (and L), per channel C."""

    _input_ranks = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch norm of (N, C, H, W) input over N, H and W, per channel C."""

    _input_ranks = (4,)


class BatchNorm3d(_BatchNorm):
    """Batch norm of (N, C, D, H, W) input over N, D, H and W, per channel C."""

    _input_ranks = (5,)


class _InstanceNorm(_NormBase):
    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False,
                 track_running_stats=False, device=None, dtype=None, *, bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device,
                         dtype, bias=bias)

    def forward(self, input):
        self._check_input_dim(input)
        unbatched = input.ndim == self._input_ranks[0]
        if unbatched:
            input = input.unsqueeze(0)
        channels = input.shape[1]
        if channels != self.num_features:
            message = (f"{type(self).__name__}: expected input's size at dim=1 to match "
                       f"num_features ({self.num_features}), but got: {channels}")
            if self.affine:
                raise ValueError(message)
            warnings.warn(message + " (num_features is not used because affine=False)")
        out = instance_norm(input, self.running_mean, self.running_var, self.weight, self.bias,
                            self.training or not self.track_running_stats,
                            0.0 if self.momentum is None else self.momentum, self.eps)
        return out.squeeze(0) if unbatched else out


class InstanceNorm1d(_InstanceNorm):
    """Instance norm of (N, C, L) or unbatched (C, L) input over L."""

    _input_ranks = (2, 3)


class InstanceNorm2d(_InstanceNorm):
    """Instance norm of (N, C, H, W) or unbatched (C, H, W) input over H and W."""

    _input_ranks = (3, 4)


class InstanceNorm3d(_InstanceNorm):
    """Instance norm of (N, C, D, H, W) or unbatched (C, D, H, W) input over D, H and W."""

    _input_ranks = (4, 5)
