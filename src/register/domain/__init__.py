"""The domain: the record, its rules and its vocabularies. Pure Python: no database, no HTTP, no files."""
