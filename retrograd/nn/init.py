"""Weight initialisation, in place (``init.kaiming_uniform_(layer.weight, a=math.sqrt(5))``).

The schemes keep the scale of activations (or of gradients) roughly constant from layer to
layer. For a weight of shape ``(out, in, *kernel)`` the receptive field is ``prod(kernel)``,
``fan_in = in * receptive`` and ``fan_out = out * receptive``:

- Xavier/Glorot: ``std = gain * sqrt(2 / (fan_in + fan_out))``;
- Kaiming/He: ``std = gain / sqrt(fan)``, with ``fan`` the fan-in (forward) or fan-out
  (backward) and ``gain`` from ``calculate_gain`` (sqrt(2) for ReLU);
- a uniform distribution ``U(-b, b)`` has that std when ``b = sqrt(3) * std``.

Every function draws from the default generator (or ``generator``), so ``retrograd.manual_seed``
makes initialisation repeatable, writes under ``no_grad`` and returns the tensor.
"""
import math
import numbers
import warnings

import numpy as np

from .. import random as _random
from ..autograd.grad_mode import no_grad
from ..tensor import Tensor

try:  # SciPy's erfinv gives the exact inverse-CDF sampler for trunc_normal_.
    from scipy.special import erfinv as _erfinv
except ImportError:  # pragma: no cover - exercised only where SciPy is missing
    _erfinv = None

__all__ = ["calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "ones_",
           "zeros_", "eye_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_",
           "kaiming_normal_", "orthogonal_"]

_UNIT_GAIN = {"linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
              "conv_transpose3d", "sigmoid"}


def calculate_gain(nonlinearity, param=None):
    """The factor by which ``nonlinearity`` scales the std of its input, inverted: 1 for linear
    layers and sigmoid, 5/3 for tanh, sqrt(2) for ReLU, sqrt(2 / (1 + slope^2)) for leaky ReLU
    (slope ``param``, default 0.01), 3/4 for SELU."""
    if nonlinearity in _UNIT_GAIN:
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, numbers.Real) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"calculate_gain: negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def _calculate_fan_in_and_fan_out(tensor):
    if tensor.dim() < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 "
                         f"dimensions (got shape {tuple(tensor.shape)})")
    receptive_field = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive_field, tensor.shape[0] * receptive_field


def _calculate_correct_fan(tensor, mode):
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of fan_in, fan_out")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _overwrite(tensor, values):
    """Writes ``values`` into ``tensor`` in place (cast to its dtype) and returns it."""
    with no_grad():
        tensor.copy_(Tensor._make(np.asarray(values)))
    return tensor


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """Fills ``tensor`` with draws from U(a, b)."""
    return _overwrite(tensor, _random.rng(generator).uniform(a, b, size=tensor.shape))


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """Fills ``tensor`` with draws from N(mean, std^2)."""
    draws = _random.rng(generator).standard_normal(size=tensor.shape)
    return _overwrite(tensor, draws * std + mean)


def _standard_normal_cdf(x):
    return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """Fills ``tensor`` with draws from N(mean, std^2) restricted to [a, b] (bounds in the
    values' units, not in stds): inverse-CDF sampling of a uniform draw between the CDF's
    values at the bounds."""
    if not a < b:
        raise ValueError(f"trunc_normal_: expected a < b, got a={a}, b={b}")
    rng = _random.rng(generator)
    low = _standard_normal_cdf((a - mean) / std)
    high = _standard_normal_cdf((b - mean) / std)
    if _erfinv is not None:
        draws = _erfinv(rng.uniform(2 * low - 1, 2 * high - 1, size=tensor.shape))
        values = mean + std * math.sqrt(2.0) * draws
    else:  # rejection sampling: redraw the values that fell outside until none is left
        values = rng.standard_normal(size=tensor.shape) * std + mean
        outside = (values < a) | (values > b)
        while outside.any():
            values[outside] = rng.standard_normal(size=int(outside.sum())) * std + mean
            outside = (values < a) | (values > b)
    return _overwrite(tensor, np.clip(values, a, b))


def constant_(tensor, val):
    return _overwrite(tensor, val)


def ones_(tensor):
    return _overwrite(tensor, 1)


def zeros_(tensor):
    return _overwrite(tensor, 0)


def eye_(tensor):
    """Fills a 2-D ``tensor`` with the identity (ones on the diagonal of a non-square one)."""
    if tensor.dim() != 2:
        raise ValueError(f"eye_: only tensors with 2 dimensions are supported, got shape "
                         f"{tuple(tensor.shape)}")
    return _overwrite(tensor, np.eye(*tensor.shape))


def xavier_uniform_(tensor, gain=1.0, generator=None):
    """U(-b, b) with b = gain * sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    bound = math.sqrt(3.0) * gain * math.sqrt(2.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    """N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)


def _kaiming_std(tensor, a, mode, nonlinearity):
    return calculate_gain(nonlinearity, a) / math.sqrt(_calculate_correct_fan(tensor, mode))


def _is_empty(tensor, op):
    if tensor.numel() == 0:
        warnings.warn(f"{op}: initializing zero-element tensors is a no-op")
        return True
    return False


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """U(-b, b) with b = sqrt(3) * gain / sqrt(fan); ``a`` is the leaky ReLU's negative slope
    and ``mode`` picks fan_in (keeps forward activations' scale) or fan_out (gradients')."""
    if _is_empty(tensor, "kaiming_uniform_"):
        return tensor
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """N(0, std^2) with std = gain / sqrt(fan) (arguments as in ``kaiming_uniform_``)."""
    if _is_empty(tensor, "kaiming_normal_"):
        return tensor
    return normal_(tensor, 0.0, _kaiming_std(tensor, a, mode, nonlinearity), generator)


def orthogonal_(tensor, gain=1, generator=None):
    """A (semi-)orthogonal matrix, times ``gain``, viewed as ``(shape[0], rest)``: the Q of the
    QR decomposition of a Gaussian matrix, with R's diagonal made positive so that Q is
    uniformly distributed over orthogonal matrices."""
    if tensor.dim() < 2:
        raise ValueError(f"orthogonal_: only tensors with 2 or more dimensions are supported, "
                         f"got shape {tuple(tensor.shape)}")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    gaussian = _random.rng(generator).standard_normal(size=(rows, cols))
    if rows < cols:
        gaussian = gaussian.T
    q, r = np.linalg.qr(gaussian)
    q *= np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _overwrite(tensor, (gain * q).reshape(tensor.shape))
