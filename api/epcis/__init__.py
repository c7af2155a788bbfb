"""The GS1 EPCIS 2.0 REST binding at ``/epcis``: capture (jobs), single events, and the events query."""
