"""The text-generation commands of ``retrograd``:

    retrograd train shakespeare [--hidden-size 512] [--layers 2] [--max-minutes 45] ...
    retrograd generate RUN_DIR --prompt "ROMEO:" --length 500 --temperature 0.8 --top-k 20
    retrograd evaluate RUN_DIR          validation loss in nats and bits per character

``register`` adds the ``train`` sub-command, ``register_commands`` the ``generate`` command;
the main command line calls ``evaluate`` for run directories whose config.json names this
application.
"""
import argparse
import os
import sys

import retrograd as rg

from . import generation

__all__ = ["register", "register_commands", "train", "generate", "evaluate"]


def positive_int(text):
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def probability(text):
    value = float(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"expected a probability in [0, 1), got {text}")
    return value


def positive_float(text):
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text}")
    return value


def register(train_commands):
    """Adds ``retrograd train shakespeare`` to ``train_commands`` (the sub-parsers of
    ``train``)."""
    d = generation.DEFAULTS
    parser = train_commands.add_parser(
        "shakespeare", help="character-level LSTM language model on Tiny Shakespeare",
        description="Train a character-level LSTM language model on Tiny Shakespeare "
                    "(1.1M characters, the last 10%% held out) with truncated "
                    "backpropagation through time.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--hidden-size", type=positive_int, default=d["hidden_size"],
                        help="LSTM state size")
    parser.add_argument("--layers", dest="num_layers", type=positive_int,
                        default=d["num_layers"], help="stacked LSTM layers")
    parser.add_argument("--embedding-dim", type=positive_int, default=d["embedding_dim"],
                        help="size of the character vectors")
    parser.add_argument("--dropout", type=probability, default=d["dropout"],
                        help="dropout between the LSTM layers and before the output layer")
    parser.add_argument("--seq-len", type=positive_int, default=d["seq_len"],
                        help="characters per chunk: how far back gradients flow")
    parser.add_argument("--batch-size", type=positive_int, default=d["batch_size"],
                        help="parallel streams of text")
    parser.add_argument("--epochs", type=positive_int, default=d["epochs"],
                        help="most passes over the training text")
    parser.add_argument("--max-minutes", type=positive_float, default=d["max_minutes"],
                        help="stop training after this much wall time (then validate once "
                             "more)")
    parser.add_argument("--eval-every", type=int, default=d["eval_every"],
                        help="validate every this many steps (0: at the end of each epoch)")
    parser.add_argument("--lr", type=positive_float, default=d["lr"],
                        help="Adam's learning rate")
    parser.add_argument("--clip-grad-norm", type=positive_float, default=d["clip_grad_norm"],
                        help="largest gradient norm")
    parser.add_argument("--seed", type=int, default=d["seed"],
                        help="seed of the initial weights and dropout")
    parser.add_argument("--out", default=os.path.join("runs", "shakespeare"),
                        help="run directory")
    parser.add_argument("--data-dir", default=None,
                        help="folder holding tinyshakespeare/input.txt (default: "
                             "$RETROGRAD_DATA, else ~/.cache/retrograd)")
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=True,
                        help="progress bar during each epoch")
    parser.set_defaults(run=train, dataset="shakespeare")


def register_commands(commands):
    """Adds ``retrograd generate`` to the top-level sub-parsers ``commands``."""
    parser = commands.add_parser(
        "generate", help="new text from a trained language model, printed as it is written",
        description="Continues the prompt one character at a time, printing each character "
                    "as soon as it is drawn.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("run_dir", metavar="RUN_DIR")
    parser.add_argument("--prompt", default="\n", help="the text to continue")
    parser.add_argument("--length", type=int, default=500,
                        help="characters to write after the prompt")
    parser.add_argument("--temperature", type=float, default=0.8,
                        help="below 1: safer text; above 1: wilder; 0: always the likeliest")
    parser.add_argument("--top-k", type=positive_int, default=None,
                        help="draw among the k likeliest characters only (default: all)")
    parser.add_argument("--seed", type=int, default=None,
                        help="seed of the draws, for a repeatable text")
    parser.set_defaults(run=generate)


def train(args):
    """``retrograd train shakespeare``: trains, then reports the validation loss and files."""
    settings = {name: getattr(args, name) for name in generation.DEFAULTS if hasattr(args, name)}
    config = generation.train(args.out, data_dir=args.data_dir, progress=args.progress,
                              command=getattr(args, "command_line", None), **settings)
    results = config["results"]
    print(f"\nbest validation loss {results['val_loss']:.4f} nats/char = "
          f"{results['val_bpc']:.4f} bits/char (step {results['best_step']} of "
          f"{results['steps']}); {results['wall_time_s'] / 60:.1f} min in all")
    print(f"files in {args.out}/: config.json, vocab.json, best.ckpt, history.json, "
          "history.csv" + (", curves.png" if os.path.exists(os.path.join(args.out,
                                                                          "curves.png"))
                           else ""))
    print(f'next: retrograd generate {args.out} --prompt "ROMEO:" --length 500')
    return 0


def generate(args):
    """``retrograd generate RUN_DIR``: prints the prompt, then each character as it comes."""
    if args.length < 0:
        raise ValueError(f"generate: --length must be >= 0, got {args.length}")
    _, model, vocab = generation.load_run(args.run_dir)
    generator = None if args.seed is None else rg.Generator().manual_seed(args.seed)
    characters = generation.sample(model, vocab, args.prompt, args.length, args.temperature,
                                   args.top_k, generator)
    sys.stdout.write(args.prompt)
    sys.stdout.flush()
    for character in characters:
        sys.stdout.write(character)
        sys.stdout.flush()
    sys.stdout.write("\n")
    return 0


def evaluate(args):
    """``retrograd evaluate RUN_DIR``: validation loss of the run's best model."""
    config, loss = generation.evaluate_run(args.run_dir, args.data_dir)
    print(f"{config['dataset']} validation text, model of {args.run_dir}: {loss:.4f} "
          f"nats/char = {loss / generation.NATS_PER_BIT:.4f} bits/char")
    return 0
