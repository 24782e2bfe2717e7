"""Photographs of the people on the register: uploads judged by content, re-encoded, sealed, and audited
views."""
