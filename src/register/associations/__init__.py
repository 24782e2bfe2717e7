"""The association chart around one record: the people linked to it by shared addresses, vehicles,
telephone numbers, online identities, named associates and co-offending,
up to two levels deep (docs/associations.md)."""
