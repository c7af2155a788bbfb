"""追溯 zhuisu: knowledge-graph traceability for manufacturing plants."""

__version__ = "0.1.0"
