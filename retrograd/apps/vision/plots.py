"""Figures of a run, as PNG files: confusion matrix, misclassified test images, saliency map.

They need matplotlib (``pip install 'retrograd[vision]'``); without it, ``available()`` is
False and the commands skip their figures with a note.
"""
import os

import numpy as np

__all__ = ["available", "plot_confusion", "plot_misclassified", "plot_saliency"]


def _pyplot():
    import matplotlib
    matplotlib.use("Agg")  # files only: no window, no display needed
    import matplotlib.pyplot as plt
    return plt


def available():
    try:
        _pyplot()
    except ImportError:
        return False
    return True


def _save(fig, path):
    """Writes through a temporary file so that ``path`` never holds half a PNG."""
    plt = _pyplot()
    partial = f"{path}.partial.png"
    fig.savefig(partial, dpi=110, bbox_inches="tight")
    plt.close(fig)
    os.replace(partial, path)
    return path


def plot_confusion(confusion, classes, path, title="confusion matrix"):
    """A heat map of counts (rows true, columns predicted), each cell labelled."""
    plt = _pyplot()
    n = len(classes)
    fig, ax = plt.subplots(figsize=(1.6 + 0.55 * n, 1.2 + 0.5 * n))
    ax.imshow(confusion, cmap="Blues")
    ax.set_xticks(range(n), classes, rotation=45 if max(map(len, classes)) > 2 else 0,
                  ha="right" if max(map(len, classes)) > 2 else "center")
    ax.set_yticks(range(n), classes)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    dark = confusion > confusion.max() / 2
    for i in range(n):
        for j in range(n):
            ax.text(j, i, str(confusion[i, j]), ha="center", va="center", fontsize=7,
                    color="white" if dark[i, j] else "black")
    return _save(fig, path)


def plot_misclassified(images, targets, predictions, classes, path, limit=40, columns=8):
    """A grid of up to ``limit`` misclassified (H, W) images titled 'true / predicted'."""
    plt = _pyplot()
    wrong = np.flatnonzero(np.asarray(targets) != np.asarray(predictions))[:limit]
    rows = max(1, -(-len(wrong) // columns))
    fig, axes = plt.subplots(rows, columns, figsize=(1.3 * columns, 1.5 * rows),
                             squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, index in zip(axes.flat, wrong):
        ax.imshow(images[index], cmap="gray")
        ax.set_title(f"{classes[targets[index]]} / {classes[predictions[index]]}", fontsize=7,
                     color="crimson")
    fig.suptitle(f"misclassified test images (true / predicted): {len(wrong)} shown"
                 if len(wrong) else "no misclassified test images", fontsize=9)
    return _save(fig, path)


def plot_saliency(image, gradient, path, title):
    """The (H, W) input beside the heat map of its gradient's magnitude (summed over
    channels)."""
    plt = _pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(6.4, 3.4))
    left.imshow(image, cmap="gray")
    left.set_title(title, fontsize=9)
    heat = right.imshow(np.abs(gradient).sum(axis=0), cmap="hot")
    right.set_title("|d score / d pixel|", fontsize=9)
    fig.colorbar(heat, ax=right, fraction=0.046, pad=0.04)
    for ax in (left, right):
        ax.axis("off")
    return _save(fig, path)
