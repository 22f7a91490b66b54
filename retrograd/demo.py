"""``retrograd demo``: a convolutional network learns to read handwritten digits, offline.

LeNet-5 trains on scikit-learn's 1,797 handwritten digits (8x8 scans, upsampled to MNIST's
28x28) with the same code as ``retrograd train mnist``: every gradient of its convolutions,
pooling and fully connected layers comes from retrograd's own backpropagation. It takes well
under a minute on two CPU cores and writes its curves, confusion matrix and misclassified
digits to ``runs/demo``.
"""
from .apps.vision import experiment
from .apps.vision.cli import print_summary

__all__ = ["run_demo", "DEMO_SETTINGS"]

DEMO_SETTINGS = {"dataset": "digits", "model": "lenet5", "epochs": 8, "batch_size": 32,
                 "optimizer": "adam", "lr": 2e-3, "scheduler": "cosine"}


def run_demo(out="runs/demo", epochs=None, seed=0, progress=True):
    """Trains the demo model into ``out``; returns the run's configuration with its results."""
    settings = dict(DEMO_SETTINGS, epochs=epochs or DEMO_SETTINGS["epochs"])
    print(f"retrograd demo: {settings['model']} on the offline {settings['dataset']} set, "
          f"{settings['epochs']} epochs of batches of {settings['batch_size']}, "
          f"{settings['optimizer']} at lr {settings['lr']:g} ({settings['scheduler']} "
          "schedule)")
    config = experiment.train(**settings, seed=seed, out=out, progress=progress,
                              command="retrograd demo")
    print_summary(config, out)
    return config
