"""``Optimizer``: the base of every optimizer, holding parameter groups and per-parameter state.

An optimizer moves each parameter ``p`` against its gradient ``p.grad``, ``p <- p - lr * d``,
where the direction ``d`` may depend on a per-parameter ``state`` (momentum buffers, running
averages of squared gradients, a step count) kept in ``optimizer.state[p]``.

Parameters are split into *groups* (``optimizer.param_groups``): dicts holding their tensors
under ``'params'`` and their own hyperparameters (``'lr'``, ``'weight_decay'``, ...); whatever a
group does not give comes from ``optimizer.defaults``. Groups are plain, editable dicts: a
learning-rate scheduler adjusts a run by writing ``group['lr']``.

Updates work directly on the NumPy arrays (``p.array``, ``p.grad.array``) with in-place ufuncs
(``out=``): one vectorised update per parameter, in the parameter's own dtype. Hyperparameters
are converted to Python floats first, which NumPy never lets promote a float32 array.

``state_dict()`` / ``load_state_dict()`` use PyTorch's layout: parameters are numbered in the
order they appear in the groups, ``{'state': {index: {name: value}}, 'param_groups': [{...,
'params': [indices]}]}``.
"""
import functools
import numbers
import warnings
from collections import defaultdict
from itertools import chain

import numpy as np

from .. import _blas
from ..autograd.grad_mode import enable_grad, no_grad
from ..tensor import Tensor

__all__ = ["Optimizer", "required"]


class _RequiredParameter:
    """Default of a hyperparameter that every parameter group must give itself."""

    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()

_UNORDERED = ("{}: optimizer parameters need to be organized in ordered collections, but the "
              "order of tensors in a set changes between runs (and checkpoints match "
              "parameters by position); use a list instead")


def _marks_step_called(step):
    """Wraps a subclass's own ``step`` so that schedulers can tell the optimizer has stepped."""

    @functools.wraps(step)
    def step_and_mark(self, *args, **kwargs):
        self._opt_called = True
        return step(self, *args, **kwargs)

    return step_and_mark


class Optimizer:
    """Base class: subclasses give ``defaults`` and implement ``_update_param`` (or, like
    PyTorch's custom optimizers, override ``step`` altogether).

    ``params``: an iterable (list, generator, ...) of tensors, of ``(name, tensor)`` pairs, or of
    dicts each describing a parameter group.
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "step" in cls.__dict__:
            cls.step = _marks_step_called(cls.step)

    def __init__(self, params, defaults):
        self.defaults = defaults
        self._opt_called = False
        if isinstance(params, Tensor):
            raise TypeError(
                f"{type(self).__name__}: params should be an iterable of Tensors or dicts, but "
                f"got a Tensor of shape {tuple(params.shape)}; pass [tensor] instead")
        if isinstance(params, (set, frozenset)):
            raise TypeError(_UNORDERED.format(type(self).__name__))
        self.state = defaultdict(dict)
        self.param_groups = []
        param_groups = list(params)
        if not param_groups:
            raise ValueError(f"{type(self).__name__}: optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    def __repr__(self):
        lines = [type(self).__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines.extend(f"    {key}: {group[key]}" for key in sorted(group) if key != "params")
        return "\n".join(lines) + "\n)"

    # --------------------------------------------------------------------- parameter groups
    def add_param_group(self, param_group):
        """Adds a group (a dict with ``'params'`` and optional hyperparameters, the rest taken
        from ``defaults``), e.g. to start training layers that were frozen. The dict itself is
        completed and kept, as in PyTorch."""
        owner = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(f"{owner}.add_param_group: param_group must be a dict, got "
                            f"{type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError(f"{owner}.add_param_group: param_group has no 'params' entry")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError(_UNORDERED.format(owner))
        else:
            params = list(params)
        named = [isinstance(p, tuple) for p in params]
        if any(named) and not all(named):
            raise ValueError(f"{owner}: all parameters of a group should be given with names "
                             "((name, tensor) pairs) or all without")
        if params and all(named):
            param_group["param_names"] = [name for name, _ in params]
            params = [tensor for _, tensor in params]
        param_group["params"] = params
        for i, param in enumerate(params):
            if not isinstance(param, Tensor):
                raise TypeError(f"{owner}: can only optimize Tensors, but parameter {i} of the "
                                f"group is a {type(param).__name__}")
            if not (param.is_leaf or param.retains_grad):
                raise ValueError(
                    f"{owner}: can't optimize a non-leaf Tensor (parameter {i} of the group, "
                    f"shape {tuple(param.shape)}, computed by {type(param.grad_fn).__name__}); "
                    "optimize the leaf tensors it is computed from")
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(f"{owner}: parameter group didn't specify a value of required "
                                 f"optimization parameter {name}")
            param_group.setdefault(name, default)

        ids = {id(p) for p in params}
        if len(ids) != len(params):
            warnings.warn(f"{owner}: a parameter group contains the same parameter more than "
                          "once; it will be updated once per occurrence", stacklevel=3)
        for group in self.param_groups:
            if ("param_names" in group) != ("param_names" in param_group):
                raise ValueError(f"{owner}: all parameter groups should be given with names or "
                                 "all without")
            if any(id(p) in ids for p in group["params"]):
                raise ValueError(f"{owner}: some parameters appear in more than one parameter "
                                 "group")
        self.param_groups.append(param_group)

    # ----------------------------------------------------------------------------- updates
    def zero_grad(self, set_to_none=True):
        """Resets the gradients: drops them (``set_to_none=True``, the default: the next
        backward allocates fresh ones, and params whose grad stays None are skipped by
        ``step``) or zeroes them in place."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    if p.grad.grad_fn is not None:
                        p.grad.detach_()
                    else:
                        p.grad.requires_grad_(False)
                    p.grad.zero_()

    def step(self, closure=None):
        """Performs one update of every parameter that has a gradient.

        ``closure``: a function that recomputes the loss (zeroing grads and calling backward)
        and returns it; it runs with gradient recording on, and its loss is returned."""
        self._opt_called = True
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                for param in group["params"]:
                    if param.grad is not None:
                        self._update_param(param, self._grad_array(param), group)
                        param._version += 1
        return loss

    def _update_param(self, param, grad, group):
        """Updates ``param.array`` in place from ``grad`` (an ndarray of the same shape and
        dtype, never to be modified) with ``group``'s hyperparameters."""
        raise NotImplementedError(f"{type(self).__name__} must implement _update_param() or "
                                  "step()")

    def _grad_array(self, param):
        grad = param.grad.array
        if grad.shape != param.array.shape:
            raise RuntimeError(f"{type(self).__name__}.step: gradient of shape {grad.shape} "
                               f"doesn't match its parameter of shape {param.array.shape}")
        if param.array.dtype.kind != "f":
            raise RuntimeError(f"{type(self).__name__}.step: only real floating-point "
                               f"parameters are supported, got dtype {param.array.dtype}")
        return grad

    # -------------------------------------------------------------------------- checkpoints
    def state_dict(self):
        """The optimizer's state in PyTorch's layout. Parameters are replaced by their index;
        state values are the live state tensors (not copies), as in PyTorch."""
        index_of = {}
        packed_groups = []
        for group in self.param_groups:
            packed = {key: value for key, value in group.items() if key != "params"}
            for p in group["params"]:
                index_of.setdefault(id(p), len(index_of))
            packed["params"] = [index_of[id(p)] for p in group["params"]]
            packed_groups.append(packed)
        packed_state = {(index_of[id(key)] if isinstance(key, Tensor) else key): value
                        for key, value in self.state.items()}
        return {"state": packed_state, "param_groups": packed_groups}

    def load_state_dict(self, state_dict):
        """Restores a ``state_dict()`` (of this optimizer class, with groups of the same sizes).

        Parameters are matched by position. State values (tensors or ndarrays) are copied into
        fresh tensors, cast to their parameter's floating dtype (the step count keeps its own).
        Hyperparameters, ``'lr'`` included, come from ``state_dict``."""
        owner = type(self).__name__
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"{owner}.load_state_dict: loaded state dict has "
                             f"{len(saved_groups)} parameter groups, the optimizer has "
                             f"{len(self.param_groups)}")
        for i, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(group["params"]) != len(saved["params"]):
                raise ValueError(
                    f"{owner}.load_state_dict: loaded parameter group {i} has "
                    f"{len(saved['params'])} parameters, the optimizer's has "
                    f"{len(group['params'])}")
        param_of = dict(zip(chain.from_iterable(g["params"] for g in saved_groups),
                            chain.from_iterable(g["params"] for g in self.param_groups)))
        state = defaultdict(dict)
        for key, value in state_dict["state"].items():
            param = param_of.get(key)
            state[key if param is None else param] = (
                value if param is None else _copy_state(value, param.array.dtype))
        new_groups = []
        for group, saved in zip(self.param_groups, saved_groups):
            new_group = _copy_state(dict(saved), None)
            new_group["params"] = group["params"]
            if "param_names" in group and "param_names" not in saved:
                new_group["param_names"] = group["param_names"]
            new_groups.append(new_group)
        self.state = state
        self.param_groups = new_groups


def _copy_state(value, dtype, key=None):
    """A deep copy of a state entry, tensors and ndarrays becoming tensors of ``dtype`` (when
    it is given and the value is floating-point; the step count keeps its dtype)."""
    if key == "step" and isinstance(value, numbers.Real):  # the layout of older checkpoints
        return Tensor._make(np.array(value, dtype=np.float32))
    if isinstance(value, (Tensor, np.ndarray)):
        array = value.array if isinstance(value, Tensor) else value
        if dtype is not None and key != "step" and array.dtype.kind == "f":
            return Tensor._make(array.astype(dtype, copy=True))
        return Tensor._make(array.copy())
    if isinstance(value, dict):
        return {k: _copy_state(v, dtype, k) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_copy_state(v, dtype) for v in value)
    return value


# ----------------------------------------------------- building blocks shared by the optimizers
def _check_non_negative(owner, **hyperparameters):
    for name, value in hyperparameters.items():
        if not value >= 0:  # also rejects NaN
            raise ValueError(f"{owner}: invalid {name} value: {value} (must be >= 0)")


def _zeros_state(param_array):
    return Tensor._make(np.zeros_like(param_array))


def _step_counter():
    """A step count as PyTorch keeps it: a float32 scalar tensor."""
    return Tensor._make(np.zeros((), dtype=np.float32))


def _advance_step(state):
    """Counts one more step in ``state['step']`` and returns the new count."""
    step = state["step"].array
    step += 1
    return float(step)


# Elements updated at a time by _add_scaled_ (1 MiB of float32: a cache's worth; smaller
# blocks cost more Python per layer, e.g. 171 instead of 149 us per step for W1's MLP).
_UPDATE_BLOCK = 2 ** 18


def _add_scaled_(target, alpha, source):
    """``target += alpha * source`` in place: through BLAS's axpy where it can (one pass,
    retrograd/_blas.py), else a block at a time: the temporary ``alpha * source`` of a whole
    layer would add that layer's size to a training step's peak memory (PyTorch's
    ``add_(other, alpha=)`` needs none), and one cache-sized block costs no extra time."""
    if _blas.axpy(alpha, source, target):
        return
    if (target.size <= _UPDATE_BLOCK or source.shape != target.shape
            or source.dtype != target.dtype or target.dtype.kind != "f"
            or not (target.flags.c_contiguous and source.flags.c_contiguous)):
        target += alpha * source
        return
    flat_target, flat_source = target.reshape(-1), source.reshape(-1)
    scratch = np.empty(_UPDATE_BLOCK, dtype=target.dtype)
    for start in range(0, flat_target.size, _UPDATE_BLOCK):
        stop = min(start + _UPDATE_BLOCK, flat_target.size)
        flat_target[start:stop] += np.multiply(flat_source[start:stop], alpha,
                                               out=scratch[:stop - start])


def _regularized_grad(param, grad, weight_decay, maximize):
    """The gradient a step descends: ``grad`` (``-grad`` to maximize) plus ``weight_decay *
    param``, the gradient of the L2 penalty. A new array whenever it differs from ``grad``,
    which is never modified."""
    weight_decay = float(weight_decay)
    if weight_decay:
        decayed = np.multiply(param, weight_decay, out=np.empty_like(param))
        return (np.subtract if maximize else np.add)(decayed, grad, out=decayed)
    return np.negative(grad) if maximize else grad


def _lerp_(average, target, weight, scratch):
    """``average += weight * (target - average)``, in place (an exponential moving average)."""
    np.subtract(target, average, out=scratch)
    scratch *= weight
    average += scratch


def _ema_of_square_(average, value, decay, scratch):
    """``average = decay * average + (1 - decay) * value**2``, in place."""
    average *= decay
    np.multiply(value, value, out=scratch)
    scratch *= 1 - decay
    average += scratch
