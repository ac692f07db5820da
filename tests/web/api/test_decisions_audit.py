"""The decisions API leaves a trace: every batch of decisions (allow and deny), every list of
students and every student asked for (seen or 404) is an audit event in the students' district
chain, with the outcome, the student ids and the legal basis."""

from __future__ import annotations

from steward.audit.encoding import GLOBAL_CHAIN
from tests.web.api.conftest import NOW, Api


def test_a_batch_of_decisions_is_logged_with_outcome_subjects_and_basis(api: Api) -> None:
    api.act_as("w1")
    st1, st3 = api.ids.students["st1"], api.ids.students["st3"]
    checks = [
        {"student": st1, "dataset": "attendance"},
        {"student": st1, "dataset": "discipline"},
        {"student": st3, "dataset": "attendance"},
        {"student": "d1:nobody", "dataset": "attendance"},
    ]
    response = api.client.post("/api/v1/decisions", json={"checks": checks, "at": NOW})
    assert response.status_code == 200, response.text
    events = api.events("access.decide")
    d1 = api.ids.orgs["d1"]
    allowed = [e for e in events if e["outcome"] == "allow"]
    denied = [e for e in events if e["outcome"] == "deny" and e.get("district") == d1]
    unknown = [e for e in events if e["chain"] == GLOBAL_CHAIN]
    assert len(allowed) == 1
    assert allowed[0]["district"] == d1
    assert allowed[0]["subjects"] == [str(st1)]
    assert allowed[0]["basis"] == "consent"
    assert allowed[0]["citation"] == "34 CFR 99.30"
    assert "consent:c1" in allowed[0]["evidence"]  # type: ignore[operator]
    assert allowed[0]["actor_person"] == api.ids.people["w1"]
    assert len(denied) == 1
    assert sorted(denied[0]["subjects"]) == sorted([str(st1), str(st3)])  # type: ignore[type-var]
    assert "basis" not in denied[0]
    assert denied[0]["details"] == {
        "checks": 2,
        "datasets": ["attendance", "discipline"],
        "forms": ["identifiable"],
    }
    # The unknown key is counted, never written down (it names no student of any district).
    assert [e["details"] for e in unknown] == [{"unknown_students": 1}]
    assert "subjects" not in unknown[0]


def test_the_student_list_is_logged_per_district_and_basis(api: Api) -> None:
    api.act_as("t1")
    page = api.client.get("/api/v1/students", params={"at": NOW}).json()
    assert [s["id"] for s in page["students"]] == [api.ids.students["st1"]]
    events = api.events("api.students")
    bases = {e["basis"] for e in events}
    assert "school_official" in bases
    for event in events:
        assert event["outcome"] == "allow"
        assert event["district"] == api.ids.orgs["d1"]
        assert event["subjects"] == [str(api.ids.students["st1"])]
        assert event["actor_person"] == api.ids.people["t1"]
    school = next(e for e in events if e["basis"] == "school_official")
    assert "grades" in school["details"]["datasets"]  # type: ignore[index]
    # A caller who sees nobody: one event that names nobody, in the global chain.
    api.act_as("x1")
    assert api.client.get("/api/v1/students", params={"at": NOW}).json()["students"] == []
    (empty,) = api.events("api.students")[len(events) :]
    assert empty["chain"] == GLOBAL_CHAIN
    assert empty["details"]["students"] == 0  # type: ignore[index]
    assert "subjects" not in empty


def test_one_student_seen_or_not_is_logged(api: Api) -> None:
    st1, st3 = api.ids.students["st1"], api.ids.students["st3"]
    api.act_as("t1")
    assert api.client.get(f"/api/v1/students/{st1}", params={"at": NOW}).status_code == 200
    seen = api.events("api.student")
    assert seen
    assert {e["outcome"] for e in seen} == {"allow"}
    assert {e["basis"] for e in seen} >= {"school_official"}
    assert all(e["subjects"] == [str(st1)] for e in seen)
    # A student the teacher may not see: the same 404 as no student at all, and a denied event in
    # the student's own district chain (read by its officers only).
    hidden = api.client.get(f"/api/v1/students/{st3}", params={"at": NOW})
    missing = api.client.get("/api/v1/students/999999", params={"at": NOW})
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json() == {"detail": "no such student"}
    denied = [e for e in api.events("api.student") if e["outcome"] == "deny"]
    assert [(e["chain"], e["subjects"]) for e in denied] == [
        (f"district:{api.ids.orgs['d1']}", [str(st3)]),
        (GLOBAL_CHAIN, ["999999"]),
    ]
