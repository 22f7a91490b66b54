"""Recurrent layers, forward + backward: retrograd's fused LSTM and GRU against PyTorch's
``nn.LSTM``/``nn.GRU`` and against a hand-written NumPy forward/backward of the same
computation (the floor for anything built on NumPy).

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python -m benchmarks.lstm [--threads 2]
        [--repeats 5] [--rounds 3]

Each run: a 1-layer network over a padded batch, loss = mean of the squared outputs, backward
to the input and all weights. Then the LSTM at sequence lengths 50/100/200, whose time should
grow linearly. Every contender is timed in fresh processes of its own, taking turns
(``--rounds`` processes of ``--repeats`` steps each).
"""
import argparse
import json
import statistics

import numpy as np

import retrograd as rg
from retrograd.nn.modules import rnn as recurrent
from benchmarks.common import (bench_threads, blas_info, flags, json_from_fresh_process,
                               load_torch, use_threads, wall_times)


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
CONTENDERS = ("retrograd", "numpy (hand-written)", "pytorch")


def make_step(contender, kind, input_size, hidden_size, seq_len, batch, torch=None):
    """One forward + backward of ``contender`` (PyTorch: ``torch``) on a fixed batch."""
    x = np.random.default_rng(0).standard_normal((seq_len, batch, input_size)).astype(np.float32)
    model = getattr(recurrent, kind)(input_size, hidden_size)
    if contender == "numpy (hand-written)":
        weights = [p.detach().numpy() for p in model.parameters()]
        return lambda: _NUMPY_REFERENCE[kind](x, *weights)
    framework = rg if contender == "retrograd" else torch
    if framework is not rg:
        model = getattr(torch.nn, kind)(input_size, hidden_size)

    def step():
        inp = framework.tensor(x, requires_grad=True)
        out, _ = model(inp)
        (out * out).mean().backward()
    return step


def times_here(contender, config, repeats, threads):
    """Seconds of ``repeats`` steps after two warm-up steps, in this process."""
    use_threads(threads)
    torch = load_torch(threads) if contender == "pytorch" else None
    return wall_times(make_step(contender, *config, torch=torch), repeats, warmup=2)


def times_in_fresh_process(contender, config, repeats, threads):
    """``times_here`` run by a new Python process (see benchmarks/isolated.py for why)."""
    arguments = ["--only", contender, "--config", ",".join(map(str, config)),
                 *flags(repeats=repeats, threads=threads)]
    return json_from_fresh_process("benchmarks.lstm", arguments, contender,
                                   f"{contender} on {config}")


def run(config, repeats, threads, contenders, rounds=3):
    """Median seconds of forward + backward per contender for ``config`` (kind, input size,
    hidden size, sequence length, batch): ``rounds`` fresh processes each, taking turns."""
    times = {name: [] for name in contenders}
    for _ in range(rounds):
        for name in contenders:
            times[name] += times_in_fresh_process(name, config, repeats, threads)
    return {name: statistics.median(t) for name, t in times.items()}


def _report(title, results):
    print(title)
    ours = results["retrograd"]
    for name, seconds in results.items():
        print(f"  {name:22s} {seconds * 1e3:8.2f} ms   retrograd / this = {ours / seconds:5.2f}x")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=None,
                        help="threads for PyTorch and retrograd (default $BENCH_THREADS or 2)")
    parser.add_argument("--repeats", type=int, default=5, help="timed steps per process")
    parser.add_argument("--rounds", type=int, default=3, help="fresh processes per contender")
    parser.add_argument("--only", choices=CONTENDERS, default=None,
                        help="time one contender in this process and print JSON")
    parser.add_argument("--config", default=None, help="with --only: kind,input,hidden,T,batch")
    args = parser.parse_args(argv)
    threads = bench_threads(args.threads)
    if args.only:
        kind, *sizes = args.config.split(",")
        print(json.dumps(times_here(args.only, (kind, *map(int, sizes)), args.repeats, threads)))
        return
    contenders = CONTENDERS if load_torch() is not None else CONTENDERS[:2]
    use_threads(threads)
    print(f"BLAS: {blas_info()}; {threads} threads for each contender, each in fresh processes")
    runs = args.rounds * args.repeats
    for config in [("LSTM", 64, 256, 100, 32), ("GRU", 64, 128, 50, 64)]:
        kind, input_size, hidden, seq_len, batch = config
        _report(f"{kind}: input {input_size}, hidden {hidden}, sequence {seq_len}, batch {batch}, "
                f"forward + backward (median of {runs} in {args.rounds} processes, taking turns)",
                run(config, args.repeats, threads, contenders, args.rounds))
    print("LSTM sequence-length scaling (input 64, hidden 256, batch 32): ms per step")
    for seq_len in (50, 100, 200):
        results = run(("LSTM", 64, 256, seq_len, 32), args.repeats, threads, contenders,
                      args.rounds)
        print(f"  T={seq_len:4d}  " + "   ".join(
            f"{name} {seconds / seq_len * 1e3:6.3f}" for name, seconds in results.items()))


if __name__ == "__main__":
    main()
