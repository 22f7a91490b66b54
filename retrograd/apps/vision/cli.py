"""The image-classification commands of ``retrograd``:

    retrograd train {mnist,fashion-mnist,digits} [--model lenet5] [--epochs 5] ...
    retrograd evaluate RUN_DIR          test accuracy, per-class table, confusion matrix
    retrograd predict RUN_DIR a.png ... top-3 classes of each image
    retrograd explain RUN_DIR a.png     saliency map beside the image: a.saliency.png

``register`` adds the ``train`` sub-commands; the main command line calls ``evaluate``,
``predict`` and ``explain`` for run directories whose config.json names this application.
"""
import argparse
import os

import numpy as np

import retrograd as rg

from ..cli_common import add_output_arguments, add_progress_arguments, print_files, print_next
from . import experiment, plots
from .analysis import (format_confusion, format_report, predict_probabilities, saliency)
from .datasets import DATASETS
from .images import load_image
from .models import MODELS

__all__ = ["register", "train", "evaluate", "predict", "explain"]

_FIGURES = {"curves.png": "training curves", "confusion.png": "test-set confusion matrix",
            "misclassified.png": "misclassified test images"}


def _validation_size(text):
    value = float(text)
    if value <= 0 or (value >= 1 and value != int(value)):
        raise argparse.ArgumentTypeError(f"{text} is neither a count of images nor a fraction "
                                         "between 0 and 1")
    return value if value < 1 else int(value)


def register(train_commands):
    """Adds one ``retrograd train <dataset>`` sub-command per dataset to ``train_commands``
    (the sub-parsers of ``train``)."""
    for name, source in DATASETS.items():
        parser = train_commands.add_parser(
            name, help=source.__doc__.splitlines()[0],
            description=f"Train an image classifier on {name}: {source.__doc__.strip()}",
            formatter_class=argparse.ArgumentDefaultsHelpFormatter)
        add_training_arguments(parser, source)
        parser.set_defaults(run=train, dataset=name)


def add_training_arguments(parser, source):
    parser.add_argument("--model", choices=list(MODELS), default="lenet5")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=None,
                        help="learning rate (default: " + ", ".join(
                            f"{k} {v:g}" for k, v in experiment.DEFAULT_LR.items()) + ")")
    parser.add_argument("--optimizer", choices=list(experiment.DEFAULT_LR), default="adam")
    parser.add_argument("--scheduler", choices=["none", "onecycle", "cosine", "step"],
                        default="none")
    parser.add_argument("--seed", type=int, default=0)
    add_output_arguments(parser, "<dataset>/",
                         out_help="run directory (default: runs/<dataset>-<model>)")
    parser.add_argument("--augment", action=argparse.BooleanOptionalAction, default=None,
                        help="random rotations and shifts of training images (default: on "
                             "for cnn)")
    parser.add_argument("--val-size", type=_validation_size, default=source.validation_size,
                        help="last training images held out for validation: a count or a "
                             "fraction")
    add_progress_arguments(parser)


def train(args):
    """``retrograd train <dataset>``: trains, then reports the test accuracy and the files."""
    config = experiment.train(
        args.dataset, model=args.model, epochs=args.epochs, batch_size=args.batch_size,
        lr=args.lr, optimizer=args.optimizer, seed=args.seed, out=args.out,
        data_dir=args.data_dir, augment=args.augment, scheduler=args.scheduler,
        validation_size=args.val_size, resume=args.resume, progress=args.progress,
        command=getattr(args, "command_line", None))
    print_summary(config, args.out or experiment.default_run_dir(args.dataset, args.model))
    return 0


def print_summary(config, out):
    results = config["results"]
    print(f"\ntest accuracy {results['test_accuracy']:.2%} ({config['split']['test']} images; "
          f"best epoch {results['best_epoch']} of {results['epochs_trained']}, validation "
          f"{results['val_accuracy']:.2%}); {results['wall_time_s']:.1f} s in all")
    print_files(out, ["config.json", "best.ckpt", "last.ckpt", "history.json", "history.csv"])
    for name, what in _FIGURES.items():
        if os.path.exists(os.path.join(out, name)):
            print(f"  {os.path.join(out, name):<40} {what}")
    if not plots.available():
        print("  (no figures: pip install 'retrograd[vision]' for matplotlib)")
    print_next(f"retrograd evaluate {out}", f"retrograd predict {out} image.png",
               f"retrograd explain {out} image.png")


def evaluate(args):
    """``retrograd evaluate RUN_DIR``: test accuracy, per-class table, confusion matrix."""
    config, model = experiment.load_run(args.run_dir)
    test_set = experiment.load_test_set(config, args.data_dir)
    result = experiment.analyse_test_set(model, config, test_set, args.run_dir)
    classes = config["classes"]
    print(f"{config['dataset']} test set, {config['model']} from {args.run_dir}: accuracy "
          f"{result['accuracy']:.2%} ({len(test_set)} images)\n")
    print(format_report(result["confusion"], classes) + "\n")
    print(format_confusion(result["confusion"], classes))
    if result["figures"]:
        print(f"\nwrote {', '.join(result['figures'])}")
    return 0


def _load_images(config, paths):
    norm = config["normalization"]
    return np.stack([load_image(path, config["layout"], norm["mean"], norm["std"])
                     for path in paths])


def predict(args):
    """``retrograd predict RUN_DIR image ...``: the ``--top`` likeliest classes per image."""
    config, model = experiment.load_run(args.run_dir)
    probabilities = predict_probabilities(model, rg.tensor(_load_images(config, args.images)))
    top = min(args.top, probabilities.shape[1])
    for path, row in zip(args.images, probabilities):
        ranked = np.argsort(-row, kind="stable")[:top]
        print(f"{path}: " + ", ".join(f"{config['classes'][c]} {row[c]:.1%}" for c in ranked))
    return 0


def explain(args):
    """``retrograd explain RUN_DIR image ...``: writes image.saliency.png beside each image."""
    if not plots.available():
        raise ImportError("explain draws its saliency maps with matplotlib: "
                          "pip install 'retrograd[vision]'")
    config, model = experiment.load_run(args.run_dir)
    norm = config["normalization"]
    for path, image in zip(args.images, _load_images(config, args.images)):
        winner, probability, gradient = saliency(model, image)
        label = config["classes"][winner]
        out = os.path.splitext(path)[0] + ".saliency.png"
        plots.plot_saliency(image[0] * norm["std"] + norm["mean"], gradient, out,
                            title=f"predicted {label} ({probability:.1%})")
        print(f"{path}: predicted {label} ({probability:.1%}); saliency map in {out}")
    return 0
