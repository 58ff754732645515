"""Writes of the integrations app: connections, ad accounts, launches, metric syncs."""
