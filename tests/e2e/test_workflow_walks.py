"""Done when (issue 4), in headless Chromium with every e-mail captured by a local SMTP sink:
a partner request from submission to delivered (paperwork on file), and a research request
through a panel cycle to the certificate of destruction."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pyrage
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine, select

from steward.store.db import transaction
from steward.store.models import Student
from steward.workflow.requests.models import DataRequest
from tests.delivery.conftest import untar
from tests.e2e import workflow_support
from tests.e2e.workflow_support import click, sign_in, status_is, wait_for_mail
from tests.workflow.conftest import YEAR, SmtpSink, World
from tests.workflow.helpers import PDF, executed_dsa, partner_paperwork

pytestmark = pytest.mark.e2e

# Fixtures shared with the other workflow walk.
world = workflow_support.world
smtp = workflow_support.smtp


def test_partner_request_from_submission_to_delivered(
    page: Page,
    sqlite_engine: Engine,
    world: World,
    smtp: SmtpSink,
    live_server: Callable[[Engine], Any],
    screenshot: Callable[[Any, str], Path],
    tmp_path: Path,
) -> None:
    named = world.students[:2]
    with transaction(sqlite_engine) as db:
        executed_dsa(db, world)
        partner_paperwork(db, world, named)
        refs = [db.get_one(Student, s).local_id for s in named]
    data = tmp_path / "attendance.csv"
    data.write_text("student_id,attendance_rate\n" + "".join(f"{r},0.9\n" for r in refs))
    with live_server(sqlite_engine) as server:
        sign_in(page, server.url, "partner")
        expect(page.get_by_test_id("next-steps")).to_contain_text("Upload consents")
        page.goto(f"{server.url}/requests/new")
        expect(page.get_by_role("heading", level=1)).to_have_text("New data request")
        page.get_by_label("Short title").fill("Attendance of tutored students")
        page.get_by_label("Purpose: how will the data be used?").fill(
            "monitor attendance in our tutoring program"
        )
        page.get_by_label("Intended audience").fill("program staff")
        page.get_by_label("Summary of the data requested").fill("attendance rate and school")
        page.get_by_label("Identifiable student roster data").check()
        page.locator("#el-attendance\\.attendance_rate").check()
        page.locator("#el-enrollment\\.school_code").check()
        page.locator(f"#y-{YEAR}").check()
        page.get_by_label("Student population").fill("students in the tutoring program")
        page.get_by_label("The request is about specific students").check()
        page.get_by_label("Their district or state student ID numbers").fill("\n".join(refs))
        page.get_by_label("Security plan").fill("encrypted laptops, two named staff")
        page.get_by_label("Everyone who will have access").fill("Marcus Bell\nJo Park")
        page.get_by_label("Destruction method").fill("wipe at the end of the year")
        click(page, "Submit the request")
        status_is(page, "Submitted")
        expect(page.get_by_test_id("checklist")).not_to_contain_text("missing:")
        screenshot(page, "partner-submitted")
        code = page.url.rsplit("/", 1)[1].split("?")[0]
        assert "We received your data request" in wait_for_mail(
            smtp, "partner@example.org", "request received"
        )
        wait_for_mail(smtp, "officer@example.org", "new data request")

        sign_in(page, server.url, "officer")
        page.get_by_role("link", name="Triage data requests").click()
        page.get_by_role("link", name=code).click()
        page.get_by_label("Path").select_option("partner")
        click(page, "Decide the path")
        status_is(page, "In review")
        click(page, "Record the decision")
        status_is(page, "Agreement executed")
        expect(page.get_by_test_id("gate")).to_contain_text("Allowed for 2 student(s)")
        page.get_by_label("Prepared files").set_input_files(str(data))
        page.get_by_label("Add the roster index extract").check()
        click(page, "Deliver (encrypted package)")
        status_is(page, "Delivered")
        expect(page.get_by_test_id("history")).to_contain_text("fulfilment → delivered")
        screenshot(page, "officer-delivered")

        body = wait_for_mail(smtp, "partner@example.org", "your data are ready")
        link = next(word for word in body.split() if word.startswith("/d/")).rstrip(".")
        package = httpx.get(f"{server.url}{link}", timeout=20)
        assert package.status_code == 200
        members = untar(pyrage.decrypt(package.content, [world.partner_identity]))
        assert members["data/attendance.csv"] == data.read_bytes()
        assert refs[0].encode() in members["data/roster.csv"]
        for subject in ("your request is in review", "decision: approved"):
            wait_for_mail(smtp, "partner@example.org", subject)

        sign_in(page, server.url, "partner")
        page.goto(f"{server.url}/requests")
        expect(page.get_by_test_id("my-requests")).to_contain_text("Delivered")
        page.goto(f"{server.url}/notifications")
        expect(page.get_by_test_id("notifications")).to_contain_text("your data are ready")
        screenshot(page, "partner-notifications")


def test_research_request_through_a_panel_cycle_to_destruction(
    page: Page,
    sqlite_engine: Engine,
    world: World,
    smtp: SmtpSink,
    live_server: Callable[[Engine], Any],
    screenshot: Callable[[Any, str], Path],
    tmp_path: Path,
) -> None:
    signed = tmp_path / "nda-signed.pdf"
    signed.write_bytes(PDF)
    extract = tmp_path / "deidentified.csv"
    extract.write_text("rid,attendance_rate\nA1,0.93\nB2,0.88\n")
    certificate = tmp_path / "certificate.txt"
    certificate.write_text("Certificate of destruction: all copies wiped three times.\nSigned: Lena Park\n")
    with live_server(sqlite_engine) as server:
        sign_in(page, server.url, "researcher")
        page.get_by_role("link", name="Submit a research proposal").click()
        page.get_by_label("Short title").fill("Attendance and tutoring")
        page.get_by_label("Purpose: how will the data be used?").fill("study attendance and tutoring")
        page.get_by_label("Intended audience").fill("education researchers")
        page.get_by_label("Summary of the data requested").fill("attendance rates, de-identified")
        page.get_by_label("De-identified student-level data").check()
        page.locator("#el-attendance\\.attendance_rate").check()
        page.locator(f"#y-{YEAR}").check()
        page.get_by_label("Student population").fill("all students")
        page.get_by_label("Security plan").fill("university enclave")
        page.get_by_label("Everyone who will have access").fill("Lena Park")
        page.get_by_label("Destruction method").fill("secure wipe")
        click(page, "Submit the request")
        status_is(page, "Submitted")
        code = page.url.rsplit("/", 1)[1].split("?")[0]

        sign_in(page, server.url, "officer")
        page.goto(f"{server.url}/requests/{code}")
        page.get_by_label("Path").select_option("research")
        click(page, "Decide the path")
        status_is(page, "In review")
        page.get_by_role("link", name="Review cycles").click()
        expect(page.get_by_test_id("cycle").first).to_contain_text(code)

        sign_in(page, server.url, "panel")
        page.get_by_role("link", name="Open the next cycle's agenda").click()
        item = page.get_by_test_id("agenda-item").filter(has_text=code)
        item.get_by_label("Approve").check()
        item.get_by_label("Comment").fill("sound design; elements justified")
        with page.expect_navigation():
            item.get_by_role("button", name="Save my vote").click()
        expect(page.get_by_test_id("agenda")).to_contain_text("1 approve")
        screenshot(page, "panel-voted")

        sign_in(page, server.url, "officer")
        page.goto(f"{server.url}/requests/{code}")
        expect(page.get_by_test_id("actions")).to_contain_text("1 approve")
        click(page, "Record the decision")
        status_is(page, "Approved")
        expect(page.get_by_test_id("agreements")).to_contain_text("Research proposal")
        click(page, "Prepare the agreement from the request")
        status_is(page, "Agreement pending")

        sign_in(page, server.url, "researcher")
        page.goto(f"{server.url}/requests/{code}")
        wait_for_mail(smtp, "researcher@example.org", "agreement to sign")
        form = page.get_by_test_id("sign-form")
        form.get_by_label("Signed by").fill("Lena Park")
        form.get_by_label("Title").fill("Principal investigator")
        form.get_by_label("Signed copy (PDF)").set_input_files(str(signed))
        with page.expect_navigation():
            form.get_by_role("button", name="Upload the signed agreement").click()
        expect(page.get_by_test_id("agreements")).to_contain_text("signed copy on file")

        sign_in(page, server.url, "officer")
        page.goto(f"{server.url}/requests/{code}")
        page.get_by_test_id("agreements").get_by_role("link", name="NDA-").click()
        click(page, "Execute the agreement")
        expect(page.get_by_test_id("agreement-status")).to_have_text("executed")
        page.goto(f"{server.url}/requests/{code}")
        status_is(page, "Agreement executed")
        page.get_by_label("Prepared files").set_input_files(str(extract))
        click(page, "Deliver (encrypted package)")
        status_is(page, "Results review")
        page.get_by_label("Note (e.g. results reviewed)").fill("draft paper reviewed")
        click(page, "Close the request")
        status_is(page, "Closed")
        page.get_by_test_id("agreements").get_by_role("link", name="NDA-").click()
        page.get_by_label("Terminate: reason").fill("study completed")
        click(page, "Terminate and open destruction")
        expect(page.get_by_test_id("agreement-status")).to_have_text("terminated")

        sign_in(page, server.url, "researcher")
        page.goto(f"{server.url}/requests/{code}")
        status_is(page, "Destruction due")
        form = page.get_by_test_id("certify-form")
        form.get_by_label("Signed by").fill("Lena Park")
        form.get_by_label("Signed certificate").set_input_files(str(certificate))
        with page.expect_navigation():
            form.get_by_role("button", name="Upload the certificate of destruction").click()
        status_is(page, "Destroyed")
        screenshot(page, "research-destroyed")

    for subject in (
        "request received",
        "your request is in review",
        "decision: approved",
        "agreement to sign",
        "agreement executed",
        "your data are ready",
        "results due before publication",
        "destroy the data",
    ):
        wait_for_mail(smtp, "researcher@example.org", subject)
    wait_for_mail(smtp, "officer@example.org", "certificate of destruction received")
    with transaction(sqlite_engine) as db:
        req = db.scalar(select(DataRequest).where(DataRequest.code == code))
        assert req is not None
        assert req.status == "destroyed"
