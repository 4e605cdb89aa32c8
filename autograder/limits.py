"""The default limits of a worker: the one place they are written (CLI, Gradescope and sandbox use them)."""

TIMEOUT = 10.0        # CPU seconds for loading a submission and for each exercise (code that waits: 10x in wall-clock time)
MEMORY_MB = 2048      # address-space limit of the worker, in MB
TMP_MB = 100          # size of the worker's private /tmp under bubblewrap (a tmpfs: its files live in memory)
