"""Analyses over the graph: root-cause ranking, similar units, containment, and the maintenance assistant."""
