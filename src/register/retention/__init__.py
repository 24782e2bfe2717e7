"""Retention of archived records: reviews, legal holds, scheduled disposal, and erasure of single items."""
