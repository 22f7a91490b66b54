"""The machine-translation commands of ``retrograd``:

    retrograd train multi30k [--epochs 20] [--max-minutes 120] [--hidden-size 256] ...
    retrograd translate RUN_DIR "a man is riding a bicycle ." [--beam 5]
    retrograd evaluate RUN_DIR [--beam 5]      BLEU on the 2016 test set

``register`` adds the ``train`` sub-command, ``register_commands`` the ``translate`` command;
the main command line calls ``evaluate`` for run directories whose config.json names this
application.
"""
import argparse
import functools
import os

from ..cli_common import (add_output_arguments, add_progress_arguments, add_setting,
                          positive_float, positive_int, print_files, print_next, probability,
                          settings_of)
from . import translation

__all__ = ["register", "register_commands", "train", "translate", "evaluate"]


def register(train_commands):
    """Adds ``retrograd train multi30k`` to ``train_commands`` (the sub-parsers of
    ``train``)."""
    parser = train_commands.add_parser(
        "multi30k", help="English -> German translation: GRU encoder-decoder with attention",
        description="Train an encoder-decoder with attention (bidirectional GRU encoder, GRU "
                    "decoder with Bahdanau attention) to translate Multi30k's English image "
                    "descriptions into German; BLEU by sacrebleu.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    option = functools.partial(add_setting, parser, translation.DEFAULTS)
    option("--epochs", positive_int, "most passes over the 29,000 training pairs")
    option("--max-minutes", positive_float,
           "stop when another epoch would end after this much wall time")
    option("--batch-size", positive_int, "sentence pairs per step")
    option("--lr", positive_float, "Adam's learning rate")
    option("--embedding-dim", positive_int,
           "size of the word vectors (and of the decoder's readout)")
    option("--hidden-size", positive_int, "GRU state size (the encoder's per direction)")
    option("--attention-size", positive_int, "hidden layer of the additive attention")
    option("--dropout", probability, "dropout on embeddings and readout")
    option("--lr-patience", positive_int, "halve the learning rate after this many epochs "
                                          "without a lower validation loss")
    option("--label-smoothing", probability, "probability spread over all words in the loss")
    option("--min-freq", positive_int, "rarer training words become <unk>")
    option("--clip-grad-norm", positive_float, "largest gradient norm")
    option("--bleu-sentences", positive_int,
           "validation sentences translated (greedily) for BLEU each epoch")
    add_decoding_arguments(parser, beam_option="--beam-size")
    option("--seed", int, "seed of the initial weights, batch order and dropout")
    add_output_arguments(parser, "multi30k/", out=os.path.join("runs", "multi30k"))
    add_progress_arguments(parser)
    parser.set_defaults(run=train, dataset="multi30k")


def add_decoding_arguments(parser, beam_option="--beam", beam_default=None):
    d = translation.DEFAULTS
    parser.add_argument(beam_option, dest="beam_size", type=positive_int,
                        default=d["beam_size"] if beam_default is None else beam_default,
                        help="beam width of the decoding (1: greedy search)")
    add_setting(parser, d, "--length-penalty", float, "beam search ranks by log p / length "
                "** this: 0 favours short translations, higher values longer ones")


def register_commands(commands):
    """Adds ``retrograd translate`` to the top-level sub-parsers ``commands``."""
    parser = commands.add_parser(
        "translate", help="translate your own English sentences with a trained run",
        description="Prints the German translation of each sentence.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("run_dir", metavar="RUN_DIR")
    parser.add_argument("sentences", nargs="+", metavar="SENTENCE")
    add_decoding_arguments(parser, beam_default=1)
    parser.set_defaults(run=translate)


def train(args):
    """``retrograd train multi30k``: trains, then reports the test BLEU and the files."""
    config = translation.train(args.out, data_dir=args.data_dir, resume=args.resume,
                               progress=args.progress,
                               command=getattr(args, "command_line", None),
                               **settings_of(args, translation.DEFAULTS))
    r = config["results"]
    print(f"\ntest BLEU {r['test_bleu']:.2f} (2016 Flickr test set, beam {r['beam_size']}; "
          f"lowercased {r['test_bleu_lowercase']:.2f}); best epoch {r['best_epoch']} of "
          f"{r['epochs_trained']}; {r['wall_time_s'] / 60:.1f} min in all")
    print_files(args.out, ["config.json", "vocab.en.json", "vocab.de.json", "best.ckpt",
                           "last.ckpt", "history.json", "history.csv", "test_translations.txt"])
    print_next(f'retrograd translate {args.out} "a man is riding a bicycle ." --beam 5')
    return 0


def translate(args):
    """``retrograd translate RUN_DIR sentence ...``: one translation per line."""
    _, model, tokenizer, vocabs = translation.load_run(args.run_dir)
    for line in translation.translate(model, args.sentences, tokenizer, vocabs,
                                      args.beam_size, args.length_penalty):
        print(line)
    return 0


def evaluate(args):
    """``retrograd evaluate RUN_DIR``: BLEU of the run's best model on the 2016 test set,
    with the beam search it was trained to be measured with."""
    config, bleu = translation.evaluate_run(args.run_dir, args.data_dir)
    s = config["settings"]
    print(f"multi30k test 2016, model of {args.run_dir}: BLEU {bleu:.2f} (beam "
          f"{s['beam_size']}, length penalty {s['length_penalty']:g})")
    return 0
