"""Graded tests of chapter 6 (backpropagation): ex6_1 .. ex6_6.

Every scenario calls the student's functions through ``ns`` and returns plain data that
the grader compares with the reference's (solutions/backprop.py). Graphs cross to the
student's process as lists of ``(op, parents)`` tuples; the functions that
``numerical_gradient`` differentiates cross as ``functools.partial`` objects of the
module-level functions below (the worker imports them by name). Shapes are chosen so
that a forgotten transpose or swapped results still give numbers (square layers), which
the diagnosis can then name.

The mistakes are deliberately wrong implementations: source article 001's formula and
backward pass (book/errata 001-2, 001-7) and the classic mistakes of a first backward
pass; when a submission's output equals one, the feedback names it and links the
section of lessons/06_backprop.ipynb that explains it.
"""
import functools

import numpy as np

from autograder.framework import Exercise, Question
from solutions import backprop as ref
from solutions.losses import sigmoid, softmax_cross_entropy, softmax_cross_entropy_grad

ex6_1 = Exercise("ex6_1", ref.graph_adjoints, anchor="backprop-graph")
ex6_2 = Exercise("ex6_2", ref.numerical_gradient, ref.relative_error, anchor="backprop-gradient-check")
ex6_3 = Exercise("ex6_3", ref.linear_forward, ref.linear_backward, anchor="backprop-linear")
ex6_4 = Exercise("ex6_4", ref.relu_backward, ref.sigmoid_backward, ref.tanh_backward, anchor="backprop-activations")
ex6_5 = Exercise("ex6_5", ref.mlp_init, ref.mlp_forward, ref.mlp_loss_and_grads, anchor="backprop-mlp")
ex6_6 = Exercise("ex6_6", ref.sigmoid_net_grads, anchor="backprop-article")


# ==================================================================== ex6_1 graph_adjoints

DIAMOND = [("input", ()), ("sin", (0,)), ("exp", (0,)), ("mul", (1, 2))]           # y = sin(x) e^x
SHARED = [("input", ()), ("input", ()), ("mul", (0, 0)), ("mul", (2, 1)), ("add", (3, 2)),
          ("tanh", (4,)), ("add", (5, 0)), ("mul", (6, 2))]        # x² used three times, x twice


def random_graph(rng, n_inputs=3, n_ops=10):
    """A random graph in which recent nodes are reused (shared nodes, ``mul(a, a)``); bounded values."""
    nodes = [("input", ())] * n_inputs
    for _ in range(n_ops):
        op = str(rng.choice(["add", "mul", "exp", "sin", "tanh"]))
        k = len(nodes)
        pick = lambda: int(rng.integers(max(0, k - 4), k))  # noqa: E731
        parents = (pick(), pick()) if op in ("add", "mul") else (pick(),)
        if op == "exp":
            nodes.append(("tanh", parents))
            parents = (len(nodes) - 1,)
        nodes.append((op, parents))
    return nodes, rng.uniform(-1.0, 1.0, size=n_inputs)


def adjoints_of(ns, nodes, inputs):
    return ns.graph_adjoints(nodes, ref.graph_forward(nodes, inputs))


@ex6_1.test(points=1)
def test_diamond(ns, rng):
    """the diamond y = sin(x)·eˣ: x reaches y along two paths, at x = -1, 0.5 and 2"""
    return {f"x = {x}": adjoints_of(ns, DIAMOND, [x]) for x in (-1.0, 0.5, 2.0)}


@ex6_1.test(points=2)
def test_shared_nodes(ns, rng):
    """y = (tanh(x²w + x²) + x)·x²: x² is used three times and x twice (once as mul(x, x))"""
    return {f"(x, w) = ({x:.3f}, {w:.3f})": adjoints_of(ns, SHARED, [x, w]) for x, w in rng.uniform(-1, 1, (3, 2))}


@ex6_1.test(points=2)
def test_random_graphs(ns, rng):
    """five random graphs of 13 to 20 nodes, every op, many shared nodes"""
    return {f"graph {k}": adjoints_of(ns, *random_graph(rng)) for k in range(5)}


def _parents_and_local(nodes, values, i):
    op, parents = nodes[i]
    return parents, ref._local_derivatives(op, [values[j] for j in parents], values[i])


@ex6_1.mistake("graph_adjoints", "each parent's adjoint overwritten (adjoint[p] = ...) instead of accumulated "
               "(adjoint[p] += ...): only the last path through a shared node is counted", anchor="backprop-graph")
def adjoints_overwritten(nodes, values):
    adj = np.zeros(len(nodes))
    adj[-1] = 1.0
    for i in range(len(nodes) - 1, -1, -1):
        for j, d in zip(*_parents_and_local(nodes, values, i)):
            adj[j] = adj[i] * d
    return adj


@ex6_1.mistake("graph_adjoints", "source article 001's formula: a sum over every later node z_j of "
               "(∂y/∂z_j)(dz_j/dv) with total derivatives dz_j/dv, which counts each path several times; "
               "the sum runs over the direct successors only", anchor="backprop-diamond")
def adjoints_over_every_node(nodes, values):
    right = ref.graph_adjoints(nodes, values)
    n = len(nodes)
    total = np.eye(n)                       # total[j, v] = dz_j/dz_v, by forward mode
    for i in range(n):
        for j, d in zip(*_parents_and_local(nodes, values, i)):
            total[i] += d * total[j]
    wrong = np.zeros(n)
    for v in range(n):
        later = range(v + 1, n)
        wrong[v] = 1.0 if v == n - 1 else sum(right[j] * total[j, v] for j in later)
    return wrong


@ex6_1.mistake("graph_adjoints", "the nodes visited in forward (topological) order instead of reverse order: "
               "a node passes on its adjoint before it has received all of it", anchor="backprop-graph")
def adjoints_forward_order(nodes, values):
    adj = np.zeros(len(nodes))
    adj[-1] = 1.0
    for i in range(len(nodes)):
        for j, d in zip(*_parents_and_local(nodes, values, i)):
            adj[j] += adj[i] * d
    return adj


@ex6_1.mistake("graph_adjoints", "a product's local derivatives swapped: ∂(ab)/∂a taken as a instead of b")
def adjoints_mul_swapped(nodes, values):
    swapped = [("mul_swapped", p) if op == "mul" else (op, p) for op, p in nodes]
    adj = np.zeros(len(nodes))
    adj[-1] = 1.0
    for i in range(len(nodes) - 1, -1, -1):
        op, parents = swapped[i]
        local = ([values[parents[0]], values[parents[1]]] if op == "mul_swapped"
                 else ref._local_derivatives(op, [values[j] for j in parents], values[i]))
        for j, d in zip(parents, local):
            adj[j] += adj[i] * d
    return adj


# ==================================================================== ex6_2 numerical_gradient, relative_error

def wavy(x, A, c):
    """Σ sin(A ⊙ x) + c Σ x³ (module level, so that it can be sent to the student's process)."""
    return float(np.sum(np.sin(A * x)) + c * np.sum(x ** 3))


def wavy_problem(rng, shape):
    return functools.partial(wavy, A=rng.uniform(0.5, 2.0, size=shape), c=0.5), rng.normal(size=shape)


@ex6_2.test(points=2)
def test_numerical_gradient_shapes(ns, rng):
    """central differences with the default h for x of shapes (5,), (3, 4) and (2, 2, 2); x left unchanged"""
    out = {}
    for shape in [(5,), (3, 4), (2, 2, 2)]:
        f, x = wavy_problem(rng, shape)
        out[f"shape {shape}"] = ns.numerical_gradient(f, x)
    return out


#: A point with entries far larger than 1: the step is h whatever |xᵢ| is (a step scaled by |xᵢ| is another one).
LARGE_X = np.array([40.0, -250.0, 0.3, 3.0])


@ex6_2.test(points=1, rtol=1e-6, atol=1e-7)
def test_numerical_gradient_step(ns, rng):
    """the step h is used: h = 1e-3 and h = 1e-2 (central differences, error O(h²)), also where |xᵢ| ≫ 1"""
    f, x = wavy_problem(rng, (4,))
    out = {f"h = {h:g}": ns.numerical_gradient(f, x, h) for h in (1e-3, 1e-2)}
    f_large = functools.partial(wavy, A=np.array([1.5, 0.7, 2.0, 1.1]), c=0.0)
    out.update({f"x = {LARGE_X.tolist()}, h = {h:g}": ns.numerical_gradient(f_large, LARGE_X, h) for h in (1e-3, 1e-2)})
    return out


@ex6_2.test(points=1)
def test_relative_error(ns, rng):
    """relative errors of gradients that agree, nearly agree, differ, and contain zeros"""
    a = rng.normal(size=(3, 4))
    cases = {"equal": (a, a.copy()), "1e-6 apart": (a, a * (1 + 1e-6 * rng.normal(size=a.shape))),
             "different": (a, rng.normal(size=a.shape)),
             "zeros in both": (np.array([0.0, 1.0, -2.0]), np.array([0.0, 1.5, -2.0])),
             "tiny entries": (np.array([1e-9, 3.0, 2e-9]), np.array([-1e-9, 3.0, 0.0])),
             "opposite signs": (np.array([1.0, 2.0]), np.array([-1.0, 2.1]))}
    return {k: ns.relative_error(x, y) for k, (x, y) in cases.items()}


@ex6_2.mistake("numerical_gradient", "one-sided (forward) differences (f(x + h) - f(x)) / h, whose error is O(h) "
               "instead of O(h²)", anchor="backprop-gradient-check")
def forward_differences(f, x, h=1e-5):
    x = np.array(x, dtype=float)
    f0, grad = f(x), np.zeros_like(x)
    for i in np.ndindex(x.shape):
        xp = x.copy()
        xp[i] += h
        grad[i] = (f(xp) - f0) / h
    return grad


@ex6_2.mistake("numerical_gradient", "one-sided differences with a large step, (f(x + h) - f(x)) / h with "
               "h = 1e-2 whatever h is given", anchor="backprop-gradient-check")
def forward_differences_large_h(f, x, h=1e-5):
    return forward_differences(f, x, 1e-2)


@ex6_2.mistake("numerical_gradient", "the central difference divided by h instead of 2h")
def central_over_h(f, x, h=1e-5):
    return 2.0 * ref.numerical_gradient(f, x, h)


@ex6_2.mistake("numerical_gradient", "the argument h ignored (a fixed step of 1e-5 used)")
def step_ignored(f, x, h=1e-5):
    return ref.numerical_gradient(f, x)


@ex6_2.mistake("numerical_gradient", "the step scaled by |xᵢ| (h·max(1, |xᵢ|), a relative step): the step is h as "
               "given, whatever the size of xᵢ", anchor="backprop-gradient-check")
def step_relative(f, x, h=1e-5):
    x = np.array(x, dtype=float)
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        step = h * max(1.0, abs(float(x[i])))
        xp, xm = x.copy(), x.copy()
        xp[i] += step
        xm[i] -= step
        grad[i] = (f(xp) - f(xm)) / (2 * step)
    return grad


@ex6_2.mistake("numerical_gradient", "x shifted in place and never put back (work on a copy, or restore each "
               "entry after its two evaluations)")
def x_not_restored(f, x, h=1e-5):
    grad = np.zeros(np.shape(x))
    for i in np.ndindex(grad.shape):
        x[i] += h
        f_plus = f(x)
        x[i] -= 2 * h
        grad[i] = (f_plus - f(x)) / (2 * h)
    return grad


@ex6_2.mistake("relative_error", "a ratio of norms ‖a - b‖ / (‖a‖ + ‖b‖) (another common definition); the graded "
               "one is the largest entry-wise ratio |a_i - b_i| / max(1e-8, |a_i| + |b_i|)",
               anchor="backprop-gradient-check")
def relative_error_norms(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.linalg.norm(a - b) / max(1e-8, np.linalg.norm(a) + np.linalg.norm(b)))


@ex6_2.mistake("relative_error", "the maxima taken separately, max|a - b| / max(|a| + |b|); the graded error is "
               "the largest entry-wise ratio")
def relative_error_separate_maxima(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b)) / max(1e-8, np.max(np.abs(a) + np.abs(b))))


@ex6_2.mistake("relative_error", "|a + b| instead of |a| + |b| in the denominator (entries of opposite signs)")
def relative_error_abs_of_sum(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a + b))))


# ==================================================================== ex6_3 linear_forward, linear_backward

SQUARE_SHAPES = [(4, 4, 4), (3, 3, 3)]                    # (n, d_in, d_out): every product defined
LINEAR_SHAPES = [(5, 3, 2), (1, 6, 3), (8, 2, 2)]


def linear_case(rng, n, d_in, d_out):
    return rng.normal(size=(n, d_in)), rng.normal(size=(d_in, d_out)), rng.normal(size=d_out), rng.normal(size=(n, d_out))


def linear_forward_run(ns, rng, shapes):
    out = {}
    for shape in shapes:
        x, W, b, _ = linear_case(rng, *shape)
        out[f"(n, d_in, d_out) = {shape}"] = ns.linear_forward(x, W, b)
    return out


def linear_backward_run(ns, rng, shapes):
    out = {}
    for shape in shapes:
        x, W, _, dout = linear_case(rng, *shape)
        out[f"(n, d_in, d_out) = {shape}"] = ns.linear_backward(dout, x, W)
    return out


@ex6_3.test(points=1)
def test_linear_forward(ns, rng):
    """z = xW + b for batches (n, d_in, d_out) = (5, 3, 2), (1, 6, 3), (8, 2, 2)"""
    return linear_forward_run(ns, rng, LINEAR_SHAPES)


@ex6_3.test(points=1)
def test_linear_forward_square(ns, rng):
    """z = xW + b with square shapes (n = d_in = d_out = 4 and 3)"""
    return linear_forward_run(ns, rng, SQUARE_SHAPES)


@ex6_3.test(points=2)
def test_linear_backward(ns, rng):
    """(dx, dW, db) for random upstream gradients; (n, d_in, d_out) = (5, 3, 2), (1, 6, 3), (8, 2, 2)"""
    return linear_backward_run(ns, rng, LINEAR_SHAPES)


@ex6_3.test(points=2)
def test_linear_backward_square(ns, rng):
    """(dx, dW, db) with square shapes (n = d_in = d_out = 4 and 3), where a transpose is easy to forget"""
    return linear_backward_run(ns, rng, SQUARE_SHAPES)


@ex6_3.mistake("linear_forward", "x Wᵀ + b: W has shape (d_in, d_out), so z = x W + b")
def linear_forward_transposed(x, W, b):
    return x @ W.T + b


@ex6_3.mistake("linear_forward", "the bias forgotten (z = x W)")
def linear_forward_no_bias(x, W, b):
    return x @ W


@ex6_3.mistake("linear_backward", "a forgotten transpose: dx = dout W instead of dout Wᵀ", anchor="backprop-linear")
def linear_backward_dx_no_transpose(dout, x, W):
    _, dW, db = ref.linear_backward(dout, x, W)
    return dout @ W, dW, db


@ex6_3.mistake("linear_backward", "dW transposed: doutᵀ x instead of xᵀ dout (dW must have the shape of W)",
               anchor="backprop-linear")
def linear_backward_dW_transposed(dout, x, W):
    dx, _, db = ref.linear_backward(dout, x, W)
    return dx, dout.T @ x, db


@ex6_3.mistake("linear_backward", "dx and dW swapped (the results returned as (dW, dx, db))", anchor="backprop-linear")
def linear_backward_swapped(dout, x, W):
    dx, dW, db = ref.linear_backward(dout, x, W)
    return dW, dx, db


@ex6_3.mistake("linear_backward", "the weight forgotten in dx (dx = dout, as if z = x + b)", anchor="backprop-linear")
def linear_backward_no_weight(dout, x, W):
    _, dW, db = ref.linear_backward(dout, x, W)
    return dout.copy(), dW, db


@ex6_3.mistake("linear_backward", "db averaged over the batch instead of summed (the loss's 1/n is already in dout)",
               anchor="backprop-linear")
def linear_backward_db_mean(dout, x, W):
    dx, dW, _ = ref.linear_backward(dout, x, W)
    return dx, dW, dout.mean(axis=0)


@ex6_3.mistake("linear_backward", "dW divided by the batch size once more (the loss's 1/n is already in dout)",
               anchor="backprop-linear")
def linear_backward_dW_mean(dout, x, W):
    dx, dW, db = ref.linear_backward(dout, x, W)
    return dx, dW / len(x), db


# ==================================================================== ex6_4 activations

#: Beyond ±709 exp(±z) overflows: a derivative written with e^{-z} gives inf/inf = nan there.
HUGE_Z = np.array([-1000.0, -745.0, -710.0, -30.0, -5.0, -0.5, 0.5, 5.0, 30.0, 710.0, 1000.0])


def activation_cases(rng):
    """Pre-activations with exact zeros (ReLU's kink), large magnitudes (beyond exp's overflow at
    ±709), and 1-D to 3-D shapes."""
    z2 = rng.normal(size=(4, 5)) * 3
    z2[0, :3] = 0.0
    return {"2-D with zeros": (rng.normal(size=(4, 5)), z2),
            "1-D, large |z|": (rng.normal(size=HUGE_Z.size), HUGE_Z.copy()),
            "3-D": (rng.normal(size=(2, 3, 2)), rng.normal(size=(2, 3, 2)))}


def backward_run(ns, rng, name):
    fn = getattr(ns, f"{name}_backward")
    return {k: fn(dout, z) for k, (dout, z) in activation_cases(rng).items()}


@ex6_4.test(points=1)
def test_relu_backward(ns, rng):
    """ReLU: dout ⊙ [z > 0], with z = 0 in some entries (the derivative there is 0, as in PyTorch)"""
    return backward_run(ns, rng, "relu")


@ex6_4.test(points=1)
def test_sigmoid_backward(ns, rng):
    """sigmoid: dout ⊙ σ(z)(1 - σ(z)) at the pre-activation z, |z| up to 1000 (stable for any z)"""
    return backward_run(ns, rng, "sigmoid")


@ex6_4.test(points=1)
def test_tanh_backward(ns, rng):
    """tanh: dout ⊙ (1 - tanh²z) at the pre-activation z, |z| up to 1000"""
    return backward_run(ns, rng, "tanh")


@ex6_4.mistake("relu_backward", "ReLU's derivative taken as 1 at z = 0 (mask z >= 0); the graded convention "
               "(PyTorch's) is 0 there", anchor="backprop-activations")
def relu_backward_kink_one(dout, z):
    return dout * (z >= 0)


@ex6_4.mistake("relu_backward", "no activation derivative: dout returned as it is", anchor="backprop-activations")
def relu_backward_identity(dout, z):
    return np.array(dout, dtype=float)


@ex6_4.mistake("relu_backward", "ReLU applied to the upstream gradient, max(dout, 0), instead of masking it "
               "where z <= 0", anchor="backprop-activations")
def relu_backward_of_dout(dout, z):
    return np.maximum(dout, 0.0)


@ex6_4.mistake("sigmoid_backward", "the derivative evaluated at the wrong place: z(1 - z), the formula in terms of "
               "the output σ(z) applied to the pre-activation z", anchor="backprop-activations")
def sigmoid_backward_at_z(dout, z):
    return dout * z * (1 - z)


@ex6_4.mistake("sigmoid_backward", "no activation derivative: dout returned as it is", anchor="backprop-activations")
def sigmoid_backward_identity(dout, z):
    return np.array(dout, dtype=float)


@ex6_4.mistake("sigmoid_backward", "the derivative σ(z)(1 - σ(z)) returned without the upstream gradient dout")
def sigmoid_backward_no_dout(dout, z):
    s = sigmoid(z)
    return s * (1 - s)


@ex6_4.mistake("sigmoid_backward", "σ'(z) written as e^{-z} / (1 + e^{-z})²: for z < -709 e^{-z} overflows and "
               "it returns inf / inf = nan; write it as σ(z)(1 - σ(z)) with a stable σ", anchor="backprop-activations")
def sigmoid_backward_overflow(dout, z):
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.exp(-np.asarray(z, dtype=float))
        return dout * e / (1.0 + e) ** 2


@ex6_4.mistake("tanh_backward", "the derivative evaluated at the wrong place: 1 - z², the formula in terms of the "
               "output tanh(z) applied to the pre-activation z", anchor="backprop-activations")
def tanh_backward_at_z(dout, z):
    return dout * (1 - z * z)


@ex6_4.mistake("tanh_backward", "1 - tanh(z) instead of 1 - tanh(z)²")
def tanh_backward_not_squared(dout, z):
    return dout * (1 - np.tanh(z))


# ==================================================================== ex6_5 mlp_init, mlp_forward, mlp_loss_and_grads

def random_net(rng, sizes, activation, bias_scale=0.1):
    """Parameters from the reference's init (not the student's), with non-zero biases."""
    params = ref.mlp_init(sizes, rng, activation=activation)
    return [(W, bias_scale * rng.normal(size=b.shape)) for W, b in params]


def classification_batch(rng, n, d, k):
    return rng.normal(size=(n, d)), rng.integers(0, k, size=n)


@ex6_5.test(points=1)
def test_mlp_init_he(ns, rng):
    """mlp_init((5, 7, 7, 3), rng): He normal weights, one rng.normal call per layer, zero biases"""
    return ns.mlp_init([5, 7, 7, 3], rng)


@ex6_5.test(points=1)
def test_mlp_init_xavier(ns, rng):
    """mlp_init with activation="tanh" and "sigmoid": Xavier/Glorot normal weights, zero biases"""
    return {a: ns.mlp_init([6, 4, 2], rng, activation=a) for a in ("tanh", "sigmoid")}


@ex6_5.test(points=1)
def test_mlp_forward(ns, rng):
    """the logits of 2- and 3-layer nets, relu / tanh / sigmoid (no activation after the last layer)"""
    out = {}
    for activation, sizes in [("relu", (4, 6, 3)), ("tanh", (3, 5, 5, 2)), ("sigmoid", (5, 4, 4))]:
        params = random_net(rng, sizes, activation)
        X, _ = classification_batch(rng, 7, sizes[0], sizes[-1])
        out[f"{activation} {sizes}"] = ns.mlp_forward(params, X, activation=activation)[0]
    return out


def loss_and_grads_run(ns, rng, cases, weight_decay):
    out = {}
    for activation, sizes in cases:
        params = random_net(rng, sizes, activation)
        X, labels = classification_batch(rng, 9, sizes[0], sizes[-1])
        out[f"{activation} {sizes}"] = ns.mlp_loss_and_grads(params, X, labels, activation=activation,
                                                             weight_decay=weight_decay)
    return out


def large_logits_net(rng, sizes, largest=1e3):
    """A relu net whose last layer is scaled so that its largest logit on ``X`` is exactly ``largest``
    (beyond exp's overflow at 709: the softmax must subtract the max)."""
    params = random_net(rng, sizes, "relu")
    X, labels = classification_batch(rng, 9, sizes[0], sizes[-1])
    logits = ref.mlp_forward(params, X, activation="relu")[0]
    sign = 1.0 if logits.max() > 0 else -1.0
    scale = largest / float(np.max(sign * logits))
    W, b = params[-1]
    return params[:-1] + [(sign * scale * W, sign * scale * b)], X, labels


@ex6_5.test(points=2)
def test_mlp_loss_and_grads(ns, rng):
    """loss and every gradient of 1- to 4-layer nets, relu / tanh / sigmoid, no decay; also zero biases
    (mlp_init's) with a zero input row, so that pre-activations are exactly 0 (relu'(0) = 0), and
    logits up to 1e3"""
    cases = [("relu", (4, 6, 3)), ("tanh", (3, 5, 5, 5, 2)), ("sigmoid", (4, 6, 6, 3)), ("relu", (5, 3))]
    out = loss_and_grads_run(ns, rng, cases, 0.0)
    params = ref.mlp_init((4, 6, 5, 3), rng)                  # zero biases
    X, labels = classification_batch(rng, 6, 4, 3)
    X[0] = 0.0                                                # z = 0 in every hidden unit of that row
    out["relu (4, 6, 5, 3), zero biases, a zero row"] = ns.mlp_loss_and_grads(params, X, labels, activation="relu")
    params, X, labels = large_logits_net(rng, (4, 6, 3))
    out["relu (4, 6, 3), largest logit 1e3"] = ns.mlp_loss_and_grads(params, X, labels, activation="relu")
    return out


@ex6_5.test(points=1)
def test_mlp_square_layers(ns, rng):
    """loss and gradients of nets whose every layer is square (5-5-5-5 tanh, 4-4-4 relu)"""
    return loss_and_grads_run(ns, rng, [("tanh", (5, 5, 5, 5)), ("relu", (4, 4, 4))], 0.0)


@ex6_5.test(points=2)
def test_mlp_weight_decay(ns, rng):
    """the same with weight_decay = 0.1 (the penalty λ/2 Σ‖W‖² on the weights only)"""
    return loss_and_grads_run(ns, rng, [("relu", (4, 5, 5, 3)), ("tanh", (3, 4, 2))], 0.1)


@ex6_5.mistake("mlp_init", "He scaling for every activation (tanh and sigmoid use Xavier/Glorot, "
               "std = sqrt(2 / (d_in + d_out)))", anchor="backprop-vanishing")
def mlp_init_he_always(layer_sizes, rng, *, activation="relu"):
    return ref.mlp_init(layer_sizes, rng, activation="relu")


@ex6_5.mistake("mlp_init", "the variance used as the standard deviation (std = 2 / d_in instead of sqrt(2 / d_in))",
               anchor="backprop-vanishing")
def mlp_init_variance_as_std(layer_sizes, rng, *, activation="relu"):
    params = []
    for d_in, d_out in zip(layer_sizes[:-1], layer_sizes[1:]):
        var = 2.0 / d_in if activation == "relu" else 2.0 / (d_in + d_out)
        params.append((rng.normal(0.0, var, size=(d_in, d_out)), np.zeros(d_out)))
    return params


@ex6_5.mistake("mlp_init", "Xavier with the fan-in only (std = sqrt(1 / d_in), LeCun's); the graded Xavier/Glorot "
               "uses sqrt(2 / (d_in + d_out))")
def mlp_init_lecun(layer_sizes, rng, *, activation="relu"):
    params = []
    for d_in, d_out in zip(layer_sizes[:-1], layer_sizes[1:]):
        std = np.sqrt(2.0 / d_in) if activation == "relu" else np.sqrt(1.0 / d_in)
        params.append((rng.normal(0.0, std, size=(d_in, d_out)), np.zeros(d_out)))
    return params


@ex6_5.mistake("mlp_forward", "the activation applied after the last layer too (the logits must be unbounded "
               "scores: no activation on the output)", anchor="backprop-mlp")
def mlp_forward_activated_output(params, X, *, activation="relu"):
    logits, cache = ref.mlp_forward(params, X, activation=activation)
    return PHI[activation](logits), cache


PHI = {"relu": ref.relu, "tanh": np.tanh, "sigmoid": sigmoid}


def _naive_softmax_cross_entropy(logits, labels):
    """The mean cross-entropy and its gradient with exp(z) / Σ exp(z), the max not subtracted."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        e = np.exp(logits)
        p = e / e.sum(axis=1, keepdims=True)
        n = len(labels)
        loss = float(-np.mean(np.log(p[np.arange(n), labels])))
        onehot = np.zeros_like(p)
        onehot[np.arange(n), labels] = 1.0
        return loss, (p - onehot) / n


def _mlp_backward(params, X, labels, *, activation, weight_decay, loss_scale=1.0, decay_biases=False,
                  derivative_at_output=False, transpose=True, activation_derivative=True, decay_factor=1.0,
                  naive_softmax=False, relu_kink_one=False):
    """The reference backward pass with one thing done wrong (selected by the keywords)."""
    phi, phi_backward = PHI[activation], getattr(ref, f"{activation}_backward")
    if relu_kink_one and activation == "relu":
        phi_backward = relu_backward_kink_one
    logits, cache = ref.mlp_forward(params, X, activation=activation)
    if naive_softmax:
        loss, dz = _naive_softmax_cross_entropy(logits, labels)
    else:
        loss, dz = softmax_cross_entropy(logits, labels), softmax_cross_entropy_grad(logits, labels)
    loss *= loss_scale
    loss += 0.5 * weight_decay * sum(float(np.sum(W * W)) + (float(np.sum(b * b)) if decay_biases else 0.0)
                                     for W, b in params)
    dz = loss_scale * dz
    grads = [None] * len(params)
    for l in range(len(params) - 1, -1, -1):
        a_prev, _ = cache[l]
        W, b = params[l]
        da_prev = dz @ W.T if transpose else dz @ W
        grads[l] = (a_prev.T @ dz + decay_factor * weight_decay * W,
                    dz.sum(axis=0) + (weight_decay * b if decay_biases else 0.0))
        if l > 0:
            z_prev = cache[l - 1][1]
            if not activation_derivative:
                dz = da_prev
            else:
                dz = phi_backward(da_prev, phi(z_prev) if derivative_at_output else z_prev)
    return loss, grads


@ex6_5.mistake("mlp_loss_and_grads", "weight decay applied to the biases too (the penalty is on the weights only)",
               anchor="backprop-mlp")
def mlp_decay_biases(params, X, labels, *, activation="relu", weight_decay=0.0):
    return _mlp_backward(params, X, labels, activation=activation, weight_decay=weight_decay, decay_biases=True)


@ex6_5.mistake("mlp_loss_and_grads", "the loss and gradients summed over the batch instead of averaged "
               "(the mean cross-entropy has a 1/n)", anchor="backprop-mlp")
def mlp_not_averaged(params, X, labels, *, activation="relu", weight_decay=0.0):
    return _mlp_backward(params, X, labels, activation=activation, weight_decay=weight_decay, loss_scale=len(labels))


@ex6_5.mistake("mlp_loss_and_grads", "no activation derivative in the hidden layers (the upstream gradient passed "
               "through φ unchanged)", anchor="backprop-activations")
def mlp_no_activation_derivative(params, X, labels, *, activation="relu", weight_decay=0.0):
    return _mlp_backward(params, X, labels, activation=activation, weight_decay=weight_decay,
                         activation_derivative=False)


@ex6_5.mistake("mlp_loss_and_grads", "the activation's derivative evaluated at the wrong place: at the "
               "activation a = φ(z) instead of the pre-activation z", anchor="backprop-activations")
def mlp_derivative_at_output(params, X, labels, *, activation="relu", weight_decay=0.0):
    return _mlp_backward(params, X, labels, activation=activation, weight_decay=weight_decay,
                         derivative_at_output=True)


@ex6_5.mistake("mlp_loss_and_grads", "a forgotten transpose: the gradient passed back as dz W instead of dz Wᵀ",
               anchor="backprop-linear")
def mlp_no_transpose(params, X, labels, *, activation="relu", weight_decay=0.0):
    return _mlp_backward(params, X, labels, activation=activation, weight_decay=weight_decay, transpose=False)


@ex6_5.mistake("mlp_loss_and_grads", "a softmax that does not subtract the largest logit first: exp(z) overflows "
               "for logits above 709 (inf / inf = nan); subtract max(z) in each row, as chapter 1's does",
               anchor="backprop-mlp")
def mlp_naive_softmax(params, X, labels, *, activation="relu", weight_decay=0.0):
    return _mlp_backward(params, X, labels, activation=activation, weight_decay=weight_decay, naive_softmax=True)


@ex6_5.mistake("mlp_loss_and_grads", "ReLU's derivative taken as 1 at z = 0 (mask z >= 0) in the hidden layers: "
               "with mlp_init's zero biases a zero input gives exactly z = 0; the graded convention (PyTorch's) is 0",
               anchor="backprop-activations")
def mlp_relu_kink_one(params, X, labels, *, activation="relu", weight_decay=0.0):
    return _mlp_backward(params, X, labels, activation=activation, weight_decay=weight_decay, relu_kink_one=True)


@ex6_5.mistake("mlp_loss_and_grads", "the gradient of the penalty λ/2 ‖W‖² taken as 2λW (it is λW)",
               anchor="backprop-mlp")
def mlp_decay_twice(params, X, labels, *, activation="relu", weight_decay=0.0):
    return _mlp_backward(params, X, labels, activation=activation, weight_decay=weight_decay, decay_factor=2.0)


# ==================================================================== ex6_6 sigmoid_net_grads

def article_data():
    """Source article 001's five points with a column of ones (θ1 needs two rows): X (5, 2), y = 2x."""
    x = np.arange(1.0, 6.0)
    return np.c_[np.ones(5), x], 2.0 * x


@ex6_6.test(points=2)
def test_sigmoid_net_article_data(ns, rng):
    """article 001's data, targets y = 2x (n,) and scaled y/12 (n, 1), at three random (θ1, θ2)"""
    X, y = article_data()
    out = {}
    for k in range(3):
        theta1, theta2 = 0.3 * rng.normal(size=(2, 1)), rng.normal(size=(1, 1))
        out[f"y = 2x, point {k}"] = ns.sigmoid_net_grads(X, y, theta1, theta2)
        out[f"y = 2x / 12 as (n, 1), point {k}"] = ns.sigmoid_net_grads(X, (y / 12).reshape(-1, 1), theta1, theta2)
    return out


@ex6_6.test(points=2)
def test_sigmoid_net_random(ns, rng):
    """random X (n, d) with n = 7, 12 and d = 3, 1, targets in (0, 1)"""
    out = {}
    for n, d in [(7, 3), (12, 1)]:
        X, y = rng.normal(size=(n, d)), rng.uniform(0.05, 0.95, size=n)
        out[f"n = {n}, d = {d}"] = ns.sigmoid_net_grads(X, y, rng.normal(size=(d, 1)), rng.normal(size=(1, 1)))
    return out


def _sigmoid_net_parts(X, y, theta1, theta2):
    y = np.asarray(y, dtype=float).reshape(-1, 1)
    z = X @ theta1
    return y, z, sigmoid(z @ theta2)


@ex6_6.mistake("sigmoid_net_grads", "source article 001's backward pass as written: d_theta2 = y_pred - y and "
               "d_theta1 = Xᵀ(z ⊙ d_theta2)/n (no σ', no z in d_theta2, no θ2 in d_theta1, no 1/n, and "
               "d_theta2 an array of one entry per sample)", anchor="backprop-article")
def article_001_backward(X, y, theta1, theta2):
    z = X @ theta1
    y_hat = sigmoid(z * theta2)
    d_theta2 = y_hat - y
    return X.T @ (z * d_theta2) / len(y), d_theta2


@ex6_6.mistake("sigmoid_net_grads", "source article 001's backward pass with d_theta2 summed to θ2's shape: "
               "no σ', no z in d_theta2, no θ2 in d_theta1, no 1/n in d_theta2", anchor="backprop-article")
def article_001_backward_summed(X, y, theta1, theta2):
    y, z, y_hat = _sigmoid_net_parts(X, y, theta1, theta2)
    r = y_hat - y
    return X.T @ (z * r) / len(y), r.sum(keepdims=True)


@ex6_6.mistake("sigmoid_net_grads", "no sigmoid derivative: δ = (ŷ - y)/n without ŷ(1 - ŷ)", anchor="backprop-article")
def sigmoid_net_no_derivative(X, y, theta1, theta2):
    y, z, y_hat = _sigmoid_net_parts(X, y, theta1, theta2)
    delta = (y_hat - y) / len(y)
    return X.T @ (delta @ theta2.T), z.T @ delta


@ex6_6.mistake("sigmoid_net_grads", "the factor z missing from ∂J/∂θ2 (Σδ instead of zᵀδ)", anchor="backprop-article")
def sigmoid_net_no_z(X, y, theta1, theta2):
    d1, _ = ref.sigmoid_net_grads(X, y, theta1, theta2)
    y, z, y_hat = _sigmoid_net_parts(X, y, theta1, theta2)
    return d1, ((y_hat - y) * y_hat * (1 - y_hat) / len(y)).sum(keepdims=True)


@ex6_6.mistake("sigmoid_net_grads", "the weight θ2 missing from ∂J/∂θ1 (Xᵀδ instead of Xᵀ(δθ2ᵀ))",
               anchor="backprop-article")
def sigmoid_net_no_theta2(X, y, theta1, theta2):
    _, d2 = ref.sigmoid_net_grads(X, y, theta1, theta2)
    y, z, y_hat = _sigmoid_net_parts(X, y, theta1, theta2)
    return X.T @ ((y_hat - y) * y_hat * (1 - y_hat) / len(y)), d2


@ex6_6.mistake("sigmoid_net_grads", "the gradients not averaged over the samples (the 1/n of J = Σ(ŷ - y)²/(2n) "
               "missing)", anchor="backprop-article")
def sigmoid_net_not_averaged(X, y, theta1, theta2):
    d1, d2 = ref.sigmoid_net_grads(X, y, theta1, theta2)
    return d1 * len(X), d2 * len(X)


@ex6_6.mistake("sigmoid_net_grads", "the sigmoid's derivative evaluated at the wrong place: σ'(z) at the hidden "
               "z = Xθ1 instead of at zθ2", anchor="backprop-activations")
def sigmoid_net_derivative_at_z(X, y, theta1, theta2):
    y, z, y_hat = _sigmoid_net_parts(X, y, theta1, theta2)
    s = sigmoid(z)
    delta = (y_hat - y) * s * (1 - s) / len(y)
    return X.T @ (delta @ theta2.T), z.T @ delta


# ==================================================================== ex6_7 linear_backward_flops (question)

ex6_7 = Question("ex6_7", ref.linear_backward_flops_answer, anchor="backprop-cost")
test_linear_backward_flops = ex6_7.graded(points=1)


def _layer_size():
    s = ref.BACKWARD_FLOPS_SETTING
    return s["n"] * s["d_in"] * s["d_out"]


@ex6_7.mistake("linear_backward_flops_answer", "the cost of one product: the backward pass needs two, "
               "x̄ = z̄Wᵀ and W̄ = xᵀz̄, each as large as the forward product")
def flops_one_product():
    return 2 * _layer_size()


@ex6_7.mistake("linear_backward_flops_answer", "the multiplications only: each also has an addition, "
               "2 n d_in d_out operations per product")
def flops_multiplications_only():
    return 2 * _layer_size() // 2


@ex6_7.mistake("linear_backward_flops_answer", "three products: the bias's gradient is a sum over the batch "
               "(n d_out additions), not a matrix product")
def flops_three_products():
    return 3 * 2 * _layer_size()


# ==================================================================== ex6_8 mlp_parameter_count (question)

ex6_8 = Question("ex6_8", ref.mlp_parameter_count_answer, anchor="backprop-mlp")
test_mlp_parameter_count = ex6_8.graded(points=1)


def _layers():
    sizes = ref.PARAMETER_COUNT_LAYERS
    return list(zip(sizes[:-1], sizes[1:]))


@ex6_8.mistake("mlp_parameter_count_answer", "the weights only: every layer also has one bias per output unit")
def count_weights_only():
    return sum(d_in * d_out for d_in, d_out in _layers())


@ex6_8.mistake("mlp_parameter_count_answer", "the number of units, not of parameters: each layer holds a "
               "d_in × d_out weight matrix and d_out biases")
def count_units():
    return sum(ref.PARAMETER_COUNT_LAYERS)


@ex6_8.mistake("mlp_parameter_count_answer", "a bias for the input layer too: the inputs are data, only the "
               "layers that compute z = aW + b have biases")
def count_input_biases():
    return sum(d_in * d_out + d_out for d_in, d_out in _layers()) + ref.PARAMETER_COUNT_LAYERS[0]
