"""The hidden grading cases: one module per block, in the instructor's edition only.

``dataops release`` leaves this package out of the learner's edition, where each self-check judges
on its block's visible formative cases (:mod:`dataops.course.cases`).
"""
