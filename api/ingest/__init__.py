"""Writing into the graph: canonical batches, table uploads and maintenance notes."""
