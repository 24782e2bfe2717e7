"""Search: the index documents, the indexer that keeps Elasticsearch true to the database, and (with the rest
of the search issue) the query model and its two backends. Index definitions are data in the top-level
`search/` folder."""
