"""Denials no consent or agreement overrides: marketing, resale, employers, commercial use or data
mining (P2, SPS), and the media, whose requests go to the communications office (ODA-03)."""

from __future__ import annotations

from steward.domain.orgs import OrgKind, Role
from steward.policy.facts import HARD_DENY_FLAGS, HARD_DENY_PURPOSES
from steward.policy.rules.common import Ask, Deny, actor_org


def hard_deny(ask: Ask) -> Deny | None:
    org = actor_org(ask)
    reasons: list[str] = []
    if ask.actor.role is Role.MEDIA or (org is not None and org.kind is OrgKind.MEDIA):
        reasons.append("the media receive no student data; media requests go to the communications office")
    if org is not None:
        for flag in sorted(org.flags):
            if flag in HARD_DENY_FLAGS:
                reasons.append(
                    f"{org.code} is flagged for {HARD_DENY_FLAGS[flag]}: "
                    "never, whatever the consent or agreement"
                )
    purpose = ask.purpose.strip().lower()
    if purpose in HARD_DENY_PURPOSES:
        reasons.append(f"student data are never disclosed for {HARD_DENY_PURPOSES[purpose]}")
    return Deny("hard_deny", tuple(reasons)) if reasons else None
