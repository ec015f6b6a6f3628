"""Adapters that let other systems' clients use Stockline unchanged (top layer, like web)."""
