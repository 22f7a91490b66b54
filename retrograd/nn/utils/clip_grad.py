"""Gradient clipping, in place on ``.grad``, between ``backward()`` and ``optimizer.step()``.

``clip_grad_norm_`` treats all gradients as one vector g and rescales it when its p-norm is
too large: ``g <- g * min(1, max_norm / (||g||_p + 1e-6))``, keeping its direction.
``||g||_p`` is the p-norm of the per-tensor p-norms (p = inf: the largest absolute value).
``clip_grad_value_`` clamps each element to [-clip_value, clip_value] instead.
"""
import math

import numpy as np

from ... import _dtype
from ...autograd.grad_mode import no_grad
from ...ops._util import result_type
from ...tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_"]


def _gradients(parameters):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def _vector_norm(array, norm_type):
    """The ``norm_type``-norm of all elements of ``array``, as a Python float."""
    flat = array.reshape(-1)
    if flat.size == 0:
        return 0.0
    return float(np.linalg.norm(flat, ord=norm_type))


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False,
                    foreach=None):
    """Rescales the gradients of ``parameters`` (an iterable of tensors, or one tensor) so that
    their total ``norm_type``-norm is at most ``max_norm``; returns the total norm before
    clipping as a 0-d tensor (in the gradients' dtype). ``foreach`` is accepted for
    compatibility (every gradient is handled by one vectorised operation anyway)."""
    grads = _gradients(parameters)
    if not grads:
        return Tensor._make(np.asarray(0.0, dtype=_dtype.get_default_dtype()))
    norm_type = float(norm_type)
    total = _vector_norm(np.array([_vector_norm(g.array, norm_type) for g in grads]), norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} for gradients "
                           "from `parameters` is non-finite, so it cannot be clipped. To "
                           "disable this error and scale the gradients by the non-finite norm "
                           "anyway, set `error_if_nonfinite=False`")
    coefficient = min(max_norm / (total + 1e-6), 1.0)
    with no_grad():
        for g in grads:
            g.mul_(coefficient)
    return Tensor._make(np.asarray(total, dtype=result_type(*grads)))


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamps every gradient element of ``parameters`` to [-clip_value, clip_value] in place."""
    clip_value = float(clip_value)
    with no_grad():
        for g in _gradients(parameters):
            g.clamp_(-clip_value, clip_value)
