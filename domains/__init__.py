"""Domain plug-ins, installed as ``srmzoo.domains``.

Each domain (math, coding, science, healthcare) lives in a subpackage and registers itself with the core's
registry (:mod:`srmzoo.registry`); the core never imports a domain by name.
"""
