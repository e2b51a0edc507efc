"""Shared test support: the installed command, real Hermes releases."""
