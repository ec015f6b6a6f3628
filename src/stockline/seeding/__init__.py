"""Scale-data generation: the seed procedure's customers, products, SKUs and batches (plus
optional pricing rules and order history), loaded with COPY."""
