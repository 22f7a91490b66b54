"""Adam and AdamW: steps scaled by running estimates of the gradient's first two moments.

With ``g`` the gradient (negated to maximize) and ``t`` the step count:

    m <- beta1 * m + (1 - beta1) * g              (first moment)
    v <- beta2 * v + (1 - beta2) * g^2            (second moment)
    p <- p - lr / (1 - beta1^t) * m / (sqrt(v / (1 - beta2^t)) + eps)

With ``amsgrad``, the running maximum of ``v`` replaces ``v`` in the update, so that steps never
grow from a drop in ``v``. The ``1 - beta^t`` factors undo the bias of averages started at zero.
Weight decay is either added to the gradient as an L2 penalty (``g += weight_decay * p``,
Adam) or, decoupled from the moments, applied to the parameter directly (``p *= 1 - lr *
weight_decay``, AdamW).
"""
import math

import numpy as np

from .optimizer import (Optimizer, _advance_step, _check_non_negative, _ema_of_square_, _lerp_,
                        _regularized_grad, _step_counter, _zeros_state)

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    """``Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
    maximize=False, decoupled_weight_decay=False)``; state per parameter: ``step``,
    ``exp_avg``, ``exp_avg_sq`` and, with amsgrad, ``max_exp_avg_sq``."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, maximize=False, decoupled_weight_decay=False):
        owner = type(self).__name__
        _check_non_negative(owner, learning_rate=lr, epsilon=eps, weight_decay=weight_decay)
        betas = tuple(float(beta) for beta in betas)
        for i, beta in enumerate(betas):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"{owner}: invalid beta parameter at index {i}: {beta} "
                                 "(must be in [0, 1))")
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, maximize=maximize,
                                      decoupled_weight_decay=decoupled_weight_decay))

    def _update_param(self, param, grad, group):
        p = param.array
        state = self.state[param]
        if not state:
            state["step"] = _step_counter()
            state["exp_avg"] = _zeros_state(p)
            state["exp_avg_sq"] = _zeros_state(p)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = _zeros_state(p)
        step = _advance_step(state)
        lr, eps = float(group["lr"]), float(group["eps"])
        beta1, beta2 = (float(beta) for beta in group["betas"])
        weight_decay, decoupled = float(group["weight_decay"]), group["decoupled_weight_decay"]
        if decoupled and weight_decay:
            p *= 1 - lr * weight_decay
        grad = _regularized_grad(p, grad, 0 if decoupled else weight_decay, group["maximize"])

        exp_avg, exp_avg_sq = state["exp_avg"].array, state["exp_avg_sq"].array
        scratch = np.empty_like(p)
        _lerp_(exp_avg, grad, 1 - beta1, scratch)
        _ema_of_square_(exp_avg_sq, grad, beta2, scratch)
        second_moment = exp_avg_sq
        if group["amsgrad"]:
            second_moment = state["max_exp_avg_sq"].array
            np.maximum(second_moment, exp_avg_sq, out=second_moment)

        denominator = np.sqrt(second_moment, out=scratch)
        denominator /= math.sqrt(1 - beta2 ** step)
        denominator += eps
        update = np.divide(exp_avg, denominator, out=scratch)
        update *= lr / (1 - beta1 ** step)
        p -= update


class AdamW(Adam):
    """Adam with decoupled weight decay: ``AdamW(params, lr=1e-3, betas=(0.9, 0.999),
    eps=1e-8, weight_decay=1e-2, amsgrad=False, *, maximize=False)``."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         decoupled_weight_decay=True)

    def load_state_dict(self, state_dict):
        super().load_state_dict(state_dict)
        for group in self.param_groups:  # whatever the checkpoint says, AdamW decouples
            group["decoupled_weight_decay"] = True
