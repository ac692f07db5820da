"""End to end: a parent reads their child's ledger in headless Chromium; a partner receives a
package over SFTP, decrypts it with Debian's `age` and checks the signed manifest."""

from __future__ import annotations

import asyncio
import hashlib
import json
import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import asyncssh
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from steward.audit import Recipient, record_disclosure
from steward.audit.keys import export_public_key, load_exported_keys
from steward.delivery import sftp
from steward.delivery.manifest import verify_manifest
from steward.delivery.packages import release
from steward.domain.datasets import Dataset
from steward.domain.legal import LegalBasis
from steward.store.db import transaction
from steward.store.models import Guardianship
from tests import factories as f
from tests.delivery.conftest import make_world, untar

pytestmark = pytest.mark.e2e

PASSWORD = "parent e2e pass"


def test_parent_reads_the_ledger_in_the_browser(
    page: Page,
    sqlite_engine: Engine,
    live_server: Callable[[Engine], Any],
    screenshot: Callable[[Any, str], Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("STEWARD_MFA_REQUIRED_ROLES", "[]")
    with transaction(sqlite_engine) as db:
        district = f.org(db, "lakeside", "district", "Lakeside District")
        partner = f.org(db, "tutors", "partner", "Tutoring Partners")
        child = f.student(db, district, "100")
        f.student(db, district, "101")
        parent = f.person(db, "pam", "parent", district, password=PASSWORD)
        db.add(Guardianship(person_id=parent.id, student_id=child.id, valid_from=f.EPOCH))
        db.flush()
        record_disclosure(
            db,
            Recipient.organization(db, partner.id),
            [child.id],
            [Dataset.ATTENDANCE, Dataset.GRADES],
            LegalBasis.CONSENT,
            purpose="after-school tutoring",
            agreement_id=3,
            channel="package",
        )
        record_disclosure(
            db,
            Recipient(
                org_id=district.id, name="Rita Registrar", org_name="Hillview District", role="registrar"
            ),
            [child.id],
            [Dataset.ENROLLMENT],
            LegalBasis.TRANSFER,
            purpose="records for enrollment",
        )
    with live_server(sqlite_engine) as server:
        page.goto(f"{server.url}/login")
        page.get_by_label("Username").fill("pam")
        page.get_by_label("Password").fill(PASSWORD)
        with page.expect_navigation():
            page.get_by_role("button", name="Sign in").click()
        page.goto(f"{server.url}/ledger")
        page.get_by_role("link", name="Stu 100").click()
        ledger = page.get_by_test_id("ledger")
        expect(ledger).to_contain_text("Who has seen or received Stu 100’s data")
        lines = page.get_by_test_id("ledger-line")
        expect(lines).to_have_count(2)
        expect(lines.nth(0)).to_contain_text("Rita Registrar")
        expect(lines.nth(0)).to_contain_text("34 CFR 99.31(a)(2)")
        expect(lines.nth(0)).to_contain_text("99.32")
        expect(lines.nth(1)).to_contain_text("Tutoring Partners")
        expect(lines.nth(1)).to_contain_text("With your written consent")
        expect(lines.nth(1)).to_contain_text("Not required")
        screenshot(page, "ledger")
        page.emulate_media(media="print")
        expect(page.locator("header.top")).to_be_hidden()
        expect(page.get_by_role("button", name="Print this record")).to_be_hidden()
        expect(lines).to_have_count(2)
        screenshot(page, "ledger-print")
        page.emulate_media(media="screen")
        response = page.goto(f"{server.url}/ledger/students/{child.id + 1}")
        assert response is not None
        assert response.status == 404


def test_partner_receives_a_package_over_sftp_and_decrypts_it_with_age(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    world = make_world(sqlite_engine, tmp_path)
    with transaction(sqlite_engine) as db:
        package = release(db, world.data_dir, world.request())
        district_key = export_public_key(db, world.data_dir, world.district)

    async def fetch() -> Path:
        server = await sftp.start(sqlite_engine, world.data_dir, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            async with (
                asyncssh.connect(
                    "127.0.0.1",
                    port,
                    username="tutors",
                    client_keys=[world.ssh_key],
                    known_hosts=None,
                    agent_path=None,
                ) as conn,
                conn.start_sftp_client() as client,
            ):
                [name] = [n for n in await client.listdir(".") if n not in (".", "..")]
                target = tmp_path / "received" / name
                target.parent.mkdir()
                await client.get(name, str(target))
                return target
        finally:
            server.close()
            await server.wait_closed()

    # Playwright's sync API keeps an event loop running on this thread: use another one.
    with ThreadPoolExecutor(1) as pool:
        received = pool.submit(lambda: asyncio.run(fetch())).result()
    assert received.name == package.file_name
    plain = subprocess.run(
        ["/usr/bin/age", "--decrypt", "-i", str(world.ssh_identity), str(received)],
        capture_output=True,
        check=True,
    ).stdout
    members = untar(plain)
    manifest = json.loads(members["manifest.json"])
    [public_key] = load_exported_keys(district_key).values()
    assert verify_manifest(members["manifest.json"], members["manifest.json.sig"], public_key)
    # ...and with nothing but standard tools, as the package's README tells the recipient.
    for name in ("manifest.json", "manifest.json.sig"):
        (tmp_path / name).write_bytes(members[name])
    (tmp_path / "district.pem").write_text(district_key)
    command = "openssl pkeyutl -verify -pubin -inkey district.pem -rawin -in manifest.json"
    command += " -sigfile manifest.json.sig"
    checked = subprocess.run(command.split(), cwd=tmp_path, capture_output=True, text=True, check=False)
    assert "Signature Verified Successfully" in checked.stdout, checked.stdout + checked.stderr
    assert manifest["recipient"]["code"] == "tutors"
    assert manifest["students"] == 3
    for entry in manifest["files"]:
        assert hashlib.sha256(members[entry["path"]]).hexdigest() == entry["sha256"]
    assert {e["path"]: e["rows"] for e in manifest["files"]} == {
        "data/students.csv": 3,
        "data/attendance.csv": 2,
    }
    assert "may not disclose it to any other party" in manifest["redisclosure_notice"]
