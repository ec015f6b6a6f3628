"""Authentication: passwords, tokens, current-user dependencies and roles."""
