"""Reductions: sums, means, variances, products, extrema, norms, log-sum-exp, cumulative sums.

A reduction over axes A maps ``x`` to ``y`` with those axes removed (or kept with size 1 under
``keepdim``). Its backward broadcasts the output gradient ``dy`` back over A and multiplies it
by the local derivative:

    sum            dx = dy
    mean           dx = dy / N                        (N elements per reduced slice)
    var            dx = dy 2 (x - mean(x)) / (N - correction)
    std            dx = dvar with dvar = dy / (2 std)  (0 where std = 0, as in PyTorch)
    prod           dx_i = dy prod_{j != i} x_j        (exact with zeros, no division by 0)
    amax, amin     dx = dy at the extremal elements, split evenly among ties
    max/min(dim)   dx = dy at the returned index only
    logsumexp      dx = dy exp(x - logsumexp(x))      (the softmax of x)
    norm (p)       dx = dy sign(x) |x|^(p-1) / ||x||^(p-1)   (0 for a zero norm)
    cumsum         dx = dy summed from the end        (a reversed cumulative sum)

Broadcasting back over A is done with ``reshape`` and ``broadcast_to`` (whose adjoint is a sum),
so every backward is made of differentiable tensor operations and second derivatives work.

``dim`` is None (all dimensions), an int, or a tuple/list of ints; negative dims count from the
end, and an empty tuple means all dimensions (except for ``all``/``any``, where PyTorch reduces
none).
"""
import builtins
import collections
import math
import warnings

import numpy as np

from ..autograd.function import Function
from ..tensor import Tensor
from ._util import normalize_dim
from .conversion import broadcast_to, to_dtype
from .elementwise import _floating, abs, exp, maximum, minimum, sign, where
from .shape import reshape

__all__ = ["sum", "mean", "var", "std", "var_mean", "std_mean", "prod", "max", "min", "amax",
           "amin", "argmax", "argmin", "logsumexp", "norm", "cumsum", "all", "any"]

# The (values, indices) pairs of max/min along a dim, like torch.return_types.max/min.
_MaxResult = collections.namedtuple("max", ("values", "indices"))
_MinResult = collections.namedtuple("min", ("values", "indices"))


# -------------------------------------------------------------------------------- helpers
def _reduction_axes(x, dim, op, empty_means_all=True):
    """``dim`` as a sorted tuple of non-negative axes of ``x``; None means all of them."""
    if dim is None:
        return tuple(range(x.ndim))
    dims = (dim,) if isinstance(dim, (builtins.int, np.integer)) else dim
    if not isinstance(dims, (tuple, list)) or not builtins.all(
            isinstance(d, (builtins.int, np.integer)) for d in dims):
        raise TypeError(f"{op}: dim must be an int or a tuple of ints, got {dim!r}")
    if not dims and empty_means_all:
        return tuple(range(x.ndim))
    axes = [normalize_dim(d, x.ndim, op) for d in dims]
    if len(set(axes)) != len(axes):
        repeated = next(a for a in axes if axes.count(a) > 1)
        raise RuntimeError(f"{op}: dim {repeated} appears multiple times in the list of dims "
                           f"{tuple(dims)}")
    return tuple(sorted(axes)) if x.ndim else ()


def _reduced_shape(shape, axes, keepdim):
    if keepdim:
        return tuple(1 if i in axes else n for i, n in enumerate(shape))
    return tuple(n for i, n in enumerate(shape) if i not in axes)


def _count(shape, axes):
    """The number of elements in each reduced slice."""
    return math.prod(shape[a] for a in axes)


def _accumulator(dtype):
    """PyTorch sums (and multiplies) integers and booleans in int64."""
    return np.int64 if dtype.kind in "biu" else None


def _constant(array):
    """A tensor that is constant for autograd (masks and weights computed in backward)."""
    return Tensor._make(np.asarray(array))


def _check_reducible(x, axes, op):
    """Extrema have no identity element, so they cannot reduce an empty slice."""
    if axes is None:
        if x.array.size == 0:
            raise RuntimeError(f"{op}: expected reduction dim to be specified for an empty "
                               f"input (shape {tuple(x.shape)}); pass the 'dim' argument")
        return
    for axis in axes:
        if x.shape[axis] == 0:
            raise IndexError(f"{op}: expected reduction dim {axis} to have non-zero size, got "
                             f"input of shape {tuple(x.shape)}")


# -------------------------------------------------------------------------------------- sum
class Sum(Function):
    """d sum(x) = sum(dx): each input element receives the gradient of its slice's sum"""

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.shape, ctx.axes = x.shape, axes
        a = x.array
        return np.sum(a, axis=axes, keepdims=keepdim, dtype=_accumulator(a.dtype))

    @staticmethod
    def backward(ctx, grad):
        return _expand_reduced(grad, ctx.shape, ctx.axes), None, None


def _expand_reduced(t, shape, axes):
    """``t``, the result of reducing a tensor of ``shape`` over ``axes`` (with or without
    keepdim), broadcast back to ``shape``: the adjoint of sum over ``axes``."""
    kept = _reduced_shape(shape, axes, True)
    return broadcast_to(t if t.shape == kept else reshape(t, kept), shape)


# ----------------------------------------------------------------------- mean and variance
def _mean_array(a, axes, keepdim):
    # Sum / count rather than np.mean: an empty slice gives NaN (as in PyTorch) without
    # np.mean's warning.
    with np.errstate(invalid="ignore"):
        return np.true_divide(np.sum(a, axis=axes, keepdims=keepdim), _count(a.shape, axes))


class Mean(Function):
    """d mean(x) = sum(dx) / N, N the number of elements per reduced slice"""

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.shape, ctx.axes = x.shape, axes
        return _mean_array(x.array, axes, keepdim)

    @staticmethod
    def backward(ctx, grad):
        # An empty slice expands to an empty gradient: any nonzero divisor will do there.
        count = builtins.max(_count(ctx.shape, ctx.axes), 1)
        return _expand_reduced(grad / count, ctx.shape, ctx.axes), None, None


class Var(Function):
    """d var(x) = 2 (x - mean(x)) / (N - correction) dx (the mean's own variation cancels,
    since the deviations sum to zero)"""

    @staticmethod
    def forward(ctx, x, axes, correction, keepdim):
        ctx.save_for_backward(x)
        ctx.shape, ctx.axes = x.shape, axes
        ctx.dof = builtins.max(_count(x.shape, axes) - correction, 0)
        a = x.array
        deviation = a - _mean_array(a, axes, True)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.asarray(np.sum(deviation * deviation, axis=axes, keepdims=keepdim)
                              / ctx.dof)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        deviation = x - Mean.apply(x, ctx.axes, True)
        scale = 2.0 / ctx.dof if ctx.dof else math.inf  # no degrees of freedom: inf/NaN
        return _expand_reduced(grad, ctx.shape, ctx.axes) * deviation * scale, None, None, None


class Std(Var):
    """d std(x) = d var(x) / (2 std(x)); 0 where std(x) = 0 (PyTorch's choice)"""

    @staticmethod
    def forward(ctx, x, axes, correction, keepdim):
        out = np.asarray(np.sqrt(Var.forward(ctx, x, axes, correction, keepdim)))
        ctx.save_output(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        std = ctx.saved_output
        zero = _constant(std.array == 0)
        grad_var = where(zero, 0.0, grad / (where(zero, 1.0, std) * 2.0))
        return Var.backward(ctx, grad_var)


# --------------------------------------------------------------------------------- product
class Prod(Function):
    """d prod(x) = prod_{j != i} x_j dx_i: prod(x) / x_i when no factor is zero; otherwise only
    the single zero of a slice with exactly one zero has a nonzero derivative (second
    derivatives are exact in slices without zeros)"""

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.save_for_backward(x)
        ctx.shape, ctx.axes = x.shape, axes
        a = x.array
        out = np.asarray(np.prod(a, axis=axes, keepdims=keepdim, dtype=_accumulator(a.dtype)))
        ctx.save_output(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        shape, axes = ctx.shape, ctx.axes
        is_zero = x.array == 0
        if not is_zero.any():  # the common case: reuse the product, divide by each factor
            return _expand_reduced(grad * ctx.saved_output, shape, axes) / x, None, None
        zeros_per_slice = np.count_nonzero(is_zero, axis=axes, keepdims=True)
        nonzero = where(_constant(is_zero), 1.0, x)  # zeros replaced by 1: safe to divide by
        product_of_nonzero = _expand_reduced(Prod.apply(nonzero, axes, True), shape, axes)
        # The product of the other factors: as computed below in zero-free slices and, for a
        # slice's only zero, the product of its nonzeros; any other factor has a zero among
        # the others.
        has_cofactor = (zeros_per_slice == 0) | (is_zero & (zeros_per_slice == 1))
        cofactor = product_of_nonzero / nonzero * _constant(has_cofactor.astype(x.dtype))
        return _expand_reduced(grad, shape, axes) * cofactor, None, None


# -------------------------------------------------------------------------------- extrema
class Extremum(Function):
    """d amax(x) = dx at the elements equal to the maximum, the gradient split evenly among
    ties (likewise amin); a NaN extremum sends its gradient to the NaNs"""

    @staticmethod
    def forward(ctx, x, axes, keepdim, largest):
        ctx.save_for_backward(x)
        ctx.shape, ctx.axes = x.shape, axes
        a = x.array
        ctx.extremum = (np.max if largest else np.min)(a, axis=axes, keepdims=True)
        return ctx.extremum if keepdim else ctx.extremum.reshape(
            _reduced_shape(a.shape, axes, False))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        a, extremum = x.array, ctx.extremum
        hits = a == extremum
        if np.isnan(extremum).any():
            hits |= np.isnan(a) & np.isnan(extremum)
        share = hits / np.count_nonzero(hits, axis=ctx.axes, keepdims=True)
        weights = _constant(share.astype(grad.dtype))
        return _expand_reduced(grad, ctx.shape, ctx.axes) * weights, None, None, None


def _index_of_extremum(a, axis, largest):
    """The index of the first maximum (minimum) along ``axis``, keeping that axis; NaN counts
    as the extremum, as in PyTorch."""
    return (np.argmax if largest else np.argmin)(a, axis=axis, keepdims=True).astype(
        np.int64, copy=False)


class ExtremumWithIndex(Function):
    """d max(x, dim).values = dx at the returned index (the first maximum), 0 elsewhere
    (likewise min)"""

    @staticmethod
    def forward(ctx, x, axis, keepdim, largest):
        a = x.array.reshape(x.shape or (1,))  # a 0-d tensor has one element along dim 0
        index = _index_of_extremum(a, axis, largest)
        values = np.take_along_axis(a, index, axis)
        ctx.shape, ctx.axes = x.shape, (axis,) if x.ndim else ()
        ctx.index, ctx.axis = index, axis
        out_shape = _reduced_shape(x.shape, ctx.axes, keepdim)
        return values.reshape(out_shape), index.reshape(out_shape)

    @staticmethod
    def backward(ctx, grad, grad_index):
        selected = np.zeros(ctx.shape or (1,), dtype=grad.dtype)
        np.put_along_axis(selected, ctx.index, 1, ctx.axis)
        weights = _constant(selected.reshape(ctx.shape))
        return _expand_reduced(grad, ctx.shape, ctx.axes) * weights, None, None, None


def _extremum(x, dim, keepdim, other, largest):
    op = "max" if largest else "min"
    if isinstance(dim, Tensor) or other is not None:  # max(x, other): elementwise
        return (maximum if largest else minimum)(x, dim if other is None else other)
    if dim is None:
        _check_reducible(x, None, op)
        return Extremum.apply(x, tuple(range(x.ndim)), False, largest)
    if not isinstance(dim, (builtins.int, np.integer)):
        raise TypeError(f"{op}: dim must be an int, got {dim!r} (use a{op} to reduce several "
                        "dims)")
    axis = normalize_dim(dim, x.ndim, op)
    _check_reducible(x, (axis,) if x.ndim else (), op)
    values, indices = ExtremumWithIndex.apply(x, axis, keepdim, largest)
    return (_MaxResult if largest else _MinResult)(values, indices)


def _plain_extremum(x, dim, keepdim, largest):
    op = "amax" if largest else "amin"
    axes = _reduction_axes(x, dim, op)
    _check_reducible(x, None if dim is None or dim == () else axes, op)
    return Extremum.apply(x, axes, keepdim, largest)


def _arg_extremum(x, dim, keepdim, largest):
    op = "argmax" if largest else "argmin"
    if x.dtype == np.bool_:
        raise RuntimeError(f"{op}: does not support bool input")
    if dim is None:  # the index into the flattened tensor
        _check_reducible(x, None, op)
        index = _index_of_extremum(x.array.reshape(-1), 0, largest)
        return Tensor._make(index.reshape((1,) * x.ndim if keepdim else ()))
    axis = normalize_dim(dim, x.ndim, op)
    axes = (axis,) if x.ndim else ()
    _check_reducible(x, axes, op)
    index = _index_of_extremum(x.array.reshape(x.shape or (1,)), axis, largest)
    return Tensor._make(index.reshape(_reduced_shape(x.shape, axes, keepdim)))


# ---------------------------------------------------------------------- log-sum-exp, norm
class LogSumExp(Function):
    """d logsumexp(x) = exp(x - logsumexp(x)) dx, the softmax of x; 0 for a slice of -inf"""

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.save_for_backward(x)
        ctx.shape, ctx.axes = x.shape, axes
        a = x.array
        peak = np.max(a, axis=axes, keepdims=True, initial=-np.inf)  # -inf for empty slices
        # Subtracting the largest element keeps exp from overflowing. An infinite one (a slice
        # of -inf, or a +inf) is not subtracted, so the result is -inf or +inf, not NaN.
        shift = np.where(np.isfinite(peak), peak, 0).astype(a.dtype, copy=False)
        with np.errstate(divide="ignore"):  # log(0) = -inf for empty and all -inf slices
            out = np.log(np.sum(np.exp(a - shift), axis=axes, keepdims=True)) + shift
        out = np.asarray(out).reshape(_reduced_shape(a.shape, axes, keepdim))
        ctx.save_output(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        out = ctx.saved_output
        # For a slice of -inf only, x - out would be -inf - (-inf) = NaN; its gradient is 0.
        finite_out = where(_constant(np.isneginf(out.array)), 0.0, out)
        softmax = exp(x - _expand_reduced(finite_out, ctx.shape, ctx.axes))
        return _expand_reduced(grad, ctx.shape, ctx.axes) * softmax, None, None


class PNorm(Function):
    """d ||x||_p = sign(x) |x|^(p-1) / ||x||_p^(p-1) dx for p != 0; 0 where x = 0 and for a
    zero norm (PyTorch's subgradient). p = 0 counts nonzeros: no gradient."""

    @staticmethod
    def forward(ctx, x, p, axes, keepdim):
        ctx.save_for_backward(x)
        ctx.shape, ctx.axes, ctx.p = x.shape, axes, p
        magnitude = np.abs(x.array)
        if p == 0:
            out = np.count_nonzero(magnitude, axis=axes, keepdims=keepdim)
        elif p == 1:
            out = np.sum(magnitude, axis=axes, keepdims=keepdim)
        elif p == 2:
            out = np.sqrt(np.sum(magnitude * magnitude, axis=axes, keepdims=keepdim))
        else:
            with np.errstate(divide="ignore"):  # 0 ** (p < 0) = inf, and inf ** (1/p) = 0
                out = np.sum(magnitude ** p, axis=axes, keepdims=keepdim) ** (1.0 / p)
        out = np.asarray(out, dtype=x.dtype)
        ctx.save_output(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        if ctx.p == 0:  # piecewise constant
            return None, None, None, None
        (x,) = ctx.saved_tensors
        p, norm_ = ctx.p, ctx.saved_output
        if p == 2:  # the common cases, in fewer passes
            direction = x
        elif p == 1:
            direction = sign(x)
        else:
            # sign(0) = 0 zeroes the direction at x = 0; |x| is replaced by 1 there so that
            # |x|^(p-1) stays finite for p < 1.
            direction = sign(x) * where(_constant(x.array == 0), 1.0, abs(x)) ** (p - 1)
        zero_norm = _constant(norm_.array == 0)
        scale = where(zero_norm, 0.0, grad / where(zero_norm, 1.0, norm_) ** (p - 1))
        return direction * _expand_reduced(scale, ctx.shape, ctx.axes), None, None, None


# ----------------------------------------------------------------------- cumulative sums
class Cumsum(Function):
    """d cumsum(x)_i = sum_{j <= i} dx_j; its adjoint sums from the end (a reversed cumsum),
    whose adjoint in turn is cumsum"""

    @staticmethod
    def forward(ctx, x, axis, reverse):
        ctx.axis, ctx.reverse = axis, reverse
        a = x.array.reshape(x.shape or (1,))  # a 0-d tensor is its own cumulative sum
        if reverse:
            a = np.flip(a, axis)
        out = np.cumsum(a, axis=axis, dtype=_accumulator(a.dtype))
        return (np.flip(out, axis) if reverse else out).reshape(x.shape)

    @staticmethod
    def backward(ctx, grad):
        return Cumsum.apply(grad, ctx.axis, not ctx.reverse), None, None


# ------------------------------------------------------------------- functional interface
def sum(x, dim=None, keepdim=False, dtype=None):
    """Sum over ``dim``; integer and bool tensors sum to int64, as in PyTorch."""
    if dtype is not None:
        x = to_dtype(x, dtype)
    return Sum.apply(x, _reduction_axes(x, dim, "sum"), keepdim)


def mean(x, dim=None, keepdim=False, dtype=None):
    if dtype is not None:
        x = to_dtype(x, dtype)
    if x.dtype.kind not in "fc":
        raise RuntimeError("mean: could not infer output dtype; the input dtype must be a "
                           f"floating point or complex dtype, got {x.dtype} (pass dtype=...)")
    return Mean.apply(x, _reduction_axes(x, dim, "mean"), keepdim)


def _variance_args(op, x, dim, unbiased, correction):
    """(axes, correction) for var/std and friends. PyTorch's default correction is 1 (Bessel's);
    ``unbiased=False`` means 0."""
    if isinstance(dim, (builtins.bool, np.bool_)):  # var(x, False): the legacy (x, unbiased)
        dim, unbiased = None, builtins.bool(dim)
    if unbiased is not None and correction is not None:
        raise TypeError(f"{op}: pass either unbiased or correction, not both")
    if x.dtype.kind != "f":
        raise RuntimeError(f"{op}: std and var only support floating point dtypes, got "
                           f"{x.dtype}")
    if correction is None:
        correction = 0 if unbiased is False else 1
    axes = _reduction_axes(x, dim, op)
    count = _count(x.shape, axes)
    if count - correction <= 0:
        warnings.warn(f"{op}: degrees of freedom is <= 0 (correction {correction} with {count} "
                      "elements per reduced slice); the result is inf or NaN", RuntimeWarning,
                      stacklevel=3)
    return axes, correction


def var(x, dim=None, unbiased=None, keepdim=False, correction=None):
    axes, correction = _variance_args("var", x, dim, unbiased, correction)
    return Var.apply(x, axes, correction, keepdim)


def std(x, dim=None, unbiased=None, keepdim=False, correction=None):
    axes, correction = _variance_args("std", x, dim, unbiased, correction)
    return Std.apply(x, axes, correction, keepdim)


def var_mean(x, dim=None, unbiased=None, keepdim=False, correction=None):
    """``(var, mean)`` over the same dims."""
    axes, correction = _variance_args("var_mean", x, dim, unbiased, correction)
    return Var.apply(x, axes, correction, keepdim), Mean.apply(x, axes, keepdim)


def std_mean(x, dim=None, unbiased=None, keepdim=False, correction=None):
    """``(std, mean)`` over the same dims."""
    axes, correction = _variance_args("std_mean", x, dim, unbiased, correction)
    return Std.apply(x, axes, correction, keepdim), Mean.apply(x, axes, keepdim)


def prod(x, dim=None, keepdim=False, dtype=None):
    """Product over ``dim``; integer and bool tensors multiply in int64, as in PyTorch."""
    if dtype is not None:
        x = to_dtype(x, dtype)
    return Prod.apply(x, _reduction_axes(x, dim, "prod"), keepdim)


def max(x, dim=None, keepdim=False, *, other=None):
    """``max(x)``: the largest element (the gradient split evenly among ties);
    ``max(x, dim)``: the namedtuple ``(values, indices)`` of the first maxima along ``dim``;
    ``max(x, other)``: the elementwise maximum."""
    return _extremum(x, dim, keepdim, other, largest=True)


def min(x, dim=None, keepdim=False, *, other=None):
    """``min(x)``, ``min(x, dim)`` -> ``(values, indices)``, ``min(x, other)``: as ``max``."""
    return _extremum(x, dim, keepdim, other, largest=False)


def amax(x, dim=(), keepdim=False):
    """The maximum over ``dim`` (several dims allowed); ties share the gradient evenly."""
    return _plain_extremum(x, dim, keepdim, largest=True)


def amin(x, dim=(), keepdim=False):
    """The minimum over ``dim`` (several dims allowed); ties share the gradient evenly."""
    return _plain_extremum(x, dim, keepdim, largest=False)


def argmax(x, dim=None, keepdim=False):
    """Index of the first maximum along ``dim``; with ``dim=None``, into the flattened tensor."""
    return _arg_extremum(x, dim, keepdim, largest=True)


def argmin(x, dim=None, keepdim=False):
    """Index of the first minimum along ``dim``; with ``dim=None``, into the flattened tensor."""
    return _arg_extremum(x, dim, keepdim, largest=False)


def logsumexp(x, dim, keepdim=False):
    """log(sum(exp(x))) over ``dim``, computed without overflow; a slice of -inf gives -inf."""
    x = _floating(x)
    return LogSumExp.apply(x, _reduction_axes(x, dim, "logsumexp"), keepdim)


def norm(x, p="fro", dim=None, keepdim=False):
    """The vector p-norm over ``dim`` (all elements by default): ``'fro'`` and 2 are the
    Euclidean norm, 1 the sum of magnitudes, ``inf``/``-inf`` the largest/smallest magnitude,
    0 the number of nonzeros, any other p (sum |x|^p)^(1/p)."""
    if x.dtype.kind != "f":
        raise RuntimeError(f"norm: expected a floating point tensor, got {x.dtype}")
    if isinstance(p, str):
        if p == "nuc":
            raise NotImplementedError("norm: the nuclear norm (p='nuc') is not supported")
        if p != "fro":
            raise RuntimeError(f"norm: order {p!r} not supported; use 'fro' or a number")
        p = 2
    axes = _reduction_axes(x, dim, "norm")
    if math.isinf(p):
        if x.array.size == 0:
            raise RuntimeError("norm: cannot compute the inf norm of an empty tensor (shape "
                               f"{tuple(x.shape)}): the operation has no identity")
        return Extremum.apply(abs(x), axes, keepdim, p > 0)
    return PNorm.apply(x, builtins.float(p), axes, keepdim)


def cumsum(x, dim, *, dtype=None):
    """Cumulative sum along ``dim``; integer and bool tensors accumulate in int64."""
    if dtype is not None:
        x = to_dtype(x, dtype)
    return Cumsum.apply(x, normalize_dim(dim, x.ndim, "cumsum"), False)


def _logical_reduction(reduce, op, x, dim, keepdim):
    # As in PyTorch, dim=() reduces nothing here (the result is elementwise), and uint8 inputs
    # give uint8 results.
    axes = _reduction_axes(x, dim, op, empty_means_all=False)
    out = reduce(x.array, axis=axes, keepdims=keepdim)
    return Tensor._make(np.asarray(out, dtype=np.uint8 if x.dtype == np.uint8 else np.bool_))


def all(x, dim=None, keepdim=False):
    return _logical_reduction(np.all, "all", x, dim, keepdim)


def any(x, dim=None, keepdim=False):
    return _logical_reduction(np.any, "any", x, dim, keepdim)
