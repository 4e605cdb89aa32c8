"""The grader's side of the worker: the limits (:mod:`.limits`); the isolation, bubblewrap
(:mod:`.bubblewrap`) or Landlock, seccomp, capabilities and cgroups (:mod:`.confinement`);
the process, started, confined and killed (:mod:`.process`); the pipes, framed and
deadline-bounded (:mod:`.channel`); the conversation within budgets (:mod:`.conversation`);
the worker as a subject of the graded tests (:mod:`.subject`); the reference helpers served
to it (:mod:`.served`), stopped in time (:mod:`.bounded`), and which it may not have
(:mod:`.refusals`); one CPU for the grader and its worker (:mod:`.cpus`). It never imports
the grading engine."""
