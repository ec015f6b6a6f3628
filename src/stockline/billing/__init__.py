"""The money side after the sale: invoices, payments, credit limits, returns and credit notes."""
