"""The ``retrograd`` command line: ``retrograd demo`` and the applications' commands."""
import argparse
import sys


def demo(args):
    """Trains a small network on two interleaving half-moons and prints its loss falling."""
    from .demo import run_demo
    run_demo(steps=args.steps, seed=args.seed)


def build_parser():
    parser = argparse.ArgumentParser(prog="retrograd", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("demo", help=demo.__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(run=demo)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
