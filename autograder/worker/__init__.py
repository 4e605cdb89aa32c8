"""What runs inside the sandbox: the worker process (:mod:`.main`), the one way submitted
code is called (:mod:`.calling`) and the plain data that crosses the pipe (:mod:`.plain`).

The sandbox is given this folder as the package ``olfworker``: its modules import only
each other, numpy and the standard library (``tests/grader/test_architecture.py``).
"""
