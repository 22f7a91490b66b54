"""Recurrent layers: ``RNN``, ``LSTM``, ``GRU`` over whole sequences, and the single-step
``RNNCell``, ``LSTMCell``, ``GRUCell``.

The sequence layers stack ``num_layers`` layers, each reading the previous one's output
sequence; a bidirectional layer runs a second set of weights (``..._reverse``) from the last
step to the first and concatenates both outputs. Each layer and direction is one fused graph
node (``retrograd.ops.rnn``). The cells are composed from tensor ops, one step at a time.

Parameters are PyTorch's, with its names, shapes and gate order (``weight_ih_l{k}`` is
``(gates * hidden_size, input_size)``, ``weight_hh_l{k}`` ``(gates * hidden_size,
hidden_size)``, gates i, f, g, o for the LSTM and r, z, n for the GRU), so state dicts carry
over; all start as U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)).

Inputs are ``(T, B, input_size)`` (``(B, T, input_size)`` with ``batch_first``), unbatched
``(T, input_size)``, or a ``PackedSequence`` of sequences of different lengths, in which case
the output is packed too and the final states are taken at each sequence's own last step.
"""
import math
import numbers
import warnings

import numpy as np

from ...ops import rnn as _rnn
from ...ops.creation import empty
from ...ops.shape import cat, stack
from ...tensor import Tensor
from .. import functional as F
from .. import init
from ..parameter import Parameter
from ..utils.rnn import PackedSequence
from .module import Module

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


def _zeros(shape, dtype):
    return Tensor._make(np.zeros(shape, dtype=dtype))


class RNNBase(Module):
    """What ``RNN``, ``LSTM`` and ``GRU`` share: the parameters of every layer and direction,
    argument checks, and running the layers (``mode`` is 'LSTM', 'GRU', 'RNN_TANH' or
    'RNN_RELU')."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, proj_size=0,
                 device=None, dtype=None):
        super().__init__()
        if mode not in _GATES:
            raise ValueError(f"Unrecognized RNN mode: {mode}")
        _check_sizes(input_size, hidden_size, num_layers, bias, batch_first, dropout, proj_size)
        if proj_size > 0:
            raise NotImplementedError("LSTM: proj_size > 0 (projected hidden states) is not "
                                      "supported")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so "
                          "non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers={num_layers}", stacklevel=3)
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        gate_size = _GATES[mode] * hidden_size
        num_directions = 2 if bidirectional else 1
        self._flat_weights_names = []
        self._all_weights = []
        for layer in range(num_layers):
            layer_input_size = input_size if layer == 0 else hidden_size * num_directions
            for direction in range(num_directions):
                suffix = f"_l{layer}" + ("_reverse" if direction == 1 else "")
                shapes = {"weight_ih": (gate_size, layer_input_size),
                          "weight_hh": (gate_size, hidden_size)}
                if bias:
                    shapes.update(bias_ih=(gate_size,), bias_hh=(gate_size,))
                names = []
                for kind, shape in shapes.items():
                    setattr(self, kind + suffix,
                            Parameter(empty(shape, dtype=dtype, device=device)))
                    names.append(kind + suffix)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    def reset_parameters(self):
        bound = 1.0 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            init.uniform_(weight, -bound, bound)

    def flatten_parameters(self):
        """Kept for PyTorch compatibility: the weights are always used as they are."""

    @property
    def _flat_weights(self):
        return [getattr(self, name) for name in self._flat_weights_names]

    @property
    def all_weights(self):
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    # ------------------------------------------------------------------------------ forward
    def _num_states(self):
        return 2 if self.mode == "LSTM" else 1

    def forward(self, input, hx=None):
        """``(output, h_n)`` (``(output, (h_n, c_n))`` for the LSTM); ``hx`` defaults to
        zeros and has shape ``(num_layers * num_directions, batch, hidden_size)``."""
        name = type(self).__name__
        states = None if hx is None else (tuple(hx) if self.mode == "LSTM" else (hx,))
        packed = isinstance(input, PackedSequence)
        if packed:
            data, batch_sizes, sorted_indices, unsorted_indices = input
            if data.ndim != 2:
                raise RuntimeError(f"input must have 2 dimensions, got {data.ndim}")
            schedule = _rnn.batch_sizes_schedule(batch_sizes, name)
            if states is not None and sorted_indices is not None:
                states = tuple(s.index_select(1, sorted_indices) for s in states)
        else:
            if input.ndim not in (2, 3):
                raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.ndim}D "
                                 "instead")
            batched = input.ndim == 3
            if states is not None:
                expected = 3 if batched else 2
                if any(s.ndim != expected for s in states):
                    kind = "batched 3-D" if batched else "unbatched 2-D"
                    raise RuntimeError(f"For {kind} input, hx should also be {expected}-D but "
                                       f"got {', '.join(f'{s.ndim}-D' for s in states)} "
                                       "tensor(s)")
                if not batched:
                    states = tuple(s.unsqueeze(1) for s in states)
            data = input if batched else input.unsqueeze(0 if self.batch_first else 1)
            if self.batch_first:
                data = data.transpose(0, 1)
            schedule = _rnn.padded_schedule(data, name)
        self._check_input(data, states, schedule.batch)
        output, finals = self._run_layers(data, states, schedule)
        if packed:
            if unsorted_indices is not None:
                finals = [f.index_select(1, unsorted_indices) for f in finals]
            output = PackedSequence(output, batch_sizes, sorted_indices, unsorted_indices)
        else:
            if self.batch_first:
                output = output.transpose(0, 1)
            if not batched:
                output = output.squeeze(0 if self.batch_first else 1)
                finals = [f.squeeze(1) for f in finals]
        return output, (tuple(finals) if self.mode == "LSTM" else finals[0])

    def _check_input(self, data, states, batch):
        weight_dtype = self.weight_ih_l0.dtype
        if data.dtype != weight_dtype:
            raise ValueError(f"{type(self).__name__} input dtype ({data.dtype}) does not match "
                             f"weight dtype ({weight_dtype}). Convert input: "
                             f"input.to({weight_dtype}), or convert model: model.to({data.dtype})")
        if data.shape[-1] != self.input_size:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {data.shape[-1]}")
        expected = ((2 if self.bidirectional else 1) * self.num_layers, batch, self.hidden_size)
        for k, state in enumerate(states or ()):
            if tuple(state.shape) != expected:
                which = f"hidden[{k}]" if self.mode == "LSTM" else "hidden"
                raise RuntimeError(f"Expected {which} size {expected}, got {list(state.shape)}")

    def _run_layers(self, data, states, schedule):
        """Runs every layer and direction; returns the last layer's output and the final
        states, each stacked to (num_layers * num_directions, batch, hidden_size)."""
        mode = self.mode.lower()
        num_directions = 2 if self.bidirectional else 1
        zeros = _zeros((schedule.batch, self.hidden_size), data.dtype)
        finals = [[] for _ in range(self._num_states())]
        layer_input = data
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(num_directions):
                index = layer * num_directions + direction
                initial = (tuple(s[index] for s in states) if states is not None
                           else (zeros,) * self._num_states())
                output, *last = _rnn.run_layer(mode, schedule, layer_input, initial,
                                               *self.all_weights[index],
                                               reverse=direction == 1)
                outputs.append(output)
                for collected, state in zip(finals, last):
                    collected.append(state)
            layer_input = outputs[0] if num_directions == 1 else cat(outputs, -1)
            if self.training and self.dropout > 0 and layer < self.num_layers - 1:
                layer_input = F.dropout(layer_input, self.dropout, True)
        return layer_input, [stack(collected, 0) for collected in finals]


def _check_sizes(input_size, hidden_size, num_layers, bias, batch_first, dropout, proj_size):
    if (not isinstance(dropout, numbers.Number) or isinstance(dropout, bool)
            or not 0 <= dropout <= 1):
        raise ValueError("dropout should be a number in range [0, 1] representing the "
                         "probability of an element being zeroed")
    for name, value in (("bias", bias), ("batch_first", batch_first)):
        if not isinstance(value, bool):
            raise TypeError(f"{name} should be of type bool, got: {type(value).__name__}")
    for name, value in (("input_size", input_size), ("hidden_size", hidden_size)):
        if not isinstance(value, int):
            raise TypeError(f"{name} should be of type int, got: {type(value).__name__}")
        if value <= 0:
            raise ValueError(f"{name} must be greater than zero")
    if num_layers <= 0:
        raise ValueError("num_layers must be greater than zero")
    if proj_size < 0:
        raise ValueError("proj_size should be a positive integer or zero to disable "
                         "projections")
    if proj_size >= hidden_size:
        raise ValueError("proj_size has to be smaller than hidden_size")


class RNN(RNNBase):
    """Elman RNN: ``h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)`` with ``act`` tanh
    or ReLU (``nonlinearity``)."""

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or "
                             "'relu'.")
        super().__init__("RNN_" + nonlinearity.upper(), input_size, hidden_size, num_layers,
                         bias, batch_first, dropout, bidirectional, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity  # not in the repr, as in PyTorch


class LSTM(RNNBase):
    """Long short-term memory: returns ``(output, (h_n, c_n))``. ``proj_size`` must be 0."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, proj_size, device, dtype)


class GRU(RNNBase):
    """Gated recurrent unit: returns ``(output, h_n)``."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, device=device, dtype=dtype)


# ------------------------------------------------------------------------------------- cells
class RNNCellBase(Module):
    """Parameters and argument checks shared by the single-step cells."""

    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        gate_size = num_chunks * hidden_size
        self.weight_ih = Parameter(empty((gate_size, input_size), dtype=dtype, device=device))
        self.weight_hh = Parameter(empty((gate_size, hidden_size), dtype=dtype, device=device))
        if bias:
            self.bias_ih = Parameter(empty(gate_size, dtype=dtype, device=device))
            self.bias_hh = Parameter(empty(gate_size, dtype=dtype, device=device))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self):
        bound = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -bound, bound)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        nonlinearity = getattr(self, "nonlinearity", "tanh")
        return s + (f", nonlinearity={nonlinearity}" if nonlinearity != "tanh" else "")

    def _prepare(self, input, hx, num_states):
        """Batched ``input`` and states (zeros when ``hx`` is None) after checking them, and
        whether the input came batched."""
        name = type(self).__name__
        if input.ndim not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.ndim}D "
                             "instead")
        batched = input.ndim == 2
        if not batched:
            input = input.unsqueeze(0)
        if input.shape[1] != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {input.shape[1]} "
                               f"expected {self.input_size}")
        if hx is None:
            states = (_zeros((input.shape[0], self.hidden_size), input.dtype),) * num_states
        else:
            states = tuple(hx) if num_states == 2 else (hx,)
            for k, state in enumerate(states):
                if state.ndim != (2 if batched else 1):
                    raise RuntimeError(f"{name}: expected hidden{k} to be "
                                       f"{2 if batched else 1}-D like the input, got shape "
                                       f"{tuple(state.shape)}")
            if not batched:
                states = tuple(s.unsqueeze(0) for s in states)
            for k, state in enumerate(states):
                if state.shape[0] != input.shape[0]:
                    raise RuntimeError(f"Input batch size {input.shape[0]} doesn't match "
                                       f"hidden{k} batch size {state.shape[0]}")
                if state.shape[1] != self.hidden_size:
                    raise RuntimeError(f"hidden{k} has inconsistent hidden_size: got "
                                       f"{state.shape[1]}, expected {self.hidden_size}")
        return input, states, batched

    def _weights(self):
        return self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh


class RNNCell(RNNCellBase):
    """One Elman RNN step: ``h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh)``."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None,
                 dtype=None):
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        cells = {"tanh": _rnn.rnn_tanh_cell, "relu": _rnn.rnn_relu_cell}
        if self.nonlinearity not in cells:
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        input, (h,), batched = self._prepare(input, hx, 1)
        out = cells[self.nonlinearity](input, h, *self._weights())
        return out if batched else out.squeeze(0)


class LSTMCell(RNNCellBase):
    """One LSTM step: ``(h', c') = cell(x, (h, c))``."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input, hx=None):
        input, states, batched = self._prepare(input, hx, 2)
        h, c = _rnn.lstm_cell(input, states, *self._weights())
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """One GRU step: ``h' = cell(x, h)``."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input, hx=None):
        input, (h,), batched = self._prepare(input, hx, 1)
        out = _rnn.gru_cell(input, h, *self._weights())
        return out if batched else out.squeeze(0)
