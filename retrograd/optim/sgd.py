"""Stochastic gradient descent, optionally with momentum (heavy-ball or Nesterov).

With ``g`` the gradient (negated to maximize, plus ``weight_decay * p``):

    b <- momentum * b + (1 - dampening) * g      (b = g on the first step)
    d  = g + momentum * b  (nesterov)   or   b   (or g without momentum)
    p <- p - lr * d
"""
import numpy as np

from ..tensor import Tensor
from .optimizer import Optimizer, _add_scaled_, _check_non_negative, _regularized_grad

__all__ = ["SGD"]


class SGD(Optimizer):
    """``SGD(params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
    maximize=False)``; state per parameter: ``momentum_buffer`` (only with momentum)."""

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                 nesterov=False, *, maximize=False):
        _check_non_negative("SGD", learning_rate=lr, momentum=momentum,
                            weight_decay=weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(f"SGD: Nesterov momentum requires a momentum and zero dampening, "
                             f"got momentum={momentum}, dampening={dampening}")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize))

    def _update_param(self, param, grad, group):
        p = param.array
        direction = _regularized_grad(p, grad, group["weight_decay"], group["maximize"])
        momentum = float(group["momentum"])
        if momentum:
            state = self.state[param]
            if state.get("momentum_buffer") is None:
                buffer = np.array(direction, copy=True)
                state["momentum_buffer"] = Tensor._make(buffer)
            else:
                buffer = state["momentum_buffer"].array
                buffer *= momentum
                dampening = float(group["dampening"])
                buffer += direction if dampening == 0 else (1 - dampening) * direction
            direction = direction + momentum * buffer if group["nesterov"] else buffer
        _add_scaled_(p, -float(group["lr"]), direction)
