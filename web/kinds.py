"""Colours and labels of the ontology's kinds, one colour per family so that a subclass looks like its parent."""

from __future__ import annotations

from zhuisu.ontology.model import Ontology

# Families of zhuisu.ttl (a kind takes the colour of its nearest listed ancestor); chosen to stay apart for
# the common forms of colour blindness, with the material flow in warm colours and its context in cool ones.
COLOURS = {
    "SerialUnit": "#d62728", "MaterialLot": "#ff7f0e", "LogisticUnit": "#e6a700", "TraceableItem": "#ff7f0e",
    "Operation": "#d2a679", "Supplier": "#2ca02c", "Customer": "#17becf", "Party": "#2ca02c",
    "Shipment": "#9467bd", "Equipment": "#1f77b4", "Operator": "#7f7f7f", "Tool": "#bcbd22",
    "Shift": "#c5b0d5", "WorkOrder": "#aec7e8", "ProcessParameter": "#98df8a", "Inspection": "#ff9896",
    "Defect": "#a50f15", "Complaint": "#e377c2", "Alarm": "#fb6a4a", "MaintenanceOrder": "#6baed6",
    "MaterialDefinition": "#fdd0a2", "PurchaseOrder": "#c49c94", "Location": "#dbdb8d",
}
OTHER = "#b0b0b0"
SHAPES = {"Operation": "box", "Equipment": "diamond", "Supplier": "triangle", "Customer": "star",
          "Shipment": "square", "Operator": "ellipse", "Tool": "hexagon"}


def colour(onto: Ontology, kind: str) -> str:
    """The colour of ``kind``: its own, or its nearest coloured ancestor's."""
    for name in onto.kinds[kind].ancestors if kind in onto.kinds else (kind,):
        if name in COLOURS:
            return COLOURS[name]
    return OTHER


def shape(onto: Ontology, kind: str) -> str:
    for name in onto.kinds[kind].ancestors if kind in onto.kinds else (kind,):
        if name in SHAPES:
            return SHAPES[name]
    return "dot"


def label(onto: Ontology, kind: str, lang: str) -> str:
    """The kind's label in ``lang`` (its name when the ontology does not know it)."""
    found = onto.kinds.get(kind)
    if found is None:
        return kind
    return found.label_zh if lang == "zh" else found.label_en
