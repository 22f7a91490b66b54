import os
import sys

# Tests in subfolders (tests/nn, tests/apps, ...) share tests/helpers.py.
sys.path.insert(0, os.path.dirname(__file__))
