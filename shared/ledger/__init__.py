"""The ledger (台账): the interchange format, import, export and synthetic ledgers."""
