"""Pricing: THE rule that turns a base price, a customer, a quantity and a date into a price.
Catalog, cart, checkout and the seed's order history all use it."""
