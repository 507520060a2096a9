"""The profile registry: which object serves each layer, and every question that differs by
how the pipeline runs (:class:`~dataops.profiles.base.Profile`).

``local`` (:mod:`.local`), ``confluent`` (:mod:`.confluent`) and ``class`` (:mod:`.classroom`) are registrations, made when
``dataops`` is imported; a third is one more module calling :func:`register`. This package's
``__init__`` stays at the bottom of the library (settings import it); the registrations sit above
the layers they build.
"""

from dataops.profiles.base import KAFKA_SECURITY, LAYERS, RESOURCES, SAMPLED, Builder, Profile, Unavailable, get, names, register

__all__ = ["KAFKA_SECURITY", "LAYERS", "RESOURCES", "SAMPLED", "Builder", "Profile", "Unavailable", "get", "names", "register"]
