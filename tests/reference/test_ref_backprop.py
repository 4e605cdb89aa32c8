"""The reference of chapter 6 (solutions/backprop.py) against independent references.

Every layer, every activation, the whole MLP gradient and source article 001's model
against ``torch.autograd`` in float64 (to ~1e-10) and against central differences
(scipy's ``approx_fprime`` where it applies); the graph exercise against adjoints derived
by hand on graphs with shared nodes, and against torch on random graphs.
"""
import numpy as np
import pytest
from scipy.optimize import approx_fprime

from solutions import backprop as bp
from solutions.losses import sigmoid

torch = pytest.importorskip("torch")

T = lambda a: torch.tensor(np.asarray(a, dtype=float), dtype=torch.float64, requires_grad=True)  # noqa: E731


def assert_close(ours, theirs, rtol=1e-10, atol=1e-12):
    np.testing.assert_allclose(ours, theirs.detach().numpy() if torch.is_tensor(theirs) else theirs,
                               rtol=rtol, atol=atol)


# --- ex6_1: graphs ----------------------------------------------------------------------------

DIAMOND = [("input", ()), ("sin", (0,)), ("exp", (0,)), ("mul", (1, 2))]       # y = sin x · e^x


def test_diamond_by_hand():
    x = 0.7
    adj = bp.graph_adjoints(DIAMOND, bp.graph_forward(DIAMOND, [x]))
    # two paths from x to y: through sin and through exp
    np.testing.assert_allclose(adj, [np.cos(x) * np.exp(x) + np.sin(x) * np.exp(x), np.exp(x), np.sin(x), 1.0])


def test_node_used_twice_by_one_op_and_a_chain():
    nodes = [("input", ()), ("input", ()), ("mul", (0, 0)), ("mul", (2, 1)), ("add", (3, 2)), ("tanh", (4,))]
    x, w = 0.3, -1.2          # y = tanh(x² w + x²)
    adj = bp.graph_adjoints(nodes, bp.graph_forward(nodes, [x, w]))
    u = x * x * w + x * x
    dy_du = 1 - np.tanh(u) ** 2
    np.testing.assert_allclose(adj, [dy_du * (2 * x * w + 2 * x), dy_du * x * x, dy_du * (w + 1), dy_du, dy_du, 1.0])


def test_unused_node_has_zero_adjoint():
    nodes = [("input", ()), ("input", ()), ("exp", (1,)), ("sin", (0,))]
    assert bp.graph_adjoints(nodes, bp.graph_forward(nodes, [0.2, 5.0]))[1:3].tolist() == [0.0, 0.0]


def random_graph(rng, n_inputs=3, n_ops=12):
    nodes = [("input", ())] * n_inputs
    for _ in range(n_ops):
        op = str(rng.choice(["add", "mul", "exp", "sin", "tanh"]))
        k = len(nodes)
        pick = lambda: int(rng.integers(max(0, k - 4), k))  # noqa: E731 - recent nodes: deep, shared
        parents = (pick(), pick()) if op in ("add", "mul") else (pick(),)
        if op == "exp":
            nodes.append(("tanh", parents))          # keep the values bounded before an exp
            parents = (len(nodes) - 1,)
        nodes.append((op, parents))
    return nodes


@pytest.mark.parametrize("seed", range(20))
def test_random_graphs_against_torch(seed):
    rng = np.random.default_rng(seed)
    nodes = random_graph(rng)
    inputs = rng.uniform(-1, 1, size=3)
    values = bp.graph_forward(nodes, inputs)
    tv = []
    leaves = [T(v) for v in inputs]
    it = iter(leaves)
    for op, parents in nodes:
        p = [tv[j] for j in parents]
        v = {"input": lambda: next(it), "add": lambda: p[0] + p[1], "mul": lambda: p[0] * p[1],
             "exp": lambda: torch.exp(p[0]), "sin": lambda: torch.sin(p[0]), "tanh": lambda: torch.tanh(p[0])}[op]()
        v.retain_grad()
        tv.append(v)
    tv[-1].backward()
    assert_close(values, np.array([v.item() for v in tv]))
    adj = bp.graph_adjoints(nodes, values)
    theirs = np.array([0.0 if v.grad is None else v.grad.item() for v in tv])
    np.testing.assert_allclose(adj, theirs, rtol=1e-10, atol=1e-12)


# --- ex6_2: gradient checking -----------------------------------------------------------------

def test_numerical_gradient_against_scipy_and_the_exact_gradient():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(3, 4))
    f = lambda x: float(np.sum(np.sin(A * x)) + np.sum(x ** 3))  # noqa: E731
    x = rng.normal(size=(3, 4))
    x0 = x.copy()
    g = bp.numerical_gradient(f, x)
    assert np.array_equal(x, x0)
    exact = A * np.cos(A * x) + 3 * x ** 2
    np.testing.assert_allclose(g, exact, rtol=1e-8, atol=1e-9)
    flat = approx_fprime(x.ravel(), lambda v: f(v.reshape(3, 4)), 1e-7)      # one-sided, scipy's
    np.testing.assert_allclose(g.ravel(), flat, rtol=1e-5, atol=1e-5)


def test_central_differences_error_is_order_h_squared():
    f, x = (lambda v: float(np.exp(v[0]))), np.array([0.3])
    errors = [abs(bp.numerical_gradient(f, x, h)[0] - np.exp(0.3)) for h in (1e-2, 1e-3)]
    assert 80 < errors[0] / errors[1] < 120          # h/10 -> error/100


def test_relative_error_is_cs231n_s():
    a, b = np.array([1.0, -2.0, 0.0, 1e-9]), np.array([1.1, -2.0, 0.0, 3e-9])
    ratios = np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))
    assert bp.relative_error(a, b) == pytest.approx(ratios.max())
    assert bp.relative_error(a, a) == 0.0


# --- ex6_3, ex6_4: layers and activations ----------------------------------------------------

@pytest.mark.parametrize("seed", range(5))
def test_linear_layer_against_torch(seed):
    rng = np.random.default_rng(seed)
    x, W, b, G = rng.normal(size=(7, 4)), rng.normal(size=(4, 3)), rng.normal(size=3), rng.normal(size=(7, 3))
    tx, tW, tb = T(x), T(W), T(b)
    out = tx @ tW + tb
    assert_close(bp.linear_forward(x, W, b), out)
    (out * torch.as_tensor(G)).sum().backward()
    dx, dW, db = bp.linear_backward(G, x, W)
    assert_close(dx, tx.grad), assert_close(dW, tW.grad), assert_close(db, tb.grad)


@pytest.mark.parametrize("name,torch_fn", [("relu", torch.relu), ("sigmoid", torch.sigmoid), ("tanh", torch.tanh)])
def test_activations_against_torch(name, torch_fn):
    rng = np.random.default_rng(1)
    z = np.concatenate([rng.normal(size=20) * 3, [0.0, -0.0, 40.0, -40.0]])
    G = rng.normal(size=z.shape)
    tz = T(z)
    (torch_fn(tz) * torch.as_tensor(G)).sum().backward()      # torch: relu'(0) = 0
    assert_close(getattr(bp, f"{name}_backward")(G, z), tz.grad)


def test_activations_against_finite_differences():
    rng = np.random.default_rng(2)
    z = rng.normal(size=(3, 4)) + 0.05      # no kink within h of z
    G = rng.normal(size=z.shape)
    for name, phi in [("relu", bp.relu), ("sigmoid", sigmoid), ("tanh", np.tanh)]:
        numeric = bp.numerical_gradient(lambda v: float(np.sum(G * phi(v))), z)
        assert bp.relative_error(getattr(bp, f"{name}_backward")(G, z), numeric) < 1e-7


# --- ex6_5: the MLP ---------------------------------------------------------------------------

def torch_mlp_loss_and_grads(params, X, labels, activation, weight_decay):
    tp = [(T(W), T(b)) for W, b in params]
    a = torch.as_tensor(X)
    phi = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid}[activation]
    for l, (W, b) in enumerate(tp):
        a = a @ W + b
        if l < len(tp) - 1:
            a = phi(a)
    loss = torch.nn.functional.cross_entropy(a, torch.as_tensor(labels))
    loss = loss + 0.5 * weight_decay * sum((W ** 2).sum() for W, _ in tp)
    loss.backward()
    return loss.item(), [(W.grad.numpy(), b.grad.numpy()) for W, b in tp]


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
@pytest.mark.parametrize("sizes,weight_decay", [((5, 8, 3), 0.0), ((4, 6, 6, 6, 5), 0.3), ((3, 2), 0.1)])
def test_mlp_against_torch(activation, sizes, weight_decay):
    rng = np.random.default_rng(len(sizes))
    params = bp.mlp_init(sizes, rng, activation=activation)
    params = [(W, rng.normal(size=b.shape) * 0.1) for W, b in params]       # non-zero biases too
    X, labels = rng.normal(size=(11, sizes[0])), rng.integers(0, sizes[-1], size=11)
    loss, grads = bp.mlp_loss_and_grads(params, X, labels, activation=activation, weight_decay=weight_decay)
    t_loss, t_grads = torch_mlp_loss_and_grads(params, X, labels, activation, weight_decay)
    assert loss == pytest.approx(t_loss, rel=1e-12)
    for (dW, db), (tW, tb) in zip(grads, t_grads):
        assert_close(dW, tW), assert_close(db, tb)


def test_mlp_gradient_against_finite_differences():
    rng = np.random.default_rng(3)
    params = bp.mlp_init((4, 5, 3), rng, activation="tanh")
    X, labels = rng.normal(size=(6, 4)), rng.integers(0, 3, size=6)
    _, grads = bp.mlp_loss_and_grads(params, X, labels, activation="tanh", weight_decay=0.2)
    for l in range(2):
        for k in range(2):
            def f(v, l=l, k=k):
                p = [list(layer) for layer in params]
                p[l][k] = v
                return bp.mlp_loss_and_grads([tuple(q) for q in p], X, labels, activation="tanh", weight_decay=0.2)[0]
            assert bp.relative_error(grads[l][k], bp.numerical_gradient(f, params[l][k])) < 1e-7


@pytest.mark.parametrize("activation,std", [("relu", lambda i, o: np.sqrt(2 / i)),
                                            ("tanh", lambda i, o: np.sqrt(2 / (i + o))),
                                            ("sigmoid", lambda i, o: np.sqrt(2 / (i + o)))])
def test_mlp_init_scales_against_torch_init(activation, std):
    params = bp.mlp_init((400, 300, 200), np.random.default_rng(0), activation=activation)
    for W, b in params:
        tW = torch.empty(W.shape[1], W.shape[0], dtype=torch.float64)     # torch stores (out, in)
        gen = torch.Generator().manual_seed(0)
        if activation == "relu":
            torch.nn.init.kaiming_normal_(tW, nonlinearity="relu", generator=gen)
        else:
            torch.nn.init.xavier_normal_(tW, generator=gen)
        assert W.std() == pytest.approx(tW.std().item(), rel=0.03)
        assert W.std() == pytest.approx(std(*W.shape), rel=0.02)
        assert not b.any()


def test_mlp_forward_cache_and_no_output_activation():
    rng = np.random.default_rng(4)
    params = bp.mlp_init((3, 4, 2), rng)
    X = rng.normal(size=(5, 3))
    logits, cache = bp.mlp_forward(params, X)
    (W1, b1), (W2, b2) = params
    np.testing.assert_allclose(logits, np.maximum(X @ W1 + b1, 0) @ W2 + b2)
    assert len(cache) == 2


# --- ex6_6: source article 001's model --------------------------------------------------------

@pytest.mark.parametrize("y_shape", [(5,), (5, 1)])
def test_sigmoid_net_against_torch(y_shape):
    rng = np.random.default_rng(5)
    X = np.c_[np.ones(5), np.arange(1.0, 6.0)]
    y = (2 * np.arange(1.0, 6.0) / 12).reshape(y_shape)
    theta1, theta2 = rng.normal(size=(2, 1)) * 0.3, rng.normal(size=(1, 1))
    t1, t2 = T(theta1), T(theta2)
    y_hat = torch.sigmoid(torch.as_tensor(X) @ t1 @ t2)
    J = ((y_hat - torch.as_tensor(y).reshape(-1, 1)) ** 2).sum() / (2 * 5)
    J.backward()
    assert bp.sigmoid_net_loss(X, y, theta1, theta2) == pytest.approx(J.item(), rel=1e-12)
    d1, d2 = bp.sigmoid_net_grads(X, y, theta1, theta2)
    assert d1.shape == (2, 1) and d2.shape == (1, 1)
    assert_close(d1, t1.grad), assert_close(d2, t2.grad)


def test_sigmoid_net_against_finite_differences():
    rng = np.random.default_rng(6)
    X, y = rng.normal(size=(8, 3)), rng.uniform(size=8)
    theta1, theta2 = rng.normal(size=(3, 1)), rng.normal(size=(1, 1))
    d1, d2 = bp.sigmoid_net_grads(X, y, theta1, theta2)
    assert bp.relative_error(d1, bp.numerical_gradient(lambda t: bp.sigmoid_net_loss(X, y, t, theta2), theta1)) < 1e-7
    assert bp.relative_error(d2, bp.numerical_gradient(lambda t: bp.sigmoid_net_loss(X, y, theta1, t), theta2)) < 1e-7


# --- training ---------------------------------------------------------------------------------

def test_train_mlp_matches_torch_adam_step_for_step():
    rng = np.random.default_rng(7)
    params = bp.mlp_init((4, 6, 3), rng)
    X, labels = rng.normal(size=(20, 4)), rng.integers(0, 3, size=20)
    ours, _ = bp.train_mlp(params, X, labels, epochs=3, batch_size=20, lr=0.01, rng=np.random.default_rng(0))
    tp = [T(a) for layer in params for a in layer]
    opt = torch.optim.Adam(tp, lr=0.01)
    for _ in range(3):
        opt.zero_grad()
        a = torch.as_tensor(X)
        for l in range(2):
            a = a @ tp[2 * l] + tp[2 * l + 1]
            a = torch.relu(a) if l == 0 else a
        torch.nn.functional.cross_entropy(a, torch.as_tensor(labels)).backward()
        opt.step()
    for ours_a, theirs in zip([a for layer in ours for a in layer], tp):
        assert_close(ours_a, theirs, rtol=1e-9, atol=1e-12)


def test_train_mlp_trains_with_the_loss_and_grads_it_is_given():
    """The lesson passes the student's ``mlp_loss_and_grads``: train_mlp must use that one,
    once per mini-batch, and a correct one (here torch's) trains to the reference's weights."""
    rng = np.random.default_rng(5)
    params = bp.mlp_init((4, 6, 3), rng, activation="tanh")
    X, labels = rng.normal(size=(30, 4)), rng.integers(0, 3, size=30)
    calls = []

    def torch_loss_and_grads(params, X, labels, *, activation, weight_decay):
        calls.append(len(labels))
        return torch_mlp_loss_and_grads(params, X, labels, activation, weight_decay)

    settings = dict(epochs=2, batch_size=8, lr=0.01, activation="tanh", weight_decay=0.1)
    ours, history = bp.train_mlp(params, X, labels, rng=np.random.default_rng(1), **settings)
    theirs, _ = bp.train_mlp(params, X, labels, rng=np.random.default_rng(1), loss_and_grads=torch_loss_and_grads,
                             **settings)
    assert calls == [8, 8, 8, 6] * 2                  # every mini-batch of both epochs, through the given function
    for (W, b), (tW, tb) in zip(ours, theirs):
        assert_close(W, tW, rtol=1e-9), assert_close(b, tb, rtol=1e-9)
    assert not np.allclose(ours[0][0], params[0][0])  # it did train
