"""Step 3 of the seed procedure: `python scripts/create_customer_users.py --password Customer@123`.

A thin entry point for `stockline users create-customer-logins` (logic: stockline.accounts).
"""

import sys

from stockline.cli import main

if __name__ == "__main__":
    sys.exit(main(["users", "create-customer-logins", *sys.argv[1:]]))
