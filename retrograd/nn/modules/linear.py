"""Affine layers: ``Linear`` (y = x W^T + b), ``Bilinear`` (y_k = x1^T A_k x2 + b_k) and
``Identity``.

Default initialisation is PyTorch's: ``Linear``'s weight is Kaiming-uniform with a = sqrt(5),
which works out as U(-1/sqrt(in_features), 1/sqrt(in_features)), and so is its bias.
"""
import math

from ...ops.creation import empty
from ...ops.linalg import einsum
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module

__all__ = ["Identity", "Linear", "Bilinear"]


def weight_and_bias(module, weight_shape, bias_size, bias, dtype, device):
    """Registers ``module.weight`` and ``module.bias`` (``None`` when ``bias`` is false) as
    uninitialized parameters; shared by the affine and convolution layers."""
    module.weight = Parameter(empty(weight_shape, dtype=dtype, device=device))
    if bias:
        module.bias = Parameter(empty(bias_size, dtype=dtype, device=device))
    else:
        module.register_parameter("bias", None)


def kaiming_uniform_reset(module):
    """PyTorch's default for Linear and Conv layers: W ~ kaiming_uniform(a=sqrt(5)), which is
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and b from the same uniform (zeros if fan_in is 0)."""
    init.kaiming_uniform_(module.weight, a=math.sqrt(5))
    if module.bias is not None:
        fan_in, _ = init._calculate_fan_in_and_fan_out(module.weight)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        init.uniform_(module.bias, -bound, bound)


class Identity(Module):
    """Returns its input; accepts (and ignores) any constructor arguments, so that it can stand
    in for another layer."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Linear(Module):
    """``y = x W^T + b`` over the last dimension: (*, in_features) -> (*, out_features).
    ``weight`` is (out_features, in_features), ``bias`` (out_features,)."""

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        weight_and_bias(self, (out_features, in_features), out_features, bias, dtype, device)
        self.reset_parameters()

    def reset_parameters(self):
        kaiming_uniform_reset(self)

    def forward(self, input):
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Bilinear(Module):
    """``y_k = x1^T A_k x2 + b_k``: (*, in1_features) and (*, in2_features) ->
    (*, out_features); ``weight`` is (out_features, in1_features, in2_features). Weight and
    bias start as U(-1/sqrt(in1_features), 1/sqrt(in1_features))."""

    def __init__(self, in1_features, in2_features, out_features, bias=True, device=None,
                 dtype=None):
        super().__init__()
        self.in1_features = in1_features
        self.in2_features = in2_features
        self.out_features = out_features
        weight_and_bias(self, (out_features, in1_features, in2_features), out_features, bias,
                        dtype, device)
        self.reset_parameters()

    def reset_parameters(self):
        bound = 1 / math.sqrt(self.weight.shape[1])
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1, input2):
        out = einsum("...i,oij,...j->...o", input1, self.weight, input2)
        return out if self.bias is None else out + self.bias

    def extra_repr(self):
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")
