"""The REST API (FastAPI): ``create_app(store=...)`` in :mod:`zhuisu.api.app`, served by ``zhuisu serve``.

Organised by domain, each with the same few modules (``models``, ``service``, ``views``): ``ingest``,
``queries``, ``analysis``, ``entities``, ``epcis`` (the GS1 EPCIS 2.0 REST binding) and ``auth``; errors are
problem+json (:mod:`zhuisu.api.errors`). docs/api.md describes it.
"""
