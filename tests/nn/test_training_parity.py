"""The whole stack end to end: a LeNet-style CNN with BatchNorm and Dropout trained for 200 steps
follows the same loss curve as the same PyTorch model from the same weights on the same batches.

The two frameworks draw different random numbers, so both dropouts are given the same masks
from one NumPy stream each (seeded alike): everything else is each framework's own."""
import numpy as np

import retrograd as rg
from helpers import requires_torch, torch

STEPS, BATCH = 200, 32


def lenet_bn(lib):
    return lib.nn.Sequential(
        lib.nn.Conv2d(1, 6, 5, padding=2), lib.nn.BatchNorm2d(6), lib.nn.ReLU(),
        lib.nn.MaxPool2d(2),
        lib.nn.Conv2d(6, 16, 5), lib.nn.BatchNorm2d(16), lib.nn.ReLU(), lib.nn.MaxPool2d(2),
        lib.nn.Flatten(),
        lib.nn.Linear(400, 120), lib.nn.ReLU(), lib.nn.Dropout(0.3),
        lib.nn.Linear(120, 84), lib.nn.ReLU(), lib.nn.Dropout(0.3),
        lib.nn.Linear(84, 10),
    )


def shared_mask_dropout(lib, seed):
    """A dropout with PyTorch's signature whose masks come from a NumPy stream."""
    rng = np.random.default_rng(seed)

    def dropout(input, p=0.5, training=True, inplace=False):
        if not training or p == 0:
            return input
        keep = (rng.random(tuple(input.shape)) >= p).astype(np.float32) / (1 - p)
        return input * lib.tensor(keep)

    return dropout


def train(lib, model, images, labels):
    optimizer = lib.optim.SGD(model.parameters(), lr=0.02, momentum=0.9, weight_decay=1e-4)
    losses = []
    model.train()
    for step in range(STEPS):
        batch = slice(step * BATCH, (step + 1) * BATCH)
        x, y = lib.tensor(images[batch]), lib.tensor(labels[batch])
        loss = lib.nn.functional.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return np.array(losses)


@requires_torch
def test_lenet_with_batchnorm_and_dropout_follows_pytorch_for_200_steps(monkeypatch):
    g = np.random.default_rng(0)
    # Learnable data: the label is which quadrant of the image holds the brightest blob.
    images = g.standard_normal((STEPS * BATCH, 1, 28, 28)).astype(np.float32) * 0.3
    labels = g.integers(0, 4, STEPS * BATCH)
    for i, label in enumerate(labels):
        r, c = divmod(int(label), 2)
        images[i, 0, r * 14 + 4:r * 14 + 10, c * 14 + 4:c * 14 + 10] += 2.0

    torch.manual_seed(0)
    torch_model = lenet_bn(torch)
    model = lenet_bn(rg)
    model.load_state_dict({k: v.numpy() for k, v in torch_model.state_dict().items()})

    monkeypatch.setattr(torch.nn.functional, "dropout", shared_mask_dropout(torch, 1))
    monkeypatch.setattr(rg.nn.functional, "dropout", shared_mask_dropout(rg, 1))
    torch_losses = train(torch, torch_model, images, labels)
    losses = train(rg, model, images, labels)

    assert losses[-20:].mean() < 0.5 * losses[:20].mean()  # it learned
    np.testing.assert_allclose(losses, torch_losses, rtol=2e-3, atol=2e-4)
    for name, value in torch_model.state_dict().items():
        np.testing.assert_allclose(model.state_dict()[name].numpy(), value.numpy(),
                                   rtol=1e-2, atol=1e-3, err_msg=name)
