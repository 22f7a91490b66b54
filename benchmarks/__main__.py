"""``python -m benchmarks``: the whole suite in one run (see ``benchmarks.suite``)."""
from benchmarks.suite import main

main()
