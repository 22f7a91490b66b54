"""The ``retrograd`` command line: a demo, and the applications' train/evaluate/predict/explain.

    retrograd demo                          LeNet-5 on the offline digits set, in seconds
    retrograd train mnist --model lenet5    each application adds its datasets under ``train``
    retrograd evaluate runs/mnist-lenet5    dispatched on the application in config.json
    retrograd predict runs/mnist-lenet5 digit.png
    retrograd explain runs/mnist-lenet5 digit.png

An application is a module (``APPS`` maps its name to it) that has
``register(train_commands)``, which adds its ``retrograd train <dataset>`` sub-commands, and
``evaluate(args)``, ``predict(args)``, ``explain(args)`` for the run directories it writes (a
run directory's config.json records ``"app": "<name>"``); an optional
``register_commands(commands)`` adds commands of its own (``retrograd predict-sentiment``).
"""
import argparse
import importlib
import json
import os
import shlex
import sys

__all__ = ["main", "build_parser", "APPS"]

APPS = {"vision": "retrograd.apps.vision.cli", "text": "retrograd.apps.text.cli",
        "generation": "retrograd.apps.text.cli_generation",
        "translation": "retrograd.apps.text.cli_translation"}
_RUN_COMMANDS = ("evaluate", "predict", "explain")


def _app(name):
    return importlib.import_module(APPS[name])


def demo(args):
    """Trains LeNet-5 on scikit-learn's handwritten digits (offline) and reports its accuracy."""
    from .demo import run_demo
    run_demo(out=args.out, epochs=args.epochs, seed=args.seed, progress=args.progress)
    return 0


def _app_of_run(command, run_dir):
    path = os.path.join(run_dir, "config.json")
    try:
        with open(path) as f:
            app = json.load(f).get("app")
    except FileNotFoundError:
        raise FileNotFoundError(f"{command}: {path} not found; RUN_DIR must be a directory "
                                "written by `retrograd train`") from None
    if app not in APPS:
        raise ValueError(f"{command}: {path} names the application {app!r}, which this "
                         f"retrograd does not have (it has {', '.join(APPS)})")
    return _app(app)


def _run_command(command):
    """The handler of ``retrograd <command> RUN_DIR ...``: the run's application's own."""
    def run(args):
        handler = getattr(_app_of_run(command, args.run_dir), command, None)
        if handler is None:
            raise ValueError(f"{command}: the application of {args.run_dir} has no "
                             f"{command} command")
        return handler(args)
    return run


def build_parser():
    parser = argparse.ArgumentParser(prog="retrograd", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = commands.add_parser("demo", help=demo.__doc__.splitlines()[0],
                            description=demo.__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=None, help="default: the demo's setting")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=os.path.join("runs", "demo"))
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=True)
    p.set_defaults(run=demo)

    p = commands.add_parser("train", help="train a model on a dataset (one sub-command per "
                                          "dataset)")
    datasets = p.add_subparsers(dest="dataset", required=True, metavar="DATASET")
    for app in APPS:
        _app(app).register(datasets)

    p = commands.add_parser("evaluate", help="test-set figures of a run (accuracy, BLEU, ...)")
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.add_argument("--data-dir", default=None,
                   help="where the dataset is (default: where the run found it)")
    p = commands.add_parser("predict", help="the likeliest classes of your own images")
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.add_argument("images", nargs="+", metavar="IMAGE")
    p.add_argument("--top", type=int, default=3, help="how many classes to show per image")
    p = commands.add_parser("explain", help="saliency map of an image: which pixels decide")
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.add_argument("images", nargs="+", metavar="IMAGE")
    for command in _RUN_COMMANDS:
        commands.choices[command].set_defaults(run=_run_command(command))
    for app in APPS:  # an application's commands of its own, e.g. predict-sentiment
        register_commands = getattr(_app(app), "register_commands", None)
        if register_commands is not None:
            register_commands(commands)
    return parser


def main(argv=None):
    """Runs one command; a problem with the user's input (a missing file, an unreadable
    image, a bad setting) ends it with a one-line message and exit status 1."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    args.command_line = shlex.join(["retrograd", *argv])
    try:
        return args.run(args)
    except (OSError, ValueError, ImportError) as error:
        print(f"retrograd: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        hint = "; add --resume to continue from the last finished epoch" if (
            args.command == "train") else ""
        print(f"\nretrograd {args.command}: interrupted{hint}", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
