"""The shared kernel: the few small pieces every domain uses (money, the business day and
shelf life, the signed-in user, the catalog's version). It imports no domain, so domains
can depend on it without depending on each other."""
