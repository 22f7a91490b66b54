"""Loss functions (exposed as ``retrograd.nn.functional.<name>``), with PyTorch's semantics.

Classification losses share one form. With ``p`` the log-probabilities along the class
dimension and ``q`` a weighted target distribution per sample,

    loss_n = -sum_c q[n, c] * p[n, c]

 - class-index targets ``y``: ``q[n, c] = w[y_n] (1 - eps) [c == y_n] + w[c] eps / C`` (label
   smoothing ``eps``, class weights ``w``; rows whose target is ``ignore_index`` are zero), and
   'mean' divides by ``sum_n w[y_n]`` over the rows not ignored, as PyTorch does;
 - probability targets ``t``: ``q[n, c] = w[c] ((1 - eps) t[n, c] + eps / C)``, and 'mean'
   divides by the number of samples.

``nll_loss`` takes ``p`` as given; ``cross_entropy`` is one fused node for log_softmax followed by
that sum, whose gradient is the stable ``(softmax(x) * sum_c q - q)`` per sample (never the
gradient of log(softmax)). Its most common case, class indices without class weights or label
smoothing, has a node of its own that picks each target's log-probability out instead of
forming the one-hot ``q``: gradient ``softmax(x) - one_hot(y)``.

The regression and binary losses are elementwise terms followed by the reduction; those written
with tensor operations are differentiable to any order.
"""
import warnings

import numpy as np

from ..autograd import grad_mode
from ..autograd.function import Function
from ..tensor import Tensor
from .elementwise import softplus, where
from .softmax import log_softmax, log_softmax_array

__all__ = ["cross_entropy", "nll_loss", "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss",
           "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div"]

_REDUCTIONS = ("none", "mean", "sum")

# PyTorch's lower bound on log(x) in binary_cross_entropy, and on x(1 - x) in its gradient.
_LOG_FLOOR = -100.0
_BCE_GRAD_EPS = 1e-12


# ------------------------------------------------------------------ reductions and checks
def _reduction(op, reduction, size_average=None, reduce=None, allowed=_REDUCTIONS):
    """The reduction to apply, honouring PyTorch's deprecated ``size_average``/``reduce``."""
    if size_average is not None or reduce is not None:
        warnings.warn(f"{op}: size_average and reduce are deprecated, use reduction=",
                      stacklevel=3)
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        reduction = "none" if not reduce else ("mean" if size_average else "sum")
    if reduction not in allowed:
        raise ValueError(f"{op}: reduction must be one of {', '.join(map(repr, allowed))}, got "
                         f"{reduction!r}")
    return reduction


def _reduce(loss, reduction, mean_over=None):
    """``loss`` reduced; 'mean' divides the sum by ``mean_over`` (default: the element count;
    the mean of nothing is NaN, as in PyTorch)."""
    if reduction == "none":
        return loss
    total = loss.sum()
    if reduction == "sum":
        return total
    return total / (loss.numel() if mean_over is None else mean_over)


def _elementwise_weight(op, loss, weight, input):
    if weight is None:
        return loss
    if weight.shape != input.shape:
        raise ValueError(f"{op}: weight must have the input's shape {tuple(input.shape)}, got "
                         f"{tuple(weight.shape)}")
    return loss * weight


def _warn_if_broadcast(op, input, target):
    if input.shape != target.shape:
        warnings.warn(f"{op}: using a target size {tuple(target.shape)} that is different to the "
                      f"input size {tuple(input.shape)}; broadcasting will likely give "
                      "incorrect results", stacklevel=3)


def _constant_weight(op, weight, num_classes, dtype):
    """Class weights as an array (ones when absent); they get no gradient, as in PyTorch."""
    if weight is None:
        return np.ones(num_classes, dtype=dtype)
    if weight.requires_grad:
        raise RuntimeError(f"{op}: the gradient with respect to 'weight' is not supported; "
                           "pass weight.detach()")
    if weight.shape != (num_classes,):
        raise RuntimeError(f"{op}: weight must have shape ({num_classes},) for {num_classes} "
                           f"classes, got {tuple(weight.shape)}")
    return weight.array.astype(dtype, copy=False)


# ----------------------------------------------------------------- classification losses
def _class_dim(op, input):
    if input.ndim == 0:
        raise ValueError(f"{op}: expected an input of shape (C,), (N, C) or (N, C, d1, ...), "
                         "got a 0-d tensor")
    return 0 if input.ndim == 1 else 1


def _along_class_dim(vector, ndim, class_dim):
    """A length-C vector shaped to broadcast along ``class_dim`` of an ``ndim``-D array."""
    return vector.reshape((-1,) + (1,) * (ndim - class_dim - 1))


def _checked_labels(op, input, target, ignore_index):
    """(class dimension, labels with ignored ones replaced by 0, mask of the counted ones or
    None when all count) for class-index targets, after checking their shape and range."""
    class_dim = _class_dim(op, input)
    num_classes = input.shape[class_dim]
    expected = input.shape[:class_dim] + input.shape[class_dim + 1:]
    if target.shape != expected:
        raise ValueError(f"{op}: expected a target of shape {expected} for an input of shape "
                         f"{tuple(input.shape)}, got {tuple(target.shape)}")
    labels = target.array
    # Seen as unsigned, negative labels are huge: one maximum checks the usual case.
    unsigned = labels.view(f"u{labels.itemsize}") if labels.dtype.kind == "i" else labels
    if not labels.size or (unsigned.max() < num_classes
                           and not 0 <= ignore_index < num_classes):
        return class_dim, labels, None
    kept = labels != ignore_index
    all_kept = kept.all()
    counted = labels if all_kept else labels[kept]
    if counted.size and (counted.min() < 0 or counted.max() >= num_classes):
        bad = counted[(counted < 0) | (counted >= num_classes)].flat[0]
        raise IndexError(f"{op}: target {bad} is out of bounds for {num_classes} classes")
    if all_kept:
        return class_dim, labels, None
    return class_dim, np.where(kept, labels, 0), kept


def _index_targets(op, input, target, weight, ignore_index, label_smoothing):
    """``q`` (as an array shaped like ``input``) and the 'mean' divisor for class indices."""
    class_dim, safe_labels, kept = _checked_labels(op, input, target, ignore_index)
    num_classes = input.shape[class_dim]
    # One-hot rows by comparison with the class numbers (faster than scattering into zeros).
    q = (np.expand_dims(safe_labels, class_dim) == _along_class_dim(
        np.arange(num_classes), input.ndim, class_dim)).astype(input.dtype)
    all_kept = kept is None
    if all_kept:
        kept = np.ones(safe_labels.shape, dtype=bool)
    if weight is None:
        sample_weight = kept
        if not all_kept:
            q *= np.expand_dims(kept, class_dim)
    else:
        w = _constant_weight(op, weight, num_classes, input.dtype)
        sample_weight = np.where(kept, w[safe_labels], 0).astype(input.dtype, copy=False)
        q *= np.expand_dims(sample_weight, class_dim)
    if label_smoothing:
        w = _constant_weight(op, weight, num_classes, input.dtype)
        q *= 1 - label_smoothing
        q += (_along_class_dim(w * (label_smoothing / num_classes), input.ndim, class_dim)
              * np.expand_dims(kept, class_dim))
    return Tensor._make(q), np.asarray(sample_weight.sum(), dtype=input.dtype)


def _probability_targets(op, input, target, weight, label_smoothing):
    """``q`` (a tensor, differentiable in ``target``) and the 'mean' divisor."""
    class_dim = _class_dim(op, input)
    num_classes = input.shape[class_dim]
    if target.shape != input.shape:
        raise ValueError(f"{op}: probability targets must have the input's shape "
                         f"{tuple(input.shape)}, got {tuple(target.shape)}")
    q = target.to(input.dtype)
    if label_smoothing:
        q = q * (1 - label_smoothing) + label_smoothing / num_classes
    if weight is not None:
        w = _constant_weight(op, weight, num_classes, input.dtype)
        q = q * Tensor._make(_along_class_dim(w, input.ndim, class_dim))
    samples = input.array.size // num_classes if num_classes else 0
    return q, np.asarray(samples, dtype=input.dtype)


def _weighted_nll(log_probs, q, class_dim, reduction, divisor):
    """The reduced ``-sum_c q * log_probs`` on arrays. Classes with ``q == 0`` contribute
    nothing even where their log-probability is -inf (masked logits)."""
    summed = "c..." if class_dim == 0 else "nc..."
    equation = f"{summed},{summed}->{summed.replace('c', '')}"
    with np.errstate(invalid="ignore"):
        per_sample = -np.einsum(equation, q, log_probs)
        if np.isnan(per_sample).any():  # 0 * -inf somewhere: redo without those products
            per_sample = -np.einsum(equation, q, np.where(q == 0, 0, log_probs))
    return _reduce_array(per_sample, reduction, divisor)


def _reduce_array(per_sample, reduction, divisor):
    """Each sample's loss reduced as asked; 'mean' divides the sum by ``divisor``."""
    if reduction == "none":
        return per_sample
    total = per_sample.sum()
    if reduction == "sum":
        return total
    if not divisor:  # nothing counted: 0 / 0 is NaN, as in PyTorch
        with np.errstate(invalid="ignore", divide="ignore"):
            return total / divisor
    return total / divisor


def _per_sample_grad(ctx, grad):
    """The gradient of each sample's loss, shaped to broadcast along the class dimension: a
    tensor when recording (``grad`` a tensor), else an array (``grad`` an array)."""
    if ctx.reduction == "mean":
        # With nothing counted (every target ignored) the loss is NaN but q is all zero: the
        # gradient is zero, as in PyTorch, and dividing by 1 instead of 0 keeps it from NaN.
        divisor = ctx.divisor if ctx.divisor else np.ones_like(ctx.divisor)
        return grad / (divisor if isinstance(grad, np.ndarray) else Tensor._make(divisor))
    if ctx.reduction == "none" and grad.ndim:
        return grad.reshape(grad.shape[:ctx.class_dim] + (1,) + grad.shape[ctx.class_dim:])
    return grad


class NllLoss(Function):
    """d nll = -g q d(log_probs), g the gradient of each sample's loss"""

    @staticmethod
    def forward(ctx, log_probs, q, class_dim, reduction, divisor):
        ctx.save_for_backward(q)
        ctx.class_dim, ctx.reduction, ctx.divisor = class_dim, reduction, divisor
        return _weighted_nll(log_probs.array, q.array, class_dim, reduction, divisor)

    @staticmethod
    def backward(ctx, grad):
        (q,) = ctx.saved_tensors
        return -_per_sample_grad(ctx, grad) * q, None, None, None, None


class CrossEntropy(Function):
    """d ce = g (softmax(x) sum_c q - q) dx - g log_softmax(x) dq, g per sample"""

    @staticmethod
    def forward(ctx, x, q, class_dim, reduction, divisor):
        log_probs = log_softmax_array(x.array, class_dim)
        ctx.save_for_backward(x, q, Tensor._make(log_probs))
        ctx.class_dim, ctx.reduction, ctx.divisor = class_dim, reduction, divisor
        return _weighted_nll(log_probs, q.array, class_dim, reduction, divisor)

    @staticmethod
    def backward(ctx, grad):
        x, q, log_probs = ctx.saved_tensors
        needs_x, needs_q = ctx.needs_input_grad[:2]
        if not grad_mode.is_grad_enabled() and not needs_q:
            # The usual case, on arrays: a handful of passes instead of a small graph of ops.
            grad_x = np.exp(log_probs.array)
            grad_x *= q.array.sum(axis=ctx.class_dim, keepdims=True)
            grad_x -= q.array
            grad_x *= _per_sample_grad(ctx, grad.array)
            return Tensor._make(grad_x), None, None, None, None
        if grad_mode.is_grad_enabled():
            # Recording (create_graph=True): rebuild log_softmax from x so that the gradient
            # is itself differentiable with respect to x.
            log_probs = log_softmax(x, ctx.class_dim)
        scale = _per_sample_grad(ctx, grad)
        grad_x = grad_q = None
        if needs_x:
            grad_x = scale * (log_probs.exp() * q.sum(ctx.class_dim, keepdim=True) - q)
        if needs_q:
            grad_q = -scale * log_probs
        return grad_x, grad_q, None, None, None


def _target_positions(labels, class_dim):
    """The index of every sample's target class in the input, for NumPy's fancy indexing."""
    if labels.ndim == 1 and class_dim == 1:  # (N, C) logits: the usual case, made cheaply
        return np.arange(len(labels)), labels
    positions = list(np.indices(labels.shape, sparse=True))
    positions.insert(class_dim, labels)
    return tuple(positions)


class IndexCrossEntropy(Function):
    """d ce = g (softmax(x) - onehot(y)) dx, g the gradient of each counted sample's loss"""

    # cross_entropy's common case (class indices, no class weights, no label smoothing): the
    # log-probability of each target is picked out instead of summed against a one-hot q.

    @staticmethod
    def forward(ctx, x, labels, kept, class_dim, reduction):
        log_probs = log_softmax_array(x.array, class_dim)
        ctx.save_for_backward(x, Tensor._make(log_probs))
        ctx.kept, ctx.class_dim, ctx.reduction = kept, class_dim, reduction
        ctx.divisor = np.asarray(labels.size if kept is None else kept.sum(),
                                 dtype=log_probs.dtype)
        ctx.targets = _target_positions(labels, class_dim)
        per_sample = -log_probs[ctx.targets]
        if kept is not None:
            per_sample = np.where(kept, per_sample, 0)
        return _reduce_array(per_sample, reduction, ctx.divisor)

    @staticmethod
    def backward(ctx, grad):
        x, log_probs = ctx.saved_tensors
        targets = ctx.targets
        kept = None if ctx.kept is None else np.expand_dims(ctx.kept, ctx.class_dim)
        if grad_mode.is_grad_enabled():
            # Recording (create_graph=True): the same formula in tensor ops on x.
            scale = _per_sample_grad(ctx, grad)
            q = np.zeros(x.shape, dtype=x.dtype)
            q[targets] = 1
            probs = log_softmax(x, ctx.class_dim).exp()
            if kept is not None:
                q *= kept
                probs = probs * Tensor._make(kept.astype(x.dtype))
            return scale * (probs - Tensor._make(q)), None
        grad_x = np.exp(log_probs.array)
        grad_x[targets] -= 1  # one position per sample: no repeated index
        if kept is not None:
            grad_x *= kept
        grad_x *= _per_sample_grad(ctx, grad.array)
        return Tensor._make(grad_x), None


def _classification_loss(op, node, input, target, weight, ignore_index, reduction,
                         label_smoothing):
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{op}: label_smoothing must be between 0.0 and 1.0, got "
                         f"{label_smoothing}")
    if input.dtype.kind != "f":
        raise RuntimeError(f"{op}: expected a floating point input, got {input.dtype}")
    if node is CrossEntropy and target.dtype.kind in "iu" and weight is None \
            and not label_smoothing:
        class_dim, labels, kept = _checked_labels(op, input, target, ignore_index)
        return IndexCrossEntropy.apply(input, labels, kept, class_dim, reduction)
    if target.dtype.kind == "f":
        q, divisor = _probability_targets(op, input, target, weight, label_smoothing)
    elif target.dtype.kind in "iu":
        q, divisor = _index_targets(op, input, target, weight, ignore_index, label_smoothing)
    else:
        raise TypeError(f"{op}: expected integer class indices or floating point probabilities "
                        f"as target, got {target.dtype}")
    return node.apply(input, q, _class_dim(op, input), reduction, divisor)


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100,
                  reduce=None, reduction="mean", label_smoothing=0.0):
    """Softmax cross-entropy between logits ``input`` ((C,), (N, C) or (N, C, d1, ...)) and
    class indices (shape without C) or class probabilities (the input's shape)."""
    reduction = _reduction("cross_entropy", reduction, size_average, reduce)
    return _classification_loss("cross_entropy", CrossEntropy, input, target, weight,
                                 ignore_index, reduction, label_smoothing)


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    """Negative log-likelihood of class indices given log-probabilities ``input``."""
    reduction = _reduction("nll_loss", reduction, size_average, reduce)
    if target.dtype.kind not in "iu":
        raise TypeError(f"nll_loss: expected integer class indices as target, got "
                        f"{target.dtype}")
    return _classification_loss("nll_loss", NllLoss, input, target, weight, ignore_index,
                                reduction, 0.0)


# ------------------------------------------------------------------------ binary losses
class BinaryCrossEntropy(Function):
    """d bce = (x - t) / (x (1 - x)) dx + log((1 - x) / x) dt, with x(1 - x) floored at 1e-12"""

    @staticmethod
    def forward(ctx, x, t):
        ctx.save_for_backward(x, t)
        a, target = x.array, t.array
        with np.errstate(divide="ignore"):  # log(0) = -inf, then floored like PyTorch
            log_x = np.maximum(np.log(a), _LOG_FLOOR)
            log_1mx = np.maximum(np.log1p(-a), _LOG_FLOOR)
        return -(target * log_x + (1 - target) * log_1mx)

    @staticmethod
    def backward(ctx, grad):
        x, t = ctx.saved_tensors
        grad_x = grad_t = None
        if ctx.needs_input_grad[0]:
            grad_x = grad * (x - t) / (x * (1 - x)).clamp(min=_BCE_GRAD_EPS)
        if ctx.needs_input_grad[1]:
            grad_t = grad * ((1 - x).log() - x.log())
        return grad_x, grad_t


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    """``-w (t log x + (1 - t) log(1 - x))`` for probabilities ``x``; logs floored at -100."""
    reduction = _reduction("binary_cross_entropy", reduction, size_average, reduce)
    if target.shape != input.shape:
        raise ValueError(f"binary_cross_entropy: target size {tuple(target.shape)} must be the "
                         f"input size {tuple(input.shape)}")
    if ((input.array < 0) | (input.array > 1)).any():
        raise RuntimeError("binary_cross_entropy: all elements of input should be between 0 "
                           "and 1")
    loss = BinaryCrossEntropy.apply(input, target.to(input.dtype))
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None,
                                     reduce=None, reduction="mean", pos_weight=None):
    """Binary cross-entropy of ``sigmoid(input)``, computed from the logits without ever
    forming the sigmoid: ``(1 - t) softplus(x) + pos_weight t softplus(-x)``, finite for any
    logit (log sigmoid(x) = -softplus(-x))."""
    reduction = _reduction("binary_cross_entropy_with_logits", reduction, size_average, reduce)
    if target.shape != input.shape:
        raise ValueError(f"binary_cross_entropy_with_logits: target size "
                         f"{tuple(target.shape)} must be the input size {tuple(input.shape)}")
    positive = target if pos_weight is None else pos_weight * target
    loss = (1 - target) * softplus(input) + positive * softplus(-input)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


# -------------------------------------------------------------------- regression losses
def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Squared error ``(x - t)^2``; with ``weight``, 'mean' is the weighted mean."""
    reduction = _reduction("mse_loss", reduction, size_average, reduce)
    _warn_if_broadcast("mse_loss", input, target)
    loss = _elementwise_weight("mse_loss", (input - target).square(), weight, input)
    return _reduce(loss, reduction, mean_over=None if weight is None else weight.sum())


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Absolute error ``|x - t|`` (gradient 0 at 0); with ``weight``, 'mean' is the weighted
    mean."""
    reduction = _reduction("l1_loss", reduction, size_average, reduce)
    _warn_if_broadcast("l1_loss", input, target)
    loss = _elementwise_weight("l1_loss", (input - target).abs(), weight, input)
    return _reduce(loss, reduction, mean_over=None if weight is None else weight.sum())


def _quadratic_then_linear(input, target, threshold, quadratic_scale, linear_scale):
    """``quadratic_scale d^2 / 2`` for ``|d| < threshold``, else
    ``linear_scale (|d| - threshold / 2)``: the shared form of smooth L1 and Huber."""
    diff = input - target
    size = diff.abs()
    return where(size < threshold, diff.square() * (0.5 * quadratic_scale),
                 (size - 0.5 * threshold) * linear_scale)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """``0.5 d^2 / beta`` where ``|d| < beta``, else ``|d| - beta / 2`` (plain L1 at beta=0)."""
    reduction = _reduction("smooth_l1_loss", reduction, size_average, reduce)
    if beta < 0:
        raise RuntimeError(f"smooth_l1_loss: beta must be non-negative, got {beta}")
    _warn_if_broadcast("smooth_l1_loss", input, target)
    if beta == 0:
        return _reduce((input - target).abs(), reduction)
    return _reduce(_quadratic_then_linear(input, target, beta, 1.0 / beta, 1.0), reduction)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """``0.5 d^2`` where ``|d| < delta``, else ``delta (|d| - delta / 2)``."""
    reduction = _reduction("huber_loss", reduction)
    if delta <= 0:
        raise RuntimeError(f"huber_loss: delta must be positive, got {delta}")
    _warn_if_broadcast("huber_loss", input, target)
    loss = _quadratic_then_linear(input, target, delta, 1.0, delta)
    return _reduce(_elementwise_weight("huber_loss", loss, weight, input), reduction)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """``t (log t - x)`` pointwise, ``input`` being log-probabilities (``target`` too when
    ``log_target``). 'mean' averages over all elements; 'batchmean' divides the sum by the
    batch size, which is the actual KL divergence per sample."""
    reduction = _reduction("kl_div", reduction, size_average, reduce,
                           allowed=_REDUCTIONS + ("batchmean",))
    if reduction == "mean":
        warnings.warn("kl_div: reduction='mean' divides the total by the number of elements, "
                      "not the batch size; use 'batchmean' for the KL divergence", stacklevel=2)
    if log_target:
        loss = target.exp() * (target - input)
    else:
        # t log t with the limit 0 at t = 0 (x log y is 0 for x = 0, whatever y)
        positive = target > 0
        safe = where(positive, target, 1.0)
        loss = where(positive, target * safe.log(), 0.0) - target * input
    if reduction == "batchmean":
        total = loss.sum()
        return total / input.shape[0] if input.ndim else total
    return _reduce(loss, reduction)
