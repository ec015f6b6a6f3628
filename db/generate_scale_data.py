"""Step 2 of the seed procedure: `python db/generate_scale_data.py`.

A thin entry point: sizes come from SCALE_CUSTOMERS, SCALE_PRODUCTS, SCALE_SKUS,
SCALE_BATCHES (and CHUNK_SIZE / SCALE_CHUNK_SIZE, SCALE_APPEND, SCALE_SEED,
SCALE_PRICING_RULES, SCALE_ORDERS); the generator is `stockline.seeding` (`stockline seed`).
"""

import sys

from stockline.cli import main

if __name__ == "__main__":
    sys.exit(main(["seed", *sys.argv[1:]]))
