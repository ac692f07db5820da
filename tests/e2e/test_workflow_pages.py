"""The office's and the partner's workflow pages in headless Chromium: agreements (with the
reasons an incomplete one cannot be executed), training, opt-outs, grants from a list, workflow
settings, the SLA dashboard and triage queue, a partner's bad and good consent uploads, the
consent review queue, the partner's accepted students and the panel's empty agenda."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine, func, select

from steward.store.db import transaction
from steward.store.models import Person, Student
from steward.workflow.consents.bulk import COLUMNS
from steward.workflow.exports import csv_bytes
from steward.workflow.models import Consent
from steward.workflow.requests import service as requests
from tests.e2e import workflow_support
from tests.e2e.workflow_support import click, sign_in
from tests.workflow.conftest import World
from tests.workflow.helpers import PDF, form, today

pytestmark = pytest.mark.e2e

# Fixtures shared with the other workflow walk.
world = workflow_support.world
smtp = workflow_support.smtp


def test_office_and_partner_pages(
    page: Page,
    sqlite_engine: Engine,
    world: World,
    live_server: Callable[[Engine], Any],
    screenshot: Callable[[Any, str], Path],
    tmp_path: Path,
) -> None:
    w = world
    with transaction(sqlite_engine) as db:
        students = [db.get_one(Student, s) for s in w.students[:3]]
        guardians = [db.get_one(Person, w.guardians[s.id]) for s in students]
        request = requests.create_and_submit(
            db, w.p("analyst"), form(w, level="aggregate", names_students=False, title="Enrollment counts")
        )
        code = request.code
    signed = (today() - timedelta(days=2)).isoformat()
    good_rows = [
        [s.local_id, s.first_name, s.last_name, s.birth_date.isoformat(), "cedar", g.display_name, signed, ""]
        for s, g in zip(students, guardians, strict=True)
    ]
    bad_rows = [list(good_rows[0]), list(good_rows[1])]
    bad_rows[1][0] = "404404"
    good = tmp_path / "students.csv"
    good.write_bytes(csv_bytes(COLUMNS, good_rows))
    bad = tmp_path / "students-bad.csv"
    bad.write_text(
        ",".join(COLUMNS)
        + "\n"
        + ",".join(bad_rows[0][:5])
        + ",\"=cmd|' /C calc'!A0\","
        + signed
        + ",\n"
        + ",".join(bad_rows[1])
        + "\n"
    )
    scan = tmp_path / "forms.pdf"
    scan.write_bytes(PDF)
    with live_server(sqlite_engine) as server:
        sign_in(page, server.url, "officer")
        page.goto(f"{server.url}/office/agreements")
        expect(page.get_by_test_id("expiry-calendar")).to_be_visible()
        new = page.get_by_test_id("agreement-form")
        new.get_by_label("Kind").select_option("dsa")
        new.get_by_label("Organization").select_option(label="Tutoring Partners")
        new.get_by_label("Title").fill("Tutoring 2026")
        new.get_by_label("Purpose").fill("monitor tutoring outcomes")
        new.get_by_label("Annual: ends with the school year").check()
        with page.expect_navigation():
            new.get_by_role("button", name="Create the draft").click()
        expect(page.get_by_test_id("agreement-status")).to_have_text("draft")
        expect(page.get_by_test_id("execution-problems")).to_contain_text("the data elements are missing")
        click(page, "Execute the agreement")
        expect(page.get_by_role("alert")).to_contain_text("the recipient's signed copy is not on file")
        screenshot(page, "agreement-incomplete")

        page.goto(f"{server.url}/office/training")
        training = page.get_by_test_id("training-form")
        training.get_by_label("Person").select_option(label="Partner Tester (Tutoring Partners)")
        with page.expect_navigation():
            training.get_by_role("button", name="Record the training").click()
        expect(page.get_by_test_id("trainings")).to_contain_text("Partner Tester")

        page.goto(f"{server.url}/office/opt-outs")
        optout = page.get_by_test_id("optout-form")
        optout.get_by_label("District student ID").fill(students[2].local_id)
        optout.get_by_label("Kind").select_option("directory")
        optout.get_by_label("Source").fill("letter")
        with page.expect_navigation():
            optout.get_by_role("button", name="Record the opt-out").click()
        expect(page.get_by_test_id("optouts")).to_contain_text(students[2].local_id)

        page.goto(f"{server.url}/office/grants")
        grant = page.get_by_test_id("grant-form")
        grant.get_by_label("Organization").select_option(label="University Lab")
        grant.get_by_label("grades").check()
        grant.get_by_label("Student IDs").fill(f"{students[0].local_id}\n{students[1].local_id}")
        with page.expect_navigation():
            grant.get_by_role("button", name="Grant").click()
        expect(page.get_by_test_id("grants")).to_contain_text("University Lab")

        page.goto(f"{server.url}/office/settings")
        page.get_by_label("Day", exact=True).fill((today() + timedelta(days=10)).isoformat())
        page.get_by_label("Name", exact=True).fill("Snow day")
        click(page, "Add the closure day")
        expect(page.locator("main")).to_contain_text("Snow day")

        page.goto(f"{server.url}/office/triage")
        expect(page.get_by_test_id("triage-queue")).to_contain_text(code)
        page.goto(f"{server.url}/office/sla")
        expect(page.get_by_test_id("sla-table")).to_contain_text(code)
        expect(page.get_by_test_id("sla-counts")).to_contain_text("On track")
        screenshot(page, "sla-dashboard")

        sign_in(page, server.url, "partner")
        page.goto(f"{server.url}/partner/consents")
        upload = page.get_by_test_id("upload-form")
        upload.get_by_label("attendance").check()
        upload.get_by_label("Purpose the form names").fill("tutoring program")
        upload.get_by_label("Student list").set_input_files(str(bad))
        upload.get_by_label("Scanned consent forms").set_input_files(str(scan))
        with page.expect_navigation():
            upload.get_by_role("button", name="Upload").click()
        problems = page.get_by_test_id("upload-problems")
        expect(problems).to_contain_text("Nothing was stored: 2 of 2 row(s)")
        expect(problems).to_contain_text("guardian_name begins with '='")
        expect(problems).to_contain_text("no student with district ID 404404")
        screenshot(page, "upload-rejected")
        with transaction(sqlite_engine) as db:
            assert db.scalar(select(func.count()).select_from(Consent)) == 0
        upload = page.get_by_test_id("upload-form")
        upload.get_by_label("attendance").check()
        upload.get_by_label("Purpose the form names").fill("tutoring program")
        upload.get_by_label("Student list").set_input_files(str(good))
        upload.get_by_label("Scanned consent forms").set_input_files(str(scan))
        with page.expect_navigation():
            upload.get_by_role("button", name="Upload").click()
        expect(page.get_by_test_id("upload-result")).to_contain_text("3 consent(s) queued")

        sign_in(page, server.url, "officer")
        page.goto(f"{server.url}/office/consents")
        review = page.get_by_test_id("consent-review")
        expect(review).to_contain_text(students[0].local_id)
        with page.expect_navigation():
            review.get_by_role("button", name="Record the review").click()
        expect(page.locator("main")).to_contain_text("No consent waits for review")

        sign_in(page, server.url, "partner")
        page.goto(f"{server.url}/partner/students")
        table = page.get_by_test_id("accepted-students")
        for student in students:
            expect(table).to_contain_text(student.local_id)
        expect(table).to_contain_text("attendance")
        screenshot(page, "partner-students")

        sign_in(page, server.url, "panel")
        page.goto(f"{server.url}/panel")
        expect(page.get_by_role("heading", level=1)).to_have_text("Review panel agenda")
