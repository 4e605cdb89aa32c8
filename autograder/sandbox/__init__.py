"""The grader's side of the worker: the limits (:mod:`.limits`), bubblewrap and the
isolation in force (:mod:`.bubblewrap`), Landlock, seccomp, capabilities and cgroups
(:mod:`.confinement`), the worker as a subject (:mod:`.subject`), the reference helpers
served to it (:mod:`.served`) and which of them it may not have (:mod:`.refusals`). It
never imports the grading engine."""
