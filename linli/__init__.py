"""Linli (邻里): digital community governance."""

__version__ = "0.1.0"
