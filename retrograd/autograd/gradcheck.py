"""Checking analytic gradients against finite differences.

For f: R^n -> R^m and each input x, the Jacobian column for x_j is estimated by central
differences, (f(x + eps e_j) - f(x - eps e_j)) / (2 eps), whose error is O(eps^2); backward
gives the analytic vector-Jacobian products J^T v for each unit v. Both are compared element by
element. Central differences in float32 are too coarse for a meaningful check, so inputs are
float64 (a float32 input draws a warning).
"""
import warnings

import numpy as np

from ..tensor import Tensor
from . import engine


class GradcheckError(RuntimeError):
    pass


def _as_tuple(x):
    return x if isinstance(x, tuple) else (x,)


def _outputs(fn, inputs):
    return [o for o in _as_tuple(fn(*inputs)) if isinstance(o, Tensor)]


def numerical_jacobian(fn, inputs, target, eps):
    """d(outputs)/d(target) by central differences: one (out.size, target.size) matrix per
    output."""
    flat = target.array.reshape(-1)  # a view: perturbing it perturbs the input
    outs = _outputs(fn, inputs)
    jac = [np.zeros((o.array.size, flat.size)) for o in outs]
    for j in range(flat.size):
        orig = flat[j]
        flat[j] = orig + eps
        plus = [o.array.astype(np.float64).reshape(-1) for o in _outputs(fn, inputs)]
        flat[j] = orig - eps
        minus = [o.array.astype(np.float64).reshape(-1) for o in _outputs(fn, inputs)]
        flat[j] = orig
        for k in range(len(outs)):
            jac[k][:, j] = (plus[k] - minus[k]) / (2 * eps)
    return jac


def analytical_jacobian(fn, inputs, targets):
    """d(outputs)/d(targets) from backward, one row (output element) at a time."""
    outs = _outputs(fn, inputs)
    jacs = [[np.zeros((o.array.size, t.array.size)) for t in targets] for o in outs]
    for k, out in enumerate(outs):
        if not out.requires_grad:
            continue
        for i in range(out.array.size):
            seed = np.zeros(out.array.size, dtype=out.dtype)
            seed[i] = 1
            grads = engine.grad([out], targets, [Tensor._make(seed.reshape(out.shape))],
                                retain_graph=True, allow_unused=True)
            for t_idx, g in enumerate(grads):
                if g is not None:
                    jacs[k][t_idx][i] = g.array.reshape(-1)
    return jacs


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """True if ``fn``'s backward matches finite differences for every input that requires
    grad; otherwise raises (or returns False) naming the worst element."""
    inputs = _as_tuple(inputs)
    targets = [x for x in inputs if isinstance(x, Tensor) and x.requires_grad]
    if not targets:
        raise ValueError("gradcheck: at least one input tensor must require grad")
    for t in targets:
        if t.dtype != np.float64:
            warnings.warn(f"gradcheck: input of dtype {t.dtype} is not float64; finite "
                          "differences in low precision are unreliable", stacklevel=2)
    analytic = analytical_jacobian(fn, inputs, targets)
    for t_idx, target in enumerate(targets):
        numeric = numerical_jacobian(fn, inputs, target, eps)
        for k, num in enumerate(numeric):
            ana = analytic[k][t_idx]
            with np.errstate(invalid="ignore"):
                bad = ~(np.abs(ana - num) <= atol + rtol * np.abs(num))  # NaN counts as bad
            if bad.any():
                score = np.where(bad, np.nan_to_num(np.abs(ana - num), nan=np.inf), -1.0)
                out_i, in_j = np.unravel_index(np.argmax(score), score.shape)
                message = (f"gradcheck: Jacobian mismatch for output {k} with respect to input "
                           f"{t_idx} (shape {tuple(target.shape)}) at output element {int(out_i)}, "
                           f"input element {_index(in_j, target.shape)}: "
                           f"analytical {float(ana[out_i, in_j])!r}, "
                           f"numerical {float(num[out_i, in_j]):.6g}")
                if raise_exception:
                    raise GradcheckError(message)
                return False
    return True


def _index(flat, shape):
    return tuple(int(i) for i in np.unravel_index(flat, shape))


def gradgradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, seed=0):
    """Checks second derivatives: gradcheck of x -> d(fn(x) . v)/dx for a random v."""
    inputs = _as_tuple(inputs)
    targets = [x for x in inputs if isinstance(x, Tensor) and x.requires_grad]
    rng = np.random.default_rng(seed)
    vs = [Tensor._make(rng.standard_normal(o.shape)) for o in _outputs(fn, inputs)]

    def first_derivative(*args):
        outs = _outputs(fn, args)
        diff_targets = [a for a in args if isinstance(a, Tensor) and a.requires_grad]
        used = [(o, v) for o, v in zip(outs, vs) if o.requires_grad]
        grads = engine.grad([o for o, _ in used], diff_targets, [v for _, v in used],
                            create_graph=True, allow_unused=True)
        return tuple(g for g in grads if g is not None and g.requires_grad)

    return gradcheck(first_derivative, inputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception) if targets else True
