"""Stockline: B2B ordering and batch inventory with FEFO allocation."""

__version__ = "0.1.0"
