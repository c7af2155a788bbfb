"""Root-cause analysis: commonality statistics over the graph, similar units, containment and the 8D report."""

from zhuisu.rca.analysis import rca
from zhuisu.rca.containment import contain
from zhuisu.rca.export import write_containment
from zhuisu.rca.report import report
from zhuisu.rca.results import Candidate, Containment, RcaResult, Similar
from zhuisu.rca.similar import similar
from zhuisu.rca.stats import Guards

__all__ = ["Candidate", "Containment", "Guards", "RcaResult", "Similar", "contain", "rca", "report", "similar",
           "write_containment"]
