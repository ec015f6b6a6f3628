"""A customer's account: balance, credit limit, exposure and payment terms."""
