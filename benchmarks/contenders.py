"""The contenders of the suite, each turning a workload into a zero-argument training step:
retrograd, PyTorch (eager, CPU) and the hand-written NumPy reference (``benchmarks.reference``).
"""
import retrograd as rg
from benchmarks.reference import no_mark
from benchmarks.workloads import LEARNING_RATE

RETROGRAD, NUMPY, PYTORCH = "retrograd", "numpy reference", "pytorch"


def initial_weights(workload):
    """The weights every contender starts from: retrograd's initialization with seed 0."""
    rg.manual_seed(0)
    model = workload.build(rg.nn)
    return {name: t.numpy().copy() for name, t in model.state_dict().items()}


def framework_step(framework, workload, weights, data):
    """A training step with ``framework`` (the ``retrograd`` or ``torch`` module): its own
    layers, cross-entropy, autograd and SGD optimizer, as a user would write it. Gradients are
    dropped at the end of the step, so that between steps every contender holds just its
    weights (and optimizer state), as the NumPy reference does. ``mark(phase)`` is called as
    each phase ends (``benchmarks.phases``)."""
    model = workload.build(framework.nn)
    model.load_state_dict({name: framework.from_numpy(a.copy()) for name, a in weights.items()})
    optimizer = framework.optim.SGD(model.parameters(), lr=LEARNING_RATE)
    inputs, targets = (framework.from_numpy(a) for a in data)
    cross_entropy = framework.nn.functional.cross_entropy

    def step(mark=no_mark):
        out = model(inputs)
        mark("forward")
        loss = cross_entropy(out, targets)
        mark("loss")
        loss.backward()
        mark("backward")
        optimizer.step()
        optimizer.zero_grad()
        mark("update")
        return loss.item()
    return step


def reference_step(workload, weights, data):
    """The NumPy reference's training step on copies of ``weights``; a feed-forward
    workload's step also takes ``mark=`` (as ``framework_step``)."""
    step = workload.reference_step({name: a.copy() for name, a in weights.items()},
                                   LEARNING_RATE)
    return lambda **mark: float(step(*data, **mark))


def make_steps(workload, names, torch=None, batch=None, steps=None):
    """{contender: step} for the contenders in ``names`` (PyTorch only if ``torch`` is given),
    all on the same initial weights and the same batch."""
    weights = initial_weights(workload)
    data = workload.batch_data(batch, steps)
    makers = {RETROGRAD: lambda: framework_step(rg, workload, weights, data),
              NUMPY: lambda: reference_step(workload, weights, data)}
    if torch is not None:
        makers[PYTORCH] = lambda: framework_step(torch, workload, weights, data)
    return {name: makers[name]() for name in names if name in makers}
