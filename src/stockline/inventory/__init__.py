"""Inventory: batches, the expiry rule, FEFO allocation and the stock ledger. Nothing outside
this package changes quantity_on_hand."""
