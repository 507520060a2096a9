"""A class on one server: a namespace per learner on shared engines, kept apart by the engines.

- :mod:`.roster`: the class's learners, from the instructor's roster file.
- :mod:`.namespace`: a learner's names (``<learner>.crypto-prices``, …) and the prefixes their
  rights cover; the ``class`` profile (:mod:`dataops.profiles.classroom`) gives a learner's
  pipeline those names by itself.
- :mod:`.broker`: the class's Kafka broker (``kafka-class``): SCRAM users, prefixed ACLs, an
  administrator's listener of its own.
- :mod:`.access`: a learner's Kafka user and rights granted, revoked, reset; the room's status.
- :mod:`.cli`: ``dataops class up|status|reset|down``.
"""
