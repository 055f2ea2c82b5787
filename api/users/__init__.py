"""Accounts: registration, tokens, the signed-in user, admins."""
