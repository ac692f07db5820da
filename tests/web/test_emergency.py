"""Break-glass page: the district's data officer records an emergency with a form, sees it in the
list and ends it; a refusal re-renders the form with the reason; other roles get 403."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.domain.datasets import Dataset
from steward.store.access import check
from steward.store.base import now_utc
from steward.web.deps import verify_csrf
from steward.workflow.models import Emergency
from tests.web.api.conftest import Api
from tests.web.api.conftest import api as api

THREAT = "Bomb threat naming the class of the student; police asked for the class roster and contacts."


def test_officer_records_lists_and_ends_an_emergency(api: Api) -> None:
    api.app.dependency_overrides[verify_csrf] = lambda: None
    api.act_as("o1")
    page = api.client.get("/emergencies")
    assert page.status_code == 200
    assert "No emergency has been recorded" in page.text
    assert "24 hours" in page.text
    form = {"student": "d1:st1", "threat": THREAT, "recipients": "police"}
    done = api.client.post("/emergencies", data=form, follow_redirects=False)
    assert done.status_code == 303
    shown = api.client.get(done.headers["location"])
    assert "recorded" in shown.text
    assert THREAT in shown.text
    assert "in force" in shown.text
    officer, st1 = api.ids.people["o1"], api.ids.students["st1"]
    with Session(api.engine) as db:
        row = db.scalars(select(Emergency)).one()
        assert check(db, officer, st1, Dataset.PROGRAMS, now_utc() + timedelta(minutes=1)).allowed
    (event,) = api.events("break_glass")
    assert event["details"]["threat"] == THREAT  # type: ignore[index]
    ended = api.client.post(f"/emergencies/{row.id}/end", follow_redirects=False)
    assert ended.status_code == 303
    assert "ended" in api.client.get("/emergencies").text
    with Session(api.engine) as db:
        assert not check(db, officer, st1, Dataset.PROGRAMS, now_utc() + timedelta(minutes=1)).allowed


def test_bad_input_is_shown_with_the_form_kept(api: Api) -> None:
    api.app.dependency_overrides[verify_csrf] = lambda: None
    api.act_as("o1")
    empty = api.client.post("/emergencies", data={"student": "d1:st1", "threat": "  ", "recipients": "x"})
    assert empty.status_code == 422
    assert "threat" in empty.text
    assert 'value="d1:st1"' in empty.text
    unknown = api.client.post("/emergencies", data={"student": "d1:nobody", "threat": THREAT})
    assert unknown.status_code == 404
    assert "No student" in unknown.text
    assert api.client.post("/emergencies/999/end").status_code == 404
    assert api.events("break_glass") == []


def test_other_roles_cannot_use_the_page(api: Api) -> None:
    api.app.dependency_overrides[verify_csrf] = lambda: None
    for person in ("t1", "w1", "p1", "r2"):
        api.act_as(person)
        assert api.client.get("/emergencies").status_code == 403
        assert (
            api.client.post("/emergencies", data={"student": "d1:st1", "threat": THREAT}).status_code == 403
        )
    with Session(api.engine) as db:
        assert db.scalars(select(Emergency)).all() == []
