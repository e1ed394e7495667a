"""The bench server: one Django project serving every configuration of :mod:`bench.configs`."""
