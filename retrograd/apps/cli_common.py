"""What the applications' ``retrograd`` commands share: argument types, the options every
``retrograd train <dataset>`` has (``--out``, ``--data-dir``, ``--resume``, ``--progress``),
options whose defaults come from an application's ``DEFAULTS``, and the lines a finished run
ends with (where its files went, what to run next)."""
import argparse
import os

__all__ = ["positive_int", "positive_float", "probability", "add_setting", "settings_of",
           "add_output_arguments", "add_progress_arguments", "print_files", "print_next"]


def positive_int(text):
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def positive_float(text):
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text}")
    return value


def probability(text):
    value = float(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"expected a probability in [0, 1), got {text}")
    return value


def add_setting(parser, defaults, flag, type, help, **keywords):
    """Adds the option ``flag`` for the setting of ``defaults`` it stores: the one named by
    ``dest``, else by the flag's words joined with underscores (``--seq-len``: seq_len)."""
    dest = keywords.setdefault("dest", flag.lstrip("-").replace("-", "_"))
    parser.add_argument(flag, type=type, default=defaults[dest], help=help, **keywords)


def settings_of(args, defaults):
    """The values of the settings named in ``defaults`` that the command line ``args`` has."""
    return {name: getattr(args, name) for name in defaults if hasattr(args, name)}


def add_output_arguments(parser, data, out=None, out_help="run directory"):
    """``--out`` (the run directory) and ``--data-dir`` (the folder holding ``data``)."""
    parser.add_argument("--out", default=out, help=out_help)
    parser.add_argument("--data-dir", default=None,
                        help=f"folder holding {data} (default: $RETROGRAD_DATA, else "
                             "~/.cache/retrograd)")


def add_progress_arguments(parser, resume=True, progress_help="progress bar during each epoch"):
    """``--resume`` (for runs that keep a last.ckpt) and ``--progress``."""
    if resume:
        parser.add_argument("--resume", action="store_true",
                            help="continue the run in --out from its last.ckpt")
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=True,
                        help=progress_help)


def print_files(out, files, optional=()):
    """The line naming a finished run's ``files``, then those of ``optional`` it wrote."""
    written = [*files, *(name for name in optional if os.path.exists(os.path.join(out, name)))]
    print(f"files in {out}/: {', '.join(written)}")


def print_next(*commands):
    """The line suggesting the ``commands`` to try on a finished run."""
    print("next: " + "   |   ".join(commands))
