"""The default limits of a worker: the one place they are written (CLI, Gradescope and sandbox use them)."""

TIMEOUT = 10.0        # wall-clock seconds for loading a submission and for each exercise
MEMORY_MB = 2048      # address-space limit of the worker, in MB
