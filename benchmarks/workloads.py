"""The benchmark workloads: one training step (forward, softmax cross-entropy, backward, plain
SGD update) of each network, built identically in every contender.

Each network is written once against the ``torch.nn`` API, which retrograd shares: ``build`` is
called with ``retrograd.nn`` or ``torch.nn``. Every contender starts from the same initial
weights (retrograd's initialization, copied) and trains on the same batch, in float32.
"""
from dataclasses import dataclass
from typing import Callable

import numpy as np

from benchmarks import reference
from benchmarks.reference import Conv2d, Flatten, Linear, MaxPool2x2, ReLU

LEARNING_RATE = 0.01


def mlp(nn):
    return nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(),
                         nn.Linear(256, 10))


def lenet5(nn):
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


def small_cnn(nn):
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 12 * 12, 128), nn.ReLU(), nn.Linear(128, 10))


def char_lstm(nn, vocab=65):
    """Character model: logits for the next character at every step, as (T * B, vocab)."""

    class CharLSTM(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(vocab, 64)
            self.lstm = nn.LSTM(64, 256)
            self.head = nn.Linear(256, vocab)

        def forward(self, tokens):
            out, _ = self.lstm(self.embed(tokens))
            return self.head(out).reshape(-1, vocab)
    return CharLSTM()


def gru_classifier(nn, vocab=10000):
    """Sequence classifier: two classes from the GRU's last hidden state."""

    class GRUClassifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(vocab, 128)
            self.gru = nn.GRU(128, 128)
            self.head = nn.Linear(128, 2)

        def forward(self, tokens):
            _, last = self.gru(self.embed(tokens))
            return self.head(last[0])
    return GRUClassifier()


def _images(g, batch, size=28):
    return (g.standard_normal((batch, 1, size, size)).astype(np.float32),
            g.integers(0, 10, batch))


def _sequences(vocab, classes_per_step):
    """Token batches (T, B); targets per step (T * B,) or per sequence (B,)."""

    def make(g, batch, steps):
        tokens = g.integers(0, vocab, (steps, batch))
        if classes_per_step:
            return tokens, g.integers(0, vocab, steps * batch)
        return tokens, g.integers(0, 2, batch)
    return make


def _feed_forward_reference(layers):
    """The reference step of a stack of layers; ``layers()`` makes fresh layer objects (they
    keep what their backward needs)."""
    return lambda params, lr: reference.feed_forward_step(layers(), params, lr)


@dataclass(frozen=True)
class Workload:
    key: str
    title: str
    build: Callable            # nn namespace -> model
    make_batch: Callable       # (numpy Generator, batch[, steps]) -> (inputs, targets)
    reference_step: Callable   # (params dict, lr) -> step(inputs, targets)
    batch: int
    steps: int = 0             # sequence length (recurrent workloads)

    def batch_data(self, batch=None, steps=None, seed=0):
        g = np.random.default_rng(seed)
        if self.steps:
            return self.make_batch(g, batch or self.batch, steps or self.steps)
        return self.make_batch(g, batch or self.batch)


def _mlp_batch(g, batch):
    return g.standard_normal((batch, 784)).astype(np.float32), g.integers(0, 10, batch)


# The reference layers mirror the nn.Sequential indices of the models above (state-dict names);
# the first layer computes no input gradient, as autograd does not for the batch.
WORKLOADS = {w.key: w for w in [
    Workload("W1", "MLP 784-512-256-10", mlp, _mlp_batch, _feed_forward_reference(lambda: [
        Linear("0", input_grad=False), ReLU(), Linear("2"), ReLU(), Linear("4")]),
        batch=128),
    Workload("W2", "LeNet-5", lenet5, _images, _feed_forward_reference(lambda: [
        Conv2d("0", padding=2, input_grad=False), ReLU(), MaxPool2x2(),
        Conv2d("3"), ReLU(), MaxPool2x2(), Flatten(),
        Linear("7"), ReLU(), Linear("9"), ReLU(), Linear("11")]),
        batch=128),
    Workload("W3", "CNN conv32-conv64-pool-fc128", small_cnn, _images,
             _feed_forward_reference(lambda: [
                 Conv2d("0", input_grad=False), ReLU(), Conv2d("2"), ReLU(), MaxPool2x2(),
                 Flatten(), Linear("6"), ReLU(), Linear("8")]),
             batch=64),
    Workload("W4", "char LSTM 65-64-256, BPTT", char_lstm, _sequences(65, True),
             reference.char_lstm_step, batch=32, steps=100),
    Workload("W5", "GRU classifier 10k-128-128-2", gru_classifier, _sequences(10000, False),
             reference.gru_classifier_step, batch=64, steps=50),
]}
