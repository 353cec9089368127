"""CSV/XLSX import of customers, invoices and payments, through the ledger's own services.

reader -> Table (every cell as text), mapping -> which of their columns feeds which of our
fields, parsing -> typed values or row errors, importers -> database-aware checks and the
upserts by external id, services -> the all-or-nothing run and the ImportJob around it."""
