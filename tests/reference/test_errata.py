"""Every figure that the errata appendix quotes from a run is the figure the course's code produces.

``book/errata.md`` quotes numbers from runs of the articles' rules on the articles' data. The lessons
make those runs with the course's own code (``solutions/`` and the registered mistakes of
``autograder/tests/``), and nbval checks that their stored outputs are what that code prints on
any processor. ``FIGURES`` is the table that binds the two: for each erratum, the lesson whose
stored output holds the figures, a pattern that reads them there, and the fragments of the
erratum that quote them (format strings). The test formats each fragment with the figures read
from the lesson and requires it, word for word, in that erratum's section. A figure that a run
does not print (a closed form such as ``1 - 0.999**1000``) is computed in the table itself.

So if a lesson's run changes, or an erratum is edited, the two cannot silently disagree.
The table covers every chapter section of the errata (chapters 1-8).

Completeness rule (``test_every_figure_of_the_errata_is_checked``): in every chapter section,
(1) an erratum marked "confirmed by running" has a row, and (2) every decimal number and every
power of ten that an erratum writes (``16.5``, ``-0.7659``, ``10^{-4}``; section numbers such as
§4.2 aside) is either produced by one of its row's fragments or declared in ``INPUTS`` as a
setting of the article or of a library (a learning rate, a decay, an epsilon: inputs of a run,
not results). A new figure typed into the errata without a row makes the test fail.
"""
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest

from solutions.losses import binary_cross_entropy_with_logits, sigmoid

ROOT = Path(__file__).resolve().parents[2]
ERRATA = ROOT / "book" / "errata.md"
NUM = r"-?\d+(?:\.\d+)?(?:e[+-]?\d+)?"


def _outputs(lesson: str) -> str:
    """The stored text outputs of a lesson's code cells, in order."""
    cells = json.loads((ROOT / "lessons" / f"{lesson}.ipynb").read_text(encoding="utf-8"))["cells"]
    parts = []
    for cell in cells:
        for out in cell.get("outputs", []):
            text = "".join(out.get("text") or out.get("data", {}).get("text/plain", ""))
            parts.append(text if text.endswith("\n") else text + "\n")   # a print split over two outputs reads as one
    return "".join(parts)


def _section(label: str) -> str:
    """The text of one erratum (from its label to the next label), whitespace collapsed."""
    text = ERRATA.read_text(encoding="utf-8")
    start = text.index(f"({label})=")
    end = text.find("\n(errata-", start + 1)
    return " ".join(text[start:end if end > 0 else None].split())


def _read(lesson: str, pattern: str) -> dict[str, float]:
    """The named groups of ``pattern`` in the lesson's stored outputs, as floats."""
    match = re.search(pattern, _outputs(lesson))
    assert match, f"lessons/{lesson}.ipynb: no stored output matches {pattern!r} (re-execute the lesson?)"
    return {k: None if v is None else float(v) for k, v in match.groupdict().items()}


def _sources_003() -> dict[str, float]:
    """Source 003's AdaGrad, 'RMSprop' and the fit without an intercept (05_adaptive, last section)."""
    fig = _read("05_adaptive", rf"start: w = (?P<w0>{NUM}) \(the first draw.*\n"
                               rf"AdaGrad +w = (?P<w_ada>{NUM}), MSE (?P<mse_ada>{NUM})\n"
                               rf"'RMSprop' \(s \+= g\*\*2\) +w = (?P<w_rms>{NUM}), MSE (?P<mse_rms>{NUM})\n"
                               rf"(?:.*\n)best w without an intercept +w = (?P<w_best>{NUM}), MSE (?P<mse_best>{NUM})")
    fig |= _read("05_adaptive", rf"AdaGrad +with an intercept, lr = 0\.01: .*MSE (?P<mse_ada_b>{NUM})\n"
                                rf"RMSprop +with an intercept, lr = 0\.01: .*MSE (?P<mse_rms_b>{NUM})")
    tuned = _read("05_adaptive", r"regression \(source 003\): tuned lr" + rf" +{NUM}" * 3 + rf" +(?P<lr>{NUM})")
    fig["adagrad_tuned_over_shared"] = tuned["lr"] / 0.01
    fig["walk"] = 2 * 0.01 * math.sqrt(1000)                   # AdaGrad's farthest travel in 1000 steps of eta
    return fig


def _adam_steps() -> dict[str, float]:
    """Step sizes of Adam without bias correction and of source 003's fixed divisor (05_adaptive)."""
    fig = _read("05_adaptive", rf"largest uncorrected step: (?P<peak>{NUM}) lr, at t = (?P<t_peak>\d+)")
    fig |= _read("05_adaptive", rf"without bias correction \(source 003's formula\) +step / lr at t = 1, 10, 100, 1000: "
                                rf"(?P<first_uncorrected>{NUM})")
    fig |= _read("05_adaptive", rf"divided by 1 - beta\*\*1000 \(source 003's code\) +step / lr at t = 1, 10, 100, 1000: "
                                rf"(?P<first_fixed>{NUM})")
    fig["first_uncorrected_at_001"] = 0.01 * fig["first_uncorrected"]
    fig["v_divisor"] = 1 - 0.999**1000
    return fig


def _rule_000() -> dict[str, float]:
    """Source 000's two "adaptive learning rate" rules with correct gradients (05_adaptive)."""
    fig = _read("05_adaptive", rf"L = (?P<L>{NUM}): gradient descent is stable for lr < 2/L = (?P<limit>{NUM})")
    fig |= _read("05_adaptive", rf"step 3: .*\(w, b\) = \((?P<w>{NUM}), (?P<b>{NUM})\).*final rate (?P<rate>{NUM})")
    fig |= _read("05_adaptive", rf"MSE below 1 first at epoch (?P<close>\d+) .*above 100 again at epoch (?P<out>\d+); "
                                rf"then MSE > 100 in about (?P<share>\d+)% of the epochs, up to (?P<top>{NUM})")
    fig["rate_exponent"] = round(math.log10(fig["rate"]))
    return fig


def _per_sample_rates() -> dict[str, float]:
    """Source 000's per-sample rates after 1000 epochs (05_adaptive, last section)."""
    match = re.search(r"rate per sample: \[([^\]]*)\]", _outputs("05_adaptive"))
    assert match, "05_adaptive: no stored 'rate per sample' output"
    rates = [float(v) for v in match.group(1).split()]
    return {f"rate{i + 1}": r for i, r in enumerate(rates)}


def _source(lesson: str) -> str:
    """The source of a lesson's code cells, in order (for a setting that a run uses but does not print)."""
    cells = json.loads((ROOT / "lessons" / f"{lesson}.ipynb").read_text(encoding="utf-8"))["cells"]
    return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")


def _double_sigmoid() -> dict[str, float]:
    """Source 002's sigmoid output fed to a loss "from logits": the range and the floor (closed forms, course code)."""
    far = np.array([-40.0, 40.0])                               # sigma(far) is 0 and 1 to rounding
    low, high = sigmoid(sigmoid(far))
    return {"low": low, "high": high,
            "floor": binary_cross_entropy_with_logits(sigmoid(far[:1]), np.zeros(1))}


def _source_000_ascent() -> dict[str, float]:
    """Source 000's gradient ascent with per-sample parameters (02_gradient_descent, last section)."""
    fig = _read("02_gradient_descent", rf"mean squared error, epochs 0-6: "
                                       rf"\[\s*(?P<e0>{NUM})(?:\s+{NUM}){{5}}\s+(?P<e6>{NUM})\]\n"
                                       rf"growth per epoch at epoch 100: (?P<growth>{NUM}); "
                                       rf"first epoch whose loss is inf: (?P<inf>\d+)")
    fig |= _read("02_gradient_descent", r"parameters after 1000 epochs: an array of shape\s*\((?P<n>\d+), (?P<k>\d+)\)")
    for snippet in ("GD", "SGD", "batch", "momentum", "adaptive"):    # the five snippets, run as written
        fig |= _read("02_gradient_descent", rf"\n{snippet} +parameters \(\d+, 2\), printed loss at epoch 999: +"
                                            rf"(?P<{snippet}>{NUM}|inf), (?:inf from epoch (?P<{snippet}_inf>\d+)|finite)")
    return fig


def _source_001_regression() -> dict[str, float]:
    """Source 001's regression, fixed, after its 1000 iterations (02_gradient_descent, last section)."""
    return _read("02_gradient_descent",
                 rf"optimum \(b, w\) = \[(?P<b_opt>{NUM})\.? +(?P<w_opt>{NUM})\.?\]; "
                 rf"half-MSE curvatures mu = (?P<mu>{NUM}), L = {NUM}, kappa = (?P<kappa>{NUM})\n"
                 rf"after 1000 iterations \(b, w\) = \[(?P<b>{NUM}) +(?P<w>{NUM})\]")


def _fits_003() -> dict[str, float]:
    """Source 003's data: the best line through the origin and the least-squares line (05_adaptive)."""
    fig = _read("05_adaptive", rf"best w without an intercept +w = (?P<w_best>{NUM}), MSE (?P<mse_best>{NUM})")
    fig |= _read("05_adaptive", rf"least squares: \(b, w\) = \[(?P<b_ls>{NUM}) +(?P<w_ls>{NUM})\], "
                                rf"MSE (?P<mse_ls>{NUM})")
    return fig


def _first_batch() -> dict[str, float]:
    """The fit on the first batch only against the fit on all the data (03_sgd, last section)."""
    return _read("03_sgd", rf"source 000's data, first 3 of 6 *: \[(?P<b3>{NUM})\.? +(?P<w3>{NUM})\.?\] +"
                           rf"all 6: \[(?P<b6>{NUM})\.? +(?P<w6>{NUM})\.?\]\n"
                           rf"source 003's data, first 10 of 100: \[(?P<b10>{NUM}) +(?P<w10>{NUM})\] +"
                           rf"all 100: \[(?P<b100>{NUM}) +(?P<w100>{NUM})\]")


def _gradient_dot_gradient() -> dict[str, float]:
    """Source 004's ``v`` update with ``gradients - gradients.dot(gradients)``, run on a small gradient."""
    g = np.array([[1.0], [2.0]])                                # a (p, 1) gradient, as in the article
    try:
        g.dot(g)
        raises = 0.0
    except ValueError:
        raises = 1.0
    flat = g.ravel()
    v = (1 - 0.999) * (flat - flat.dot(flat))                   # read as g - |g|^2: one step from v = 0
    with np.errstate(invalid="ignore"):
        root = np.sqrt(v / (1 - 0.999))
    return {"raises": raises, "negative": float(np.any(v < 0)), "nan": float(np.any(np.isnan(root)))}


def _theta_per_sample() -> dict:
    """Source 004's ``theta = np.zeros((n, 1))`` with ``n`` the number of samples, run on five samples."""
    m = 5
    X = np.column_stack([np.ones(m), np.arange(1.0, m + 1)])   # features plus the bias: 2 columns
    y = 2 * X[:, 1]
    try:
        X.dot(np.zeros((m, 1)))
        raises = 0.0
    except ValueError:
        raises = 1.0
    residual = X.dot(np.zeros((X.shape[1], 1))) - y            # the right theta, but a flat y
    return {"m": m, "raises": raises, "residual_shape": residual.shape}


def _article_001_network() -> dict[str, float]:
    """Source 001's "two-layer network": shapes, its backward rule and the loss floors (06_backprop)."""
    out = "06_backprop"
    fig = _read(out, r"X @ theta1: .*\(size (?P<rows>\d+) is different from (?P<cols>\d+)\)")
    fig |= _read(out, r"y of shape \(5,\): d_theta1 has shape \(\d+, \d+\), d_theta2 has shape "
                      r"\((?P<r>\d+), (?P<c>\d+)\); "
                      r"theta1 \((?P<a0>\d+), (?P<a1>\d+)\), theta2 \((?P<t0>\d+), (?P<t1>\d+)\)")
    fig |= _read(out, rf"the article's rule \(summed\): +relative error (?P<rel>{NUM})")
    fig |= _read(out, rf"lowest loss of any output in \(0, 1\): (?P<floor>{NUM})\n"
                      rf"the article's rule \(d_theta2 summed\) +after 1000 steps: loss (?P<article>{NUM}),.*\n"
                      rf"the true gradient +after 1000 steps: loss (?P<true>{NUM}),")
    fig |= _read(out, rf"targets y/(?P<div>\d+), true gradient, .*: loss (?P<scaled>{NUM})")
    fig["scaled_exponent"] = round(math.log10(fig["scaled"]))
    return fig


def _inverse_against_solve() -> dict[str, float]:
    """07_newton's ill-conditioned Hessian: its condition number (from the lesson's code) and both residuals."""
    fig = _read("07_newton", r"np\.linalg\.solve\(H, g\) +relative residual below 1e-12: True\n"
                             r"np\.linalg\.inv\(H\) @ g +relative residual below 1e-12: False")
    match = re.search(r"np\.geomspace\(1\.0, 1e-(\d+), 10\)", _source("07_newton"))
    assert match, "07_newton: the ill-conditioned Hessian's spectrum is no longer np.geomspace(1.0, 1e-k, 10)"
    fig["exponent"] = float(match.group(1))
    rng = np.random.default_rng(0)                              # the same construction, to measure the gap
    Q, _ = np.linalg.qr(rng.normal(size=(10, 10)))
    H = Q @ np.diag(np.geomspace(1.0, 10.0 ** -fig["exponent"], 10)) @ Q.T
    g = H @ rng.normal(size=10)
    fig["solve"], fig["inv"] = (float(np.linalg.norm(H @ d - g) / np.linalg.norm(g))
                                for d in (np.linalg.solve(H, g), np.linalg.inv(H) @ g))
    return fig


# erratum -> (how its figures are read or computed, the fragments that quote them, extra claims)
FIGURES = {
    "errata-000-8": (lambda: {"epochs": 1000 / 6},
                     ["about as much data as {epochs:.0f} real epochs"], []),
    "errata-003-6": (lambda: {"w0_adagrad": _sources_003()["w0"]} | _read("03_sgd", rf"start +w = +(?P<w0>{NUM}) +MSE = +{NUM}\n"
                                             rf"source 003 \(scale 1/n\) +w = +(?P<w_bad>{NUM}) +MSE = +(?P<mse_bad>{NUM})\n"
                                             rf"correct \(scale 1\) +w = +(?P<w_ok>{NUM}) +MSE = +(?P<mse_ok>{NUM})\n"
                                             rf"best line through 0: w = (?P<w_best>{NUM})"),
                     ["$w$ moves only from ${w0:.3f}$ to ${w_bad:.3f}$ (MSE {mse_bad:.2f})",
                      "it reaches $w = {w_ok:.3f}$ (MSE {mse_ok:.3f})",
                      "the best line through the origin, $w = {w_best:.3f}$"],
                     [lambda f: abs(f["w0"] - f["w0_adagrad"]) < 1e-3]),  # the start of 003-7: the second draw
    "errata-000-10": (lambda: _read("04_momentum", rf"source 000: momentum on w only +\((?P<hb>{NUM}), (?P<hw>{NUM})\)\n"
                                                   rf" *one velocity \(EMA form, eta 0\.01\) +\((?P<ob>{NUM}), (?P<ow>{NUM})\)\n"
                                                   rf".*\n *gradient descent, lr 0\.01 +\((?P<gb>{NUM}), (?P<gw>{NUM})\)"),
                      ["the hybrid ends at $(b, w) = ({hb:.4f}, {hw:.4f})$ and one velocity for both at "
                       "$({ob:.4f}, {ow:.4f})$; gradient descent with the same $\\eta$ ends at $({gb:.4f}, {gw:.4f})$"],
                      []),
    "errata-000-3": (_rule_000,
                     ["$\\eta$ fell to about $10^{{{rate_exponent:.0f}}}$",
                      "with $(w, b)$ stuck at about $({w:.2f}, {b:.2f})$",
                      "$2/L \\approx {limit:.3f}$ of this problem ($L \\approx {L:.2f}$)",
                      "the MSE first fell below 1 at epoch {close:.0f} and was thrown back above 100 at epoch {out:.0f}",
                      "above 100 in about {share:.0f}% of the epochs, up to about {top:.0f}"], []),
    "errata-000-11": (_per_sample_rates, ["`eta` was exactly `0.0` for samples 4–6"],
                      [lambda f: f["rate4"] == f["rate5"] == f["rate6"] == 0.0 < min(f["rate1"], f["rate2"], f["rate3"])]),
    "errata-003-4": (_adam_steps,
                     ["$\\eta(1-\\beta_1)/\\sqrt{{1-\\beta_2}} \\approx {first_uncorrected:.2f}\\,\\eta$",
                      "({first_uncorrected_at_001:.4f} instead of 0.01 in our run)",
                      "to about ${peak:.1f}\\,\\eta$ around step {t_peak:.0f}"], []),
    "errata-003-7": (_sources_003,
                     ["the second draw, $\\theta = {w0:.4f}$",
                      "both end at $\\theta = {w_ada:.4f}$, with MSE {mse_ada:.3f}",
                      "RMSprop reaches the least-squares MSE of {mse_rms_b:.3f}, and AdaGrad ends at {mse_ada_b:.3f}"],
                     [lambda f: (f["w_rms"], f["mse_rms"]) == (f["w_ada"], f["mse_ada"])]),
    "errata-003-8": (_adam_steps,
                     ["$1-0.999^{{1000}} \\approx {v_divisor:.3f}$", "The first step is about ${first_fixed:.1f}\\,\\eta$"],
                     []),
    "errata-003-9": (_sources_003, ["MSE ≥ {mse_best:.3f}"], []),
    "errata-003-10": (_sources_003,
                      ["at most about $2\\eta\\sqrt{{1000}} \\approx {walk:.2f}$",
                       "it only gets from ${w0:.4f}$ to ${w_ada:.4f}$ (MSE {mse_ada:.3f}), far from the best slope "
                       "${w_best:.3f}$",
                       "more than 300 times larger"],
                      [lambda f: 300 < f["adagrad_tuned_over_shared"] < 1000]),
    # chapter 1
    "errata-002-2": (_double_sigmoid,
                     ["The loss therefore sees $\\sigma(\\sigma(z)) \\in ({low:.1f}, {high:.3f})$",
                      "can never go below $\\ln 2 \\approx {floor:.3f}$"],
                     [lambda f: f["low"] < f["high"] and abs(f["floor"] - math.log(2)) < 1e-12]),
    # chapter 2
    "errata-000-5": (_source_000_ascent,
                     ["the mean squared error grew from {e0:.1f} to {e6:.0f} in six epochs, by a factor of about "
                      "{growth:.2f} per epoch, and overflowed to `inf` at epoch {inf:.0f}",
                      "the loss they print at their last epoch is {SGD:.3g} for SGD (§4.3), {batch:.3g} for the "
                      "\"batch\" loop (§4.4) and {momentum:.3g} for momentum (§4.5)",
                      "the adaptive loop (§4.6) freezes at a printed loss of {adaptive:.3g}"],
                     [lambda f: f["GD"] == math.inf and f["GD_inf"] == f["inf"]
                      and all(f[k + "_inf"] is None and math.isfinite(f[k])
                              for k in ("SGD", "batch", "momentum", "adaptive"))]),
    "errata-000-6": (_source_000_ascent,
                     ["arrays of shape `({n:.0f},)` after the first step",
                      "the parameters end as an array of shape `({n:.0f}, {k:.0f})`"], []),
    "errata-001-5": (_source_001_regression,
                     ["1000 iterations reach $\\theta = (b, w) \\approx ({b:.3f}, {w:.3f})$, while the optimum is "
                      "$({b_opt:.0f}, {w_opt:.0f})$",
                      "badly conditioned ($\\kappa \\approx {kappa:.0f}$)",
                      "contracts by only $1 - 0.01\\cdot{mu:.3f}$ per step"], []),
    "errata-004-6": (_theta_per_sample,
                     ["So `X.dot(theta)` raises a `ValueError`",
                      "would also broadcast from `(m, 1)` and `(m,)` to an `(m, m)` matrix"],
                     [lambda f: f["raises"] == 1.0 and f["residual_shape"] == (f["m"], f["m"])]),
    "errata-003-5": (_fits_003,
                     ["The best such model has $w = {w_best:.3f}$ and MSE ${mse_best:.3f}$",
                      "$(b, w) = ({b_ls:.3f}, {w_ls:.3f})$, has MSE ${mse_ls:.3f}$",
                      "capped at MSE {mse_best:.3f}"], []),
    # chapter 3
    "errata-000-9": (_first_batch,
                     ["the first three give the same line, $(b, w) = ({b3:.0f}, {w3:.0f})$, as all six",
                      "the first ten alone give $(b, w) \\approx ({b10:.2f}, {w10:.2f})$ instead of "
                      "$({b100:.2f}, {w100:.2f})$"],
                     [lambda f: (f["b3"], f["w3"]) == (f["b6"], f["w6"])]),
    # chapter 5
    "errata-004-8": (_gradient_dot_gradient,
                     ["For `(p, 1)` arrays `gradients.dot(gradients)` raises a `ValueError`",
                      "it can be negative, and then $\\sqrt{{\\hat v}}$ is NaN"],
                     [lambda f: f["raises"] == f["negative"] == f["nan"] == 1.0]),
    # chapter 6
    "errata-001-6": (_article_001_network,
                     ["`theta1 = np.random.randn({rows:.0f}, 1)` and `X @ theta1` with `X` of shape `(5, {cols:.0f})`",
                      "so that `theta1` of shape `({a0:.0f}, {a1:.0f})` fits",
                      "broadcasts to a `({r:.0f}, {c:.0f})` matrix",
                      "fails (`({t0:.0f}, {t1:.0f})` against `({r:.0f}, {c:.0f})`)"], []),
    "errata-001-7": (_article_001_network, ["has a relative error of {rel:.0f} against finite differences"], []),
    "errata-001-8": (_article_001_network,
                     ["the half-MSE can never fall below $\\frac1{{2n}}\\sum_i(1-y_i)^2 = {floor:.1f}$",
                      "with the true gradient the loss stops at {true:.1f}",
                      "with the targets divided by {div:.0f} it falls to about $10^{{{scaled_exponent:.0f}}}$"],
                     [lambda f: f["floor"] == sum((1 - 2 * x) ** 2 for x in range(1, 6)) / 10]),
    "errata-001-18": (_article_001_network,
                      ["in our run it ends at {article:.0f}, above the floor of {floor:.1f}"],
                      [lambda f: f["article"] > f["true"]]),
    # chapter 7
    "errata-002-5": (_inverse_against_solve,
                     ["with a condition number of $10^{{{exponent:.0f}}}$ its residual is many orders of magnitude "
                      "larger than that of a linear solve"],
                     [lambda f: f["inv"] > 1e6 * f["solve"]]),
    "errata-002-6": (lambda: _read("07_newton", rf"f\* = (?P<fstar>{NUM}) \(damped Newton"),
                     ["has $J^\\star \\approx {fstar:.3f}$, not 0"], []),
}

# Numbers that an erratum writes which are settings of a run (the article's or a library's), not results;
# written as `_figures_written` returns them (powers of ten without braces: "10^-3").
INPUTS = {
    "errata-001-5": {"0.01"},                   # the article's learning rate alpha
    "errata-003-5": {"0.5"},                    # the article's noise level
    "errata-001-12": {"10^-6"},               # PyTorch's constant in clip_grad_norm_
    "errata-003-6": {"0.01"},                   # the article's learning rate
    "errata-000-10": {"0.01"},                  # the learning rate of the comparison
    "errata-000-12": {"0.9"},                   # beta in the example
    "errata-000-3": {"10^-3", "0.01"},        # the article's alpha and eta_0
    "errata-004-2": {"10^-3", "0.9", "0.999", "10^-8"},     # Adam's default settings
    "errata-003-3": {"0.9", "0.99"},            # RMSprop's rho: the lecture's and PyTorch's
    "errata-003-7": {"0.01"},                   # the article's learning rate
    "errata-003-8": {"0.9", "0.999"},           # the article's betas
    "errata-003-10": {"0.01"},                  # the article's shared learning rate
}


@pytest.mark.parametrize("label", sorted(FIGURES))
def test_errata_figures_match_the_runs(label):
    compute, fragments, claims = FIGURES[label]
    figures = compute()
    section = _section(label)
    for fragment in fragments:
        quoted = " ".join(fragment.format(**figures).split())
        assert quoted in section, f"{label} should say {quoted!r} (figures from the run: {figures})"
    for claim in claims:
        assert claim(figures), f"{label}: a claim does not hold for the figures of the run {figures}"


# a decimal number (16.5, 0.0948) or a power of ten (10^{-4}, 10^5), as the errata write them
FIGURE = re.compile(r"(?<![\w.])\d+\.\d+(?![\w.])|10\^\{?-?\d+\}?")


def _figures_written(text: str) -> set[str]:
    """The decimal numbers and powers of ten in a text, section numbers (§4.2, §4.4.4) aside."""
    return {m.replace("{", "").replace("}", "") for m in FIGURE.findall(re.sub(r"§\d+(?:\.\d+)*", "§", text))}


def _chapter_errata() -> list[str]:
    """The labels of the errata in the chapter sections (chapters 1 to 8, not the references)."""
    text = ERRATA.read_text(encoding="utf-8")
    chapters = text[text.index("(errata-ch1)="):text.index("(errata-references)=")]
    return re.findall(r"^\((errata-\d{3}-\d+)\)=", chapters, flags=re.MULTILINE)


def test_every_figure_of_the_errata_is_checked():
    """(1) Every confirmed-by-running erratum has a row; (2) every figure an erratum writes is a row's or an input."""
    labels = _chapter_errata()
    assert len(labels) > 40, f"only {len(labels)} errata found in the chapter sections: the layout changed"
    confirmed = {label for label in labels if "confirmed by running" in _section(label)}
    assert confirmed, "no erratum is marked 'confirmed by running': the badge changed"
    missing = sorted(confirmed - set(FIGURES))
    assert not missing, f"confirmed by running without a row in FIGURES: {missing}"
    unchecked = {}
    for label in labels:
        written = _figures_written(_section(label))
        checked = set(INPUTS.get(label, ()))
        if label in FIGURES:
            figures = FIGURES[label][0]()
            checked |= set().union(*(_figures_written(f.format(**figures)) for f in FIGURES[label][1]))
        if written - checked:
            unchecked[label] = sorted(written - checked)
    assert not unchecked, ("figures in the errata that no row of FIGURES produces and INPUTS does not declare: "
                           f"{unchecked}")


def test_inputs_and_rows_are_current():
    """Every row and every declared input belongs to an erratum of a chapter section that still writes it."""
    labels = set(_chapter_errata())
    assert set(FIGURES) <= labels, f"rows for errata that are gone: {sorted(set(FIGURES) - labels)}"
    stale = {label: sorted(inputs - _figures_written(_section(label))) if label in labels else "no such erratum"
             for label, inputs in INPUTS.items()}
    stale = {label: v for label, v in stale.items() if v}
    assert not stale, f"INPUTS that the errata no longer write: {stale}"
