"""Returns of delivered units, and the credit notes that approving them issues."""
