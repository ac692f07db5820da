"""Transfer pages through the real app: a registrar requests and receives, the sending officer reviews
near matches and reads the log; nobody else reaches any of it (404)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pyrage
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from steward.accounts.service import create_account
from steward.config import Settings
from steward.store.db import transaction
from steward.store.models import Organization, Person
from steward.web.app import create_app
from steward.workflow.transfers.models import TransferRequest
from steward.workflow.transfers.service import request_records
from tests import factories as f
from tests.delivery.conftest import untar
from tests.workflow.transfers.region import World, ask_for, generate_region, home_student, make_world


@pytest.fixture(scope="module")
def region_drops(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, tuple[str, str]]:
    return generate_region(tmp_path_factory.mktemp("region"))


@pytest.fixture
def engine(sqlite_engine: Engine) -> Engine:
    """The pages' storage is the transfer service's, tested on both backends there."""
    return sqlite_engine


@pytest.fixture
def world(engine: Engine, tmp_path: Path, region_drops: tuple[Path, tuple[str, str]]) -> World:
    made = make_world(engine, tmp_path, *region_drops)
    with transaction(engine) as db:
        for principal in (made.registrar, made.officer_home, made.officer_other):
            person = db.get(Person, principal.person_id)
            assert person is not None
            create_account(db, person, principal.person_code, "pass phrase")
    return made


@pytest.fixture
def client(engine: Engine, world: World) -> Iterator[TestClient]:
    settings = Settings(
        database_url=str(engine.url), secret_key="test-secret", data_dir=world.data_dir, mfa_required_roles=[]
    )
    with TestClient(create_app(settings, engine)) as test_client:
        yield test_client


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


def _sign_in(client: TestClient, username: str) -> None:
    client.cookies.clear()
    page = client.get("/login")
    done = client.post(
        "/login",
        data={"username": username, "password": "pass phrase", "csrf_token": _csrf(page.text), "next": "/"},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text


def test_registrar_requests_and_receives_then_the_officer_sees_the_log(
    engine: Engine, world: World, client: TestClient
) -> None:
    student = home_student(engine, world)
    _sign_in(client, "reg-b")
    home = client.get("/")
    assert 'href="/transfers"' in home.text
    page = client.get("/transfers")
    assert page.status_code == 200
    ask = ask_for(student)
    made = client.post(
        "/transfers",
        data={
            "csrf_token": _csrf(page.text),
            "state_id": ask.state_id,
            "first_name": ask.first_name,
            "last_name": ask.last_name,
            "birth_date": ask.birth_date.isoformat(),
        },
        follow_redirects=False,
    )
    assert made.status_code == 303
    status_page = client.get(made.headers["location"])
    assert "Records ready to receive" in status_page.text
    request_id = int(made.headers["location"].rsplit("/", 1)[1])
    got = client.post(f"/transfers/{request_id}/receive", data={"csrf_token": _csrf(status_page.text)})
    assert got.status_code == 200
    assert got.headers["content-disposition"].startswith("attachment;")
    members = untar(pyrage.decrypt(got.content, [world.identity]))
    assert any(student.local_id.encode() in v for k, v in members.items() if "DistrictStudent" in k)
    again = client.post(f"/transfers/{request_id}/receive", data={"csrf_token": _csrf(status_page.text)})
    assert again.status_code == 404
    assert "Records received" in client.get(f"/transfers/{request_id}").text

    _sign_in(client, "officer-a")
    log = client.get("/transfers", follow_redirects=True)
    assert "Transfer log" in log.text
    assert student.local_id in log.text
    assert client.get(f"/transfers/{request_id}").status_code == 200

    _sign_in(client, "officer-b")  # the receiving district's officer sees its own request, no log line
    assert student.local_id not in client.get("/transfers/log").text


def test_bad_input_is_shown_on_the_form(engine: Engine, world: World, client: TestClient) -> None:
    _sign_in(client, "reg-b")
    page = client.get("/transfers")
    bad = client.post(
        "/transfers",
        data={
            "csrf_token": _csrf(page.text),
            "state_id": "",
            "first_name": "A",
            "last_name": "B",
            "birth_date": "x",
        },
    )
    assert bad.status_code == 422
    assert "birth date must be a date" in bad.text
    upload = client.post(
        "/transfers/bulk",
        data={"csrf_token": _csrf(page.text)},
        files={"incoming": ("list.csv", b"state_id,first_name\n1,A\n", "text/csv")},
    )
    assert upload.status_code == 422
    assert "header lacks" in upload.text


def test_near_match_review_and_bulk_upload(engine: Engine, world: World, client: TestClient) -> None:
    students = [home_student(engine, world, index=i) for i in range(3)]
    rows = ["state_id,first_name,last_name,birth_date"]
    rows += [f"{s.state_id},{s.first_name},{s.last_name},{s.birth_date.isoformat()}" for s in students[:2]]
    typo = students[2]
    rows.append(f"{typo.state_id},{typo.first_name}q,{typo.last_name},{typo.birth_date.isoformat()}")
    _sign_in(client, "reg-b")
    page = client.get("/transfers")
    done = client.post(
        "/transfers/bulk",
        data={"csrf_token": _csrf(page.text)},
        files={"incoming": ("incoming.csv", "\n".join(rows).encode(), "text/csv")},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    batch = client.get(done.headers["location"])
    assert batch.text.count("Records ready to receive") == 2
    assert "Waiting for an identity check" in batch.text
    assert typo.local_id not in batch.text  # the registrar never sees candidates

    _sign_in(client, "officer-b")
    assert client.get("/transfers/queue").text.count('data-testid="queue-item"') == 0
    _sign_in(client, "officer-a")
    queue = client.get("/transfers/queue")
    assert typo.local_id in queue.text
    assert "name: 1 letter differ" in queue.text
    action = re.search(r'action="(/transfers/\d+/candidates/\d+/confirm)"', queue.text)
    assert action
    confirmed = client.post(action.group(1), data={"csrf_token": _csrf(queue.text)}, follow_redirects=False)
    assert confirmed.status_code == 303
    with Session(engine) as db:
        request = db.scalar(select(TransferRequest).where(TransferRequest.student_id == typo.id))
        assert request is not None
        assert request.status == "delivered"
        assert request.match_kind == "confirmed"


def test_others_get_404(engine: Engine, world: World, client: TestClient) -> None:
    with transaction(engine) as db:
        request_id = request_records(
            db, world.data_dir, world.registrar, ask_for(home_student(engine, world))
        ).id
        home = db.get(Organization, world.home)
        assert home is not None
        create_account(db, f.person(db, "tea", "teacher", home), "tea", "pass phrase")
    _sign_in(client, "tea")
    page = client.get("/")
    for path in ("/transfers", f"/transfers/{request_id}", "/transfers/queue", "/transfers/log"):
        assert client.get(path).status_code == 404, path
    assert (
        client.post(f"/transfers/{request_id}/receive", data={"csrf_token": _csrf(page.text)}).status_code
        == 404
    )
    _sign_in(client, "officer-b")
    page = client.get("/transfers/log")
    assert client.get(f"/transfers/{request_id + 1000}").status_code == 404
    assert (
        client.post(f"/transfers/{request_id}/receive", data={"csrf_token": _csrf(page.text)}).status_code
        == 404
    )
    client.cookies.clear()
    assert client.get("/transfers", follow_redirects=False).status_code == 303
