"""Graded tests of chapter 4 (momentum and Nesterov): ex4_1 and ex4_2.

Every scenario calls the student's functions through ``ns`` and returns plain data that
the grader compares with the reference's (solutions/momentum.py), iterate by iterate
and state by state. The graded convention is torch.optim.SGD's: the first velocity is
the gradient itself, ``v_1 = g_1``, whatever the dampening.

The mistakes below are deliberately wrong implementations; when a submission's output
equals one of them, the feedback names the mistake and links the section of
lessons/04_momentum.ipynb that explains it.
"""
import numpy as np

from autograder.framework import Exercise, Question
from autograder.tests.problems import random_spd, trajectory
from solutions import momentum as ref
from solutions.common import design_matrix, seed_data_000
from solutions.gradient_descent import linreg_grad

ex4_1 = Exercise("ex4_1", ref.momentum_init, ref.momentum_update, anchor="momentum")
ex4_2 = Exercise("ex4_2", ref.nesterov_init, ref.nesterov_update, anchor="momentum-nesterov")

MomentumState = ref.MomentumState


# --- shared inputs ---------------------------------------------------------------------------------

def quadratic_problems(rng):
    """Gradients of random ill-conditioned quadratics, for a vector and a matrix parameter.

    vector: f(p) = 0.5 p^T A p - b^T p, p of shape (5,);
    matrix: f(W) = 0.5 tr(W^T A W) - <B, W>, W of shape (3, 2) (one quadratic per column).
    """
    A5, b5 = random_spd(rng, 5, kappa=100.0), rng.normal(size=5)
    A3, B = random_spd(rng, 3, kappa=30.0), rng.normal(size=(3, 2))
    return {"vector (5,)": (lambda p: A5 @ p - b5, rng.normal(size=5)),
            "matrix (3, 2)": (lambda W: A3 @ W - B, rng.normal(size=(3, 2)))}


def rule_trajectory(ns, rule, grad_fn, params, steps, **hyper):
    """:func:`~autograder.tests.problems.trajectory` of the subject's ``<rule>_init`` / ``<rule>_update``."""
    return trajectory(getattr(ns, f"{rule}_init"), getattr(ns, f"{rule}_update"), params, grad_fn, steps, **hyper)


def quadratic_trajectories(ns, rule, rng, settings, steps=60):
    """Trajectories on both problems of :func:`quadratic_problems`, for each hyperparameter dict."""
    out = {}
    for label, (grad_fn, x0) in quadratic_problems(rng).items():
        for hyper in settings:
            name = ", ".join(f"{k}={v}" for k, v in hyper.items())
            out[f"{label}, {name}"] = rule_trajectory(ns, rule, grad_fn, x0, steps, **hyper)
    return out


def seed_000_trajectory(ns, rule, **hyper):
    """100 steps from 0 on source article 000's six points y = x + 1, params = (b, w), MSE gradient."""
    x, y = seed_data_000()
    X = design_matrix(x)
    out = rule_trajectory(ns, rule, lambda p: linreg_grad(p, X, y), np.zeros(2), 100, **hyper)
    return {k: out[k] for k in ("step 1", "step 2", "step 10", "step 100")}


def initial_states(init, rng):
    """``init`` (the subject's) on random params of several shapes."""
    return {f"shape {s}": init(rng.normal(size=s)) for s in [(1,), (4,), (2, 3)]}


# ================================================================================ ex4_1 heavy ball

@ex4_1.test(points=1)
def test_momentum_init(ns, rng):
    """the initial state: t = 0 and a zero velocity of the shape of params"""
    return initial_states(ns.momentum_init, rng)


@ex4_1.test(points=1)
def test_momentum_first_step(ns, rng):
    """one step from random points: v_1 = g_1 whatever the dampening (torch's convention)"""
    out = {}
    for label, scale, dampening in [("dampening 0", 1.0, 0.0), ("dampening 0.5", 1.0, 0.5),
                                    ("huge gradients", 1e8, 0.0), ("tiny gradients", 1e-8, 0.3)]:
        params, grads = rng.normal(size=4), scale * rng.normal(size=4)
        state = ns.momentum_init(params)
        out[label] = ns.momentum_update(params, grads, state, lr=0.1, beta=0.9, dampening=dampening)
    return out


@ex4_1.test(points=1)
def test_momentum_two_steps_by_hand(ns, rng):
    """two steps from 0 with g = (1, -2), lr = 0.1 and the default beta: v_2 = 1.9 g, theta_2 = -0.29 g"""
    g = np.array([1.0, -2.0])
    state = ns.momentum_init(np.zeros(2))
    p1, state1 = ns.momentum_update(np.zeros(2), g, state, lr=0.1)
    p2, state2 = ns.momentum_update(p1, g, state1, lr=0.1)
    return {"step 1": (p1, state1), "step 2": (p2, state2)}


@ex4_1.test(points=3, rtol=1e-6, atol=1e-10)
def test_momentum_trajectory(ns, rng):
    """60 steps on random ill-conditioned quadratics, vector and matrix params, two (lr, beta)"""
    return quadratic_trajectories(ns, "momentum", rng, [dict(lr=0.5, beta=0.9), dict(lr=1.0, beta=0.5)])


@ex4_1.test(points=2, rtol=1e-6, atol=1e-10)
def test_momentum_dampening_trajectory(ns, rng):
    """30 steps with dampening 0.5, and with dampening = beta = 0.9 (not the EMA form from v = 0)"""
    grad_fn, x0 = quadratic_problems(rng)["vector (5,)"]
    return {f"dampening {d}": rule_trajectory(ns, "momentum", grad_fn, x0, 30, lr=0.3, beta=0.9, dampening=d)
            for d in (0.5, 0.9)}


@ex4_1.test(points=1, rtol=1e-6, atol=1e-10)
def test_momentum_on_seed_000_regression(ns, rng):
    """100 steps on article 000's line y = x + 1 with params = (b, w): both get momentum"""
    return seed_000_trajectory(ns, "momentum", lr=0.01, beta=0.9)


# --- known mistakes of ex4_1 ---------------------------------------------------------------------

@ex4_1.mistake("momentum_update",
               "the sources' EMA form v = beta v + (1 - beta) g from v = 0 (that is heavy ball with the "
               "learning rate lr (1 - beta), not torch's momentum, whose first velocity is g)",
               anchor="momentum-ema")
def momentum_update_ema(params, grads, state, *, lr, beta=0.9, dampening=0.0):
    return ref.ema_momentum_update(params, grads, state, lr=lr, beta=beta)


@ex4_1.mistake("momentum_update", "dampening ignored (v = beta v + g even when dampening > 0)",
               anchor="momentum-dampening")
def momentum_update_no_dampening(params, grads, state, *, lr, beta=0.9, dampening=0.0):
    return ref.momentum_update(params, grads, state, lr=lr, beta=beta, dampening=0.0)


@ex4_1.mistake("momentum_update",
               "torch's first step missing: v_1 = (1 - dampening) g_1 instead of v_1 = g_1",
               anchor="momentum-dampening")
def momentum_update_no_first_step(params, grads, state, *, lr, beta=0.9, dampening=0.0):
    v = beta * state.v + (1.0 - dampening) * np.asarray(grads, dtype=float)
    return np.asarray(params, dtype=float) - lr * v, MomentumState(state.t + 1, v)


@ex4_1.mistake("momentum_update",
               "the velocity is not carried over: the state is returned unchanged, so every step is "
               "a plain gradient step")
def momentum_update_state_unchanged(params, grads, state, *, lr, beta=0.9, dampening=0.0):
    new_params, _ = ref.momentum_update(params, grads, state, lr=lr, beta=beta, dampening=dampening)
    return new_params, state


@ex4_1.mistake("momentum_update",
               "the step counter t is never incremented, so every step is treated as the first (v = g)")
def momentum_update_t_stuck(params, grads, state, *, lr, beta=0.9, dampening=0.0):
    new_params, new_state = ref.momentum_update(params, grads, state, lr=lr, beta=beta, dampening=dampening)
    return new_params, MomentumState(state.t, new_state.v)


@ex4_1.mistake("momentum_update", "sign error: params + lr v (the step goes uphill)")
def momentum_update_sign(params, grads, state, *, lr, beta=0.9, dampening=0.0):
    new_params, new_state = ref.momentum_update(params, grads, state, lr=lr, beta=beta, dampening=dampening)
    return 2 * np.asarray(params, dtype=float) - new_params, new_state


@ex4_1.mistake("momentum_update",
               "momentum applied to the first parameter only, the others take plain gradient steps "
               "(article 000's bug: momentum on w but not on b)",
               anchor="momentum-seed-000")
def momentum_update_first_only(params, grads, state, *, lr, beta=0.9, dampening=0.0):
    params, grads = np.asarray(params, dtype=float), np.asarray(grads, dtype=float)
    _, full = ref.momentum_update(params, grads, state, lr=lr, beta=beta, dampening=dampening)
    v = np.zeros_like(params)
    v.flat[0] = full.v.flat[0]
    step = grads.copy()
    step.flat[0] = v.flat[0]
    return params - lr * step, MomentumState(state.t + 1, v)


@ex4_1.mistake("momentum_update",
               "the velocity stored in the CS231n / Keras / scikit-learn convention v = beta v - lr g, "
               "params + v: the iterates are the same, but the graded state is torch's buffer "
               "v = beta v + g (params - lr v), and the stored v is -lr times torch's", anchor="momentum")
def momentum_update_cs231n_velocity(params, grads, state, *, lr, beta=0.9, dampening=0.0):
    grads = np.asarray(grads, dtype=float)
    v = -lr * grads if state.t == 0 else beta * state.v - lr * (1.0 - dampening) * grads
    return np.asarray(params, dtype=float) + v, MomentumState(state.t + 1, v)


@ex4_1.mistake("momentum_init", "t = 1 in the initial state: t counts the steps taken (0 before the first "
               "update), and torch's first step v = g is taken when t = 0", anchor="momentum-dampening")
def momentum_init_t_one(params):
    return ref.MomentumState(1, np.zeros(np.shape(params)))


# ================================================================================ ex4_2 Nesterov

@ex4_2.test(points=1)
def test_nesterov_init(ns, rng):
    """the initial state: t = 0 and a zero velocity of the shape of params"""
    return initial_states(ns.nesterov_init, rng)


@ex4_2.test(points=1)
def test_nesterov_first_step(ns, rng):
    """one step from random points: v_1 = g_1 and the step is lr (1 + beta) g_1"""
    out = {}
    for label, scale, beta in [("beta 0.9", 1.0, 0.9), ("beta 0.5", 1.0, 0.5), ("huge gradients", 1e8, 0.9)]:
        params, grads = rng.normal(size=4), scale * rng.normal(size=4)
        state = ns.nesterov_init(params)
        out[label] = ns.nesterov_update(params, grads, state, lr=0.1, beta=beta)
    return out


@ex4_2.test(points=1)
def test_nesterov_three_steps_by_hand(ns, rng):
    """three steps from 0 with g = (1, -2), lr = 0.1 and the default beta (step 2 moves by 0.1 (1 + 0.9 * 1.9) g)"""
    g = np.array([1.0, -2.0])
    params, state = np.zeros(2), ns.nesterov_init(np.zeros(2))
    out = {}
    for k in (1, 2, 3):
        params, state = ns.nesterov_update(params, g, state, lr=0.1)
        out[f"step {k}"] = (params, state)
    return out


@ex4_2.test(points=3, rtol=1e-6, atol=1e-10)
def test_nesterov_trajectory(ns, rng):
    """60 steps on random ill-conditioned quadratics, vector and matrix params, two (lr, beta)"""
    return quadratic_trajectories(ns, "nesterov", rng, [dict(lr=0.5, beta=0.9), dict(lr=0.8, beta=0.5)])


@ex4_2.test(points=1, rtol=1e-6, atol=1e-10)
def test_nesterov_on_seed_000_regression(ns, rng):
    """100 steps on article 000's line y = x + 1 with params = (b, w)"""
    return seed_000_trajectory(ns, "nesterov", lr=0.01, beta=0.9)


# --- known mistakes of ex4_2 ---------------------------------------------------------------------

@ex4_2.mistake("nesterov_update",
               "Nesterov implemented as plain heavy ball: the step is v_t = beta v_(t-1) + g_t (the same as "
               "g_t + beta v_(t-1), the look-ahead with the old velocity) instead of g_t + beta v_t")
def nesterov_update_heavy_ball(params, grads, state, *, lr, beta=0.9):
    return ref.momentum_update(params, grads, state, lr=lr, beta=beta)


@ex4_2.mistake("nesterov_update", "look-ahead without beta: the step is g_t + v_t instead of g_t + beta v_t")
def nesterov_update_no_beta(params, grads, state, *, lr, beta=0.9):
    grads = np.asarray(grads, dtype=float)
    _, new_state = ref.nesterov_update(params, grads, state, lr=lr, beta=beta)
    return np.asarray(params, dtype=float) - lr * (grads + new_state.v), new_state


@ex4_2.mistake("nesterov_update", "beta on the wrong term: the step is v_t + beta g_t instead of g_t + beta v_t")
def nesterov_update_beta_on_grad(params, grads, state, *, lr, beta=0.9):
    grads = np.asarray(grads, dtype=float)
    _, new_state = ref.nesterov_update(params, grads, state, lr=lr, beta=beta)
    return np.asarray(params, dtype=float) - lr * (new_state.v + beta * grads), new_state


@ex4_2.mistake("nesterov_update",
               "the velocity is the sources' EMA v = beta v + (1 - beta) g from v = 0 instead of torch's "
               "v_1 = g_1, v_t = beta v_(t-1) + g_t",
               anchor="momentum-ema")
def nesterov_update_ema(params, grads, state, *, lr, beta=0.9):
    grads = np.asarray(grads, dtype=float)
    v = beta * state.v + (1.0 - beta) * grads
    return np.asarray(params, dtype=float) - lr * (grads + beta * v), MomentumState(state.t + 1, v)


@ex4_2.mistake("nesterov_update", "sign error: params + lr (g + beta v) (the step goes uphill)")
def nesterov_update_sign(params, grads, state, *, lr, beta=0.9):
    new_params, new_state = ref.nesterov_update(params, grads, state, lr=lr, beta=beta)
    return 2 * np.asarray(params, dtype=float) - new_params, new_state


@ex4_2.mistake("nesterov_update",
               "the velocity is not carried over: the state is returned unchanged, so every step is "
               "lr (1 + beta) g")
def nesterov_update_state_unchanged(params, grads, state, *, lr, beta=0.9):
    new_params, _ = ref.nesterov_update(params, grads, state, lr=lr, beta=beta)
    return new_params, state


@ex4_2.mistake("nesterov_update",
               "momentum applied to the first parameter only, the others take plain gradient steps "
               "(article 000's bug: momentum on w but not on b)",
               anchor="momentum-seed-000")
def nesterov_update_first_only(params, grads, state, *, lr, beta=0.9):
    params, grads = np.asarray(params, dtype=float), np.asarray(grads, dtype=float)
    full_params, full = ref.nesterov_update(params, grads, state, lr=lr, beta=beta)
    v = np.zeros_like(params)
    v.flat[0] = full.v.flat[0]
    new_params = params - lr * grads
    new_params.flat[0] = full_params.flat[0]
    return new_params, MomentumState(state.t + 1, v)


@ex4_2.mistake("nesterov_init", "t = 1 in the initial state: t counts the steps taken (0 before the first "
               "update), and torch's first step v = g is taken when t = 0")
def nesterov_init_t_one(params):
    return ref.MomentumState(1, np.zeros(np.shape(params)))


# ==================================================================== ex4_3 heavy_ball_terminal_step (question)

ex4_3 = Question("ex4_3", ref.heavy_ball_terminal_step_answer, anchor="momentum-dampening")
test_heavy_ball_terminal_step = ex4_3.graded(points=1, digits=3)


@ex4_3.mistake("heavy_ball_terminal_step_answer", "ηg, the step of the EMA form (or of torch's "
               "dampening = β), whose velocity tends to g; heavy ball's v = βv + g tends to g/(1 - β)")
def terminal_step_ema():
    s = ref.TERMINAL_STEP_SETTING
    return s["lr"] * s["grad"]


@ex4_3.mistake("heavy_ball_terminal_step_answer", "ηβg/(1 - β): the sum of the past gradients only; the "
               "velocity v = βv + g also holds the current gradient, so v tends to g/(1 - β)")
def terminal_step_past_only():
    s = ref.TERMINAL_STEP_SETTING
    return s["lr"] * s["beta"] * s["grad"] / (1 - s["beta"])


@ex4_3.mistake("heavy_ball_terminal_step_answer", "η g/β: the fixed point of v = βv + g solves "
               "v(1 - β) = g, so v = g/(1 - β)")
def terminal_step_over_beta():
    s = ref.TERMINAL_STEP_SETTING
    return s["lr"] * s["grad"] / s["beta"]


# ==================================================================== ex4_4 heavy_ball_rate (question)

ex4_4 = Question("ex4_4", ref.heavy_ball_rate_answer, anchor="momentum-rate")
test_heavy_ball_rate = ex4_4.graded(points=1, digits=3)


def _sqrt_kappa():
    mu, L = ref.RATE_QUESTION_CURVATURES
    return np.sqrt(L / mu)


@ex4_4.mistake("heavy_ball_rate_answer", "(κ - 1)/(κ + 1): gradient descent's best rate; heavy ball's has "
               "√κ in place of κ")
def rate_of_gradient_descent():
    kappa = _sqrt_kappa() ** 2
    return (kappa - 1) / (kappa + 1)


@ex4_4.mistake("heavy_ball_rate_answer", "β, the optimal momentum itself: the two roots of "
               "z² - (1 + β - ηλ)z + β have product β, so each has modulus √β, and the rate is √β")
def rate_beta_not_its_root():
    return ref.heavy_ball_optimal(*ref.RATE_QUESTION_CURVATURES)[1]


@ex4_4.mistake("heavy_ball_rate_answer", "1 - 2/√κ: the approximation for large κ, not the exact rate "
               "(√κ - 1)/(√κ + 1)")
def rate_first_order_approximation():
    return 1 - 2 / _sqrt_kappa()
