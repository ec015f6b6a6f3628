"""Ordering: carts, checkout, direct orders and the order lifecycle."""
