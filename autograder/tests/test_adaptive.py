"""Graded tests of chapter 5 (adaptive methods): ex5_1 .. ex5_4.

Every scenario calls the student's functions through ``ns`` and returns plain data that
the grader compares with the reference's (solutions/adaptive.py): iterates *and* states,
step after step. The graded convention is torch.optim's: ``eps`` outside the square root,
``t`` = number of steps taken (0 after init, 1 after the first update), torch's defaults.
The mistakes below are deliberately wrong implementations (many from the source articles,
see book/errata); when a submission's output equals one, the feedback names it and links
the section of lessons/05_adaptive.ipynb that explains it.
"""
import numpy as np

from autograder.framework import Exercise, Question
from autograder.tests.problems import random_spd, trajectory
from solutions import adaptive as ref

ex5_1 = Exercise("ex5_1", ref.adagrad_init, ref.adagrad_update, anchor="adagrad")
ex5_2 = Exercise("ex5_2", ref.rmsprop_init, ref.rmsprop_update, anchor="rmsprop")
ex5_3 = Exercise("ex5_3", ref.adam_init, ref.adam_update, anchor="adam")
ex5_4 = Exercise("ex5_4", ref.adamw_init, ref.adamw_update, anchor="adamw")


# --- shared scenarios ----------------------------------------------------------------------

HAND_GRADS = [np.array([1.0, -2.0, 0.0]), np.array([0.5, 0.5, 3.0]), np.array([-1.0, 3.0, -0.25])]


def random_quadratic(rng, shape):
    """An ill-conditioned quadratic 0.5 tr(Pᵀ A P) - tr(Bᵀ P) (eigenvalues 0.05 .. 20), a start P0."""
    A = random_spd(rng, shape[0], kappa=400.0, largest=20.0)
    B = rng.normal(size=shape)
    return A, B, rng.normal(size=shape) * 2.0


def far_diagonal_run(ns, rng, rule, shape, steps, **hyper):
    """``steps`` steps on a diagonal quadratic (one curvature per entry, 0.05 .. 20, shuffled),
    from 4 to 6 away from its minimum in every entry.

    With a short memory of g² (RMSprop's rho, Adam's beta2 of 0.9 or less), the constant-lr steps
    lr g / (sqrt(s) + eps) blow up near a minimum as g and s vanish, and the iterates wander
    chaotically: on :func:`random_quadratic` a one-ulp difference grows to 1e-3 within 50 steps,
    so correct code written differently would lose points. Far from the minimum no gradient
    changes sign (such a rule moves at most about lr / sqrt(1 - rho) per step, under 4 in 60
    steps at lr = 0.02), the trajectory is smooth and a rounding-sized difference stays so.
    """
    curvatures = rng.permutation(np.geomspace(0.05, 20.0, int(np.prod(shape)))).reshape(shape)
    target = rng.normal(size=shape)
    p0 = target + rng.choice([-1.0, 1.0], size=shape) * rng.uniform(4.0, 6.0, size=shape)
    init, update = getattr(ns, f"{rule}_init"), getattr(ns, f"{rule}_update")
    return trajectory(init, update, p0, lambda p: curvatures * (p - target), steps, **hyper)


def quadratic_run(ns, rng, rule, shape, steps, **hyper):
    A, B, p0 = random_quadratic(rng, shape)
    init, update = getattr(ns, f"{rule}_init"), getattr(ns, f"{rule}_update")
    return trajectory(init, update, p0, lambda p: A @ p - B, steps, **hyper)


def hand_steps(ns, rule, **hyper):
    """Three steps from (1, 1, 1) with the gradients HAND_GRADS (a zero gradient included)."""
    init, update = getattr(ns, f"{rule}_init"), getattr(ns, f"{rule}_update")
    grads = iter(HAND_GRADS)
    return trajectory(init, update, np.ones(3), lambda p: next(grads), len(HAND_GRADS), **hyper)


def magnitudes_run(ns, rng, rule, steps=20, **hyper):
    """2-D params whose gradients range from 1e-6 to 1e4 (constant scale per coordinate)."""
    scale = np.array([[1e-6, 1e-3], [1.0, 1e4]])
    init, update = getattr(ns, f"{rule}_init"), getattr(ns, f"{rule}_update")
    noise = rng.uniform(0.5, 1.5, size=(steps,) + scale.shape) * rng.choice([-1.0, 1.0], size=(steps,) + scale.shape)
    grads = iter(noise * scale)
    return trajectory(init, update, rng.normal(size=scale.shape), lambda p: next(grads), steps, **hyper)


def init_cases(ns, rule, rng):
    init = getattr(ns, f"{rule}_init")
    return {"1-D": init(rng.normal(size=4)), "2-D": init(rng.normal(size=(2, 3)))}


# ====================================================================================== ex5_1 AdaGrad

@ex5_1.test(points=1)
def test_adagrad_init(ns, rng):
    """the initial state of 1-D and 2-D parameters: t = 0 and a zero accumulator of their shape"""
    return init_cases(ns, "adagrad", rng)


@ex5_1.test(points=1)
def test_adagrad_by_hand(ns, rng):
    """three steps with given gradients, default hyperparameters (lr=1e-2, eps=1e-10)"""
    return hand_steps(ns, "adagrad")


@ex5_1.test(points=3)
def test_adagrad_trajectory(ns, rng):
    """50 steps on a random ill-conditioned quadratic, lr=0.5 and lr=0.1 with eps=1e-3"""
    return {"lr=0.5": quadratic_run(ns, rng, "adagrad", (5,), 50, lr=0.5),
            "lr=0.1, eps=1e-3": quadratic_run(ns, rng, "adagrad", (5,), 50, lr=0.1, eps=1e-3)}


@ex5_1.test(points=2)
def test_adagrad_magnitudes(ns, rng):
    """2-D parameters, gradients from 1e-6 to 1e4: every coordinate moves about lr per step at first"""
    return magnitudes_run(ns, rng, "adagrad", lr=0.05)


@ex5_1.mistake("adagrad_update", "AdaGrad accumulating the gradients g instead of their squares g**2")
def adagrad_sum_of_g(params, grads, state, *, lr=1e-2, eps=1e-10):
    g = np.asarray(grads, dtype=float)
    G = state.sum_sq + g
    return params - lr * g / (np.sqrt(G) + eps), ref.AdagradState(state.t + 1, G)


@ex5_1.mistake("adagrad_update", "eps inside the square root, sqrt(G + eps); the graded convention "
               "(torch's) is sqrt(G) + eps")
def adagrad_eps_inside(params, grads, state, *, lr=1e-2, eps=1e-10):
    g = np.asarray(grads, dtype=float)
    G = state.sum_sq + g * g
    return params - lr * g / np.sqrt(G + eps), ref.AdagradState(state.t + 1, G)


@ex5_1.mistake("adagrad_update", "the step divided by the old accumulator G_{t-1}, before adding g_t**2 "
               "(the first step divides by eps)")
def adagrad_old_G(params, grads, state, *, lr=1e-2, eps=1e-10):
    g = np.asarray(grads, dtype=float)
    new = params - lr * g / (np.sqrt(state.sum_sq) + eps)
    return new, ref.AdagradState(state.t + 1, state.sum_sq + g * g)


@ex5_1.mistake("adagrad_update", "AdaGrad with a moving average of g**2 (that is RMSprop, which forgets "
               "old gradients); AdaGrad sums them")
def adagrad_moving_average(params, grads, state, *, lr=1e-2, eps=1e-10):
    g = np.asarray(grads, dtype=float)
    G = 0.99 * state.sum_sq + 0.01 * g * g
    return params - lr * g / (np.sqrt(G) + eps), ref.AdagradState(state.t + 1, G)


@ex5_1.mistake("adagrad_update", "the step counter t not incremented (t counts the steps taken)")
def adagrad_no_count(params, grads, state, *, lr=1e-2, eps=1e-10):
    new, s = ref.adagrad_update(params, grads, state, lr=lr, eps=eps)
    return new, ref.AdagradState(state.t, s.sum_sq)


@ex5_1.mistake("adagrad_init", "the accumulator G started at 0.1 (TensorFlow's initial_accumulator_value) "
               "instead of 0, as torch.optim.Adagrad and this course do")
def adagrad_init_at_tenth(params):
    return ref.AdagradState(0, np.full(np.shape(params), 0.1))


# ====================================================================================== ex5_2 RMSprop

@ex5_2.test(points=1)
def test_rmsprop_init(ns, rng):
    """the initial state of 1-D and 2-D parameters: t = 0 and a zero average of their shape"""
    return init_cases(ns, "rmsprop", rng)


@ex5_2.test(points=1)
def test_rmsprop_by_hand(ns, rng):
    """three steps with given gradients, default hyperparameters (lr=1e-2, rho=0.99, eps=1e-8)"""
    return hand_steps(ns, "rmsprop")


@ex5_2.test(points=3)
def test_rmsprop_trajectory(ns, rng):
    """60 steps on a diagonal quadratic (curvatures 0.05 .. 20) from far away, rho=0.9 and rho=0.5 with eps=1e-3"""
    return {"lr=0.02, rho=0.9": far_diagonal_run(ns, rng, "rmsprop", (5,), 60, lr=0.02, rho=0.9),
            "lr=0.01, rho=0.5, eps=1e-3": far_diagonal_run(ns, rng, "rmsprop", (5,), 60, lr=0.01, rho=0.5,
                                                           eps=1e-3)}


@ex5_2.test(points=2)
def test_rmsprop_magnitudes(ns, rng):
    """2-D parameters, gradients from 1e-6 to 1e4, default rho and eps"""
    return magnitudes_run(ns, rng, "rmsprop", lr=0.01)


@ex5_2.mistake("rmsprop_update", "RMSprop without its moving average: s += g**2 is AdaGrad "
               "(source article 003's code)", anchor="rmsprop")
def rmsprop_no_average(params, grads, state, *, lr=1e-2, rho=0.99, eps=1e-8):
    g = np.asarray(grads, dtype=float)
    s = state.sq_avg + g * g
    return params - lr * g / (np.sqrt(s) + eps), ref.RMSpropState(state.t + 1, s)


@ex5_2.mistake("rmsprop_update", "eps inside the square root, sqrt(s + eps) (TensorFlow's raw op); "
               "the graded convention (torch's) is sqrt(s) + eps")
def rmsprop_eps_inside(params, grads, state, *, lr=1e-2, rho=0.99, eps=1e-8):
    g = np.asarray(grads, dtype=float)
    s = rho * state.sq_avg + (1 - rho) * g * g
    return params - lr * g / np.sqrt(s + eps), ref.RMSpropState(state.t + 1, s)


@ex5_2.mistake("rmsprop_update", "the weights of the moving average swapped: (1 - rho) s + rho g**2")
def rmsprop_swapped(params, grads, state, *, lr=1e-2, rho=0.99, eps=1e-8):
    g = np.asarray(grads, dtype=float)
    s = (1 - rho) * state.sq_avg + rho * g * g
    return params - lr * g / (np.sqrt(s) + eps), ref.RMSpropState(state.t + 1, s)


@ex5_2.mistake("rmsprop_update", "the moving average of the gradients g instead of their squares g**2")
def rmsprop_average_of_g(params, grads, state, *, lr=1e-2, rho=0.99, eps=1e-8):
    g = np.asarray(grads, dtype=float)
    s = rho * state.sq_avg + (1 - rho) * g
    return params - lr * g / (np.sqrt(s) + eps), ref.RMSpropState(state.t + 1, s)


@ex5_2.mistake("rmsprop_update", "the step divided by the old average s_{t-1}, before adding g_t**2")
def rmsprop_old_s(params, grads, state, *, lr=1e-2, rho=0.99, eps=1e-8):
    g = np.asarray(grads, dtype=float)
    new = params - lr * g / (np.sqrt(state.sq_avg) + eps)
    return new, ref.RMSpropState(state.t + 1, rho * state.sq_avg + (1 - rho) * g * g)


@ex5_2.mistake("rmsprop_init", "the average s started at ones (to avoid dividing by zero) instead of zeros; "
               "eps is what keeps the division safe")
def rmsprop_init_at_ones(params):
    return ref.RMSpropState(0, np.ones(np.shape(params)))


# ====================================================================================== ex5_3 Adam

@ex5_3.test(points=1)
def test_adam_init(ns, rng):
    """the initial state of 1-D and 2-D parameters: t = 0, m = v = 0 of their shape"""
    return init_cases(ns, "adam", rng)


@ex5_3.test(points=1)
def test_adam_by_hand(ns, rng):
    """three steps with given gradients, default hyperparameters (lr=1e-3, betas 0.9/0.999, eps=1e-8)"""
    return hand_steps(ns, "adam")


@ex5_3.test(points=1)
def test_adam_first_step(ns, rng):
    """the first step from a random point with lr=0.1: about lr in every coordinate (bias correction)"""
    p, g = rng.normal(size=6), rng.normal(size=6) * np.geomspace(1e-2, 1e2, 6)
    return ns.adam_update(p, g, ns.adam_init(p), lr=0.1)


@ex5_3.test(points=3)
def test_adam_trajectory(ns, rng):
    """50 steps on a random ill-conditioned quadratic, lr=0.05, default betas and eps"""
    return quadratic_run(ns, rng, "adam", (5,), 50, lr=0.05)


@ex5_3.test(points=2)
def test_adam_hyperparameters(ns, rng):
    """40 steps with 2-D parameters, betas (0.8, 0.99) with eps=1e-3 and (0.5, 0.9) from far away"""
    return {"betas (0.8, 0.99), eps=1e-3": quadratic_run(ns, rng, "adam", (4, 3), 40, lr=0.05, beta1=0.8,
                                                         beta2=0.99, eps=1e-3),
            "betas (0.5, 0.9)": far_diagonal_run(ns, rng, "adam", (4, 3), 40, lr=0.02, beta1=0.5, beta2=0.9)}


@ex5_3.test(points=1)
def test_adam_magnitudes(ns, rng):
    """2-D parameters, gradients from 1e-6 to 1e4, default betas and eps"""
    return magnitudes_run(ns, rng, "adam", lr=0.01)


def _adam_moments(state, g, beta1, beta2):
    return state.t + 1, beta1 * state.m + (1 - beta1) * g, beta2 * state.v + (1 - beta2) * g * g


@ex5_3.mistake("adam_update", "Adam without bias correction (m and v used as they are, source article "
               "003's formula): the first steps are about 3.16 lr", anchor="adam-bias-correction")
def adam_no_correction(params, grads, state, *, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    g = np.asarray(grads, dtype=float)
    t, m, v = _adam_moments(state, g, beta1, beta2)
    return params - lr * m / (np.sqrt(v) + eps), ref.AdamState(t, m, v)


@ex5_3.mistake("adam_update", "bias correction with the total number of iterations (source article 003's "
               "1 - beta**iterations with iterations = 1000) instead of the step t", anchor="adam-bias-correction")
def adam_correction_total(params, grads, state, *, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    g = np.asarray(grads, dtype=float)
    t, m, v = _adam_moments(state, g, beta1, beta2)
    m_hat, v_hat = m / (1 - beta1**1000), v / (1 - beta2**1000)
    return params - lr * m_hat / (np.sqrt(v_hat) + eps), ref.AdamState(t, m, v)


@ex5_3.mistake("adam_update", "bias correction with t counted from 0 (1 - beta**0 = 0 on the first step); "
               "t is the number of this step, 1 on the first update", anchor="adam-bias-correction")
def adam_t_from_zero(params, grads, state, *, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    g = np.asarray(grads, dtype=float)
    t, m, v = _adam_moments(state, g, beta1, beta2)
    m_hat, v_hat = m / (1 - beta1**state.t), v / (1 - beta2**state.t)
    return params - lr * m_hat / (np.sqrt(v_hat) + eps), ref.AdamState(t, m, v)


class _StateWithPrevious(ref.AdamState):
    """AdamState that also remembers the last gradient (as a student's global variable would)."""


@ex5_3.mistake("adam_update", "v built from squared gradient differences (g_t - g_{t-1})**2 (source "
               "article 004's formula); v averages the squared gradients g_t**2", anchor="adam")
def adam_gradient_differences(params, grads, state, *, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    g = np.asarray(grads, dtype=float)
    g_prev = getattr(state, "g_prev", np.zeros_like(g))
    t, m, _ = _adam_moments(state, g, beta1, beta2)
    v = beta2 * state.v + (1 - beta2) * (g - g_prev) ** 2
    m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
    new_state = _StateWithPrevious(t, m, v)
    new_state.g_prev = g
    return params - lr * m_hat / (np.sqrt(v_hat) + eps), new_state


@ex5_3.mistake("adam_update", "eps * v_hat subtracted as a separate term instead of dividing m_hat by "
               "sqrt(v_hat) + eps (source article 004's formula)", anchor="adam")
def adam_eps_times_v(params, grads, state, *, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    g = np.asarray(grads, dtype=float)
    t, m, v = _adam_moments(state, g, beta1, beta2)
    m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
    return params - lr * m_hat - eps * v_hat, ref.AdamState(t, m, v)


@ex5_3.mistake("adam_update", "eps inside the square root, sqrt(v_hat + eps); the graded convention "
               "(torch's) is sqrt(v_hat) + eps")
def adam_eps_inside(params, grads, state, *, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    g = np.asarray(grads, dtype=float)
    t, m, v = _adam_moments(state, g, beta1, beta2)
    m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
    return params - lr * m_hat / np.sqrt(v_hat + eps), ref.AdamState(t, m, v)


@ex5_3.mistake("adam_update", "the Keras/TensorFlow 'epsilon hat' form, eps added to sqrt(v) before the "
               "correction; a legitimate variant, but the graded convention (torch's) adds eps to "
               "sqrt(v_hat)")
def adam_eps_hat(params, grads, state, *, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    g = np.asarray(grads, dtype=float)
    t, m, v = _adam_moments(state, g, beta1, beta2)
    lr_t = lr * np.sqrt(1 - beta2**t) / (1 - beta1**t)
    return params - lr_t * m / (np.sqrt(v) + eps), ref.AdamState(t, m, v)


@ex5_3.mistake("adam_update", "beta1 and beta2 swapped (m averaged with beta2, v with beta1)")
def adam_swapped_betas(params, grads, state, *, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    return ref.adam_update(params, grads, state, lr=lr, beta1=beta2, beta2=beta1, eps=eps)


@ex5_3.mistake("adam_update", "the bias-corrected m_hat and v_hat stored in the state instead of m and v "
               "(the correction is then applied again and again)", anchor="adam-bias-correction")
def adam_stores_corrected(params, grads, state, *, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    new, s = ref.adam_update(params, grads, state, lr=lr, beta1=beta1, beta2=beta2, eps=eps)
    return new, ref.AdamState(s.t, s.m / (1 - beta1**s.t), s.v / (1 - beta2**s.t))


@ex5_3.mistake("adam_init", "t = 1 in the initial state: t counts the steps taken, 0 before the first update "
               "(the update makes it 1), so the bias correction is off by one step", anchor="adam-bias-correction")
def adam_init_t_one(params):
    zeros = np.zeros(np.shape(params))
    return ref.AdamState(1, zeros, zeros.copy())


# ====================================================================================== ex5_4 AdamW

@ex5_4.test(points=1)
def test_adamw_init(ns, rng):
    """the initial state of 1-D and 2-D parameters: t = 0, m = v = 0 of their shape"""
    return init_cases(ns, "adamw", rng)


@ex5_4.test(points=1)
def test_adamw_decay_only(ns, rng):
    """zero gradients, lr=0.1, weight_decay=0.5: the parameters shrink by 1 - lr * weight_decay each step"""
    out, p = {}, rng.normal(size=4)
    state = ns.adamw_init(p)
    for k in range(1, 4):
        p, state = ns.adamw_update(p, np.zeros(4), state, lr=0.1, weight_decay=0.5)
        p = p.array()
        out[f"step {k}"] = (p, state)
    return out


@ex5_4.test(points=1)
def test_adamw_by_hand(ns, rng):
    """three steps with given gradients, default hyperparameters (lr=1e-3, weight_decay=1e-2)"""
    return hand_steps(ns, "adamw")


@ex5_4.test(points=3)
def test_adamw_trajectory(ns, rng):
    """50 steps on a random ill-conditioned quadratic, lr=0.05 and weight_decay=0.5"""
    return quadratic_run(ns, rng, "adamw", (5,), 50, lr=0.05, weight_decay=0.5)


@ex5_4.test(points=2)
def test_adamw_hyperparameters(ns, rng):
    """40 steps with 2-D parameters: betas (0.8, 0.99), eps=1e-4, weight_decay=2; default weight_decay"""
    return {"weight_decay=2": quadratic_run(ns, rng, "adamw", (4, 3), 40, lr=0.05, beta1=0.8, beta2=0.99,
                                            eps=1e-4, weight_decay=2.0),
            "default weight_decay": quadratic_run(ns, rng, "adamw", (4, 3), 40, lr=0.1)}


@ex5_4.mistake("adamw_update", "AdamW as Adam with an L2 penalty in the gradient (g + weight_decay * params, "
               "coupled decay); AdamW decays the parameters directly", anchor="adamw")
def adamw_coupled(params, grads, state, *, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=1e-2):
    g = np.asarray(grads, dtype=float) + weight_decay * np.asarray(params, dtype=float)
    return ref.adam_update(params, g, state, lr=lr, beta1=beta1, beta2=beta2, eps=eps)


@ex5_4.mistake("adamw_update", "the decay applied after the Adam step instead of before it (torch.optim.AdamW "
               "decays the current parameters first)", anchor="adamw")
def adamw_decay_after(params, grads, state, *, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=1e-2):
    new, s = ref.adam_update(params, grads, state, lr=lr, beta1=beta1, beta2=beta2, eps=eps)
    return new * (1 - lr * weight_decay), s


@ex5_4.mistake("adamw_update", "the decay not scaled by the learning rate: params * (1 - weight_decay) "
               "instead of params * (1 - lr * weight_decay)", anchor="adamw")
def adamw_decay_without_lr(params, grads, state, *, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=1e-2):
    decayed = np.asarray(params, dtype=float) * (1 - weight_decay)
    return ref.adam_update(decayed, grads, state, lr=lr, beta1=beta1, beta2=beta2, eps=eps)


@ex5_4.mistake("adamw_update", "the weight decay ignored (plain Adam)")
def adamw_no_decay(params, grads, state, *, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=1e-2):
    return ref.adam_update(params, grads, state, lr=lr, beta1=beta1, beta2=beta2, eps=eps)


@ex5_4.mistake("adamw_update", "AdamW without bias correction in its Adam step", anchor="adam-bias-correction")
def adamw_no_correction(params, grads, state, *, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=1e-2):
    decayed = np.asarray(params, dtype=float) * (1 - lr * weight_decay)
    return adam_no_correction(decayed, grads, state, lr=lr, beta1=beta1, beta2=beta2, eps=eps)


@ex5_4.mistake("adamw_init", "t = 1 in the initial state: t counts the steps taken, 0 before the first update "
               "(the update makes it 1), so the bias correction is off by one step")
def adamw_init_t_one(params):
    zeros = np.zeros(np.shape(params))
    return ref.AdamState(1, zeros, zeros.copy())


# ==================================================================== ex5_5 rmsprop_step (question)

ex5_5 = Question("ex5_5", ref.rmsprop_step_answer, anchor="rmsprop")
test_rmsprop_step = ex5_5.graded(points=1, digits=3)


@ex5_5.mistake("rmsprop_step_answer", "η, as if the average had reached g²: it starts at s₀ = 0, so "
               "s_t = (1 - ρ^t) g², and RMSprop has no bias correction")
def rmsprop_step_settled():
    return ref.RMSPROP_STEP_SETTING["lr"]


@ex5_5.mistake("rmsprop_step_answer", "η/√t, AdaGrad's step: RMSprop divides by the root of a moving "
               "*average* of the squares, not of their sum")
def rmsprop_step_adagrad():
    s = ref.RMSPROP_STEP_SETTING
    return s["lr"] / np.sqrt(s["step"])


@ex5_5.mistake("rmsprop_step_answer", "η/(1 - ρ^t): the step divides by the square root of s_t, "
               "η|g|/√((1 - ρ^t) g²)")
def rmsprop_step_no_root():
    s = ref.RMSPROP_STEP_SETTING
    return s["lr"] / (1 - s["rho"] ** s["step"])


# ==================================================================== ex5_6 adam_first_step_no_correction (question)

ex5_6 = Question("ex5_6", ref.adam_first_step_no_correction_answer, anchor="adam-bias-correction")
test_adam_first_step_no_correction = ex5_6.graded(points=1, digits=3)


def _adam_first_moments():
    s = ref.ADAM_FIRST_STEP_SETTING
    return s, (1 - s["beta1"]) * s["grad"], (1 - s["beta2"]) * s["grad"] ** 2


@ex5_6.mistake("adam_first_step_no_correction_answer", "η, the step *with* bias correction: without it "
               "m₁ = (1 - β₁)g and v₁ = (1 - β₂)g², and the step is η(1 - β₁)/√(1 - β₂)")
def first_step_corrected():
    s = ref.ADAM_FIRST_STEP_SETTING
    params = np.zeros(1)
    new, _ = ref.adam_update(params, np.full(1, s["grad"]), ref.adam_init(params), lr=s["lr"],
                             beta1=s["beta1"], beta2=s["beta2"], eps=s["eps"])
    return float(abs(new[0]))


@ex5_6.mistake("adam_first_step_no_correction_answer", "only m left uncorrected: η(1 - β₁), with v "
               "corrected; the question leaves both m and v as they are")
def first_step_m_uncorrected():
    s, m, v = _adam_first_moments()
    return s["lr"] * m / (np.sqrt(v / (1 - s["beta2"])) + s["eps"])


@ex5_6.mistake("adam_first_step_no_correction_answer", "only v left uncorrected: η/√(1 - β₂), with m "
               "corrected; the question leaves both m and v as they are")
def first_step_v_uncorrected():
    s, m, v = _adam_first_moments()
    return s["lr"] * m / (1 - s["beta1"]) / (np.sqrt(v) + s["eps"])
