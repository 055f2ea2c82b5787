"""The audit trail: who changed what in the catalog and the accounts, and when."""
