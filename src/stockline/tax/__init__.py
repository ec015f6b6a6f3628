"""Tax: classes, their dated rates, and the tax of a line."""
