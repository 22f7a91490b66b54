"""Convolution layers: ``Conv1d``, ``Conv2d`` and their adjoints ``ConvTranspose1d``,
``ConvTranspose2d``.

A convolution layer holds a weight of shape (out_channels, in_channels / groups, *kernel_size)
(a transposed one: (in_channels, out_channels / groups, *kernel_size)) and an optional bias of
shape (out_channels,). Default initialisation is PyTorch's: the weight is Kaiming-uniform with
a = sqrt(5), i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and so is the bias, where fan_in is
``weight.shape[1] * prod(kernel_size)``.

Padding other than zeros ('reflect', 'replicate', 'circular') is applied with ``pad`` before a
convolution without padding. A transposed convolution's ``output_size`` argument picks, among
the sizes its stride makes ambiguous, the one to produce (it sets ``output_padding``).
"""
from ...ops.conv import conv1d, conv2d, conv_transpose1d, conv_transpose2d
from ...ops.shape import pad
from .linear import kaiming_uniform_reset, weight_and_bias
from .module import Module

__all__ = ["Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d"]

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _ntuple(value, n, layer, name):
    """An int or an n-sequence of ints as an n-tuple (PyTorch stores them so)."""
    if isinstance(value, (tuple, list)):
        if len(value) != n:
            raise ValueError(f"{layer}: {name} must be an int or a {n}-tuple, got {value!r}")
        return tuple(int(v) for v in value)
    return (int(value),) * n


class _ConvNd(Module):
    """What the four convolution layers share: arguments, parameters, init and repr."""

    _spatial_dims = None  # set by each layer

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation,
                 transposed, output_padding, groups, bias, padding_mode, device=None,
                 dtype=None):
        super().__init__()
        layer, n = type(self).__name__, self._spatial_dims
        if groups <= 0:
            raise ValueError(f"{layer}: groups must be a positive integer, got {groups}")
        for name, channels in (("in_channels", in_channels), ("out_channels", out_channels)):
            if channels % groups:
                raise ValueError(f"{layer}: {name}={channels} must be divisible by "
                                 f"groups={groups}")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"{layer}: padding_mode must be one of {_PADDING_MODES}, got "
                             f"{padding_mode!r}")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = _ntuple(kernel_size, n, layer, "kernel_size")
        self.stride = _ntuple(stride, n, layer, "stride")
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"{layer}: invalid padding string {padding!r}, should be one "
                                 "of ('valid', 'same')")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError(f"{layer}: padding='same' is not supported for strided "
                                 "convolutions")
            self.padding = padding
        else:
            self.padding = _ntuple(padding, n, layer, "padding")
        self.dilation = _ntuple(dilation, n, layer, "dilation")
        self.transposed = transposed
        self.output_padding = _ntuple(output_padding, n, layer, "output_padding")
        self.groups = groups
        self.padding_mode = padding_mode
        if transposed:
            weight_shape = (in_channels, out_channels // groups) + self.kernel_size
        else:
            weight_shape = (out_channels, in_channels // groups) + self.kernel_size
        weight_and_bias(self, weight_shape, out_channels, bias, dtype, device)
        self.reset_parameters()

    def reset_parameters(self):
        kaiming_uniform_reset(self)

    def extra_repr(self):
        n = self._spatial_dims
        parts = [f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                 f"stride={self.stride}"]
        if self.padding != (0,) * n:
            parts.append(f"padding={self.padding}")
        if self.dilation != (1,) * n:
            parts.append(f"dilation={self.dilation}")
        if self.output_padding != (0,) * n:
            parts.append(f"output_padding={self.output_padding}")
        if self.groups != 1:
            parts.append(f"groups={self.groups}")
        if self.bias is None:
            parts.append("bias=False")
        if self.padding_mode != "zeros":
            parts.append(f"padding_mode={self.padding_mode}")
        return ", ".join(parts)


class _Conv(_ConvNd):
    _conv = None  # the functional convolution, set by each layer

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         False, 0, groups, bias, padding_mode, device, dtype)

    def _explicit_padding(self):
        """F.pad's (before, after) amounts, last spatial dim first, for non-zero padding
        modes."""
        return [amount for pair in reversed(self._padding_ints()) for amount in pair]

    def _padding_ints(self):
        """(before, after) padding per spatial dim; 'same' splits d*(k-1) with the extra one
        after, as PyTorch does."""
        if self.padding == "valid":
            return [(0, 0)] * self._spatial_dims
        if self.padding == "same":
            totals = [d * (k - 1) for k, d in zip(self.kernel_size, self.dilation)]
            return [(t // 2, t - t // 2) for t in totals]
        return [(p, p) for p in self.padding]

    def forward(self, input):
        if self.padding_mode == "zeros":
            return self._conv(input, self.weight, self.bias, self.stride, self.padding,
                              self.dilation, self.groups)
        padded = pad(input, self._explicit_padding(), mode=self.padding_mode)
        return self._conv(padded, self.weight, self.bias, self.stride, 0, self.dilation,
                          self.groups)


class Conv1d(_Conv):
    """1-D convolution: (N, C_in, L) or (C_in, L) -> (N, C_out, L_out)."""

    _spatial_dims = 1
    _conv = staticmethod(conv1d)


class Conv2d(_Conv):
    """2-D convolution: (N, C_in, H, W) or (C_in, H, W) -> (N, C_out, H_out, W_out)."""

    _spatial_dims = 2
    _conv = staticmethod(conv2d)


class _ConvTranspose(_ConvNd):
    _conv_transpose = None  # the functional transposed convolution, set by each layer

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros",
                 device=None, dtype=None):
        if padding_mode != "zeros":
            raise ValueError(f'{type(self).__name__}: only "zeros" padding mode is supported, '
                             f"got {padding_mode!r}")
        if isinstance(padding, str):
            raise ValueError(f"{type(self).__name__}: padding must be an int or a tuple, got "
                             f"{padding!r}")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         True, output_padding, groups, bias, padding_mode, device, dtype)

    def _output_padding(self, input, output_size):
        """The output_padding that makes the output ``output_size`` (spatial sizes, optionally
        preceded by the batch and channel sizes)."""
        if output_size is None:
            return self.output_padding
        layer, n = type(self).__name__, self._spatial_dims
        output_size = tuple(output_size)
        leading = input.ndim - n  # 2 for batched input, 1 for unbatched
        if len(output_size) == leading + n:
            output_size = output_size[leading:]
        if len(output_size) != n:
            raise ValueError(f"{layer}: output_size must have {n} or {leading + n} entries for "
                             f"input of shape {tuple(input.shape)}, got {output_size}")
        padding = []
        for d in range(n):
            smallest = ((input.shape[leading + d] - 1) * self.stride[d] - 2 * self.padding[d]
                        + self.dilation[d] * (self.kernel_size[d] - 1) + 1)
            largest = smallest + self.stride[d] - 1
            if not smallest <= output_size[d] <= largest:
                raise ValueError(f"{layer}: requested an output size of {output_size}, but "
                                 f"valid sizes for dim {d} range from {smallest} to {largest} "
                                 f"(for an input of shape {tuple(input.shape)})")
            padding.append(output_size[d] - smallest)
        return tuple(padding)

    def forward(self, input, output_size=None):
        return self._conv_transpose(input, self.weight, self.bias, self.stride, self.padding,
                                    self._output_padding(input, output_size), self.groups,
                                    self.dilation)


class ConvTranspose1d(_ConvTranspose):
    """The adjoint of Conv1d: (N, C_in, L) or (C_in, L) -> (N, C_out, L_out) with
    L_out = (L - 1) stride - 2 padding + dilation (kernel_size - 1) + output_padding + 1."""

    _spatial_dims = 1
    _conv_transpose = staticmethod(conv_transpose1d)


class ConvTranspose2d(_ConvTranspose):
    """The adjoint of Conv2d: (N, C_in, H, W) or (C_in, H, W) -> (N, C_out, H_out, W_out), each
    side as for ConvTranspose1d."""

    _spatial_dims = 2
    _conv_transpose = staticmethod(conv_transpose2d)
