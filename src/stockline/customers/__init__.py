"""Customers and their users, as the back office manages them."""
