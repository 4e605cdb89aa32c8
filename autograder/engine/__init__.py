"""The grading model, in one process: exercises, their tests and known mistakes
(:mod:`.registry`), how a scenario calls a subject (:mod:`.namespace`), what differs
between two results (:mod:`.compare`), grading a test and naming the mistake
(:mod:`.diagnosis`), questions answered by a literal (:mod:`.questions`) and who sees
a result when (:mod:`.visibility`). It never imports the sandbox."""
