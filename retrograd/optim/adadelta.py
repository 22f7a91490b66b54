"""Adadelta: steps whose size adapts from running averages alone, with no hand-set scale.

With ``g`` the gradient (negated to maximize, plus ``weight_decay * p``):

    v <- rho * v + (1 - rho) * g^2
    d  = sqrt(u + eps) / sqrt(v + eps) * g        (u: running average of squared steps)
    u <- rho * u + (1 - rho) * d^2
    p <- p - lr * d

The ratio of the two RMS values gives ``d`` the units of ``p``; ``lr`` (default 1) only scales.
"""
import numpy as np

from .optimizer import (Optimizer, _advance_step, _check_non_negative, _ema_of_square_,
                        _regularized_grad, _step_counter, _zeros_state)

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    """``Adadelta(params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, *, maximize=False)``;
    state per parameter: ``step``, ``square_avg`` and ``acc_delta``."""

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, *, maximize=False):
        _check_non_negative("Adadelta", learning_rate=lr, epsilon=eps, weight_decay=weight_decay)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Adadelta: invalid rho value: {rho} (must be in [0, 1])")
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize))

    def _update_param(self, param, grad, group):
        p = param.array
        state = self.state[param]
        if not state:
            state["step"] = _step_counter()
            state["square_avg"] = _zeros_state(p)
            state["acc_delta"] = _zeros_state(p)
        _advance_step(state)
        grad = _regularized_grad(p, grad, group["weight_decay"], group["maximize"])
        rho, eps = float(group["rho"]), float(group["eps"])

        square_avg, acc_delta = state["square_avg"].array, state["acc_delta"].array
        scratch = np.empty_like(p)
        _ema_of_square_(square_avg, grad, rho, scratch)
        grad_rms = np.add(square_avg, eps, out=scratch)
        np.sqrt(grad_rms, out=grad_rms)
        delta = np.add(acc_delta, eps, out=np.empty_like(p))
        np.sqrt(delta, out=delta)
        delta /= grad_rms
        delta *= grad
        _ema_of_square_(acc_delta, delta, rho, scratch)
        delta *= float(group["lr"])
        p -= delta
