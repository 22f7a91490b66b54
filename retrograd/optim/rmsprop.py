"""RMSprop: steps divided by a running root mean square of the gradient.

With ``g`` the gradient (negated to maximize, plus ``weight_decay * p``):

    v <- alpha * v + (1 - alpha) * g^2
    s  = sqrt(v - a^2) + eps   with a <- alpha * a + (1 - alpha) * g   (centered)
       = sqrt(v) + eps                                                  (otherwise)
    b <- momentum * b + g / s,  p <- p - lr * b    (with momentum; else p <- p - lr * g / s)

Centering divides by an estimate of the gradient's standard deviation rather than its RMS.
"""
import numpy as np

from .optimizer import (Optimizer, _advance_step, _check_non_negative, _ema_of_square_, _lerp_,
                        _regularized_grad, _step_counter, _zeros_state)

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """``RMSprop(params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
    centered=False, *, maximize=False)``; state per parameter: ``step``, ``square_avg``,
    ``momentum_buffer`` (with momentum) and ``grad_avg`` (centered)."""

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, *, maximize=False):
        _check_non_negative("RMSprop", learning_rate=lr, epsilon=eps, momentum=momentum,
                            weight_decay=weight_decay, alpha=alpha)
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered, maximize=maximize))

    def _update_param(self, param, grad, group):
        p = param.array
        momentum, alpha = float(group["momentum"]), float(group["alpha"])
        state = self.state[param]
        if not state:
            state["step"] = _step_counter()
            state["square_avg"] = _zeros_state(p)
            if momentum > 0:
                state["momentum_buffer"] = _zeros_state(p)
            if group["centered"]:
                state["grad_avg"] = _zeros_state(p)
        _advance_step(state)
        grad = _regularized_grad(p, grad, group["weight_decay"], group["maximize"])

        square_avg = state["square_avg"].array
        scratch = np.empty_like(p)
        _ema_of_square_(square_avg, grad, alpha, scratch)
        if group["centered"]:
            grad_avg = state["grad_avg"].array
            _lerp_(grad_avg, grad, 1 - alpha, scratch)
            variance = np.multiply(grad_avg, grad_avg, out=scratch)
            np.subtract(square_avg, variance, out=variance)
            scale = np.sqrt(variance, out=variance)
        else:
            scale = np.sqrt(square_avg, out=scratch)
        scale += float(group["eps"])
        normalized = np.divide(grad, scale, out=scale)
        lr = float(group["lr"])
        if momentum > 0:
            buffer = state["momentum_buffer"].array
            buffer *= momentum
            buffer += normalized
            np.multiply(buffer, lr, out=normalized)
        else:
            normalized *= lr
        p -= normalized
