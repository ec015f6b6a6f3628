"""Reporting: the dashboard figures and the stock and sales reports staff read."""
