"""Image classification with CNNs: MNIST, Fashion-MNIST and an offline digits set.

Read it in this order:

- ``datasets``: the IDX file format, the loaders (download once, checked by SHA-256) and the
  offline scikit-learn digits;
- ``models``: a multilayer perceptron, LeNet-5 and a small CNN with batch normalization;
- ``augment``: random rotations and shifts of the training images, as a layer;
- ``experiment``: one training run from the data to the test-set figures, with
  ``retrograd.train.fit``, and how a run directory is reopened;
- ``analysis``: probabilities, confusion matrix, precision and recall, saliency maps;
- ``images``: your own pictures in the training data's layout;
- ``plots``: the figures; ``cli``: the ``retrograd train/evaluate/predict/explain`` commands.
"""
