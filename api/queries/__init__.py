"""Reading the graph: trace, containment and paths, presented from the query functions' typed results."""
