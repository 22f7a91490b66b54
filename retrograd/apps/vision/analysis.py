"""What a trained classifier does: class probabilities, the confusion matrix, per-class
precision and recall, and saliency maps.

Precision of class c is the fraction of images predicted c that are c; recall is the fraction
of images of class c predicted c (a class never predicted or never present scores 0). The
saliency map of an image is the gradient of the winning class's score (its logit, before the
softmax couples the classes) with respect to every input pixel: backpropagation run all the
way to the image shows which pixels would change the decision most.
"""
import numpy as np

import retrograd as rg
import retrograd.nn.functional as F

__all__ = ["predict_probabilities", "confusion_matrix", "per_class_scores",
           "format_report", "format_confusion", "saliency"]


@rg.no_grad()
def predict_probabilities(model, images, batch_size=500):
    """Softmax probabilities (N, classes) as a NumPy array for a tensor of images, in eval
    mode and in batches so that memory stays bounded."""
    model.eval()
    parts = [F.softmax(model(images[start:start + batch_size]), dim=1).numpy()
             for start in range(0, len(images), batch_size)]
    return np.concatenate(parts) if parts else np.zeros((0, 0), np.float32)


def confusion_matrix(targets, predictions, num_classes):
    """Counts (num_classes, num_classes): row = true class, column = predicted class."""
    targets, predictions = np.asarray(targets), np.asarray(predictions)
    pairs = np.bincount(targets * num_classes + predictions, minlength=num_classes ** 2)
    return pairs.reshape(num_classes, num_classes)


def per_class_scores(confusion):
    """Precision, recall, F1 and support of every class, as arrays."""
    correct = np.diag(confusion).astype(np.float64)
    predicted, support = confusion.sum(axis=0), confusion.sum(axis=1)
    precision = np.divide(correct, predicted, out=np.zeros_like(correct), where=predicted > 0)
    recall = np.divide(correct, support, out=np.zeros_like(correct), where=support > 0)
    both = precision + recall
    f1 = np.divide(2 * precision * recall, both, out=np.zeros_like(correct), where=both > 0)
    return {"precision": precision, "recall": recall, "f1": f1, "support": support}


def format_report(confusion, classes):
    """A text table of the per-class scores, then their unweighted (macro) averages."""
    scores = per_class_scores(confusion)
    width = max(12, *(len(name) + 2 for name in classes))
    lines = [f"{'class':<{width}}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>10}"]
    for i, name in enumerate(classes):
        lines.append(f"{name:<{width}}{scores['precision'][i]:>10.3f}"
                     f"{scores['recall'][i]:>10.3f}{scores['f1'][i]:>10.3f}"
                     f"{scores['support'][i]:>10d}")
    lines.append(f"{'macro avg':<{width}}{scores['precision'].mean():>10.3f}"
                 f"{scores['recall'].mean():>10.3f}{scores['f1'].mean():>10.3f}"
                 f"{scores['support'].sum():>10d}")
    return "\n".join(lines)


def format_confusion(confusion, classes):
    """The confusion matrix as text: rows are true classes, columns predicted ones (numbered
    in the same order; rows name the class too when its name is not its number)."""
    labels = [name if name == str(i) else f"{i} {name}" for i, name in enumerate(classes)]
    label_width = max(len(label) for label in labels) + 2
    cell = max(5, len(str(confusion.max())) + 1)
    header = " " * label_width + "".join(f"{j:>{cell}}" for j in range(len(classes)))
    rows = [f"{label:<{label_width}}" + "".join(f"{count:>{cell}}" for count in row)
            for label, row in zip(labels, confusion)]
    return "\n".join(["true \\ predicted", header, *rows])


def saliency(model, image):
    """For one (C, H, W) image tensor or array: the winning class, its probability, and the
    gradient (C, H, W) of its score with respect to the image's pixels."""
    model.eval()
    pixels = rg.tensor(np.asarray(image.detach().numpy() if isinstance(image, rg.Tensor)
                                  else image)[None], requires_grad=True)
    scores = model(pixels)[0]
    winner = int(scores.argmax().item())
    (gradient,) = rg.autograd.grad(scores[winner], pixels)
    probability = F.softmax(scores.detach(), dim=0)[winner].item()
    return winner, probability, gradient[0].numpy()
