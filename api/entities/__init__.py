"""Finding nodes: lookup by uid or alias, search over uids, names and aliases, and the ontology's vocabulary."""
