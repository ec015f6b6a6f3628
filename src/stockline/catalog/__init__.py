"""The catalog: active SKUs with their stock figures and the caller's prices."""
