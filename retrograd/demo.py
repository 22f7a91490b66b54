"""A first training run: a two-layer network learns to separate two interleaving half-moons.

Everything a larger application does is here in miniature: data as tensors, a model from
``retrograd.nn``, a loss, ``loss.backward()`` and an optimizer step.
"""
import math
import time

import numpy as np

import retrograd as rg
import retrograd.nn as nn
import retrograd.nn.functional as F


def two_moons(n, noise=0.1, seed=0):
    """n points on two interleaving half circles, labelled 0 and 1, with Gaussian noise."""
    rng = np.random.default_rng(seed)
    angle = rng.uniform(0, math.pi, n)
    label = rng.integers(0, 2, n)
    x = np.where(label == 0, np.cos(angle), 1 - np.cos(angle))
    y = np.where(label == 0, np.sin(angle), 0.5 - np.sin(angle))
    points = np.stack([x, y], axis=1) + rng.normal(0, noise, (n, 2))
    return rg.tensor(points.astype(np.float32)), rg.tensor(label)


def run_demo(steps=300, seed=0, log_every=30, quiet=False):
    rg.manual_seed(seed)
    x_train, y_train = two_moons(512, seed=seed)
    x_test, y_test = two_moons(512, seed=seed + 1)
    model = nn.Sequential(nn.Linear(2, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(),
                          nn.Linear(64, 2))
    optimizer = rg.optim.SGD(model.parameters(), lr=0.3, momentum=0.9)
    start = time.perf_counter()
    for step in range(1, steps + 1):
        loss = F.cross_entropy(model(x_train), y_train)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if not quiet and (step % log_every == 0 or step == 1):
            print(f"step {step:4d}  loss {loss.item():.4f}")
    with rg.no_grad():
        accuracy = (model(x_test).argmax(dim=1) == y_test).float().mean().item()
    if not quiet:
        print(f"test accuracy {accuracy:.1%} after {steps} steps "
              f"({time.perf_counter() - start:.1f} s)")
    return loss.item(), accuracy
