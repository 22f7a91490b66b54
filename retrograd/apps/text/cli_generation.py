"""The text-generation commands of ``retrograd``:

    retrograd train shakespeare [--hidden-size 512] [--layers 2] [--max-minutes 45] ...
    retrograd generate RUN_DIR --prompt "ROMEO:" --length 500 --temperature 0.8 --top-k 20
    retrograd evaluate RUN_DIR          validation loss in nats and bits per character

``register`` adds the ``train`` sub-command, ``register_commands`` the ``generate`` command;
the main command line calls ``evaluate`` for run directories whose config.json names this
application.
"""
import argparse
import functools
import os
import sys

import retrograd as rg

from ..cli_common import (add_output_arguments, add_progress_arguments, add_setting,
                          positive_float, positive_int, print_files, print_next, probability,
                          settings_of)
from . import generation

__all__ = ["register", "register_commands", "train", "generate", "evaluate"]


def register(train_commands):
    """Adds ``retrograd train shakespeare`` to ``train_commands`` (the sub-parsers of
    ``train``)."""
    parser = train_commands.add_parser(
        "shakespeare", help="character-level LSTM language model on Tiny Shakespeare",
        description="Train a character-level LSTM language model on Tiny Shakespeare "
                    "(1.1M characters, the last 10%% held out) with truncated "
                    "backpropagation through time.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    option = functools.partial(add_setting, parser, generation.DEFAULTS)
    option("--hidden-size", positive_int, "LSTM state size")
    option("--layers", positive_int, "stacked LSTM layers", dest="num_layers")
    option("--embedding-dim", positive_int, "size of the character vectors")
    option("--dropout", probability,
           "dropout between the LSTM layers and before the output layer")
    option("--seq-len", positive_int, "characters per chunk: how far back gradients flow")
    option("--batch-size", positive_int, "parallel streams of text")
    option("--epochs", positive_int, "most passes over the training text")
    option("--max-minutes", positive_float,
           "stop training after this much wall time (then validate once more)")
    option("--eval-every", int, "validate every this many steps (0: at the end of each epoch)")
    option("--lr", positive_float, "Adam's learning rate")
    option("--clip-grad-norm", positive_float, "largest gradient norm")
    option("--seed", int, "seed of the initial weights and dropout")
    add_output_arguments(parser, "tinyshakespeare/input.txt",
                         out=os.path.join("runs", "shakespeare"))
    add_progress_arguments(parser, resume=False)
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
    config = generation.train(args.out, data_dir=args.data_dir, progress=args.progress,
                              command=getattr(args, "command_line", None),
                              **settings_of(args, generation.DEFAULTS))
    results = config["results"]
    print(f"\nbest validation loss {results['val_loss']:.4f} nats/char = "
          f"{results['val_bpc']:.4f} bits/char (step {results['best_step']} of "
          f"{results['steps']}); {results['wall_time_s'] / 60:.1f} min in all")
    print_files(args.out, ["config.json", "vocab.json", "best.ckpt", "history.json",
                           "history.csv"], optional=["curves.png"])
    print_next(f'retrograd generate {args.out} --prompt "ROMEO:" --length 500')
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
