"""Figures shared by the chapters: trajectories on contours, loss curves.

Every function draws on a given (or new) matplotlib ``Axes`` and returns it, so a
lesson can compose panels with ``plt.subplots`` and stays deterministic.
"""
from __future__ import annotations

from typing import Callable, Mapping

import numpy as np

__all__ = ["contour", "plot_trajectories", "plot_losses"]


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(6, 4))
    return ax


def contour(f: Callable[[np.ndarray], float], xlim, ylim, *, ax=None, levels=20,
            log: bool = False, n: int = 200):
    """Draw the level sets of a function of two variables.

    Parameters
    ----------
    f : callable
        ``f(theta) -> float`` for ``theta`` of shape (2,).
    xlim, ylim : (float, float)
        The window.
    levels : int or sequence
        Passed to :meth:`matplotlib.axes.Axes.contour`.
    log : bool
        Space the levels logarithmically (for functions such as Rosenbrock's).
    """
    ax = _axes(ax)
    xs, ys = np.linspace(*xlim, n), np.linspace(*ylim, n)
    X, Y = np.meshgrid(xs, ys)
    Z = np.array([[f(np.array([x, y])) for x in xs] for y in ys])
    if log:
        Z = np.log10(Z - Z.min() + 1e-3)
    ax.contour(X, Y, Z, levels=levels, cmap="viridis", linewidths=0.8)
    ax.set_xlabel(r"$\theta_1$")
    ax.set_ylabel(r"$\theta_2$")
    return ax


def plot_trajectories(trajectories: Mapping[str, np.ndarray], *, f=None, xlim=None, ylim=None,
                      ax=None, log: bool = False, markers: bool = True):
    """Draw 2-D optimiser paths, optionally over the contours of ``f``.

    Parameters
    ----------
    trajectories : mapping label -> array of shape (steps + 1, 2)
        The iterates (``Trajectory.params``) of each run.
    f : callable, optional
        The objective; its contours are drawn in ``xlim`` x ``ylim``.
    """
    ax = _axes(ax)
    if f is not None:
        contour(f, xlim, ylim, ax=ax, log=log)
    for label, path in trajectories.items():
        path = np.asarray(path)
        ax.plot(path[:, 0], path[:, 1], "o-" if markers else "-", ms=2.5, lw=1.2, label=label)
    if xlim is not None:
        ax.set_xlim(*xlim)
        ax.set_ylim(*ylim)
    ax.legend(fontsize=8)
    return ax


def plot_losses(curves: Mapping[str, np.ndarray], *, x=None, ax=None, log: bool = True,
                xlabel: str = "step", ylabel: str = "loss"):
    """Draw loss curves (``Trajectory.losses``) side by side, on a log scale by default.

    Parameters
    ----------
    curves : mapping label -> array of shape (k,)
    x : mapping label -> array, optional
        The abscissa of each curve (e.g. gradient evaluations); default ``0..k-1``.
    """
    ax = _axes(ax)
    for label, y in curves.items():
        y = np.asarray(y, dtype=float)
        xs = np.arange(len(y)) if x is None else np.asarray(x[label])
        ax.plot(xs, y, label=label)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8)
    return ax
