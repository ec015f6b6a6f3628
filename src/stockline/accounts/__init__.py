"""Accounts: customer logins (bulk) and staff users."""
