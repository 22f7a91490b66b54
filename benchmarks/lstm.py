"""Recurrent layers, forward + backward: retrograd's fused LSTM and GRU against PyTorch's
``nn.LSTM``/``nn.GRU`` and against a hand-written NumPy forward/backward of the same
computation (the floor for anything built on NumPy).

    python -m benchmarks.lstm [--threads 2] [--repeats 10]

Each run: a 1-layer network over a padded batch, loss = mean of the squared outputs, backward
to the input and all weights. Then the LSTM at sequence lengths 50/100/200, whose time should
grow linearly.
"""
import argparse
import statistics

import numpy as np

import retrograd as rg
from retrograd.nn.modules import rnn as recurrent
from benchmarks.common import bench_threads, blas_info, interleaved_times, load_torch, use_threads


def _sigmoid(a):
    return 0.5 * np.tanh(0.5 * a) + 0.5


# --------------------------------------------------------------- hand-written NumPy reference
def numpy_lstm(x, w_ih, w_hh, b_ih, b_hh):
    """Forward and backward of ``mean(LSTM(x)^2)``; returns the input and weight gradients."""
    steps, batch, _ = x.shape
    hidden = w_hh.shape[1]
    xs = x.reshape(steps * batch, -1)
    pre = (xs @ w_ih.T + (b_ih + b_hh)).reshape(steps, batch, 4 * hidden)
    h = np.zeros((batch, hidden), x.dtype)
    c = np.zeros((batch, hidden), x.dtype)
    hs, cs, acts = [h], [c], []
    for t in range(steps):
        a = pre[t] + h @ w_hh.T
        i, f = _sigmoid(a[:, :hidden]), _sigmoid(a[:, hidden:2 * hidden])
        g, o = np.tanh(a[:, 2 * hidden:3 * hidden]), _sigmoid(a[:, 3 * hidden:])
        c = f * c + i * g
        h = o * np.tanh(c)
        hs.append(h)
        cs.append(c)
        acts.append((i, f, g, o))
    out = np.stack(hs[1:])
    d_out = 2 * out / out.size
    dh = np.zeros((batch, hidden), x.dtype)
    dc = np.zeros((batch, hidden), x.dtype)
    d_pre = np.empty_like(pre)
    for t in reversed(range(steps)):
        i, f, g, o = acts[t]
        dh = dh + d_out[t]
        tanh_c = np.tanh(cs[t + 1])
        dc = dc + dh * o * (1 - tanh_c ** 2)
        d_pre[t] = np.concatenate([dc * g * i * (1 - i), dc * cs[t] * f * (1 - f),
                                   dc * i * (1 - g ** 2), dh * tanh_c * o * (1 - o)], axis=1)
        dh = d_pre[t] @ w_hh
        dc = dc * f
    d_pre = d_pre.reshape(steps * batch, -1)
    h_prev = np.concatenate(hs[:-1]).reshape(steps * batch, hidden)
    db = d_pre.sum(0)
    return (d_pre @ w_ih).reshape(x.shape), d_pre.T @ xs, d_pre.T @ h_prev, db, db


def numpy_gru(x, w_ih, w_hh, b_ih, b_hh):
    """Forward and backward of ``mean(GRU(x)^2)``; returns the input and weight gradients."""
    steps, batch, _ = x.shape
    hidden = w_hh.shape[1]
    xs = x.reshape(steps * batch, -1)
    pre = (xs @ w_ih.T + b_ih).reshape(steps, batch, 3 * hidden)
    h = np.zeros((batch, hidden), x.dtype)
    hs, acts = [h], []
    for t in range(steps):
        hp = h @ w_hh.T + b_hh
        r = _sigmoid(pre[t, :, :hidden] + hp[:, :hidden])
        z = _sigmoid(pre[t, :, hidden:2 * hidden] + hp[:, hidden:2 * hidden])
        n = np.tanh(pre[t, :, 2 * hidden:] + r * hp[:, 2 * hidden:])
        h = (1 - z) * n + z * h
        hs.append(h)
        acts.append((r, z, n, hp[:, 2 * hidden:]))
    out = np.stack(hs[1:])
    d_out = 2 * out / out.size
    dh = np.zeros((batch, hidden), x.dtype)
    d_x_part = np.empty_like(pre)
    d_h_part = np.empty_like(pre)
    for t in reversed(range(steps)):
        r, z, n, hn = acts[t]
        dh = dh + d_out[t]
        dn = dh * (1 - z) * (1 - n ** 2)
        dz = dh * (hs[t] - n) * z * (1 - z)
        dr = dn * hn * r * (1 - r)
        d_x_part[t] = np.concatenate([dr, dz, dn], axis=1)
        d_h_part[t] = np.concatenate([dr, dz, dn * r], axis=1)
        dh = dh * z + d_h_part[t] @ w_hh
    d_x_part = d_x_part.reshape(steps * batch, -1)
    d_h_part = d_h_part.reshape(steps * batch, -1)
    h_prev = np.concatenate(hs[:-1]).reshape(steps * batch, hidden)
    return ((d_x_part @ w_ih).reshape(x.shape), d_x_part.T @ xs, d_h_part.T @ h_prev,
            d_x_part.sum(0), d_h_part.sum(0))


_NUMPY_REFERENCE = {"LSTM": numpy_lstm, "GRU": numpy_gru}


# ------------------------------------------------------------------------------------- runs
def run(kind, input_size, hidden_size, seq_len, batch, repeats, torch=None):
    """Median seconds of forward + backward per framework, for one configuration."""
    x = np.random.default_rng(0).standard_normal((seq_len, batch, input_size)).astype(np.float32)
    model = getattr(recurrent, kind)(input_size, hidden_size)
    weights = [p.detach().numpy() for p in model.parameters()]

    def rg_step():
        inp = rg.tensor(x, requires_grad=True)
        out, _ = model(inp)
        (out * out).mean().backward()

    steps = {"retrograd": rg_step,
             "numpy (hand-written)": lambda: _NUMPY_REFERENCE[kind](x, *weights)}
    if torch is not None:
        rival = getattr(torch.nn, kind)(input_size, hidden_size)

        def torch_step():
            inp = torch.tensor(x, requires_grad=True)
            out, _ = rival(inp)
            (out * out).mean().backward()

        steps["pytorch"] = torch_step
    return {name: statistics.median(t)
            for name, t in interleaved_times(steps, repeats, warmup=2).items()}


def _report(title, results):
    print(title)
    ours = results["retrograd"]
    for name, seconds in results.items():
        print(f"  {name:22s} {seconds * 1e3:8.2f} ms   retrograd / this = {ours / seconds:5.2f}x")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=None,
                        help="threads for PyTorch and retrograd (default $BENCH_THREADS or 2)")
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args(argv)
    torch = load_torch(args.threads)
    threads = bench_threads(args.threads)
    use_threads(threads)
    print(f"BLAS: {blas_info()}; PyTorch threads: {threads}")
    configs = [("LSTM", 64, 256, 100, 32), ("GRU", 64, 128, 50, 64)]
    for kind, input_size, hidden, seq_len, batch in configs:
        results = run(kind, input_size, hidden, seq_len, batch, args.repeats, torch)
        _report(f"{kind}: input {input_size}, hidden {hidden}, sequence {seq_len}, batch {batch}, "
                f"forward + backward (median of {args.repeats}, taking turns)", results)
    print("LSTM sequence-length scaling (input 64, hidden 256, batch 32): ms per step")
    for seq_len in (50, 100, 200):
        results = run("LSTM", 64, 256, seq_len, 32, args.repeats, torch)
        print(f"  T={seq_len:4d}  " + "   ".join(
            f"{name} {seconds / seq_len * 1e3:6.3f}" for name, seconds in results.items()))


if __name__ == "__main__":
    main()
