"""The decision engine: who may see which student data, at any instant, and why (pure, no I/O).

``decide`` answers one question (one principal, one student, one dataset); the shell's set
evaluator (``steward.store.visibility``) answers "every student this principal may see" in SQL with
the same rules; property tests keep the two equal.
"""

from steward.policy.decision import Actor, Decision, Form, Obligation, ObligationKind
from steward.policy.evaluator import decide, decide_person
from steward.policy.facts import FactBase, FactLookup
from steward.policy.tenant import TenantPolicy

__all__ = [
    "Actor",
    "Decision",
    "FactBase",
    "FactLookup",
    "Form",
    "Obligation",
    "ObligationKind",
    "TenantPolicy",
    "decide",
    "decide_person",
]
