"""The default limits of a worker: the one place they are written (CLI, Gradescope and sandbox use them)."""

TIMEOUT = 10.0        # CPU seconds for loading a submission and for each exercise (code that waits: 10x in wall-clock time)
SUBMISSION_TIMEOUT = 300.0   # wall-clock seconds for a whole submission: loading and every exercise (a sleeping one stops there)
MEMORY_MB = 2048      # address-space limit of the worker, in MB
TMP_MB = 100          # size of the worker's private /tmp under bubblewrap (a tmpfs: its files live in memory)
