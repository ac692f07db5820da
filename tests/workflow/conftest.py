"""A small district for workflow tests: schools, students with guardians, a registered partner, a
research organization, an agency, media; an officer, a panel member and the requesters; registered
delivery keys; a local SMTP sink that keeps every message."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from email import message_from_bytes
from email.message import Message
from pathlib import Path

import pytest
from pyrage import x25519
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from steward.delivery.recipients import register_key
from steward.domain.orgs import OrgKind, Role
from steward.domain.principal import Principal
from steward.domain.time import SchoolYear
from steward.store.base import now_utc
from steward.store.db import transaction
from steward.store.models import (
    Guardianship,
    Organization,
    Person,
    RoleAssignment,
    SchoolEnrollment,
    TenantSettings,
)
from tests import factories as f

TZ = "America/Los_Angeles"
#: The school year in progress (the services work at the real current time).
YEAR = SchoolYear.at(now_utc(), TZ).end_year
YEAR_START = SchoolYear(YEAR).interval(TZ).start


@dataclass
class World:
    district: int
    school: int
    partner: int
    research: int
    agency: int
    media: int
    students: list[int]
    guardians: dict[int, int]
    people: dict[str, Principal]
    data_dir: Path
    partner_identity: x25519.Identity
    extra: dict[str, int] = field(default_factory=dict)

    def p(self, name: str) -> Principal:
        return self.people[name]


def principal(db: Session, person: Person, role: Role, org: Organization) -> Principal:
    return Principal(person.id, person.code, role, org.id, org.code, OrgKind(org.kind), person.display_name)


def build_world(db: Session, root: Path, students: int = 6) -> World:
    district = f.org(db, "lakeside", "district", "Lakeside District")
    db.add(TenantSettings(district_id=district.id, timezone=TZ))
    school = f.org(db, "cedar", "school", "Cedar Elementary", parent=district)
    partner = f.org(db, "tutors", "partner", "Tutoring Partners", registration_status="registered")
    research = f.org(db, "uni", "research_org", "University Lab", registration_status="registered")
    agency = f.org(db, "stateoffice", "agency", "State Office", registration_status="registered")
    media = f.org(db, "news", "media", "Daily News")
    ids: list[int] = []
    guardians: dict[int, int] = {}
    for n in range(students):
        s = f.student(db, district, f"{100 + n}", state_id=f"9{n:08d}", birth_date=date(2014, 3, 2 + n))
        s.first_name, s.last_name = f"Stu{n}", f"Family{n}"
        parent = Person(
            code=f"guardian-{n}", given_name=f"Pat{n}", family_name=f"Family{n}", email=f"pat{n}@example.org"
        )
        db.add(parent)
        db.flush()
        db.add(Guardianship(person_id=parent.id, student_id=s.id, valid_from=f.EPOCH))
        db.add(
            SchoolEnrollment(
                student_id=s.id,
                school_id=school.id,
                grade="05",
                school_year=YEAR,
                valid_from=YEAR_START,
            )
        )
        ids.append(s.id)
        guardians[s.id] = parent.id
    people: dict[str, Principal] = {}
    for name, role, org in (
        ("officer", Role.DISTRICT_DATA_OFFICER, district),
        ("panel", Role.REVIEW_PANEL_MEMBER, district),
        ("partner", Role.PARTNER_STAFF, partner),
        ("researcher", Role.RESEARCHER, research),
        ("analyst", Role.AGENCY_ANALYST, agency),
        ("reporter", Role.MEDIA, media),
        ("principal", Role.PRINCIPAL, school),
    ):
        person = Person(
            code=name, given_name=name.capitalize(), family_name="Tester", email=f"{name}@example.org"
        )
        db.add(person)
        db.flush()
        db.add(
            RoleAssignment(person_id=person.id, role=role.value, organization_id=org.id, valid_from=f.EPOCH)
        )
        people[name] = principal(db, person, role, org)
    identity = x25519.Identity.generate()
    for org in (partner, research, agency):
        register_key(db, org.id, str(identity.to_public()), "data team")
    db.flush()
    return World(
        district.id,
        school.id,
        partner.id,
        research.id,
        agency.id,
        media.id,
        ids,
        guardians,
        people,
        root / "var",
        identity,
    )


@pytest.fixture
def world(engine: Engine, tmp_path: Path) -> World:
    with transaction(engine) as db:
        return build_world(db, tmp_path)


@pytest.fixture
def sqlite_world(sqlite_engine: Engine, tmp_path: Path) -> World:
    with transaction(sqlite_engine) as db:
        return build_world(db, tmp_path)


# -- a local SMTP sink ---------------------------------------------------------------------------


class SmtpSink:
    """A minimal SMTP server on 127.0.0.1 that keeps every message it receives (tests only)."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._server: asyncio.base_events.Server | None = None

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(asyncio.start_server(self._session, "127.0.0.1", 0))
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async def say(line: str) -> None:
            writer.write((line + "\r\n").encode())
            await writer.drain()

        await say("220 sink ready")
        try:
            while True:
                raw = await reader.readline()
                if not raw:
                    break
                command = raw.decode(errors="replace").strip().upper()
                if command.startswith(("EHLO", "HELO")):
                    await say("250 sink")
                elif command.startswith(("MAIL", "RCPT", "RSET", "NOOP")):
                    await say("250 ok")
                elif command == "DATA":
                    await say("354 end with <CRLF>.<CRLF>")
                    lines: list[bytes] = []
                    while True:
                        line = await reader.readline()
                        if line in (b".\r\n", b".\n", b""):
                            break
                        lines.append(line[1:] if line.startswith(b"..") else line)
                    self.messages.append(message_from_bytes(b"".join(lines)))
                    await say("250 queued")
                elif command == "QUIT":
                    await say("221 bye")
                    break
                else:
                    await say("502 not implemented")
        finally:
            writer.close()

    def __enter__(self) -> SmtpSink:
        self._thread.start()
        self._ready.wait(5)
        return self

    def __exit__(self, *exc: object) -> None:
        async def stop() -> None:
            if self._server is not None:
                self._server.close()
                await self._server.wait_closed()

        asyncio.run_coroutine_threadsafe(stop(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def subjects(self) -> list[str]:
        return [str(m["Subject"]) for m in self.messages]

    def to(self, address: str) -> list[Message]:
        return [m for m in self.messages if str(m["To"]) == address]


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    with SmtpSink() as sink:
        yield sink
