"""Elementwise operations: arithmetic, math functions, activations, comparisons.

Broadcasting is undone once, in the engine: a binary op's backward returns gradients of the
broadcast shape and the engine sums them back to each input's shape.
"""
import builtins
import math

import numpy as np

from .. import _dtype
from ..autograd.function import Function
from ..tensor import Tensor
from ._util import coerce

try:  # SciPy's erf is exact and fast; the fallback keeps the core NumPy-only.
    from scipy.special import erf as _erf
except ImportError:  # pragma: no cover - exercised only where SciPy is missing
    _erf_scalar = np.frompyfunc(math.erf, 1, 1)

    def _erf(x):
        return _erf_scalar(x).astype(x.dtype)


__all__ = [
    # arithmetic
    "add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide", "floor_divide",
    "remainder", "fmod", "neg", "negative", "pow", "square", "lerp",
    # math functions
    "exp", "expm1", "log", "log1p", "log2", "log10", "sqrt", "rsqrt", "reciprocal", "abs",
    "absolute", "sign", "floor", "ceil", "round", "trunc", "sin", "cos", "tanh", "sigmoid", "erf",
    "clamp", "clip", "maximum", "minimum", "where",
    # activations
    "relu", "leaky_relu", "elu", "gelu", "silu", "softplus",
    # comparisons and tests
    "eq", "ne", "lt", "less", "le", "less_equal", "gt", "greater", "ge", "greater_equal",
    "logical_and", "logical_or", "logical_xor", "logical_not", "bitwise_not", "isnan", "isinf",
    "isfinite", "equal", "allclose", "isclose",
]


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


class AddConstant(Function):
    """d(x + c) = dx, for a Python number c (kept a number: no tensor is made for it)"""

    @staticmethod
    def forward(ctx, x, c):
        return x.array + c

    @staticmethod
    def backward(ctx, grad):
        return grad


class MulConstant(Function):
    """d(x * c) = c dx, for a Python number c"""

    @staticmethod
    def forward(ctx, x, c):
        ctx.constant = c
        return x.array * c

    @staticmethod
    def backward(ctx, grad):
        return MulConstant.apply(grad, ctx.constant)


class DivConstant(Function):
    """d(x / c) = dx / c, for a Python number c"""

    @staticmethod
    def forward(ctx, x, c):
        ctx.constant = c
        return x.array / c

    @staticmethod
    def backward(ctx, grad):
        return DivConstant.apply(grad, ctx.constant)


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
        out = x.array ** y.array
        ctx.save_output(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        gx = gy = None
        # The masked entries below hold 0 * inf or log(0): expected, so no warnings.
        with np.errstate(divide="ignore", invalid="ignore"):
            if ctx.needs_input_grad[0]:
                # y = 0 gives 0 even at x = 0 (not 0 * 0^-1), as in PyTorch.
                gx = where(y == 0, 0.0, grad * y * x ** (y - 1))
            if ctx.needs_input_grad[1]:
                # x = 0 with y >= 0 gives 0 (the limit) instead of 0 * log(0), as in PyTorch.
                gy = where((x == 0) & (y >= 0), 0.0, grad * ctx.saved_output * log(x))
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
        return _split_on_ties(ctx, grad, x.array > y.array, x.array == y.array)


class Minimum(Function):
    """d min(x, y) = dx where x < y, dy where y < x, half of each on ties"""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return np.minimum(x.array, y.array)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        return _split_on_ties(ctx, grad, x.array < y.array, x.array == y.array)


def _split_on_ties(ctx, grad, wins, ties):
    """The gradient goes to the operand that wins, half to each on a tie (PyTorch's rule)."""
    share = Tensor._make(np.where(ties, 0.5, wins).astype(grad.dtype))  # the first one's part
    return (grad * share if ctx.needs_input_grad[0] else None,
            grad * (1.0 - share) if ctx.needs_input_grad[1] else None)


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
        if True in ctx.needs_input_grad:  # else this is a plain backward pass (no create_graph)
            ctx.save_for_backward(grad, y)
        g, y = grad.array, y.array
        return g - g * y * y  # = g (1 - y^2) from arrays only: NumPy is slower with a Python float

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
        if True in ctx.needs_input_grad:  # else this is a plain backward pass (no create_graph)
            ctx.save_for_backward(grad, y)
        g_y = grad.array * y.array
        return g_y - g_y * y.array  # = g y (1 - y) from arrays only (see TanhBackward)

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
    """d clamp(x, lo, hi) = dx where lo <= x <= hi, d lo where x < lo, d hi where x > hi

    Bounds are tensors or None. On a tie the gradient goes to x; when lo > hi the result is hi
    and so is the gradient (PyTorch's conventions)."""

    @staticmethod
    def forward(ctx, x, lo, hi):
        a = x.array
        lo = None if lo is None else lo.array
        hi = None if hi is None else hi.array
        ctx.masks = _clamp_masks(ctx.needs_input_grad, a, lo, hi)
        return np.clip(a, lo, hi)

    @staticmethod
    def backward(ctx, grad):
        return tuple(None if mask is None else grad * Tensor._make(mask.astype(grad.dtype))
                     for mask in ctx.masks)


def _clamp_masks(needs, a, lo, hi):
    """Where x, lo and hi each get the gradient (None for inputs that need none)."""
    x_mask = lo_mask = hi_mask = None
    if needs[0]:
        x_mask = True  # at least one bound is given, so this becomes an array
        if lo is not None:
            x_mask = x_mask & (a >= lo)
        if hi is not None:
            x_mask = x_mask & (a <= hi)
    if needs[1]:
        lo_mask = a < lo if hi is None else (a < lo) & (lo < hi)
    if needs[2]:
        hi_mask = a > hi if lo is None else (a > hi) | (hi < lo)
    return x_mask, lo_mask, hi_mask


class Rounding(Function):
    """floor, ceil, round, trunc, sign, floor and trunc division: piecewise constant, so the
    gradient is 0 (``fn`` maps the operands' arrays to the result)"""

    @staticmethod
    def forward(ctx, fn, *operands):
        return fn(*(t.array for t in operands))

    @staticmethod
    def backward(ctx, grad):
        return (None,) + tuple(_zeros_grad(grad) if need else None
                               for need in ctx.needs_input_grad[1:])


class Modulo(Function):
    """d(x - q y) = dx - q dy, with q = x / y rounded by ``rounding`` (floor for remainder,
    trunc for fmod), piecewise constant"""

    @staticmethod
    def forward(ctx, x, y, modulo, rounding):
        ctx.save_for_backward(x, y)
        ctx.rounding = rounding
        return modulo(x.array, y.array)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        gy = None
        if ctx.needs_input_grad[1]:
            gy = -grad * Tensor._make(ctx.rounding(x.array, y.array))
        return (grad if ctx.needs_input_grad[0] else None), gy, None, None


# ------------------------------------------------------------------------------ activations
class Relu(Function):
    """d relu(x) = dx where x > 0, else 0"""

    reuses_grad = True

    @staticmethod
    def forward(ctx, x):
        y = np.maximum(x.array, 0)
        ctx.save_output(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        positive = ctx.saved_output.array > 0
        if ctx.grad_is_exclusive:  # the incoming gradient is ours: mask it in place
            np.multiply(grad.array, positive, out=grad.array)
            return grad
        # A float times a boolean mask is one pass (no float copy of the mask); Mul keeps it
        # differentiable for double backward.
        return Mul.apply(grad, Tensor._make(positive))


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
# Python numbers that leave a floating tensor's dtype as it is (PyTorch's and NumPy's rules
# agree there): such an operand skips type promotion and stays a number (the *Constant ops).
_NUMBERS = (float, int)


def add(x, y, alpha=1):
    if alpha != 1:
        y = mul(y, alpha)
    if type(y) in _NUMBERS and isinstance(x, Tensor) and x.array.dtype.kind in "fc":
        return AddConstant.apply(x, y)
    if type(x) in _NUMBERS and isinstance(y, Tensor) and y.array.dtype.kind in "fc":
        return AddConstant.apply(y, x)
    return Add.apply(*coerce(x, y))


def sub(x, y, alpha=1):
    if alpha != 1:
        y = mul(y, alpha)
    if type(y) in _NUMBERS and isinstance(x, Tensor) and x.array.dtype.kind in "fc":
        return AddConstant.apply(x, -y)
    return Sub.apply(*coerce(x, y))


def mul(x, y):
    if type(y) in _NUMBERS and isinstance(x, Tensor) and x.array.dtype.kind in "fc":
        return MulConstant.apply(x, y)
    if type(x) in _NUMBERS and isinstance(y, Tensor) and y.array.dtype.kind in "fc":
        return MulConstant.apply(y, x)
    return Mul.apply(*coerce(x, y))


def div(x, y, rounding_mode=None):
    if rounding_mode is None:
        if type(y) in _NUMBERS and isinstance(x, Tensor) and x.array.dtype.kind in "fc":
            return DivConstant.apply(x, y)
        x, y = coerce(x, y)
        if x.dtype.kind not in "fc":  # true division of integers gives floats, as in PyTorch
            x, y = _floating(x), _floating(y)
        return Div.apply(x, y)
    if rounding_mode == "floor":
        return floor_divide(x, y)
    if rounding_mode == "trunc":
        return Rounding.apply(_trunc_divide, *_division_operands("div", x, y))
    raise ValueError(f"div: rounding_mode must be None, 'trunc' or 'floor', got {rounding_mode!r}")


true_divide = divide = div
multiply = mul
subtract = sub


def floor_divide(x, y):
    """Floor division. Its gradient is 0 (PyTorch refuses to differentiate it)."""
    return Rounding.apply(np.floor_divide, *_division_operands("floor_divide", x, y))


def remainder(x, y):
    """``x - floor(x / y) * y``: the result has the sign of ``y`` (Python's ``%``)."""
    x, y = _division_operands("remainder", x, y)
    return Modulo.apply(x, y, np.remainder, np.floor_divide)


def fmod(x, y):
    """``x - trunc(x / y) * y``: the result has the sign of ``x`` (C's ``fmod``)."""
    x, y = _division_operands("fmod", x, y)
    return Modulo.apply(x, y, np.fmod, _trunc_divide)


def _division_operands(op, x, y):
    """Promoted operands; integer division by zero raises, as in PyTorch (floats give inf/nan)."""
    x, y = coerce(x, y)
    if y.dtype.kind in "iub" and not y.array.all():
        raise RuntimeError(f"{op}: integer division by zero")
    return x, y


def _trunc_divide(a, b):
    if a.dtype.kind == "f":
        return np.trunc(a / b)
    # Exact for integers (a float quotient would round large int64 values).
    return np.sign(a) * np.sign(b) * (np.abs(a) // np.abs(b))


def neg(x):
    return Neg.apply(x)


negative = neg


def pow(x, exponent):
    if isinstance(exponent, np.generic):  # a NumPy scalar exponent acts as a Python number
        exponent = exponent.item()
    if isinstance(x, Tensor) and isinstance(exponent, (builtins.int, builtins.float)) \
            and not isinstance(exponent, builtins.bool):
        if x.dtype.kind not in "fc":
            if isinstance(exponent, builtins.float):
                x = _floating(x)
            elif exponent < 0:
                raise RuntimeError(f"pow: integers to negative integer powers are not allowed "
                                   f"(got a {x.dtype} tensor and exponent {exponent})")
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
    return Rounding.apply(_sign, x)


def _sign(a):
    if a.dtype.kind != "f":
        return np.sign(a)
    # Comparisons rather than np.sign: sign(nan) is 0 in PyTorch.
    return (a > 0).astype(a.dtype) - (a < 0).astype(a.dtype)


def floor(x):
    return Rounding.apply(np.floor, x)


def ceil(x):
    return Rounding.apply(np.ceil, x)


def trunc(x):
    return Rounding.apply(np.trunc, x)


def round(x, decimals=0):
    if decimals:
        return Rounding.apply(lambda a: np.round(a, decimals), x)
    return Rounding.apply(np.round, x)  # half to even, as in PyTorch


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
    return LeakyRelu.apply(_require_floating("leaky_relu", x), negative_slope)


def elu(x, alpha=1.0):
    return Elu.apply(_require_floating("elu", x), alpha)


def gelu(x, approximate="none"):
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return Gelu.apply(_require_floating("gelu", x), approximate)


def silu(x):
    return Silu.apply(_require_floating("silu", x))


def softplus(x, beta=1.0, threshold=20.0):
    return Softplus.apply(_require_floating("softplus", x), beta, threshold)


def _require_floating(op, x):
    """Activations with a slope or curve are defined for floating tensors only (PyTorch)."""
    if x.array.dtype.kind not in "fc":
        raise RuntimeError(f"{op}: expected a floating point tensor, got dtype {x.dtype}")
    return x


def clamp(x, min=None, max=None):
    """Bounds are numbers or tensors (broadcast); the result has their promoted dtype, so an
    integer tensor clamped to 0.5 becomes float32, as in PyTorch."""
    if min is None and max is None:
        raise RuntimeError("clamp: at least one of 'min' or 'max' must not be None")
    x, *bounds = coerce(x, *(b for b in (min, max) if b is not None))
    lo = None if min is None else bounds.pop(0)
    hi = None if max is None else bounds.pop(0)
    return Clamp.apply(x, lo, hi)


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
