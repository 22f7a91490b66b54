"""Backpropagation end to end: small networks trained by hand-written gradient descent."""
import numpy as np

import retrograd as rg
import retrograd.nn.functional as F


def sgd_(params, lr):
    with rg.no_grad():
        for p in params:
            p -= lr * p.grad
            p.grad = None


def test_two_layer_mlp_learns_xor():
    rg.manual_seed(0)
    x = rg.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = rg.tensor([0, 1, 1, 0])
    w1, b1 = rg.randn(2, 8, requires_grad=True), rg.zeros(8, requires_grad=True)
    w2, b2 = rg.randn(8, 2, requires_grad=True), rg.zeros(2, requires_grad=True)
    for _ in range(500):
        loss = F.cross_entropy((x @ w1 + b1).tanh() @ w2 + b2, y)
        loss.backward()
        sgd_((w1, b1, w2, b2), 0.5)
    predictions = ((x @ w1 + b1).tanh() @ w2 + b2).argmax(dim=1)
    assert (predictions == y).all().item()
    assert loss.item() < 0.05


def two_moons(n, noise, seed):
    """n points on two interleaving half circles, labelled 0 and 1."""
    rng = np.random.default_rng(seed)
    angle = rng.uniform(0, np.pi, n)
    label = rng.integers(0, 2, n)
    x = np.where(label == 0, np.cos(angle), 1 - np.cos(angle))
    y = np.where(label == 0, np.sin(angle), 0.5 - np.sin(angle))
    points = np.stack([x, y], axis=1) + rng.normal(0, noise, (n, 2))
    return rg.tensor(points.astype(np.float32)), rg.tensor(label)


def test_mlp_separates_two_moons_completely():
    rg.manual_seed(1)
    x, y = two_moons(256, noise=0.05, seed=3)
    w1, b1 = (rg.randn(2, 32) * 0.5).requires_grad_(), rg.zeros(32, requires_grad=True)
    w2, b2 = (rg.randn(32, 2) * 0.5).requires_grad_(), rg.zeros(2, requires_grad=True)
    for _ in range(1500):
        loss = F.cross_entropy(F.relu(x @ w1 + b1) @ w2 + b2, y)
        loss.backward()
        sgd_((w1, b1, w2, b2), 0.2)
    accuracy = (((F.relu(x @ w1 + b1) @ w2 + b2).argmax(dim=1)) == y).float().mean().item()
    assert accuracy == 1.0, accuracy


def test_same_seed_same_training_bit_for_bit():
    def train(seed):
        rg.manual_seed(seed)
        w = rg.randn(3, 2, requires_grad=True)
        x = rg.randn(16, 3)
        for _ in range(20):
            loss = F.dropout((x @ w).tanh(), 0.3).pow(2).mean()
            loss.backward()
            sgd_((w,), 0.1)
        return w.detach().numpy().copy()

    assert np.array_equal(train(5), train(5))
    assert not np.array_equal(train(5), train(6))
