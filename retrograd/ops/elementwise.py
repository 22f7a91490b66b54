"""Elementwise operations: arithmetic, math functions, activations, comparisons.

Broadcasting is undone once, in the engine: a binary op's backward returns gradients of the
broadcast shape and the engine sums them back to each input's shape.
"""
import builtins
import math

import numpy as np

from ..autograd.function import Function
from ..tensor import Tensor
from ._util import as_tensor_like, coerce

try:  # SciPy's erf is exact and fast; the fallback keeps the core NumPy-only.
    from scipy.special import erf as _erf
except ImportError:  # pragma: no cover - exercised only where SciPy is missing
    _erf_scalar = np.frompyfunc(math.erf, 1, 1)

    def _erf(x):
        return _erf_scalar(x).astype(x.dtype)


def _zeros_grad(grad):
    return grad * 0


# ----------------------------------------------------------------------------- arithmetic
class Add(Function):
    """d(x + y) = dx + dy"""

    @staticmethod
    def forward(ctx, x, y):
        return x.array + y.array

    @staticmethod
    def backward(ctx, grad):
        return grad, grad


class Sub(Function):
    """d(x - y) = dx - dy"""

    @staticmethod
    def forward(ctx, x, y):
        return x.array - y.array

    @staticmethod
    def backward(ctx, grad):
        return grad, (-grad if ctx.needs_input_grad[1] else None)


class Mul(Function):
    """d(x * y) = y dx + x dy"""

    @staticmethod
    def forward(ctx, x, y):
        # Keep only what the wanted gradients use, so `h *= 2` on a recorded h stays legal.
        needs_x, needs_y = ctx.needs_input_grad
        ctx.save_for_backward(x if needs_y else None, y if needs_x else None)
        return x.array * y.array

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        return (grad * y if ctx.needs_input_grad[0] else None,
                grad * x if ctx.needs_input_grad[1] else None)


class Div(Function):
    """d(x / y) = dx / y - x dy / y^2"""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x if ctx.needs_input_grad[1] else None, y)
        return x.array / y.array

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        gx = grad / y if ctx.needs_input_grad[0] else None
        gy = -grad * x / (y * y) if ctx.needs_input_grad[1] else None
        return gx, gy


class Neg(Function):
    """d(-x) = -dx"""

    @staticmethod
    def forward(ctx, x):
        return -x.array

    @staticmethod
    def backward(ctx, grad):
        return -grad


class PowScalar(Function):
    """d(x^p) = p x^(p-1) dx, for a constant exponent p"""

    @staticmethod
    def forward(ctx, x, p):
        ctx.save_for_backward(x)
        ctx.p = p
        return x.array ** p

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        p = ctx.p
        if p == 0:
            return _zeros_grad(grad), None
        if p == 2:
            return grad * x * 2.0, None
        return grad * p * x ** (p - 1), None


class Pow(Function):
    """d(x^y) = y x^(y-1) dx + x^y log(x) dy"""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x.array ** y.array

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        gx = grad * y * x ** (y - 1) if ctx.needs_input_grad[0] else None
        gy = None
        if ctx.needs_input_grad[1]:
            # x = 0 with y >= 0 contributes 0 (the limit), as in PyTorch, instead of 0 * -inf.
            safe = where(x == 0, 1.0, x)
            gy = where((x == 0) & (y >= 0), 0.0, grad * x ** y * log(safe))
        return gx, gy


class Maximum(Function):
    """d max(x, y) = dx where x > y, dy where y > x, half of each on ties"""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return np.maximum(x.array, y.array)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        share = _tie_share(x.array > y.array, x.array == y.array, grad.dtype)
        return grad * share, grad * (1.0 - share)


class Minimum(Function):
    """d min(x, y) = dx where x < y, dy where y < x, half of each on ties"""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return np.minimum(x.array, y.array)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        share = _tie_share(x.array < y.array, x.array == y.array, grad.dtype)
        return grad * share, grad * (1.0 - share)


def _tie_share(wins, ties, dtype):
    """The fraction of the gradient the first operand gets: 1, 0, or 1/2 on a tie."""
    return Tensor._make(np.where(ties, 0.5, wins).astype(dtype))


class Where(Function):
    """d where(c, x, y) = dx where c, dy elsewhere"""

    @staticmethod
    def forward(ctx, condition, x, y):
        ctx.condition = condition.array
        return np.where(condition.array, x.array, y.array)

    @staticmethod
    def backward(ctx, grad):
        keep = Tensor._make(ctx.condition)
        zero = Tensor._make(np.zeros((), grad.dtype))
        return (None,
                where(keep, grad, zero) if ctx.needs_input_grad[1] else None,
                where(keep, zero, grad) if ctx.needs_input_grad[2] else None)


# ------------------------------------------------------------------------- math functions
class Exp(Function):
    """d exp(x) = exp(x) dx"""

    @staticmethod
    def forward(ctx, x):
        y = np.exp(x.array)
        ctx.save_output(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.saved_output


class Expm1(Function):
    """d (exp(x) - 1) = exp(x) dx"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.expm1(x.array)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * exp(x)


class Log(Function):
    """d log(x) = dx / x"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log(x.array)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / x


class Log1p(Function):
    """d log(1 + x) = dx / (1 + x)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log1p(x.array)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (x + 1.0)


class Sqrt(Function):
    """d sqrt(x) = dx / (2 sqrt(x))"""

    @staticmethod
    def forward(ctx, x):
        y = np.sqrt(x.array)
        ctx.save_output(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        return grad / (ctx.saved_output * 2.0)


class Abs(Function):
    """d |x| = sign(x) dx (0 at x = 0)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.abs(x.array)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * sign(x)


class Sin(Function):
    """d sin(x) = cos(x) dx"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sin(x.array)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * cos(x)


class Cos(Function):
    """d cos(x) = -sin(x) dx"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.cos(x.array)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return -grad * sin(x)


class Tanh(Function):
    """d tanh(x) = (1 - tanh(x)^2) dx"""

    @staticmethod
    def forward(ctx, x):
        y = np.tanh(x.array)
        ctx.save_output(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        return TanhBackward.apply(grad, ctx.saved_output)


class TanhBackward(Function):
    """g (1 - y^2), tanh's backward as one op; d = (1 - y^2) dg - 2 g y dy"""

    @staticmethod
    def forward(ctx, grad, y):
        ctx.save_for_backward(grad, y)
        y = y.array
        return grad.array * (1.0 - y * y)

    @staticmethod
    def backward(ctx, gg):
        grad, y = ctx.saved_tensors
        return (gg * (1.0 - y * y) if ctx.needs_input_grad[0] else None,
                gg * grad * y * -2.0 if ctx.needs_input_grad[1] else None)


class Sigmoid(Function):
    """d sigmoid(x) = sigmoid(x) (1 - sigmoid(x)) dx"""

    @staticmethod
    def forward(ctx, x):
        y = _stable_sigmoid(x.array)
        ctx.save_output(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        return SigmoidBackward.apply(grad, ctx.saved_output)


class SigmoidBackward(Function):
    """g y (1 - y), sigmoid's backward as one op; d = y (1 - y) dg + g (1 - 2y) dy"""

    @staticmethod
    def forward(ctx, grad, y):
        ctx.save_for_backward(grad, y)
        y = y.array
        return grad.array * y * (1.0 - y)

    @staticmethod
    def backward(ctx, gg):
        grad, y = ctx.saved_tensors
        return (gg * y * (1.0 - y) if ctx.needs_input_grad[0] else None,
                gg * grad * (1.0 - 2.0 * y) if ctx.needs_input_grad[1] else None)


def _stable_sigmoid(a):
    # exp of a non-positive number only: no overflow for large |a|.
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(a.dtype, copy=False)


class Clamp(Function):
    """d clamp(x, lo, hi) = dx where lo <= x <= hi, else 0"""

    @staticmethod
    def forward(ctx, x, lo, hi):
        a = x.array
        inside = np.ones(a.shape, dtype=bool)
        if lo is not None:
            inside &= a >= lo
        if hi is not None:
            inside &= a <= hi
        ctx.inside = inside
        return np.clip(a, lo, hi).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        return grad * Tensor._make(ctx.inside.astype(grad.dtype)), None, None


class Rounding(Function):
    """floor, ceil, round, trunc, sign: piecewise constant, so the gradient is 0"""

    @staticmethod
    def forward(ctx, x, fn):
        return fn(x.array)

    @staticmethod
    def backward(ctx, grad):
        return _zeros_grad(grad), None


# ------------------------------------------------------------------------------ activations
class Relu(Function):
    """d relu(x) = dx where x > 0, else 0"""

    @staticmethod
    def forward(ctx, x):
        y = np.maximum(x.array, 0)
        ctx.save_output(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        return grad * Tensor._make((ctx.saved_output.array > 0).astype(grad.dtype))


class LeakyRelu(Function):
    """d leaky_relu(x) = dx where x > 0, slope dx elsewhere"""

    @staticmethod
    def forward(ctx, x, slope):
        a = x.array
        ctx.positive = a > 0
        ctx.slope = slope
        return np.where(ctx.positive, a, a * slope).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        factor = np.where(ctx.positive, 1.0, ctx.slope).astype(grad.dtype)
        return grad * Tensor._make(factor), None


class Elu(Function):
    """d elu(x) = dx where x > 0, alpha exp(x) dx elsewhere"""

    @staticmethod
    def forward(ctx, x, alpha):
        ctx.save_for_backward(x)
        ctx.alpha = alpha
        a = x.array
        return np.where(a > 0, a, alpha * np.expm1(np.minimum(a, 0))).astype(a.dtype,
                                                                             copy=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        positive = Tensor._make(x.array > 0)
        return where(positive, grad, grad * exp(minimum(x, 0.0)) * ctx.alpha), None


class Gelu(Function):
    """d gelu(x) = (Phi(x) + x phi(x)) dx, Phi/phi the standard normal cdf/pdf
    ('tanh': the tanh approximation and its exact derivative)"""

    @staticmethod
    def forward(ctx, x, approximate):
        ctx.save_for_backward(x)
        ctx.approximate = approximate
        a = x.array
        if approximate == "tanh":
            inner = math.sqrt(2.0 / math.pi) * (a + 0.044715 * a ** 3)
            return (0.5 * a * (1.0 + np.tanh(inner))).astype(a.dtype, copy=False)
        return (0.5 * a * (1.0 + _erf(a / math.sqrt(2.0)))).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        if ctx.approximate == "tanh":
            k = math.sqrt(2.0 / math.pi)
            t = tanh(k * (x + 0.044715 * x ** 3))
            dinner = k * (1.0 + 3 * 0.044715 * x * x)
            return grad * (0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * dinner), None
        cdf = 0.5 * (1.0 + Erf.apply(x * (1.0 / math.sqrt(2.0))))
        pdf = exp(-0.5 * x * x) * (1.0 / math.sqrt(2.0 * math.pi))
        return grad * (cdf + x * pdf), None


class Erf(Function):
    """d erf(x) = 2/sqrt(pi) exp(-x^2) dx"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _erf(x.array).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * exp(-x * x) * (2.0 / math.sqrt(math.pi))


class Silu(Function):
    """d (x sigmoid(x)) = sigmoid(x) (1 + x (1 - sigmoid(x))) dx"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.array * _stable_sigmoid(x.array)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        s = sigmoid(x)
        return grad * s * (1.0 + x * (1.0 - s))


class Softplus(Function):
    """d softplus(x) = sigmoid(beta x) dx (and dx above the linear threshold)"""

    @staticmethod
    def forward(ctx, x, beta, threshold):
        ctx.save_for_backward(x)
        ctx.beta, ctx.threshold = beta, threshold
        a = x.array
        scaled = a * beta
        soft = np.logaddexp(0, scaled) / beta
        return np.where(scaled > threshold, a, soft).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        scaled = x * ctx.beta
        linear = Tensor._make(scaled.array > ctx.threshold)
        return where(linear, grad, grad * sigmoid(scaled)), None, None


# ------------------------------------------------------------------- functional interface
def add(x, y, alpha=1):
    if alpha != 1:
        y = mul(y, alpha)
    return Add.apply(*coerce(x, y))


def sub(x, y, alpha=1):
    if alpha != 1:
        y = mul(y, alpha)
    return Sub.apply(*coerce(x, y))


def mul(x, y):
    return Mul.apply(*coerce(x, y))


def div(x, y, rounding_mode=None):
    x, y = coerce(x, y)
    if rounding_mode is None:
        if x.dtype.kind not in "fc":  # true division of integers gives floats, as in PyTorch
            from .. import _dtype
            x, y = x.to(_dtype.get_default_dtype()), y.to(_dtype.get_default_dtype())
        return Div.apply(x, y)
    if rounding_mode == "floor":
        return floor_divide(x, y)
    if rounding_mode == "trunc":
        return trunc(Div.apply(x, y)) if x.dtype.kind == "f" else Tensor._make(
            np.trunc(x.array / y.array).astype(x.dtype))
    raise ValueError(f"div: rounding_mode must be None, 'trunc' or 'floor', got {rounding_mode!r}")


true_divide = divide = div
multiply = mul
subtract = sub


def floor_divide(x, y):
    x, y = coerce(x, y)
    return Tensor._make(np.floor_divide(x.array, y.array))  # not differentiable, as in PyTorch


def remainder(x, y):
    x, y = coerce(x, y)
    return x - floor_divide(x, y).detach() * y if x.dtype.kind == "f" else Tensor._make(
        np.remainder(x.array, y.array))


fmod = remainder


def neg(x):
    return Neg.apply(x)


negative = neg


def pow(x, exponent):
    if isinstance(x, Tensor) and isinstance(exponent, (builtins.int, builtins.float)) \
            and not isinstance(exponent, builtins.bool):
        if x.dtype.kind not in "fc" and (isinstance(exponent, builtins.float) or exponent < 0):
            from .. import _dtype
            x = x.to(_dtype.get_default_dtype())
        return PowScalar.apply(x, exponent)
    return Pow.apply(*coerce(x, exponent))


def square(x):
    return PowScalar.apply(x, 2)


def exp(x):
    return Exp.apply(_floating(x))


def expm1(x):
    return Expm1.apply(_floating(x))


def log(x):
    return Log.apply(_floating(x))


def log2(x):
    return log(x) * (1.0 / math.log(2.0))


def log10(x):
    return log(x) * (1.0 / math.log(10.0))


def log1p(x):
    return Log1p.apply(_floating(x))


def sqrt(x):
    return Sqrt.apply(_floating(x))


def rsqrt(x):
    return PowScalar.apply(_floating(x), -0.5)


def reciprocal(x):
    return PowScalar.apply(_floating(x), -1)


def abs(x):
    return Abs.apply(x)


absolute = abs


def sign(x):
    return Rounding.apply(x, np.sign)


def floor(x):
    return Rounding.apply(x, np.floor)


def ceil(x):
    return Rounding.apply(x, np.ceil)


def trunc(x):
    return Rounding.apply(x, np.trunc)


def round(x, decimals=0):
    if decimals:
        return Rounding.apply(x, lambda a: np.round(a, decimals))
    return Rounding.apply(x, np.round)  # half to even, as in PyTorch


def sin(x):
    return Sin.apply(_floating(x))


def cos(x):
    return Cos.apply(_floating(x))


def tanh(x):
    return Tanh.apply(_floating(x))


def sigmoid(x):
    return Sigmoid.apply(_floating(x))


def erf(x):
    return Erf.apply(_floating(x))


def relu(x):
    return Relu.apply(x)


def leaky_relu(x, negative_slope=0.01):
    return LeakyRelu.apply(x, negative_slope)


def elu(x, alpha=1.0):
    return Elu.apply(x, alpha)


def gelu(x, approximate="none"):
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return Gelu.apply(x, approximate)


def silu(x):
    return Silu.apply(x)


def softplus(x, beta=1.0, threshold=20.0):
    return Softplus.apply(x, beta, threshold)


def clamp(x, min=None, max=None):
    if min is None and max is None:
        raise RuntimeError("clamp: at least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        if min is not None:
            x = maximum(x, as_tensor_like(min, x))
        if max is not None:
            x = minimum(x, as_tensor_like(max, x))
        return x
    return Clamp.apply(x, min, max)


clip = clamp


def maximum(x, y):
    return Maximum.apply(*coerce(x, y))


def minimum(x, y):
    return Minimum.apply(*coerce(x, y))


def where(condition, x=None, y=None):
    if x is None and y is None:
        from .indexing import nonzero
        return nonzero(condition, as_tuple=True)
    condition = condition if isinstance(condition, Tensor) else Tensor._make(np.asarray(condition))
    if condition.dtype != np.bool_:
        condition = Tensor._make(condition.array.astype(bool))
    x, y = coerce(x, y)
    return Where.apply(condition, x, y)


def lerp(start, end, weight):
    return start + (end - start) * weight


def _floating(x):
    """Integer inputs of transcendental functions become the default float, as in PyTorch."""
    if x.array.dtype.kind in "fc":
        return x
    from .. import _dtype
    return x.to(_dtype.get_default_dtype())


# ------------------------------------------------------------- comparisons (no gradients)
def _compare(ufunc):
    def compare(x, y):
        x, y = coerce(x, y)
        return Tensor._make(ufunc(x.array, y.array))
    compare.__name__ = ufunc.__name__
    return compare


eq = _compare(np.equal)
ne = _compare(np.not_equal)
lt = less = _compare(np.less)
le = less_equal = _compare(np.less_equal)
gt = greater = _compare(np.greater)
ge = greater_equal = _compare(np.greater_equal)
logical_and = _compare(np.logical_and)
logical_or = _compare(np.logical_or)
logical_xor = _compare(np.logical_xor)


def logical_not(x):
    return Tensor._make(np.logical_not(x.array))


def bitwise_not(x):
    return Tensor._make(np.invert(x.array))


def isnan(x):
    return Tensor._make(np.isnan(x.array))


def isinf(x):
    return Tensor._make(np.isinf(x.array))


def isfinite(x):
    return Tensor._make(np.isfinite(x.array))


def equal(x, y):
    return x.shape == y.shape and builtins.bool(np.array_equal(x.array, y.array))


def allclose(x, y, rtol=1e-05, atol=1e-08, equal_nan=False):
    return builtins.bool(np.allclose(x.array, y.array, rtol=rtol, atol=atol, equal_nan=equal_nan))


def isclose(x, y, rtol=1e-05, atol=1e-08, equal_nan=False):
    return Tensor._make(np.isclose(x.array, y.array, rtol=rtol, atol=atol, equal_nan=equal_nan))
