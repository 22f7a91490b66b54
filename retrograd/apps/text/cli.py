"""The sentiment-analysis commands of ``retrograd``:

    retrograd train {sst,sst5,uci} [--epochs 10] [--batch-size 64] [--lr 0.001] ...
    retrograd evaluate RUN_DIR                      test accuracy and confusion matrix
    retrograd predict-sentiment RUN_DIR "text" ...  the likeliest class of each text

``register`` adds the ``train`` sub-commands and ``register_commands`` the
``predict-sentiment`` command; the main command line calls ``evaluate`` for run directories
whose config.json names this application.
"""
import argparse
import functools
import os

from ..cli_common import (add_output_arguments, add_progress_arguments, add_setting,
                          positive_int, print_files, print_next, probability, settings_of)
from . import sentiment

__all__ = ["register", "register_commands", "train", "evaluate", "predict_sentiment"]


def register(train_commands):
    """Adds one ``retrograd train <dataset>`` sub-command per corpus to ``train_commands``
    (the sub-parsers of ``train``)."""
    for name, source in sentiment.DATASETS.items():
        parser = train_commands.add_parser(
            name, help=f"sentiment analysis: {source.description}",
            description=f"Train a sentiment classifier (embedding, bidirectional LSTM, "
                        f"pooling over time, dropout, linear) on the {source.description}.")
        add_training_arguments(parser, name)
        parser.set_defaults(run=train, dataset=name)


def add_training_arguments(parser, dataset):
    option = functools.partial(add_setting, parser, sentiment.DEFAULTS)
    option("--epochs", positive_int,
           "most epochs; early stopping may end sooner (default: %(default)s)")
    option("--batch-size", positive_int, "texts per training step (default: %(default)s)")
    option("--lr", float, "Adam's learning rate (default: %(default)s)")
    option("--embedding-dim", positive_int, "size of the word vectors (default: %(default)s)")
    option("--hidden-size", positive_int,
           "LSTM state size per direction (default: %(default)s)")
    option("--dropout", probability, "dropout before the last layer (default: %(default)s)")
    option("--pooling", None, "max over time of the LSTM outputs, or the final states "
                              "(default: %(default)s)", choices=["max", "last"])
    option("--min-freq", positive_int,
           "rarer training tokens become <unk> (default: %(default)s)")
    option("--lowercase", None, "lowercase the text (default: on)",
           action=argparse.BooleanOptionalAction)
    if dataset.startswith("sst"):
        option("--phrases", None, "train on every labelled phrase of the training trees, not "
                                  "only on whole sentences (default: on)",
               action=argparse.BooleanOptionalAction)
    else:
        option("--split-seed", int,
               "seed of the 80/10/10 train/dev/test split (default: %(default)s)")
    option("--patience", positive_int, "stop after this many epochs without a better dev "
                                       "accuracy (default: %(default)s)")
    option("--clip-grad-norm", float,
           "largest gradient norm, 0 for none (default: %(default)s)")
    option("--seed", int,
           "seed of the initial weights, batch order and dropout (default: %(default)s)")
    add_output_arguments(parser, "the corpus", out_help="run directory (default: runs/<dataset>)")
    add_progress_arguments(parser, progress_help="progress bar during each epoch (default: on)")


def register_commands(commands):
    """Adds ``retrograd predict-sentiment`` to the top-level sub-parsers ``commands``."""
    parser = commands.add_parser(
        "predict-sentiment", help="the sentiment of your own sentences, by a trained run",
        description="Prints the likeliest class of each text and its probability.")
    parser.add_argument("run_dir", metavar="RUN_DIR")
    parser.add_argument("texts", nargs="+", metavar="TEXT")
    parser.set_defaults(run=predict_sentiment)


def train(args):
    """``retrograd train <dataset>``: trains, then reports the test accuracy and the files."""
    out = args.out or os.path.join("runs", args.dataset)
    config = sentiment.train(args.dataset, out=out, data_dir=args.data_dir, resume=args.resume,
                             progress=args.progress,
                             command=getattr(args, "command_line", None),
                             **settings_of(args, sentiment.DEFAULTS))
    results = config["results"]
    print(f"\ntest accuracy {results['test_accuracy']:.2%} ({config['split']['test']} "
          f"sentences; best epoch {results['best_epoch']} of {results['epochs_trained']}, dev "
          f"{results['val_accuracy']:.2%}); {results['wall_time_s']:.1f} s in all")
    print_files(out, ["config.json", "vocab.json", "best.ckpt", "last.ckpt", "history.json",
                      "history.csv"], optional=["curves.png"])
    print_next(f"retrograd evaluate {out}",
               f'retrograd predict-sentiment {out} "a gripping, funny film"')
    return 0


def _format_confusion(confusion, classes):
    """The confusion matrix as a text table, rows true classes, columns predicted."""
    corner = "true \\ predicted"
    first = max(len(corner), *map(len, classes)) + 2
    width = max(map(len, classes)) + 2
    lines = [corner.ljust(first) + "".join(name.rjust(width) for name in classes)]
    for name, row in zip(classes, confusion):
        lines.append(name.ljust(first) + "".join(str(count).rjust(width) for count in row))
    return "\n".join(lines)


def evaluate(args):
    """``retrograd evaluate RUN_DIR``: test accuracy and confusion matrix."""
    config, result = sentiment.evaluate_run(args.run_dir, args.data_dir)
    total = int(result["confusion"].sum())
    print(f"{config['dataset']} test set, model of {args.run_dir}: accuracy "
          f"{result['accuracy']:.2%} ({total} sentences)\n")
    print(_format_confusion(result["confusion"], config["classes"]))
    return 0


def predict_sentiment(args):
    """``retrograd predict-sentiment RUN_DIR text ...``: the likeliest class of each text."""
    config, model, vocab, tokenizer = sentiment.load_run(args.run_dir)
    token_lists = [tokenizer(text) for text in args.texts]
    for text, tokens in zip(args.texts, token_lists):
        if not tokens:
            raise ValueError(f"predict-sentiment: the text {text!r} has no words to read")
    probabilities = sentiment.predict_probabilities(
        model, [vocab.encode(tokens) for tokens in token_lists], vocab.pad_id)
    for text, row in zip(args.texts, probabilities):
        best = int(row.argmax())
        print(f"{config['classes'][best]} {row[best]:.1%}  {text}")
    return 0
