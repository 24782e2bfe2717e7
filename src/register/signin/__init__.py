"""Signing in to the web pages and out again: the audit events of a web session's life."""
