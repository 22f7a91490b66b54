"""The three image classifiers: a multilayer perceptron, LeNet-5 and a small modern CNN.

Each maps a batch of (1, 28, 28) images to one score (logit) per class; ``build_model`` adds
the training-only augmentation layer in front when asked.
"""
import retrograd.nn as nn

from .augment import RandomAffine

__all__ = ["mlp", "lenet5", "cnn", "build_model", "MODELS"]


def mlp(num_classes=10):
    """784-256-128-10 with ReLU: every pixel connected to every hidden unit."""
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(28 * 28, 256), nn.ReLU(),
        nn.Linear(256, 128), nn.ReLU(),
        nn.Linear(128, num_classes),
    )


def lenet5(num_classes=10):
    """LeCun et al. (1998) in today's idiom: two 5x5 convolution + subsampling stages, then
    120-84-10 fully connected layers (ReLU and max pooling instead of scaled tanh and
    trainable subsampling)."""
    return nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.ReLU(), nn.MaxPool2d(2),   # 6@14x14
        nn.Conv2d(6, 16, kernel_size=5), nn.ReLU(), nn.MaxPool2d(2),             # 16@5x5
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), nn.ReLU(),
        nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, num_classes),
    )


def _conv_block(in_channels, out_channels):
    return [nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels), nn.ReLU()]


def cnn(num_classes=10, width=32):
    """Two stages of two 3x3 convolutions with batch normalization, max pooling, and a
    dropout-regularized classifier: the usual small CNN for 28x28 images."""
    return nn.Sequential(
        *_conv_block(1, width), *_conv_block(width, width), nn.MaxPool2d(2),            # 14x14
        *_conv_block(width, 2 * width), *_conv_block(2 * width, 2 * width), nn.MaxPool2d(2),
        nn.Flatten(),                                                                  # 7x7
        nn.Dropout(0.25),
        nn.Linear(2 * width * 7 * 7, 128, bias=False), nn.BatchNorm1d(128), nn.ReLU(),
        nn.Dropout(0.25),
        nn.Linear(128, num_classes),
    )


MODELS = {"mlp": mlp, "lenet5": lenet5, "cnn": cnn}


def build_model(name, num_classes=10, augment=False):
    """The network ``name`` (a key of ``MODELS``), behind ``RandomAffine`` when ``augment``:
    the augmentation has no weights and is the identity in eval mode, so the same
    ``build_model`` call rebuilds a trained model from its configuration."""
    if name not in MODELS:
        raise ValueError(f"build_model: unknown model {name!r}; choose one of "
                         f"{', '.join(MODELS)}")
    network = MODELS[name](num_classes)
    return nn.Sequential(RandomAffine(), *network) if augment else network
