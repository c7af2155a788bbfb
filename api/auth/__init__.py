"""API keys: scoped, stored hashed, created and revoked with ``zhuisu apikey``."""
