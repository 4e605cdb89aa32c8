"""Reference library of the course *Optimizing Loss Functions*.

Small, pure numpy functions, one module per chapter:

========================  ======================================================
module                    chapter
========================  ======================================================
:mod:`solutions.losses`            1. Loss functions
:mod:`solutions.gradient_descent`  2. Gradient descent
:mod:`solutions.sgd`               3. Stochastic and mini-batch gradient descent
:mod:`solutions.momentum`          4. Momentum and Nesterov
:mod:`solutions.adaptive`          5. Adaptive methods
:mod:`solutions.backprop`          6. Backpropagation
:mod:`solutions.newton`            7. Newton's method
========================  ======================================================

:mod:`solutions.common` holds what every chapter shares (the optimiser driver, test
problems, the source articles' datasets) and :mod:`solutions.plotting` the figures.
"""
