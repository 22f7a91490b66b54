"""The Stanford Sentiment Treebank (Socher et al., EMNLP 2013): 11,855 movie-review sentences,
each a binary parse tree whose every node, word or phrase, carries a sentiment label from
0 (very negative) through 2 (neutral) to 4 (very positive).

The files ``trees/{train,dev,test}.txt`` hold one tree per line in Penn Treebank notation,
``(label child child)`` or ``(label word)``:

    (3 (2 It) (4 (4 (2 's) (4 (3 a) (4 gripping))) (2 .)))

Tokens are separated by ASCII spaces only (one token holds a no-break space, U+00A0, which
must not split it) and are escaped the Penn Treebank's way; ``parse_tree`` turns them back into
plain text: ``-LRB-`` -> ``(``, ``\\/`` -> ``/``, the quotes `````` and ``''`` -> ``"``.

Two tasks come from the trees. SST-5: the root's label, 8,544 / 1,101 / 2,210 sentences.
SST-2: positive (3, 4) against negative (0, 1) sentences, neutral ones dropped: 6,920 / 872 /
1,821. Training on every labelled phrase of the training trees, not just whole sentences, is
the standard way to use the treebank's phrase labels (``phrases``).
"""
import os
import re
from collections import namedtuple

import numpy as np

__all__ = ["Tree", "parse_tree", "read_trees", "unescape", "binary_label", "sentences",
           "phrases", "load_sst", "SPLITS", "FOLDER"]

FOLDER = os.path.join("sst", "trees")
SPLITS = {"train": "train.txt", "dev": "dev.txt", "test": "test.txt"}
NEUTRAL = 2

Tree = namedtuple("Tree", ["label", "tokens", "nodes"])
Tree.__doc__ = """A parsed sentence: the root's ``label``, the ``tokens`` (plain text), and
``nodes``, an int64 array of rows ``(label, start, end)``, one per node, for the phrase
``tokens[start:end]`` (children before their parent, the root last)."""

_ESCAPES = {"-LRB-": "(", "-RRB-": ")", "-LSB-": "[", "-RSB-": "]", "-LCB-": "{",
            "-RCB-": "}", "``": '"', "''": '"', "`": "'"}
# An opening bracket with its label, a closing bracket, a run of spaces, or a token (anything
# up to the next ASCII space or bracket: a no-break space belongs to the token).
_TREE_PART = re.compile(r"\(([0-4]) |(\))|( +)|([^ ()]+)")


def unescape(token):
    """The plain text of a Penn-Treebank-escaped token: ``-LRB-`` -> ``(``, ``\\/`` -> ``/``,
    ``\\*`` -> ``*``, `````` and ``''`` -> ``"``."""
    token = _ESCAPES.get(token, token)
    return token.replace("\\/", "/").replace("\\*", "*") if "\\" in token else token


def _malformed(line, position, why):
    return ValueError(f"parse_tree: {why} at character {position} of {line[:60]!r}"
                      f"{'...' if len(line) > 60 else ''}")


def parse_tree(line):
    """Parses one line of the treebank into a ``Tree``; raises ``ValueError`` saying where a
    malformed line goes wrong."""
    line = line.rstrip("\n")
    tokens, nodes, open_nodes = [], [], []  # open_nodes: (label, first token) still open
    position = 0
    while position < len(line):
        part = _TREE_PART.match(line, position)
        if part is None:
            raise _malformed(line, position, "expected '(' and a label 0-4, ')', a space or "
                                             "a token")
        label, close, spaces, token = part.groups()
        if label is not None:
            if nodes and not open_nodes:
                raise _malformed(line, position, "text after the end of the tree")
            open_nodes.append((int(label), len(tokens)))
        elif close is not None:
            if not open_nodes:
                raise _malformed(line, position, "unbalanced ')'")
            node_label, start = open_nodes.pop()
            if start == len(tokens):
                raise _malformed(line, position, "a node without tokens")
            nodes.append((node_label, start, len(tokens)))
        elif token is not None:
            if not open_nodes:
                raise _malformed(line, position, "a token outside the tree")
            tokens.append(unescape(token))
        position = part.end()
    if open_nodes or not nodes:
        raise _malformed(line, position, "the tree is not closed" if open_nodes
                         else "no tree")
    return Tree(nodes[-1][0], tokens, np.array(nodes, dtype=np.int64).reshape(-1, 3))


def read_trees(path):
    """The trees of a treebank file, one per non-empty line."""
    trees = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if line.strip():
                try:
                    trees.append(parse_tree(line))
                except ValueError as error:
                    raise ValueError(f"{path}, line {number}: {error}") from None
    return trees


def binary_label(label):
    """SST-2's label of a 0-4 label: 0 (negative) for 0-1, 1 (positive) for 3-4, None for the
    neutral 2."""
    return None if label == NEUTRAL else int(label > NEUTRAL)


def _task_label(label, fine_grained):
    return int(label) if fine_grained else binary_label(label)


def sentences(trees, fine_grained=False):
    """``(token lists, labels)`` of the whole sentences: SST-5's 0-4 labels, or SST-2's 0/1
    with neutral sentences dropped."""
    texts, labels = [], []
    for tree in trees:
        label = _task_label(tree.label, fine_grained)
        if label is not None:
            texts.append(tree.tokens)
            labels.append(label)
    return texts, labels


def phrases(trees, fine_grained=False):
    """``(token lists, labels)`` of every distinct labelled phrase of the trees (words and
    whole sentences included; for SST-2, neutral phrases dropped). A phrase met again keeps
    its first label (the treebank labels each distinct phrase once)."""
    labelled = {}
    for tree in trees:
        for node_label, start, end in tree.nodes.tolist():
            label = _task_label(node_label, fine_grained)
            if label is not None:
                labelled.setdefault(tuple(tree.tokens[start:end]), label)
    return [list(tokens) for tokens in labelled], list(labelled.values())


def load_sst(root, fine_grained=False, train_phrases=True):
    """The splits ``{'train', 'dev', 'test'}`` -> ``(token lists, labels)`` of SST-2 (or SST-5
    with ``fine_grained``) from ``root/sst/trees/``; training on all phrases with
    ``train_phrases``, evaluation always on whole sentences."""
    folder = os.path.join(root, FOLDER)
    missing = [name for name in SPLITS.values()
               if not os.path.isfile(os.path.join(folder, name))]
    if missing:
        raise FileNotFoundError(
            f"sst: {', '.join(missing)} not found in {folder}; put the Stanford Sentiment "
            f"Treebank's trees/train.txt, dev.txt and test.txt there (the folder trees/ of "
            f"trainDevTestTrees_PTB.zip, https://nlp.stanford.edu/sentiment/), or point "
            f"--data-dir (or $RETROGRAD_DATA) at the folder that holds sst/trees/")
    splits = {}
    for split, name in SPLITS.items():
        trees = read_trees(os.path.join(folder, name))
        use_phrases = train_phrases and split == "train"
        splits[split] = (phrases if use_phrases else sentences)(trees, fine_grained)
    return splits
