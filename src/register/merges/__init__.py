"""Finding duplicate records, merging them and undoing a merge."""
