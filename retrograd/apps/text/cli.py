"""The sentiment-analysis commands of ``retrograd``:

    retrograd train {sst,sst5,uci} [--epochs 10] [--batch-size 64] [--lr 0.001] ...
    retrograd evaluate RUN_DIR                      test accuracy and confusion matrix
    retrograd predict-sentiment RUN_DIR "text" ...  the likeliest class of each text

``register`` adds the ``train`` sub-commands and ``register_commands`` the
``predict-sentiment`` command; the main command line calls ``evaluate`` for run directories
whose config.json names this application.
"""
import argparse
import os

from . import sentiment

__all__ = ["register", "register_commands", "train", "evaluate", "predict_sentiment"]


def _positive_int(text):
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def _probability(text):
    value = float(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"expected a probability in [0, 1), got {text}")
    return value


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
    d = sentiment.DEFAULTS
    parser.add_argument("--epochs", type=_positive_int, default=d["epochs"],
                        help="most epochs; early stopping may end sooner (default: %(default)s)")
    parser.add_argument("--batch-size", type=_positive_int, default=d["batch_size"],
                        help="texts per training step (default: %(default)s)")
    parser.add_argument("--lr", type=float, default=d["lr"],
                        help="Adam's learning rate (default: %(default)s)")
    parser.add_argument("--embedding-dim", type=_positive_int, default=d["embedding_dim"],
                        help="size of the word vectors (default: %(default)s)")
    parser.add_argument("--hidden-size", type=_positive_int, default=d["hidden_size"],
                        help="LSTM state size per direction (default: %(default)s)")
    parser.add_argument("--dropout", type=_probability, default=d["dropout"],
                        help="dropout before the last layer (default: %(default)s)")
    parser.add_argument("--pooling", choices=["max", "last"], default=d["pooling"],
                        help="max over time of the LSTM outputs, or the final states "
                             "(default: %(default)s)")
    parser.add_argument("--min-freq", type=_positive_int, default=d["min_freq"],
                        help="rarer training tokens become <unk> (default: %(default)s)")
    parser.add_argument("--lowercase", action=argparse.BooleanOptionalAction,
                        default=d["lowercase"], help="lowercase the text (default: on)")
    if dataset.startswith("sst"):
        parser.add_argument("--phrases", action=argparse.BooleanOptionalAction,
                            default=d["phrases"],
                            help="train on every labelled phrase of the training trees, not "
                                 "only on whole sentences (default: on)")
    else:
        parser.add_argument("--split-seed", type=int, default=d["split_seed"],
                            help="seed of the 80/10/10 train/dev/test split "
                                 "(default: %(default)s)")
    parser.add_argument("--patience", type=_positive_int, default=d["patience"],
                        help="stop after this many epochs without a better dev accuracy "
                             "(default: %(default)s)")
    parser.add_argument("--clip-grad-norm", type=float, default=d["clip_grad_norm"],
                        help="largest gradient norm, 0 for none (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=d["seed"],
                        help="seed of the initial weights, batch order and dropout "
                             "(default: %(default)s)")
    parser.add_argument("--out", default=None, help="run directory (default: runs/<dataset>)")
    parser.add_argument("--data-dir", default=None,
                        help="folder holding the corpus (default: $RETROGRAD_DATA, else "
                             "~/.cache/retrograd)")
    parser.add_argument("--resume", action="store_true",
                        help="continue the run in --out from its last.ckpt")
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=True,
                        help="progress bar during each epoch (default: on)")


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
    settings = {name: getattr(args, name) for name in sentiment.DEFAULTS if hasattr(args, name)}
    out = args.out or os.path.join("runs", args.dataset)
    config = sentiment.train(args.dataset, out=out, data_dir=args.data_dir, resume=args.resume,
                             progress=args.progress,
                             command=getattr(args, "command_line", None), **settings)
    results = config["results"]
    print(f"\ntest accuracy {results['test_accuracy']:.2%} ({config['split']['test']} "
          f"sentences; best epoch {results['best_epoch']} of {results['epochs_trained']}, dev "
          f"{results['val_accuracy']:.2%}); {results['wall_time_s']:.1f} s in all")
    print(f"files in {out}/: config.json, vocab.json, best.ckpt, last.ckpt, history.json, "
          "history.csv" + (", curves.png" if os.path.exists(os.path.join(out, "curves.png"))
                           else ""))
    print(f'next: retrograd evaluate {out}   |   retrograd predict-sentiment {out} "a '
          'gripping, funny film"')
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
