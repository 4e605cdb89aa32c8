"""Grading keeps the grader and its worker on one CPU (:func:`autograder.sandbox.cpus.one_cpu`):
a call crosses between the two processes thousands of times a submission, and each
crossing between CPUs costs a wake-up. A batch gives each job a CPU of its own."""
import multiprocessing
import os
import re

import pytest

from autograder.sandbox import subject as sandbox
from autograder.instructor.batch import _bind_job
from autograder.framework import load_exercises, select
from autograder.grade import grade_submission
from autograder.sandbox.refusals import Refusals
from autograder.sandbox.cpus import current_cpu, one_cpu
from autograder.sandbox.limits import Limits

CPUS = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
pytestmark = pytest.mark.skipif(len(CPUS) < 2, reason="needs two CPUs")

PRINTS_ITS_CPUS = '''
import os

def mse_loss(y_pred, y):
    print("CPUS", sorted(os.sched_getaffinity(0)))
    return 0.0
'''


def printed_cpus(report) -> set:
    return {tuple(int(c) for c in found.split(",")) for found in re.findall(r"CPUS \[([\d, ]+)\]", " ".join(report.notes))}


def test_the_worker_follows_the_grader_to_its_cpu():
    """A worker started on every CPU (as one started ahead of time) moves to the grader's one."""
    import numpy as np

    from autograder.engine.namespace import Namespace
    from autograder.engine.registry import EXERCISES
    load_exercises()
    with sandbox.WorkerSubject([("s.py", "s.py", PRINTS_ITS_CPUS)], {"mse_loss": "solutions.losses"}, Limits(),
                                refusals=Refusals()) as worker:
        worker.start()
        with one_cpu(CPUS[-1]):
            worker.begin_exercise("ex1_1")
            Namespace(worker, EXERCISES["ex1_1"]).mse_loss(np.zeros(2), np.ones(2))
            printed = worker.printed()[1]
    assert printed == f"CPUS [{CPUS[-1]}]\n", printed
    assert sorted(os.sched_getaffinity(0)) == CPUS


def test_grading_takes_one_cpu_and_gives_the_others_back(tmp_path):
    path = tmp_path / "submission.py"
    path.write_text(PRINTS_ITS_CPUS, encoding="utf-8")
    report = grade_submission(path, select(load_exercises(), ["ex1_1"]), seed=0, limits=Limits())
    seen = printed_cpus(report)
    assert len(seen) == 1 and len(next(iter(seen))) == 1, report.notes
    assert sorted(os.sched_getaffinity(0)) == CPUS
    assert current_cpu() in CPUS


def test_each_batch_job_takes_a_cpu_of_its_own():
    counter = multiprocessing.get_context("fork").Value("i", 0)
    try:
        taken = []
        for _ in CPUS:                                    # each job is a process that starts on every CPU
            os.sched_setaffinity(0, CPUS)
            _bind_job(counter, len(CPUS))
            taken.append(sorted(os.sched_getaffinity(0)))
        assert taken == [[c] for c in CPUS]
        os.sched_setaffinity(0, CPUS)
        _bind_job(counter, len(CPUS) + 1)                 # more jobs than CPUs: the jobs share them all
        assert sorted(os.sched_getaffinity(0)) == CPUS
    finally:
        os.sched_setaffinity(0, CPUS)
