"""liaison's common package: settings, database, ORM tables, ledger I/O, masking, errors.

Nothing in this package connects to anything at import time.
"""
