"""Hand-written NumPy training steps of the benchmark networks: the forward pass, the loss, the
backward pass worked out by hand and the SGD update, with no graph and no tensor objects. This is
the floor for a framework that computes with NumPy: what remains between it and retrograd is
the framework's own cost (graph nodes, tensor objects, bookkeeping, generality).

So that the gap measures that cost rather than better or worse kernels, the reference uses the
same fast forms as retrograd: in-place bias additions, updates through BLAS's axpy (in place
where it is missing), sigmoid through exp, the recurrent layers' input projection of all steps
as one GEMM before the loop and the weight gradients as one GEMM after it, softmax
cross-entropy fused (d loss / d logits = (softmax - one_hot) / N), 2x2 max pooling as a running
maximum over the four strided views with the first maximum's position found arithmetically.
Convolutions call retrograd's array-level kernels (``retrograd.ops.conv._conv_forward`` /
``_conv_backward``: batch-sliced im2col GEMMs on plain arrays), the one piece not written out
again here.

Parameters live in a dict keyed by the state-dict names of the equivalent ``nn`` model, so that
all contenders start from the same weights; ``sgd`` updates it in place.
"""
import numpy as np

from retrograd._blas import axpy
from retrograd.ops.conv import _conv_backward, _conv_forward, _Geometry


def sgd(params, grads, lr):
    """p -= lr * g in place: through BLAS's axpy as retrograd's optimizer does where it can,
    else reusing the (discarded) gradient as scratch."""
    for name, grad in grads.items():
        if not axpy(-lr, grad, params[name]):
            grad *= -lr
            params[name] += grad


def sigmoid_(a):
    """In place 1 / (1 + exp(-a)) (exp overflows to inf for very negative a: the limit 0)."""
    with np.errstate(over="ignore"):
        np.negative(a, out=a)
        np.exp(a, out=a)
    a += 1
    return np.reciprocal(a, out=a)


def cross_entropy(logits, labels):
    """Mean softmax cross-entropy of (N, C) logits and (N,) labels, and its gradient."""
    rows = np.arange(len(labels))
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    sums = exp.sum(axis=1, keepdims=True)
    loss = np.mean(np.log(sums[:, 0]) - shifted[rows, labels])
    exp /= sums
    exp[rows, labels] -= 1
    exp /= len(labels)
    return loss, exp


# ------------------------------------------------------------------ feed-forward layers
class Linear:
    def __init__(self, prefix, input_grad=True):
        self.weight, self.bias = prefix + ".weight", prefix + ".bias"
        self.input_grad = input_grad  # False for the first layer: the batch needs none

    def forward(self, params, x):
        self.x = x
        out = x @ params[self.weight].T
        out += params[self.bias]
        return out

    def backward(self, params, grad, grads):
        grads[self.weight] = grad.T @ self.x
        grads[self.bias] = grad.sum(axis=0)
        return grad @ params[self.weight] if self.input_grad else None


class ReLU:
    def forward(self, params, x):
        self.positive = x > 0
        return np.maximum(x, 0)

    def backward(self, params, grad, grads):
        grad *= self.positive
        return grad


class Flatten:
    def forward(self, params, x):
        self.shape = x.shape
        return x.reshape(len(x), -1)

    def backward(self, params, grad, grads):
        return grad.reshape(self.shape)


class Conv2d:
    def __init__(self, prefix, padding=0, input_grad=True):
        self.weight, self.bias = prefix + ".weight", prefix + ".bias"
        self.geometry = _Geometry(1, (padding,) * 4, (1, 1), (1, 1))
        self.padding = padding
        self.input_grad = input_grad  # False for the first layer: the batch needs none

    def forward(self, params, x):
        self.x = x
        out = _conv_forward(x, params[self.weight], self.geometry)
        out += params[self.bias][:, None, None]
        return out

    def backward(self, params, grad, grads):
        n, c, h, w = self.x.shape
        p = self.padding
        dx, grads[self.weight] = _conv_backward(grad, self.x, params[self.weight],
                                                self.geometry, (n, c, h + 2 * p, w + 2 * p),
                                                self.input_grad, True)
        grads[self.bias] = grad.sum(axis=(0, 2, 3))
        return dx


class MaxPool2x2:
    """2x2 max pooling, stride 2, on even heights and widths; ties go to the first maximum."""

    def forward(self, params, x):
        n, c, h, w = self.shape = x.shape
        blocks = x.reshape(n, c, h // 2, 2, w // 2, 2)
        views = [blocks[:, :, :, i, :, j] for i in range(2) for j in range(2)]
        best = views[0].copy()
        for v in views[1:]:
            np.maximum(best, v, out=best)
        winner = np.full(best.shape, 3, dtype=np.int8)
        for k in (2, 1, 0):  # winner = k where view k holds the maximum, the first one last
            winner -= (winner - k) * (views[k] == best).view(np.int8)
        self.winner = winner
        return best

    def backward(self, params, grad, grads):
        n, c, h, w = self.shape
        dx = np.empty((n, c, h // 2, 2, w // 2, 2), dtype=grad.dtype)
        for k in range(4):
            np.multiply(grad, self.winner == k, out=dx[:, :, :, k // 2, :, k % 2])
        return dx.reshape(self.shape)


def no_mark(phase):
    """The default ``mark`` of a training step: phases not timed."""
    return None


def feed_forward_step(layers, params, lr):
    """A training step of a stack of layers ending in softmax cross-entropy; ``mark(phase)`` is
    called as each phase ends (``benchmarks.phases`` times them)."""

    def step(x, labels, mark=no_mark):
        for layer in layers:
            x = layer.forward(params, x)
        mark("forward")
        loss, grad = cross_entropy(x, labels)
        mark("loss")
        grads = {}
        for layer in reversed(layers):
            grad = layer.backward(params, grad, grads)
        mark("backward")
        sgd(params, grads, lr)
        mark("update")
        return loss
    return step


# ------------------------------------------------------------------------- recurrent layers
def embedding_grad(num_embeddings, tokens, grad):
    """Dense gradient of an embedding table: rows of ``grad`` summed per token."""
    dim = grad.shape[-1]
    table = np.zeros((num_embeddings, dim), dtype=grad.dtype)
    np.add.at(table, tokens.ravel(), grad.reshape(-1, dim))
    return table


def lstm_forward(x, w_ih, w_hh, bias):
    """x (T, B, I) -> all hidden states (T + 1, B, H) (h_0 = 0), and what backward needs."""
    steps, batch, _ = x.shape
    hidden = w_hh.shape[1]
    gates = (x.reshape(steps * batch, -1) @ w_ih.T + bias).reshape(steps, batch, 4 * hidden)
    hs = np.zeros((steps + 1, batch, hidden), dtype=x.dtype)
    cs = np.zeros_like(hs)
    tanh_cs = np.empty_like(hs[1:])
    for t in range(steps):
        a = gates[t]  # preactivations, replaced by the activations i, f, g, o
        a += hs[t] @ w_hh.T
        sigmoid_(a[:, :2 * hidden])
        np.tanh(a[:, 2 * hidden:3 * hidden], out=a[:, 2 * hidden:3 * hidden])
        sigmoid_(a[:, 3 * hidden:])
        i, f, g, o = (a[:, k * hidden:(k + 1) * hidden] for k in range(4))
        np.multiply(f, cs[t], out=cs[t + 1])
        cs[t + 1] += i * g
        np.tanh(cs[t + 1], out=tanh_cs[t])
        np.multiply(o, tanh_cs[t], out=hs[t + 1])
    return hs, (gates, cs, tanh_cs)


def lstm_backward(d_hs, cache, w_hh):
    """The gradients of the gates' preactivations (T, B, 4H), given d loss / d h_t for
    t = 1..T."""
    gates, cs, tanh_cs = cache
    steps, batch, hidden = d_hs.shape
    d_gates = np.empty_like(gates)
    dh = np.zeros((batch, hidden), dtype=gates.dtype)
    dc = np.zeros_like(dh)
    for t in reversed(range(steps)):
        i, f, g, o = (gates[t, :, k * hidden:(k + 1) * hidden] for k in range(4))
        d = d_gates[t]
        dh += d_hs[t]
        dc += dh * o * (1 - tanh_cs[t] * tanh_cs[t])
        np.multiply(dc * g, i * (1 - i), out=d[:, :hidden])
        np.multiply(dc * cs[t], f * (1 - f), out=d[:, hidden:2 * hidden])
        np.multiply(dc * i, 1 - g * g, out=d[:, 2 * hidden:3 * hidden])
        np.multiply(dh * tanh_cs[t], o * (1 - o), out=d[:, 3 * hidden:])
        dc *= f
        dh = d @ w_hh
    return d_gates


def gru_forward(x, w_ih, w_hh, b_ih, b_hh):
    """x (T, B, I) -> all hidden states (T + 1, B, H) (h_0 = 0), and what backward needs."""
    steps, batch, _ = x.shape
    hidden = w_hh.shape[1]
    bias = b_ih.copy()
    bias[:2 * hidden] += b_hh[:2 * hidden]  # b_hn stays inside r * (W_hn h + b_hn)
    gates = (x.reshape(steps * batch, -1) @ w_ih.T + bias).reshape(steps, batch, 3 * hidden)
    hidden_n = np.empty((steps, batch, hidden), dtype=x.dtype)  # W_hn h + b_hn
    hs = np.zeros((steps + 1, batch, hidden), dtype=x.dtype)
    for t in range(steps):
        a = gates[t]  # preactivations, replaced by the activations r, z, n
        from_h = hs[t] @ w_hh.T
        a[:, :2 * hidden] += from_h[:, :2 * hidden]
        sigmoid_(a[:, :2 * hidden])
        r, z, n = (a[:, k * hidden:(k + 1) * hidden] for k in range(3))
        np.add(from_h[:, 2 * hidden:], b_hh[2 * hidden:], out=hidden_n[t])
        n += r * hidden_n[t]
        np.tanh(n, out=n)
        np.subtract(hs[t], n, out=hs[t + 1])
        hs[t + 1] *= z
        hs[t + 1] += n
    return hs, (gates, hidden_n, hs)


def gru_backward(d_hs, cache, w_hh):
    """(d preactivations of the input part, of the hidden part), each (T, B, 3H), given
    d loss / d h_t for t = 1..T."""
    gates, hidden_n, hs = cache
    steps, batch, hidden = d_hs.shape
    d_from_x = np.empty_like(gates)
    d_from_h = np.empty_like(gates)
    dh = np.zeros((batch, hidden), dtype=gates.dtype)
    for t in reversed(range(steps)):
        r, z, n = (gates[t, :, k * hidden:(k + 1) * hidden] for k in range(3))
        dx_t, dh_t = d_from_x[t], d_from_h[t]
        dh += d_hs[t]
        dn = dx_t[:, 2 * hidden:]
        np.multiply(dh * (1 - z), 1 - n * n, out=dn)
        np.multiply(dn * hidden_n[t], r * (1 - r), out=dx_t[:, :hidden])
        np.multiply(dh * (hs[t] - n), z * (1 - z), out=dx_t[:, hidden:2 * hidden])
        dh_t[:, :2 * hidden] = dx_t[:, :2 * hidden]
        np.multiply(dn, r, out=dh_t[:, 2 * hidden:])
        dh *= z
        dh += dh_t @ w_hh
    return d_from_x, d_from_h


def _flat(a):
    return a.reshape(-1, a.shape[-1])


def char_lstm_step(params, lr):
    """Embedding -> LSTM -> linear head, cross-entropy at every step (``workloads.CharLSTM``)."""
    table = params["embed.weight"]

    def step(tokens, targets):
        w_ih, w_hh = params["lstm.weight_ih_l0"], params["lstm.weight_hh_l0"]
        w_out = params["head.weight"]
        x = table[tokens]
        hs, cache = lstm_forward(x, w_ih, w_hh, params["lstm.bias_ih_l0"] +
                                 params["lstm.bias_hh_l0"])
        outputs = _flat(hs[1:])
        loss, d_logits = cross_entropy(outputs @ w_out.T + params["head.bias"],
                                       targets.ravel())
        d_pre = _flat(lstm_backward((d_logits @ w_out).reshape(hs[1:].shape), cache, w_hh))
        d_bias = d_pre.sum(axis=0)
        grads = {"head.weight": d_logits.T @ outputs, "head.bias": d_logits.sum(axis=0),
                 "lstm.weight_ih_l0": d_pre.T @ _flat(x),
                 "lstm.weight_hh_l0": d_pre.T @ _flat(hs[:-1]),
                 "lstm.bias_ih_l0": d_bias, "lstm.bias_hh_l0": d_bias.copy(),
                 "embed.weight": embedding_grad(len(table), tokens, d_pre @ w_ih)}
        sgd(params, grads, lr)
        return loss
    return step


def gru_classifier_step(params, lr):
    """Embedding -> GRU -> linear head on the last hidden state, cross-entropy
    (``workloads.GRUClassifier``)."""
    table = params["embed.weight"]

    def step(tokens, labels):
        w_ih, w_hh = params["gru.weight_ih_l0"], params["gru.weight_hh_l0"]
        w_out = params["head.weight"]
        x = table[tokens]
        hs, cache = gru_forward(x, w_ih, w_hh, params["gru.bias_ih_l0"],
                                params["gru.bias_hh_l0"])
        loss, d_logits = cross_entropy(hs[-1] @ w_out.T + params["head.bias"], labels)
        d_hs = np.zeros_like(hs[1:])
        d_hs[-1] = d_logits @ w_out
        d_from_x, d_from_h = (_flat(d) for d in gru_backward(d_hs, cache, w_hh))
        grads = {"head.weight": d_logits.T @ hs[-1], "head.bias": d_logits.sum(axis=0),
                 "gru.weight_ih_l0": d_from_x.T @ _flat(x),
                 "gru.weight_hh_l0": d_from_h.T @ _flat(hs[:-1]),
                 "gru.bias_ih_l0": d_from_x.sum(axis=0), "gru.bias_hh_l0": d_from_h.sum(axis=0),
                 "embed.weight": embedding_grad(len(table), tokens, d_from_x @ w_ih)}
        sgd(params, grads, lr)
        return loss
    return step
