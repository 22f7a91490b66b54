"""The machine-translation commands of ``retrograd``:

    retrograd train multi30k [--epochs 20] [--max-minutes 120] [--hidden-size 256] ...
    retrograd translate RUN_DIR "a man is riding a bicycle ." [--beam 5]
    retrograd evaluate RUN_DIR [--beam 5]      BLEU on the 2016 test set

``register`` adds the ``train`` sub-command, ``register_commands`` the ``translate`` command;
the main command line calls ``evaluate`` for run directories whose config.json names this
application.
"""
import argparse
import os

from . import translation
from .cli_generation import positive_float, positive_int, probability

__all__ = ["register", "register_commands", "train", "translate", "evaluate"]


def register(train_commands):
    """Adds ``retrograd train multi30k`` to ``train_commands`` (the sub-parsers of
    ``train``)."""
    d = translation.DEFAULTS
    parser = train_commands.add_parser(
        "multi30k", help="English -> German translation: GRU encoder-decoder with attention",
        description="Train an encoder-decoder with attention (bidirectional GRU encoder, GRU "
                    "decoder with Bahdanau attention) to translate Multi30k's English image "
                    "descriptions into German; BLEU by sacrebleu.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--epochs", type=positive_int, default=d["epochs"],
                        help="most passes over the 29,000 training pairs")
    parser.add_argument("--max-minutes", type=positive_float, default=d["max_minutes"],
                        help="stop when another epoch would end after this much wall time")
    parser.add_argument("--batch-size", type=positive_int, default=d["batch_size"],
                        help="sentence pairs per step")
    parser.add_argument("--lr", type=positive_float, default=d["lr"],
                        help="Adam's learning rate")
    parser.add_argument("--embedding-dim", type=positive_int, default=d["embedding_dim"],
                        help="size of the word vectors (and of the decoder's readout)")
    parser.add_argument("--hidden-size", type=positive_int, default=d["hidden_size"],
                        help="GRU state size (the encoder's per direction)")
    parser.add_argument("--attention-size", type=positive_int, default=d["attention_size"],
                        help="hidden layer of the additive attention")
    parser.add_argument("--dropout", type=probability, default=d["dropout"],
                        help="dropout on embeddings and readout")
    parser.add_argument("--lr-patience", type=positive_int, default=d["lr_patience"],
                        help="halve the learning rate after this many epochs without a lower "
                             "validation loss")
    parser.add_argument("--label-smoothing", type=probability, default=d["label_smoothing"],
                        help="probability spread over all words in the loss")
    parser.add_argument("--min-freq", type=positive_int, default=d["min_freq"],
                        help="rarer training words become <unk>")
    parser.add_argument("--clip-grad-norm", type=positive_float, default=d["clip_grad_norm"],
                        help="largest gradient norm")
    parser.add_argument("--bleu-sentences", type=positive_int, default=d["bleu_sentences"],
                        help="validation sentences translated (greedily) for BLEU each epoch")
    add_decoding_arguments(parser, beam_option="--beam-size")
    parser.add_argument("--seed", type=int, default=d["seed"],
                        help="seed of the initial weights, batch order and dropout")
    parser.add_argument("--out", default=os.path.join("runs", "multi30k"),
                        help="run directory")
    parser.add_argument("--data-dir", default=None,
                        help="folder holding multi30k/ (default: $RETROGRAD_DATA, else "
                             "~/.cache/retrograd)")
    parser.add_argument("--resume", action="store_true",
                        help="continue the run in --out from its last.ckpt")
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=True,
                        help="progress bar during each epoch")
    parser.set_defaults(run=train, dataset="multi30k")


def add_decoding_arguments(parser, beam_option="--beam", beam_default=None):
    d = translation.DEFAULTS
    parser.add_argument(beam_option, dest="beam_size", type=positive_int,
                        default=d["beam_size"] if beam_default is None else beam_default,
                        help="beam width of the decoding (1: greedy search)")
    parser.add_argument("--length-penalty", type=float, default=d["length_penalty"],
                        help="beam search ranks by log p / length ** this: 0 favours short "
                             "translations, higher values longer ones")


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
    settings = {name: getattr(args, name) for name in translation.DEFAULTS
                if hasattr(args, name)}
    config = translation.train(args.out, data_dir=args.data_dir, resume=args.resume,
                               progress=args.progress,
                               command=getattr(args, "command_line", None), **settings)
    r = config["results"]
    print(f"\ntest BLEU {r['test_bleu']:.2f} (2016 Flickr test set, beam {r['beam_size']}; "
          f"lowercased {r['test_bleu_lowercase']:.2f}); best epoch {r['best_epoch']} of "
          f"{r['epochs_trained']}; {r['wall_time_s'] / 60:.1f} min in all")
    print(f"files in {args.out}/: config.json, vocab.en.json, vocab.de.json, best.ckpt, "
          "last.ckpt, history.json, history.csv, test_translations.txt")
    print(f'next: retrograd translate {args.out} "a man is riding a bicycle ." --beam 5')
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
