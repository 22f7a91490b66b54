"""Recurrent cells, and whole recurrent layers fused into one graph node each.

The three cells, with ``x`` the input, ``h`` the previous hidden state, and ``a_k = W_ik x +
b_ik + W_hk h + b_hk`` the preactivation of gate ``k`` (``W_ik``, ``b_ik``: the ``k``-th block
of rows of ``w_ih``, ``b_ih``; likewise for ``hh``, blocks stacked in the order the gates are
listed):

- RNN:  ``h' = act(a)`` with ``act`` tanh or ReLU.
- LSTM: gates i, f, g, o; ``i, f, o = sigmoid(a_i), sigmoid(a_f), sigmoid(a_o)``,
  ``g = tanh(a_g)``; cell ``c' = f * c + i * g``, output ``h' = o * tanh(c')``.
- GRU:  gates r, z, n; ``r, z = sigmoid(a_r), sigmoid(a_z)``,
  ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``, ``h' = (1 - z) * n + z * h``.

``lstm_cell``, ``gru_cell``, ``rnn_tanh_cell`` and ``rnn_relu_cell`` compute one step from tensor
ops: readable, and differentiable to any order. A layer runs a cell over a whole sequence; as a
chain of such steps it would cost dozens of graph nodes per time step. ``lstm_layer`` &co
instead make one node per layer and direction (``FusedRecurrence``), whose forward loops over
time on NumPy arrays and whose backward is backpropagation through time on arrays:

- the input's contribution to every gate at every step, ``X W_ih^T``, is one matrix product
  over all ``T * B`` rows before the loop; each step adds one product ``h W_hh^T``;
- backward walks the steps in reverse, carrying ``dL/dh`` (and ``dL/dc``) back one step with one
  product ``dgates W_hh`` per step; the weight gradients need no loop: with ``dG`` the stacked
  gate gradients of all steps, ``dW_ih = dG^T X`` and ``dW_hh = dG^T H_prev`` are one product
  each, and the input gradient is ``dG W_ih``.

Sequences of different lengths use PyTorch's packed layout: the rows of all sequences at step
``t`` are stored together, ``batch_sizes[t]`` of them, longest sequences first, so step ``t``
simply works on the first ``batch_sizes[t]`` rows of the state. A padded ``(T, B, *)`` input is
the special case of ``T`` equal batch sizes. The reverse direction runs the steps backwards; a
sequence then starts (from its initial state) at its own last step.
"""
from collections import namedtuple

import numpy as np

from ..autograd.function import Function
from ..tensor import Tensor
from .elementwise import relu, sigmoid, tanh
from .linalg import matmul
from .shape import chunk

__all__ = ["lstm_cell", "gru_cell", "rnn_tanh_cell", "rnn_relu_cell",
           "lstm_layer", "gru_layer", "rnn_tanh_layer", "rnn_relu_layer"]


def _sigmoid_(a):
    """In place ``1 / (1 + exp(-a))``: exp is several times faster than tanh or SciPy's expit
    here, and exp(-a) = inf for very negative ``a`` still gives the exact limit 0 (callers
    silence the overflow warning)."""
    np.negative(a, out=a)
    np.exp(a, out=a)
    np.add(a, 1, out=a)
    return np.reciprocal(a, out=a)


# ------------------------------------------------------------------ reference cells (composed)
def _affine(x, weight, bias):
    out = matmul(x, weight.transpose(-1, -2))
    return out if bias is None else out + bias


def _gates(input, hx, w_ih, w_hh, b_ih, b_hh):
    return _affine(input, w_ih, b_ih) + _affine(hx, w_hh, b_hh)


def rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One Elman RNN step: ``tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)``."""
    return tanh(_gates(input, hx, w_ih, w_hh, b_ih, b_hh))


def rnn_relu_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One Elman RNN step with ReLU: ``relu(x W_ih^T + b_ih + h W_hh^T + b_hh)``."""
    return relu(_gates(input, hx, w_ih, w_hh, b_ih, b_hh))


def lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One LSTM step; ``hx`` is ``(h, c)``, returns ``(h', c')``. Gate order i, f, g, o."""
    h, c = hx
    i, f, g, o = chunk(_gates(input, h, w_ih, w_hh, b_ih, b_hh), 4, -1)
    c_next = sigmoid(f) * c + sigmoid(i) * tanh(g)
    return sigmoid(o) * tanh(c_next), c_next


def gru_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One GRU step (gate order r, z, n); the reset gate scales ``W_hn h + b_hn`` only."""
    x_r, x_z, x_n = chunk(_affine(input, w_ih, b_ih), 3, -1)
    h_r, h_z, h_n = chunk(_affine(hx, w_hh, b_hh), 3, -1)
    r = sigmoid(x_r + h_r)
    z = sigmoid(x_z + h_z)
    n = tanh(x_n + r * h_n)
    return n + z * (hx - n)


# --------------------------------------------------------------------------- the step schedule
_Step = namedtuple("_Step", ["rows", "state_rows", "size", "prev_start", "carried"])
_Step.__doc__ = """One time step. ``rows``: its rows of the packed data; ``state_rows``: the same
rows in a state buffer (which starts with the ``B`` initial states). Its previous state is
buffer rows ``prev_start : prev_start + carried`` (the rows the neighbouring step computed)
followed by initial-state rows ``carried : size`` (sequences that start at this step)."""


class _Schedule:
    """The order in which steps run over packed data, and where each finds its previous state.

    State buffers have ``B + N`` rows: the ``B`` initial states, then one row per data row.
    Writing each step's new state into its own rows keeps every state ever computed (backward
    needs them) and lets the next step read its previous state as a view, without copies.
    """

    def __init__(self, batch_sizes):
        self.batch_sizes = batch_sizes
        self.offsets = np.concatenate(([0], np.cumsum(batch_sizes)[:-1])).astype(np.int64)
        self.batch = int(batch_sizes[0]) if len(batch_sizes) else 0
        self.total = int(batch_sizes.sum())
        self._steps = {}

    @classmethod
    def padded(cls, seq_len, batch):
        return cls(np.full(seq_len, batch, dtype=np.int64))

    def _neighbours(self, reverse):
        """Per time step: the step that ran before it, and how many of its rows continue."""
        steps = len(self.batch_sizes)
        neighbour = np.arange(steps) + (1 if reverse else -1)
        exists = (neighbour >= 0) & (neighbour < steps)
        neighbour = np.clip(neighbour, 0, max(steps - 1, 0))
        carried = np.where(exists, np.minimum(self.batch_sizes, self.batch_sizes[neighbour]), 0)
        return self.batch + self.offsets[neighbour], carried

    def steps(self, reverse):
        """The steps in the order they run (the last time step first when ``reverse``)."""
        if reverse not in self._steps:
            prev_start, carried = self._neighbours(reverse)
            steps = []
            for t, (offset, size) in enumerate(zip(self.offsets.tolist(),
                                                   self.batch_sizes.tolist())):
                steps.append(_Step(slice(offset, offset + size),
                                   slice(self.batch + offset, self.batch + offset + size),
                                   size, int(prev_start[t]), int(carried[t])))
            self._steps[reverse] = steps[::-1] if reverse else steps
        return self._steps[reverse]

    @staticmethod
    def read_prev(buffer, step):
        """The previous state of ``step``'s rows (a view unless sequences start mid-batch)."""
        size, carried, start = step.size, step.carried, step.prev_start
        if carried == size:
            return buffer[start:start + size]
        if carried == 0:
            return buffer[:size]
        return np.concatenate((buffer[start:start + carried], buffer[carried:size]))

    @staticmethod
    def add_to_prev(buffer, step, grad):
        """Adds the gradient of ``step``'s previous state where that state came from."""
        carried, start = step.carried, step.prev_start
        if carried:
            buffer[start:start + carried] += grad[:carried]
        if carried < step.size:
            buffer[carried:step.size] += grad[carried:]

    def gather_prev(self, buffer, reverse):
        """The previous state of every data row, as one ``(N, H)`` array."""
        prev_start, carried = self._neighbours(reverse)
        step_of_row = np.repeat(np.arange(len(self.batch_sizes)), self.batch_sizes)
        position = np.arange(self.total) - self.offsets[step_of_row]
        rows = np.where(position < carried[step_of_row], prev_start[step_of_row] + position,
                        position)
        if np.array_equal(rows, np.arange(self.total)):  # padded, forward: already in order
            return buffer[:self.total]
        return buffer[rows]

    def final_rows(self, reverse):
        """Buffer row of each sequence's last state: its last time step, or step 0 when
        running in reverse."""
        sequences = np.arange(self.batch)
        if reverse:
            return self.batch + sequences
        ascending = self.batch_sizes[::-1]
        last_step = len(ascending) - np.searchsorted(ascending, sequences, side="right") - 1
        return self.batch + self.offsets[last_step] + sequences


# -------------------------------------------------------------------------------- the cells
class _Cell:
    """One cell's arithmetic on arrays: a step forward and the same step backward, side by
    side; an instance serves one call of ``FusedRecurrence``. ``step`` writes the gate
    activations over their preactivations in ``gates`` and the new states into ``new``;
    ``saved`` are this step's rows of the per-row arrays that ``buffers`` allocated, kept for
    backward. ``backward_step`` receives the gradients of the new states (``grads``, which it
    may complete in place) and, after ``saved``, the step's rows of the arrays that
    ``backward_buffers`` allocated; it writes the gradients of the gates' preactivations into
    ``gate_grads``, which may be ``gates`` itself (so it reads every gate activation it needs
    before writing over it), and returns the part of each previous state's gradient that does
    not flow through ``h W_hh^T`` (None where there is none)."""
    gates = 1   # gate blocks stacked in the weights
    states = 1  # h, or h and c

    def prepare(self, b_ih, b_hh):
        """The bias added, with ``x W_ih^T``, to every step's gates before the loop (None
        without biases)."""
        return None if b_ih is None else b_ih + b_hh

    def buffers(self, rows, hidden, dtype):
        return []

    def backward_buffers(self, rows, hidden, dtype, disposable_saved=None):
        """Per-row scratch arrays for backward; ``disposable_saved``: the arrays ``buffers``
        made, when backward may write over them (None otherwise)."""
        return []

    def input_gate_grads(self, gate_grads, backward_buffers):
        """Gradients of the gates' input part ``x W_ih^T + b_ih``, for all rows, given those of
        the hidden part ``h W_hh^T + b_hh``, ``gate_grads``, which it may overwrite."""
        return gate_grads


class _RNNCell(_Cell):
    """h' = act(a): da = dh' act'(a), with tanh' = 1 - h'^2 and relu' = [h' > 0]"""

    def __init__(self, nonlinearity):
        self.nonlinearity = nonlinearity

    def step(self, gates, recurrent, prev, new, saved):
        h = new[0]
        np.add(gates, recurrent, out=h)
        if self.nonlinearity == "tanh":
            np.tanh(h, out=h)
        else:
            np.maximum(h, 0, out=h)

    def backward_step(self, grads, gates, prev, new, saved, gate_grads):
        h = new[0]
        slope = 1 - h * h if self.nonlinearity == "tanh" else h > 0
        np.multiply(grads[0], slope, out=gate_grads[:, 0])
        return (None,)


class _LSTMCell(_Cell):
    """c' = f c + i g, h' = o tanh(c'): dc = dc' + dh' o (1 - tanh(c')^2), then
    di = dc g, df = dc c_prev, dg = dc i, do = dh' tanh(c'), dc_prev = dc f, each gate's
    preactivation gradient being its gradient times sigmoid' = s (1 - s) (tanh' = 1 - g^2 for g)"""
    gates = 4
    states = 2

    def buffers(self, rows, hidden, dtype):
        return [np.empty((rows, hidden), dtype)]  # tanh(c')

    def step(self, gates, recurrent, prev, new, saved):
        hidden = prev[0].shape[1]
        h, c = new
        tanh_c, = saved
        gates += recurrent
        _sigmoid_(gates[:, :2 * hidden])  # i, f
        np.tanh(gates[:, 2 * hidden:3 * hidden], out=gates[:, 2 * hidden:3 * hidden])
        _sigmoid_(gates[:, 3 * hidden:])  # o
        i, f, g, o = (gates[:, k * hidden:(k + 1) * hidden] for k in range(4))
        np.multiply(f, prev[1], out=c)
        c += i * g
        np.tanh(c, out=tanh_c)
        np.multiply(o, tanh_c, out=h)

    def backward_step(self, grads, gates, prev, new, saved, gate_grads):
        dh, dc = grads  # views into the gradient buffers: dc is completed in place
        i, f, g, o = (gates[:, k] for k in range(4))
        tanh_c, = saved
        slope = gates * (1 - gates)  # sigmoid' of i, f, o (the g block goes unused)
        dc += dh * o * (1 - tanh_c * tanh_c)
        carried, dg = dc * f, dc * i * (1 - g * g)  # before f, i and g are written over
        np.multiply(dc * g, slope[:, 0], out=gate_grads[:, 0])
        np.multiply(dc * prev[1], slope[:, 1], out=gate_grads[:, 1])
        np.copyto(gate_grads[:, 2], dg)
        np.multiply(dh * tanh_c, slope[:, 3], out=gate_grads[:, 3])
        return None, carried


class _GRUCell(_Cell):
    """h' = n + z (h - n), n = tanh(a_n + r m) with m = W_hn h + b_hn: dn = dh' (1 - z)
    (1 - n^2) is the gradient of n's preactivation, dz = dh' (h - n), dr = dn m, dm = dn r,
    dh_prev = dh' z + (hidden-part gradients) W_hh"""
    gates = 3
    b_hn = None

    def prepare(self, b_ih, b_hh):
        if b_ih is None:
            return None
        # b_hr and b_hz simply add to the input part; b_hn sits inside r * (W_hn h + b_hn).
        hidden = b_hh.shape[0] // 3
        self.b_hn = b_hh[2 * hidden:]
        bias = b_ih.copy()
        bias[:2 * hidden] += b_hh[:2 * hidden]
        return bias

    def buffers(self, rows, hidden, dtype):
        return [np.empty((rows, hidden), dtype)]  # m = W_hn h + b_hn, needed for dr

    def step(self, gates, recurrent, prev, new, saved):
        hidden = prev[0].shape[1]
        h = new[0]
        hidden_n, = saved
        reset_update = gates[:, :2 * hidden]
        reset_update += recurrent[:, :2 * hidden]
        _sigmoid_(reset_update)
        r, z, n = (gates[:, k * hidden:(k + 1) * hidden] for k in range(3))
        if self.b_hn is None:
            np.copyto(hidden_n, recurrent[:, 2 * hidden:])
        else:
            np.add(recurrent[:, 2 * hidden:], self.b_hn, out=hidden_n)
        n += r * hidden_n
        np.tanh(n, out=n)
        np.subtract(prev[0], n, out=h)
        h *= z
        h += n

    def backward_buffers(self, rows, hidden, dtype, disposable_saved=None):
        # dn, the gradient of n's input part, in m's place once m is no longer needed
        if disposable_saved is not None:
            return disposable_saved[:1]
        return [np.empty((rows, hidden), dtype)]

    def backward_step(self, grads, gates, prev, new, saved, gate_grads):
        dh = grads[0]
        r, z, n = (gates[:, k] for k in range(3))
        hidden_n, dn = saved  # dn may be hidden_n's memory: written last
        dn_now = np.multiply(dh * (1 - z), 1 - n * n)
        carried, dm = dh * z, dn_now * r  # before z and r are written over
        np.multiply(dn_now * hidden_n, r * (1 - r), out=gate_grads[:, 0])
        np.multiply(dh * (prev[0] - n), z * (1 - z), out=gate_grads[:, 1])
        np.copyto(gate_grads[:, 2], dm)
        np.copyto(dn, dn_now)
        return (carried,)

    def input_gate_grads(self, gate_grads, backward_buffers):
        # r and z are shared by both parts; n's input part skips r
        dn, = backward_buffers
        np.copyto(gate_grads[:, 2], dn)
        return gate_grads


# -------------------------------------------------------------------------- the fused node
class FusedRecurrence(Function):
    """A whole layer (one direction) over a sequence as one node. Backward is backpropagation
    through time, step by step in reverse, with the weight gradients summed over all steps by
    one matrix product each (see the module docstring). Unless the graph is retained, the gate
    gradients of each step are written over that step's gate activations, which are then no
    longer needed: the backward pass's largest array needs no memory of its own."""

    once_differentiable = True
    reuses_saved = True

    @staticmethod
    def forward(ctx, cell, schedule, reverse, x, h0, c0, w_ih, w_hh, b_ih, b_hh):
        data = x.array.reshape(-1, x.shape[-1])
        dtype = data.dtype
        batch, rows, hidden = schedule.batch, schedule.total, w_hh.shape[1]

        gates = np.matmul(data, w_ih.array.T)  # the input part of every step: one product
        bias = cell.prepare(None if b_ih is None else b_ih.array,
                            None if b_hh is None else b_hh.array)
        if bias is not None:
            gates += bias
        states = [np.empty((batch + rows, hidden), dtype) for _ in range(cell.states)]
        for buffer, initial in zip(states, (h0, c0)):
            buffer[:batch] = initial.array
        saved = cell.buffers(rows, hidden, dtype)
        w_hh_t = w_hh.array.T
        recurrent = np.empty((batch, gates.shape[1]), dtype)
        with np.errstate(over="ignore"):  # exp overflows to inf in sigmoid: exact limits
            for step in schedule.steps(reverse):
                prev = [schedule.read_prev(buffer, step) for buffer in states]
                np.matmul(prev[0], w_hh_t, out=recurrent[:step.size])
                cell.step(gates[step.rows], recurrent[:step.size], prev,
                          [buffer[step.state_rows] for buffer in states],
                          [array[step.rows] for array in saved])

        ctx.cell, ctx.schedule, ctx.reverse = cell, schedule, reverse
        ctx.set_materialize_grads(False)  # often only the output or only the final states count
        # Arrays go through save_for_backward too, so that the engine frees them after use.
        ctx.save_for_backward(x, w_ih, w_hh, *map(_tensor, [gates] + states + saved))
        output = states[0][batch:].reshape(x.shape[:-1] + (hidden,))
        final = schedule.final_rows(reverse)
        return (output,) + tuple(buffer[final] for buffer in states)

    @staticmethod
    def backward(ctx, grad_output, *grad_final):
        cell, schedule, reverse = ctx.cell, ctx.schedule, ctx.reverse
        x, w_ih, w_hh, gates, *arrays = (t.array for t in ctx.saved_tensors)
        states, saved = arrays[:cell.states], arrays[cell.states:]
        batch, rows, hidden = schedule.batch, schedule.total, w_hh.shape[1]
        gate_blocks = gates.reshape(rows, cell.gates, hidden)

        # Gradients w.r.t. every state, laid out like the state buffers: the output's gradient
        # seeds h's rows, the final states' gradients are added at their rows, and each step
        # adds its previous state's gradient where that state was read.
        grads = [np.zeros((batch + rows, hidden), gates.dtype) for _ in states]
        if grad_output is not None:
            grads[0][batch:] = grad_output.array.reshape(rows, hidden)
        final = schedule.final_rows(reverse)
        for k, grad in enumerate(grad_final):
            if grad is not None:
                grads[k][final] += grad.array

        disposable = ctx.saved_is_disposable
        # Of the hidden part h W_hh^T + b_hh:
        gate_grads = gate_blocks if disposable else np.empty_like(gate_blocks)
        flat_gate_grads = gate_grads.reshape(rows, cell.gates * hidden)
        scratch = saved + cell.backward_buffers(rows, hidden, gates.dtype,
                                                saved if disposable else None)
        prev_h_grad = np.empty((batch, hidden), gates.dtype)
        for step in reversed(schedule.steps(reverse)):
            rows_now = step.state_rows
            direct = cell.backward_step([g[rows_now] for g in grads], gate_blocks[step.rows],
                                        [schedule.read_prev(s, step) for s in states],
                                        [s[rows_now] for s in states],
                                        [array[step.rows] for array in scratch],
                                        gate_grads[step.rows])
            prev_grads = [np.matmul(flat_gate_grads[step.rows], w_hh,
                                    out=prev_h_grad[:step.size]), *direct[1:]]
            if direct[0] is not None:
                prev_grads[0] += direct[0]
            for k, grad in enumerate(prev_grads):
                schedule.add_to_prev(grads[k], step, grad)

        needs = ctx.needs_input_grad
        dx = dw_ih = dw_hh = db_ih = db_hh = None
        # The initial states' gradients are copied out, so that the buffers go before the input
        # gradient is made: one sequence-sized array less at the peak.
        dh0, dc0 = ([_tensor(g[:batch].copy()) if needs[4 + k] else None
                     for k, g in enumerate(grads)] + [None])[:2]
        del grads
        if needs[7]:
            dw_hh = _tensor(np.matmul(flat_gate_grads.T, schedule.gather_prev(states[0], reverse)))
        if needs[9]:
            db_hh = _tensor(flat_gate_grads.sum(0))
        # The hidden part's gradients are used up: the input part's may take their place.
        input_gate_grads = cell.input_gate_grads(
            gate_grads, scratch[len(saved):]).reshape(flat_gate_grads.shape)
        if needs[3]:
            dx = _tensor(np.matmul(input_gate_grads, w_ih).reshape(x.shape))
        if needs[6]:
            dw_ih = _tensor(np.matmul(input_gate_grads.T, x.reshape(rows, x.shape[-1])))
        if needs[8]:
            db_ih = _tensor(input_gate_grads.sum(0))
        return None, None, None, dx, dh0, dc0, dw_ih, dw_hh, db_ih, db_hh


def _tensor(array):
    return Tensor._make(array)


# ---------------------------------------------------------------------------- functional API
_CELLS = {"lstm": _LSTMCell, "gru": _GRUCell,
          "rnn_tanh": lambda: _RNNCell("tanh"), "rnn_relu": lambda: _RNNCell("relu")}


def batch_sizes_schedule(batch_sizes, op):
    """A ``_Schedule`` for packed data, after checking ``batch_sizes`` (1-D, positive,
    non-increasing integers, as ``pack_padded_sequence`` makes them)."""
    sizes = np.asarray(batch_sizes.array if isinstance(batch_sizes, Tensor) else batch_sizes)
    if sizes.ndim != 1 or sizes.dtype.kind not in "iu":
        raise RuntimeError(f"{op}: batch_sizes must be a 1-D integer tensor, got shape "
                           f"{sizes.shape} of dtype {sizes.dtype}")
    if len(sizes) == 0 or sizes.min() <= 0 or np.any(np.diff(sizes) > 0):
        raise RuntimeError(f"{op}: batch_sizes must be positive and non-increasing (sequences "
                           f"sorted longest first), got {sizes.tolist()}")
    return _Schedule(sizes.astype(np.int64))


def padded_schedule(input, op):
    """A ``_Schedule`` for a padded ``(T, B, features)`` input."""
    if input.ndim != 3:
        raise RuntimeError(f"{op}: input must have 3 dimensions (seq_len, batch, features), got "
                           f"shape {tuple(input.shape)}")
    if input.shape[0] == 0:
        raise RuntimeError(f"{op}: Expected sequence length to be larger than 0, got input of "
                           f"shape {tuple(input.shape)}")
    return _Schedule.padded(input.shape[0], input.shape[1])


def _check_layer(op, cell, schedule, input, states, w_ih, w_hh, b_ih, b_hh):
    rows = schedule.total
    if input.ndim == 2 and input.shape[0] != rows:
        raise RuntimeError(f"{op}: packed input has {input.shape[0]} rows but batch_sizes sum to "
                           f"{rows}")
    if w_ih.ndim != 2 or w_hh.ndim != 2 or w_hh.shape[0] != w_ih.shape[0] or (
            w_hh.shape[0] != cell.gates * w_hh.shape[1]):
        raise RuntimeError(f"{op}: expected w_ih of shape ({cell.gates} * hidden, input_size) "
                           f"and w_hh of shape ({cell.gates} * hidden, hidden), got "
                           f"{tuple(w_ih.shape)} and {tuple(w_hh.shape)}")
    if input.shape[-1] != w_ih.shape[1]:
        raise RuntimeError(f"{op}: input of shape {tuple(input.shape)} does not match w_ih of "
                           f"shape {tuple(w_ih.shape)} (input_size {w_ih.shape[1]})")
    if (b_ih is None) != (b_hh is None):
        raise RuntimeError(f"{op}: give both b_ih and b_hh, or neither")
    for name, b in (("b_ih", b_ih), ("b_hh", b_hh)):
        if b is not None and tuple(b.shape) != (w_hh.shape[0],):
            raise RuntimeError(f"{op}: {name} must have shape ({w_hh.shape[0]},), got "
                               f"{tuple(b.shape)}")
    expected = (schedule.batch, w_hh.shape[1])
    for name, state in zip(("h0", "c0"), states):
        if tuple(state.shape) != expected:
            raise RuntimeError(f"{op}: expected {name} of shape {expected}, got "
                               f"{tuple(state.shape)}")
    tensors = [input, w_ih, w_hh, *states] + [b for b in (b_ih, b_hh) if b is not None]
    dtypes = {t.dtype for t in tensors}
    if len(dtypes) > 1 or input.dtype.kind != "f":
        raise RuntimeError(f"{op}: expected input, states and weights of one floating dtype, "
                           f"got {', '.join(sorted(map(str, dtypes)))}")


def run_layer(mode, schedule, input, states, w_ih, w_hh, b_ih=None, b_hh=None, reverse=False):
    """One layer, one direction, as one node: ``mode`` is 'lstm', 'gru', 'rnn_tanh' or
    'rnn_relu'; ``states`` the initial ``(h0,)`` or ``(h0, c0)`` of shape (batch, hidden).
    Returns ``(output, h_n)`` or ``(output, h_n, c_n)``; ``h_n`` is each sequence's state at
    its own last step."""
    cell = _CELLS[mode]()
    op = f"{mode}_layer"
    if len(states) != cell.states:
        raise RuntimeError(f"{op}: expected {cell.states} initial state tensor(s), got "
                           f"{len(states)}")
    _check_layer(op, cell, schedule, input, states, w_ih, w_hh, b_ih, b_hh)
    c0 = states[1] if cell.states == 2 else None
    return FusedRecurrence.apply(cell, schedule, reverse, input, states[0], c0, w_ih, w_hh,
                                 b_ih, b_hh)


def _layer(mode, input, hx, w_ih, w_hh, b_ih, b_hh, batch_sizes, reverse):
    op = f"{mode}_layer"
    if batch_sizes is None:
        schedule = padded_schedule(input, op)
    elif input.ndim != 2:
        raise RuntimeError(f"{op}: packed input must have 2 dimensions (rows, features), got "
                           f"shape {tuple(input.shape)}")
    else:
        schedule = batch_sizes_schedule(batch_sizes, op)
    if hx is None:
        zeros = Tensor._make(np.zeros((schedule.batch, w_hh.shape[-1]), dtype=input.dtype))
        hx = (zeros, zeros) if mode == "lstm" else zeros
    if mode == "lstm" and not isinstance(hx, (tuple, list)):
        raise RuntimeError(f"{op}: hx must be a pair (h0, c0), got {type(hx).__name__}")
    states = tuple(hx) if mode == "lstm" else (hx,)
    return run_layer(mode, schedule, input, states, w_ih, w_hh, b_ih, b_hh, reverse)


_LAYER_DOC = """Runs {what} over a whole sequence, as one graph node.

    ``input`` is padded ``(T, B, input_size)``, or the ``(N, input_size)`` data of a packed
    sequence when ``batch_sizes`` is given; ``hx`` {states} of shape ``(B, hidden)`` (zeros
    when None); ``reverse`` runs from the last step to the first. Returns ``(output, {final})``
    with ``output`` of shape ``(T, B, hidden)`` (or ``(N, hidden)``) and the final state{s} of
    each sequence, taken at its own last step."""


def lstm_layer(input, hx, w_ih, w_hh, b_ih=None, b_hh=None, batch_sizes=None, reverse=False):
    output, h_n, c_n = _layer("lstm", input, hx, w_ih, w_hh, b_ih, b_hh, batch_sizes, reverse)
    return output, (h_n, c_n)


def gru_layer(input, hx, w_ih, w_hh, b_ih=None, b_hh=None, batch_sizes=None, reverse=False):
    return _layer("gru", input, hx, w_ih, w_hh, b_ih, b_hh, batch_sizes, reverse)


def rnn_tanh_layer(input, hx, w_ih, w_hh, b_ih=None, b_hh=None, batch_sizes=None,
                   reverse=False):
    return _layer("rnn_tanh", input, hx, w_ih, w_hh, b_ih, b_hh, batch_sizes, reverse)


def rnn_relu_layer(input, hx, w_ih, w_hh, b_ih=None, b_hh=None, batch_sizes=None,
                   reverse=False):
    return _layer("rnn_relu", input, hx, w_ih, w_hh, b_ih, b_hh, batch_sizes, reverse)


lstm_layer.__doc__ = _LAYER_DOC.format(what="an LSTM", states="is ``(h0, c0)``, each",
                                       final="(h_n, c_n)", s="s")
gru_layer.__doc__ = _LAYER_DOC.format(what="a GRU", states="is h0", final="h_n", s="")
rnn_tanh_layer.__doc__ = _LAYER_DOC.format(what="an Elman RNN (tanh)", states="is h0",
                                           final="h_n", s="")
rnn_relu_layer.__doc__ = _LAYER_DOC.format(what="an Elman RNN (ReLU)", states="is h0",
                                           final="h_n", s="")
