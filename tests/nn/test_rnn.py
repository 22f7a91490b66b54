"""RNN, LSTM, GRU and their cells: parity with PyTorch after loading its state_dict (every
configuration: layers, directions, batch_first, bias, initial states, unbatched, packed
sequences), padding that never leaks, truncated backpropagation through time, dropout between
layers, parameters and initialisation, and argument errors."""
import itertools
import math

import numpy as np
import pytest

import retrograd as rg
from retrograd.nn.modules.rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell
from retrograd.nn.utils.rnn import (PackedSequence, pack_padded_sequence, pack_sequence,
                                    pad_packed_sequence)
from helpers import randn, requires_torch, torch

INPUT, HIDDEN = 4, 6
KINDS = ["LSTM", "GRU", "RNN_TANH", "RNN_RELU"]


def make(kind, framework, *args, **kwargs):
    """The module of ``kind`` ('LSTM', 'GRU', 'RNN_TANH', 'RNN_RELU') in ``framework``."""
    classes = ({"LSTM": LSTM, "GRU": GRU, "RNN": RNN} if framework is rg else
               {"LSTM": torch.nn.LSTM, "GRU": torch.nn.GRU, "RNN": torch.nn.RNN})
    if kind.startswith("RNN"):
        kwargs["nonlinearity"] = kind[4:].lower()
        kind = "RNN"
    return classes[kind](*args, **kwargs)


def twins(kind, *args, **kwargs):
    """A PyTorch module and ours with the same weights (loaded from its state_dict)."""
    torch.manual_seed(0)
    theirs = make(kind, torch, *args, **kwargs)
    ours = make(kind, rg, *args, **kwargs)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    return ours, theirs


def as_states(hidden):
    return list(hidden) if isinstance(hidden, tuple) else [hidden]


def both(array, requires_grad=True):
    return (rg.tensor(array, requires_grad=requires_grad),
            torch.tensor(array, requires_grad=requires_grad))


def assert_close(ours, theirs, rtol=1e-5, atol=1e-6):
    assert ours is not None and theirs is not None
    theirs = theirs.detach().numpy()
    ours = ours.detach().numpy()
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=atol)


def assert_weight_grads_close(ours, theirs, rtol=1e-5, atol=1e-5):
    """Weight gradients sum over every step and sequence: float32 rounding accumulates."""
    their_params = dict(theirs.named_parameters())
    for name, param in ours.named_parameters():
        assert_close(param.grad, their_params[name].grad, rtol, atol)


def backward_with_seeds(outputs, framework, seed=3):
    """Backpropagates sum(output * random) over all outputs (same seeds in both frameworks)."""
    rng = np.random.default_rng(seed)
    total = 0
    for out in outputs:
        weights = rng.standard_normal(tuple(out.shape)).astype(np.float32)
        total = total + (out * framework.tensor(weights)).sum()
    total.backward()


def compare_runs(ours, theirs, x, hx=None, rtol=1e-5, atol=1e-6):
    """Forward outputs, final states and every gradient (input, initial states, weights)."""
    rx, tx = both(x)
    r_hx = t_hx = None
    if hx is not None:
        pairs = [both(h) for h in hx]
        r_hx = [p[0] for p in pairs]
        t_hx = [p[1] for p in pairs]
    r_out, r_final = ours(rx, None if hx is None else _pack(ours, r_hx))
    t_out, t_final = theirs(tx, None if hx is None else _pack(theirs, t_hx))
    r_outputs = [r_out] + as_states(r_final)
    t_outputs = [t_out] + as_states(t_final)
    for r, t in zip(r_outputs, t_outputs):
        assert_close(r, t, rtol, atol)
    backward_with_seeds(r_outputs, rg)
    backward_with_seeds(t_outputs, torch)
    assert_close(rx.grad, tx.grad, rtol, atol)
    for r, t in zip(r_hx or (), t_hx or ()):
        assert_close(r.grad, t.grad, rtol, atol)
    assert_weight_grads_close(ours, theirs, rtol, max(atol, 1e-5))


def _pack(module, states):
    return tuple(states) if len(states) == 2 else states[0]


def initial_states(kind, num_states, batch, seed=11):
    count = 2 if kind == "LSTM" else 1
    return [randn(num_states, batch, HIDDEN, seed=seed + k, dtype=np.float32)
            for k in range(count)]


# ------------------------------------------------------------------------------- parity
CONFIGS = list(itertools.product(KINDS, [1, 2], [False, True], [False, True], [True, False],
                                 [False, True]))


@requires_torch
@pytest.mark.parametrize("kind,layers,bidirectional,batch_first,bias,with_hx", CONFIGS)
def test_parity(kind, layers, bidirectional, batch_first, bias, with_hx):
    ours, theirs = twins(kind, INPUT, HIDDEN, num_layers=layers, bias=bias,
                         batch_first=batch_first, bidirectional=bidirectional)
    seq_len, batch = 5, 3
    shape = (batch, seq_len, INPUT) if batch_first else (seq_len, batch, INPUT)
    hx = initial_states(kind, layers * (2 if bidirectional else 1), batch) if with_hx else None
    compare_runs(ours, theirs, randn(*shape, dtype=np.float32), hx)


@requires_torch
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("with_hx", [False, True])
def test_parity_unbatched(kind, batch_first, with_hx):
    ours, theirs = twins(kind, INPUT, HIDDEN, num_layers=2, bidirectional=True,
                         batch_first=batch_first)
    hx = [h[:, 0] for h in initial_states(kind, 4, 1)] if with_hx else None
    compare_runs(ours, theirs, randn(5, INPUT, dtype=np.float32), hx)


@requires_torch
@pytest.mark.parametrize("kind", KINDS)
def test_parity_long_sequence(kind):
    ours, theirs = twins(kind, INPUT, HIDDEN, num_layers=2)
    compare_runs(ours, theirs, randn(120, 4, INPUT, dtype=np.float32),
                 initial_states(kind, 2, 4), rtol=1e-4, atol=1e-5)


@requires_torch
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("with_hx", [False, True])
@pytest.mark.parametrize("lengths", [[3, 6, 1, 4, 6], [5, 5, 2], [2]])
def test_parity_packed_unsorted(kind, bidirectional, with_hx, lengths):
    """Packed input with unsorted lengths: packed output, final states at each sequence's end
    in the caller's order, and gradients, as PyTorch."""
    ours, theirs = twins(kind, INPUT, HIDDEN, num_layers=2, bidirectional=bidirectional,
                         batch_first=True)
    batch, seq_len = len(lengths), max(lengths)
    rx, tx = both(randn(batch, seq_len, INPUT, dtype=np.float32))
    hx_arrays = initial_states(kind, 2 * (2 if bidirectional else 1), batch) if with_hx else []
    pairs = [both(h) for h in hx_arrays]
    r_packed = pack_padded_sequence(rx, lengths, batch_first=True, enforce_sorted=False)
    t_packed = torch.nn.utils.rnn.pack_padded_sequence(tx, lengths, batch_first=True,
                                                       enforce_sorted=False)
    r_out, r_final = ours(r_packed, _pack(ours, [p[0] for p in pairs]) if pairs else None)
    t_out, t_final = theirs(t_packed, _pack(theirs, [p[1] for p in pairs]) if pairs else None)
    assert isinstance(r_out, PackedSequence)
    np.testing.assert_array_equal(r_out.batch_sizes.numpy(), t_out.batch_sizes.numpy())
    np.testing.assert_array_equal(r_out.sorted_indices.numpy(), t_out.sorted_indices.numpy())
    r_padded, r_lengths = pad_packed_sequence(r_out, batch_first=True)
    t_padded, _ = torch.nn.utils.rnn.pad_packed_sequence(t_out, batch_first=True)
    np.testing.assert_array_equal(r_lengths.numpy(), lengths)
    r_outputs = [r_padded] + as_states(r_final)
    t_outputs = [t_padded] + as_states(t_final)
    for r, t in zip(r_outputs, t_outputs):
        assert_close(r, t)
    backward_with_seeds(r_outputs, rg)
    backward_with_seeds(t_outputs, torch)
    assert_close(rx.grad, tx.grad)
    for r, t in pairs:
        assert_close(r.grad, t.grad)
    assert_weight_grads_close(ours, theirs)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("bidirectional", [False, True])
def test_padding_never_leaks(kind, bidirectional):
    """A packed batch gives each sequence the outputs, final states and gradients it gets
    alone, whatever the padding holds."""
    model = make(kind, rg, INPUT, HIDDEN, num_layers=2, bidirectional=bidirectional)
    lengths = [2, 5, 3]
    sequences = [randn(n, INPUT, seed=n) for n in lengths]
    padded = np.full((max(lengths), len(lengths), INPUT), 1e6)  # garbage padding
    for b, seq in enumerate(sequences):
        padded[:len(seq), b] = seq
    model.double()
    x = rg.tensor(padded, requires_grad=True)
    out, final = model(pack_padded_sequence(x, lengths, enforce_sorted=False))
    out, _ = pad_packed_sequence(out)
    (out.sum() + sum(s.sum() for s in as_states(final))).backward()
    batch_grads = {name: p.grad.numpy().copy() for name, p in model.named_parameters()}
    summed = {name: 0 for name in batch_grads}
    for b, seq in enumerate(sequences):
        model.zero_grad()
        alone = rg.tensor(seq[:, None], requires_grad=True)
        out_alone, final_alone = model(alone)
        np.testing.assert_allclose(out[:len(seq), b].detach().numpy(),
                                   out_alone[:, 0].detach().numpy(), rtol=1e-12, atol=1e-12)
        for s, s_alone in zip(as_states(final), as_states(final_alone)):
            np.testing.assert_allclose(s[:, b].detach().numpy(), s_alone[:, 0].detach().numpy(),
                                       rtol=1e-12, atol=1e-12)
        (out_alone.sum() + sum(s.sum() for s in as_states(final_alone))).backward()
        np.testing.assert_allclose(x.grad.numpy()[:len(seq), b], alone.grad.numpy()[:, 0],
                                   rtol=1e-10, atol=1e-12)
        for name, p in model.named_parameters():
            summed[name] = summed[name] + p.grad.numpy()
    assert not np.any(x.grad.numpy()[np.arange(max(lengths))[:, None] >= np.array(lengths)])
    for name in batch_grads:
        np.testing.assert_allclose(batch_grads[name], summed[name], rtol=1e-10, atol=1e-10)


@requires_torch
@pytest.mark.parametrize("kind", KINDS)
def test_pack_sequence_input(kind):
    ours, theirs = twins(kind, INPUT, HIDDEN)
    sequences = [randn(n, INPUT, seed=n, dtype=np.float32) for n in (2, 4, 1)]
    r_out, r_final = ours(pack_sequence([rg.tensor(s) for s in sequences],
                                        enforce_sorted=False))
    t_out, t_final = theirs(torch.nn.utils.rnn.pack_sequence(
        [torch.tensor(s) for s in sequences], enforce_sorted=False))
    assert_close(r_out.data, t_out.data)
    for r, t in zip(as_states(r_final), as_states(t_final)):
        assert_close(r, t)


# ---------------------------------------------------------------------- training patterns
@requires_torch
@pytest.mark.parametrize("kind", KINDS)
def test_truncated_bptt(kind):
    """Chunks with the state detached in between: the same outputs as one pass, gradients that
    stop at the chunk boundary, and the same weight gradients as PyTorch."""
    ours, theirs = twins(kind, INPUT, HIDDEN, num_layers=2)
    data = randn(12, 2, INPUT, dtype=np.float32)
    full, _ = ours(rg.tensor(data))
    outputs = {}
    for framework, model in ((rg, ours), (torch, theirs)):
        state, chunks = None, []
        for start in range(0, 12, 4):
            x = framework.tensor(data[start:start + 4], requires_grad=True)
            out, state = model(x, state)
            (out * out).mean().backward()
            state = tuple(s.detach() for s in state) if kind == "LSTM" else state.detach()
            chunks.append((x, out))
        outputs[framework] = chunks
    np.testing.assert_allclose(np.concatenate([o.detach().numpy() for _, o in outputs[rg]]),
                               full.detach().numpy(), rtol=1e-6, atol=1e-7)
    for (rx, r_out), (tx, t_out) in zip(outputs[rg], outputs[torch]):
        assert_close(r_out, t_out)
        assert_close(rx.grad, tx.grad)
    assert_weight_grads_close(ours, theirs)


@pytest.mark.parametrize("kind", KINDS)
def test_dropout_between_layers(kind):
    model = make(kind, rg, INPUT, HIDDEN, num_layers=3, dropout=0.5)
    x = rg.tensor(randn(6, 2, INPUT, dtype=np.float32))
    rg.manual_seed(0)
    first, _ = model(x)
    rg.manual_seed(0)
    repeated, _ = model(x)
    second, _ = model(x)
    # masks come from the default generator
    np.testing.assert_array_equal(first.detach().numpy(), repeated.detach().numpy())
    assert not np.allclose(first.detach().numpy(), second.detach().numpy())
    model.eval()
    evaluated, _ = model(x)
    np.testing.assert_array_equal(evaluated.detach().numpy(), model(x)[0].detach().numpy())
    model.dropout = 0.0
    np.testing.assert_array_equal(evaluated.detach().numpy(), model.train()(x)[0].detach().numpy())


@pytest.mark.parametrize("kind", KINDS)
def test_dropout_not_after_last_layer(kind):
    """p = 1 zeroes the first layer's output: the second layer then sees only zeros, and its
    own output is not dropped."""
    model = make(kind, rg, INPUT, HIDDEN, num_layers=2, dropout=1.0)
    out, _ = model(rg.tensor(randn(4, 2, INPUT, dtype=np.float32)))
    top = make(kind, rg, HIDDEN, HIDDEN)
    top.load_state_dict({name.replace("l1", "l0"): p for name, p in model.state_dict().items()
                         if "l1" in name})
    expected, _ = top(rg.zeros(4, 2, HIDDEN))
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-6)
    assert np.any(out.detach().numpy())


@requires_torch
def test_dropout_eval_parity():
    ours, theirs = twins("LSTM", INPUT, HIDDEN, num_layers=2, dropout=0.3)
    ours.eval()
    theirs.eval()
    compare_runs(ours, theirs, randn(5, 3, INPUT, dtype=np.float32))


def test_single_layer_dropout_warns():
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        GRU(INPUT, HIDDEN, dropout=0.2)


def test_float64_model():
    model = LSTM(INPUT, HIDDEN, num_layers=2).double()
    out, (h, c) = model(rg.tensor(randn(3, 2, INPUT)))
    assert out.dtype == h.dtype == c.dtype == rg.float64


# ---------------------------------------------------------------- parameters and module API
@requires_torch
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("bias", [True, False])
def test_parameters_match_pytorch(kind, bias):
    kwargs = dict(num_layers=2, bidirectional=True, bias=bias)
    ours, theirs = make(kind, rg, 3, 5, **kwargs), make(kind, torch, 3, 5, **kwargs)
    assert [(n, tuple(p.shape)) for n, p in ours.named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in theirs.named_parameters()]
    assert ours._flat_weights_names == theirs._flat_weights_names
    assert [[tuple(w.shape) for w in ws] for ws in ours.all_weights] == \
        [[tuple(w.shape) for w in ws] for ws in theirs.all_weights]
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})


@pytest.mark.parametrize("cls", [LSTM, GRU, RNN, LSTMCell, GRUCell, RNNCell])
def test_default_init_is_uniform_in_bound(cls):
    rg.manual_seed(3)
    model = cls(10, 16)
    bound = 1 / math.sqrt(16)
    for param in model.parameters():
        values = param.detach().numpy()
        assert values.dtype == np.float32
        assert np.all(np.abs(values) <= bound) and values.std() > bound / 3
    rg.manual_seed(3)
    again = cls(10, 16)
    for p, q in zip(model.parameters(), again.parameters()):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())


@requires_torch
@pytest.mark.parametrize("args,kwargs", [
    ((3, 5), {}),
    ((3, 5, 2), dict(bias=False, batch_first=True, dropout=0.1, bidirectional=True)),
])
@pytest.mark.parametrize("kind", KINDS)
def test_repr_matches_pytorch(kind, args, kwargs):
    assert repr(make(kind, rg, *args, **kwargs)) == repr(make(kind, torch, *args, **kwargs))


@requires_torch
def test_cell_repr_matches_pytorch():
    assert repr(RNNCell(3, 4, bias=False, nonlinearity="relu")) == repr(
        torch.nn.RNNCell(3, 4, bias=False, nonlinearity="relu"))
    assert repr(LSTMCell(3, 4)) == repr(torch.nn.LSTMCell(3, 4))
    assert repr(GRUCell(3, 4)) == repr(torch.nn.GRUCell(3, 4))


# -------------------------------------------------------------------------------- cells
CELL_KINDS = [("LSTMCell", {}), ("GRUCell", {}), ("RNNCell", {"nonlinearity": "tanh"}),
              ("RNNCell", {"nonlinearity": "relu"})]


@requires_torch
@pytest.mark.parametrize("name,kwargs", CELL_KINDS)
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("with_hx", [True, False])
def test_cell_parity(name, kwargs, bias, batched, with_hx):
    torch.manual_seed(0)
    theirs = getattr(torch.nn, name)(INPUT, HIDDEN, bias=bias, **kwargs)
    ours = {"LSTMCell": LSTMCell, "GRUCell": GRUCell, "RNNCell": RNNCell}[name](
        INPUT, HIDDEN, bias=bias, **kwargs)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    batch_shape = (3,) if batched else ()
    rx, tx = both(randn(*batch_shape, INPUT, dtype=np.float32))
    states = [both(randn(*batch_shape, HIDDEN, seed=k, dtype=np.float32))
              for k in range(2 if name == "LSTMCell" else 1)] if with_hx else []
    r_args, t_args = [rx], [tx]
    if states:
        r_args.append(_pack(ours, [s[0] for s in states]))
        t_args.append(_pack(theirs, [s[1] for s in states]))
    r_out, t_out = as_states(ours(*r_args)), as_states(theirs(*t_args))
    for r, t in zip(r_out, t_out):
        assert_close(r, t)
    backward_with_seeds(r_out, rg)
    backward_with_seeds(t_out, torch)
    assert_close(rx.grad, tx.grad)
    for r, t in states:
        assert_close(r.grad, t.grad)
    assert_weight_grads_close(ours, theirs)


@requires_torch
def test_lstm_cell_loop_matches_lstm():
    """Stepping LSTMCell by hand over a sequence equals the fused LSTM with the same weights."""
    layer = LSTM(INPUT, HIDDEN)
    cell = LSTMCell(INPUT, HIDDEN)
    cell.load_state_dict({k[:-3]: v for k, v in layer.state_dict().items()})
    x = rg.tensor(randn(6, 2, INPUT, dtype=np.float32))
    out, (h_n, c_n) = layer(x)
    state = None
    for t in range(6):
        state = cell(x[t], state)
        np.testing.assert_allclose(state[0].detach().numpy(), out[t].detach().numpy(),
                                   rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(state[1].detach().numpy(), c_n[0].detach().numpy(), rtol=1e-5,
                               atol=1e-6)


# -------------------------------------------------------------------------------- errors
def test_error_input_rank():
    with pytest.raises(ValueError, match="LSTM: Expected input to be 2D or 3D, got 4D"):
        LSTM(INPUT, HIDDEN)(rg.zeros(2, 3, 4, INPUT))


def test_error_input_size():
    with pytest.raises(RuntimeError, match="input.size\\(-1\\) must be equal to input_size. "
                                           "Expected 4, got 2"):
        GRU(INPUT, HIDDEN)(rg.zeros(5, 3, 2))


def test_error_hidden_size():
    with pytest.raises(RuntimeError, match=r"Expected hidden size \(1, 3, 6\), got \[2, 3, 6\]"):
        GRU(INPUT, HIDDEN)(rg.zeros(5, 3, INPUT), rg.zeros(2, 3, HIDDEN))
    with pytest.raises(RuntimeError, match=r"Expected hidden\[1\] size \(1, 3, 6\), got "
                                           r"\[1, 2, 6\]"):
        LSTM(INPUT, HIDDEN)(rg.zeros(5, 3, INPUT), (rg.zeros(1, 3, HIDDEN),
                                                    rg.zeros(1, 2, HIDDEN)))


def test_error_hidden_rank():
    with pytest.raises(RuntimeError, match="For unbatched 2-D input, hx should also be 2-D"):
        RNN(INPUT, HIDDEN)(rg.zeros(5, INPUT), rg.zeros(1, 1, HIDDEN))
    with pytest.raises(RuntimeError, match="For batched 3-D input, hx should also be 3-D"):
        LSTM(INPUT, HIDDEN)(rg.zeros(5, 2, INPUT), (rg.zeros(1, HIDDEN), rg.zeros(1, HIDDEN)))


def test_error_dtype():
    with pytest.raises(ValueError, match="input dtype \\(float64\\) does not match weight dtype"):
        LSTM(INPUT, HIDDEN)(rg.zeros(5, 3, INPUT, dtype=rg.float64))


def test_error_empty_sequence():
    with pytest.raises(RuntimeError, match="Expected sequence length to be larger than 0"):
        LSTM(INPUT, HIDDEN)(rg.zeros(0, 3, INPUT))


@pytest.mark.parametrize("kwargs,error,match", [
    (dict(dropout=1.5), ValueError, "dropout should be a number in range"),
    (dict(dropout=True), ValueError, "dropout should be a number in range"),
    (dict(num_layers=0), ValueError, "num_layers must be greater than zero"),
    (dict(bias=1), TypeError, "bias should be of type bool"),
    (dict(proj_size=2), NotImplementedError, "proj_size"),
    (dict(proj_size=6), ValueError, "proj_size has to be smaller than hidden_size"),
])
def test_error_constructor(kwargs, error, match):
    with pytest.raises(error, match=match):
        LSTM(INPUT, HIDDEN, **kwargs)


def test_error_constructor_sizes():
    with pytest.raises(ValueError, match="hidden_size must be greater than zero"):
        GRU(INPUT, 0)
    with pytest.raises(TypeError, match="input_size should be of type int"):
        GRU(2.0, HIDDEN)
    with pytest.raises(ValueError, match="Unknown nonlinearity 'sigmoid'"):
        RNN(INPUT, HIDDEN, nonlinearity="sigmoid")


def test_error_cells():
    cell = LSTMCell(INPUT, HIDDEN)
    with pytest.raises(ValueError, match="LSTMCell: Expected input to be 1D or 2D, got 3D"):
        cell(rg.zeros(2, 3, INPUT))
    with pytest.raises(RuntimeError, match="input has inconsistent input_size: got 5 "
                                           "expected 4"):
        cell(rg.zeros(2, 5))
    with pytest.raises(RuntimeError, match="Input batch size 2 doesn't match hidden0 batch "
                                           "size 3"):
        cell(rg.zeros(2, INPUT), (rg.zeros(3, HIDDEN), rg.zeros(3, HIDDEN)))
    with pytest.raises(RuntimeError, match="hidden1 has inconsistent hidden_size"):
        cell(rg.zeros(2, INPUT), (rg.zeros(2, HIDDEN), rg.zeros(2, 3)))
