"""What runs inside the sandbox: the worker process (:mod:`.main`), its end of the pipes
(:mod:`.channel`), the façades of ``solutions`` and ``autograder`` (:mod:`.facades`), what
submitted code may not do (:mod:`.forbidden`), loading and the exercises' children
(:mod:`.exercises`), the one way submitted code is called (:mod:`.calling`) and the plain
data that crosses the pipes (:mod:`.plain`).

The sandbox is given this folder as the package ``olfworker``: its modules import only
each other, numpy and the standard library (``tests/grader/test_architecture.py``).
"""
