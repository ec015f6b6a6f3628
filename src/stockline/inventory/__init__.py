"""Inventory: batches and their stock. `ledger` is the one module that changes
quantity_on_hand (with the SQL functions it names, which placing an order shares);
`allocation` holds first-expiry-first-out; `batches/` receives, adjusts, writes off and
corrects batches, `stock/` shows stock and the ledger to staff, `entry/` reads stock
receipts typed in plain words."""
