"""Backup and restore of the whole register: database, key bundle (wrapped for the operator), audit anchors
and a manifest (`register backup`, `register restore`; docs/operations.md, "Backup and restore")."""
