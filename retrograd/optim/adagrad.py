"""Adagrad: per-coordinate steps divided by the root of all squared gradients seen so far.

With ``g`` the gradient (negated to maximize, plus ``weight_decay * p``) and ``t`` the step:

    s <- s + g^2                                   (s starts at initial_accumulator_value)
    p <- p - lr / (1 + (t - 1) * lr_decay) * g / (sqrt(s) + eps)

Coordinates with large past gradients take small steps; the accumulator only grows, so the
steps shrink over time.
"""
import numpy as np

from ..tensor import Tensor
from .optimizer import (Optimizer, _advance_step, _check_non_negative, _regularized_grad,
                        _step_counter)

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """``Adagrad(params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
    eps=1e-10, *, maximize=False)``; state per parameter (created with the optimizer, as in
    PyTorch): ``step`` and ``sum``."""

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, *, maximize=False):
        _check_non_negative("Adagrad", learning_rate=lr, lr_decay=lr_decay,
                            weight_decay=weight_decay,
                            initial_accumulator_value=initial_accumulator_value, epsilon=eps)
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, eps=eps,
                                      weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      maximize=maximize))
        for group in self.param_groups:
            for param in group["params"]:
                self._init_state(param, group)

    def _init_state(self, param, group):
        state = self.state[param]
        if not state:
            state["step"] = _step_counter()
            state["sum"] = Tensor._make(np.full_like(
                param.array, float(group["initial_accumulator_value"])))
        return state

    def _update_param(self, param, grad, group):
        p = param.array
        state = self._init_state(param, group)  # groups added later start here
        step = _advance_step(state)
        grad = _regularized_grad(p, grad, group["weight_decay"], group["maximize"])
        lr = float(group["lr"]) / (1 + (step - 1) * float(group["lr_decay"]))

        accumulator = state["sum"].array
        scratch = np.multiply(grad, grad, out=np.empty_like(p))
        accumulator += scratch
        scale = np.sqrt(accumulator, out=scratch)
        scale += float(group["eps"])
        update = np.divide(grad, scale, out=scale)
        update *= lr
        p -= update
