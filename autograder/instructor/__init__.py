"""The instructor's tools, on top of the grader: a class in a batch (:mod:`.batch`), a
regrade's changes (:mod:`.regrade`), the gradebook (:mod:`.gradebook`), the late policy
(:mod:`.late`), reports (:mod:`.report`, :mod:`.html_report`, :mod:`.class_report`),
similar submissions (:mod:`.similarity`) and the Gradescope zip (:mod:`.gradescope`)."""
