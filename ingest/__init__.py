"""Ingest adapters: sources in, canonical records out."""

from zhuisu.ingest.records import Batch, Edge, Node
from zhuisu.ingest.registry import adapters, detect, get, plan, register

__all__ = ["Batch", "Edge", "Node", "adapters", "detect", "get", "plan", "register"]
