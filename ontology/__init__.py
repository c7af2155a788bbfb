"""Production ontology: Turtle source, SHACL shapes and the Python view derived from them."""

from zhuisu.ontology.model import CONTEXT, MATERIAL, ZS, Kind, Ontology, Relation, load

__all__ = ["CONTEXT", "MATERIAL", "ZS", "Kind", "Ontology", "Relation", "load"]
