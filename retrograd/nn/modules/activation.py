"""Activation layers: thin modules over ``retrograd.nn.functional`` that hold the function's
settings (and show them in ``repr``). ``inplace`` is accepted for compatibility; the functional
forms decide what it does."""
from .. import functional as F
from .module import Module

__all__ = ["ReLU", "ReLU6", "LeakyReLU", "ELU", "GELU", "SiLU", "Tanh", "Sigmoid", "LogSigmoid",
           "Softplus", "Hardtanh", "Softmax", "LogSoftmax"]


def _settings(*settings, inplace=False):
    """``extra_repr`` text: the given ``name=value`` settings, then ``inplace=True`` if set."""
    return ", ".join(settings + (("inplace=True",) if inplace else ()))


class ReLU(Module):
    """max(0, x)"""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.relu(input, inplace=self.inplace)

    def extra_repr(self):
        return _settings(inplace=self.inplace)


class Hardtanh(Module):
    """x clamped to [min_val, max_val]"""

    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False):
        super().__init__()
        if min_val > max_val:
            raise ValueError(f"Hardtanh: min_val ({min_val}) cannot be greater than max_val "
                             f"({max_val})")
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace

    def forward(self, input):
        return F.hardtanh(input, self.min_val, self.max_val, self.inplace)

    def extra_repr(self):
        return _settings(f"min_val={self.min_val}", f"max_val={self.max_val}",
                         inplace=self.inplace)


class ReLU6(Hardtanh):
    """min(max(0, x), 6)"""

    def __init__(self, inplace=False):
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self):
        return _settings(inplace=self.inplace)


class LeakyReLU(Module):
    """x for x >= 0, negative_slope * x otherwise"""

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, input):
        return F.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self):
        return _settings(f"negative_slope={self.negative_slope}", inplace=self.inplace)


class ELU(Module):
    """x for x > 0, alpha * (exp(x) - 1) otherwise"""

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input):
        return F.elu(input, self.alpha, self.inplace)

    def extra_repr(self):
        return _settings(f"alpha={self.alpha}", inplace=self.inplace)


class GELU(Module):
    """x * Phi(x), Phi the standard normal CDF (``approximate='tanh'``: its tanh approximation)"""

    def __init__(self, approximate="none"):
        super().__init__()
        self.approximate = approximate

    def forward(self, input):
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    """x * sigmoid(x)"""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.silu(input, inplace=self.inplace)

    def extra_repr(self):
        return _settings(inplace=self.inplace)


class Tanh(Module):
    def forward(self, input):
        return F.tanh(input)


class Sigmoid(Module):
    """1 / (1 + exp(-x))"""

    def forward(self, input):
        return F.sigmoid(input)


class LogSigmoid(Module):
    """log(sigmoid(x)), computed stably"""

    def forward(self, input):
        return F.logsigmoid(input)


class Softplus(Module):
    """log(1 + exp(beta * x)) / beta (x itself where beta * x > threshold)"""

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, input):
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class Softmax(Module):
    """exp(x) / sum(exp(x)) along ``dim``"""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.softmax(input, self.dim, _stacklevel=5)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    """x - logsumexp(x) along ``dim``"""

    def forward(self, input):
        return F.log_softmax(input, self.dim, _stacklevel=5)
