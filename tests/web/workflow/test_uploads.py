"""Workflow uploads go through ``steward.web.security.check_stream``: size, extension, declared type
and content must agree; names are made safe; a refused file is named on the page, nothing stored."""

from __future__ import annotations

import html

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from steward.store.db import transaction
from steward.workflow.agreements import service as agreements
from steward.workflow.agreements.models import AgreementSignature
from steward.workflow.consents.bulk import COLUMNS
from steward.workflow.consents.models import ConsentUpload
from steward.workflow.models import Consent
from tests.web.workflow.conftest import sign_in
from tests.workflow.conftest import YEAR, World
from tests.workflow.helpers import PDF, today


def _consent_form(token: str, w: World) -> dict[str, str]:
    return {
        "csrf_token": token,
        "district_id": str(w.district),
        "school_year": str(YEAR),
        "datasets": "attendance",
        "purpose": "tutoring",
    }


def test_consent_uploads_are_checked_by_type_and_content(
    app_client: TestClient, sqlite_engine: Engine, web_world: World
) -> None:
    token = sign_in(app_client, "partner")
    listing = (",".join(COLUMNS) + "\n1,a,b,2014-01-01,,c,2026-01-01,\n").encode()
    csv_list = ("list.csv", listing, "text/csv")
    cases = [
        # a scanned form whose content is not what its name says (an HTML page saved as .pdf)
        (
            {"student_list": csv_list, "forms": ("form.pdf", b"<html>", "application/pdf")},
            "form.pdf: the content is not a PDF",
        ),
        # a PDF declared as a web page
        (
            {"student_list": csv_list, "forms": ("form.pdf", PDF, "text/html")},
            "form.pdf: declared as text/html",
        ),
        # a list with a NUL byte, and a list in a format the intake does not read
        (
            {"student_list": ("list.csv", listing + b"\x00", "text/csv")},
            "list.csv: a CSV file must not contain NUL",
        ),
        (
            {"student_list": ("list.ods", b"PK\x03\x04", "application/octet-stream")},
            "list.ods: only .csv, .xlsx",
        ),
        # a directory part and a hidden name are dropped from what the page shows
        (
            {"student_list": ("../../.list.xlsx", b"<xml/>", "application/octet-stream")},
            "list.xlsx: the content is not a Excel workbook",
        ),
    ]
    for files, message in cases:
        response = app_client.post("/partner/consents", data=_consent_form(token, web_world), files=files)
        assert response.status_code == 422, files
        assert message in html.unescape(response.text), message
    with transaction(sqlite_engine) as db:
        assert db.scalar(select(func.count()).select_from(ConsentUpload)) == 0
        assert db.scalar(select(func.count()).select_from(Consent)) == 0
    assert not (web_world.data_dir / "workflow" / "consents").exists()


def test_a_signed_agreement_must_be_a_pdf_by_name_type_and_content(
    app_client: TestClient, sqlite_engine: Engine, web_world: World
) -> None:
    w = web_world
    with transaction(sqlite_engine) as db:
        draft = agreements.create(
            db, w.p("officer"), kind="dsa", organization_id=w.partner, district_id=w.district
        )
        agreement_id = draft.id
    token = sign_in(app_client, "officer")
    form = {"csrf_token": token, "signer_name": "Pat Partner", "signed_on": today().isoformat()}
    url = f"/office/agreements/{agreement_id}/sign"
    for upload, message in (
        (("signed.pdf", PDF, "text/html"), "signed.pdf: declared as text/html"),
        (("signed.docx", PDF, "application/octet-stream"), "signed.docx: only .pdf files are accepted"),
        (("signed.pdf", b"", "application/pdf"), "signed.pdf: the file is empty"),
    ):
        response = app_client.post(url, data=form, files={"signed_copy": upload})
        assert response.status_code == 422, upload
        assert message in html.unescape(response.text), message
    accepted = app_client.post(
        url,
        data=form,
        files={"signed_copy": ("../Vertrag f\u00fcr T\u00fcr.pdf", PDF, "application/pdf")},
        follow_redirects=False,
    )
    assert accepted.status_code == 303
    with transaction(sqlite_engine) as db:
        [signature] = db.scalars(
            select(AgreementSignature).where(AgreementSignature.agreement_id == agreement_id)
        )
        assert signature.file_name == "Vertrag_fur_Tur.pdf"


def test_a_grant_list_file_is_checked_and_read_as_utf8(
    app_client: TestClient, sqlite_engine: Engine, web_world: World
) -> None:
    from steward.store.models import Student
    from steward.workflow.models import Grant

    w = web_world
    with transaction(sqlite_engine) as db:
        local_ids = [db.get_one(Student, s).local_id for s in w.students[:2]]
    token = sign_in(app_client, "officer")
    form = {
        "csrf_token": token,
        "organization_id": str(w.partner),
        "datasets": "attendance",
        "reason": "tutoring pilot",
    }
    listing = ("student_id\n" + "\n".join(local_ids) + "\n").encode()
    for upload, message in (
        (("ids.xlsx", b"PK\x03\x04", "application/octet-stream"), "ids.xlsx: only .csv, .txt files"),
        (("ids.csv", listing + b"\x00", "text/csv"), "ids.csv: a CSV file must not contain NUL"),
        (("ids.csv", listing + b"x" * 5000 + b"\xe9\n", "text/csv"), "ids.csv: not UTF-8 text"),
    ):
        response = app_client.post("/office/grants", data=form, files={"student_file": upload})
        assert response.status_code == 422, upload[0]
        assert message in html.unescape(response.text), message
    with transaction(sqlite_engine) as db:
        assert db.scalar(select(func.count()).select_from(Grant)) == 0
    accepted = app_client.post(
        "/office/grants",
        data=form,
        files={"student_file": ("ids.csv", listing, "text/csv")},
        follow_redirects=False,
    )
    assert accepted.status_code == 303, html.unescape(accepted.text)[-1500:]
    with transaction(sqlite_engine) as db:
        assert db.scalar(select(func.count()).select_from(Grant)) == 1


def test_prepared_files_for_a_delivery_are_checked(
    app_client: TestClient, sqlite_engine: Engine, web_world: World
) -> None:
    from steward.delivery.models import Package
    from steward.store.models import Student
    from steward.workflow.requests import service as requests
    from steward.workflow.requests.triage import Path as TriagePath
    from tests.workflow.helpers import executed_dsa, form, partner_paperwork

    w = web_world
    named = w.students[:2]
    with transaction(sqlite_engine) as db:
        refs = [db.get_one(Student, s).local_id for s in named]
        executed_dsa(db, w)
        partner_paperwork(db, w, named)
        req = requests.create_and_submit(db, w.p("partner"), form(w, student_refs=refs))
        requests.decide_path(db, w.p("officer"), req, TriagePath.PARTNER)
        requests.decide(db, w.p("officer"), req, "approve")
        code = req.code
    token = sign_in(app_client, "officer")
    for upload, message in (
        (("tool.exe", b"MZ\x90\x00", "application/octet-stream"), "tool.exe: only .csv,"),
        (
            ("results.csv", b"id,rate\n1,0.9\n\x00", "text/csv"),
            "results.csv: a CSV file must not contain NUL",
        ),
        (("results.xlsx", b"id,rate\n", "text/csv"), "results.xlsx: declared as text/csv"),
    ):
        response = app_client.post(
            f"/requests/{code}/deliver", data={"csrf_token": token}, files={"files": upload}
        )
        assert response.status_code == 422, upload[0]
        assert message in html.unescape(response.text), message
    with transaction(sqlite_engine) as db:
        assert db.scalar(select(func.count()).select_from(Package)) == 0
    assert not list((w.data_dir / "workflow" / "outgoing").glob("*/*"))  # no plain copy left behind
    delivered = app_client.post(
        f"/requests/{code}/deliver",
        data={"csrf_token": token},
        files={"files": ("../Results f\u00fcr 2026.csv", b"id,rate\n1,0.9\n", "text/csv")},
        follow_redirects=False,
    )
    assert delivered.status_code == 303, html.unescape(delivered.text)[-1500:]
    with transaction(sqlite_engine) as db:
        assert db.scalar(select(func.count()).select_from(Package)) == 1
