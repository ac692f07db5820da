"""Send pending notification e-mails over SMTP (``STEWARD_SMTP_*`` settings), after commit.

Each message is claimed, sent and marked in its own short transaction, so a crash sends at most one
message twice and never loses one. Without an SMTP host configured, messages are marked skipped
(they stay visible in the app).
"""

from __future__ import annotations

import contextlib
import logging
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from steward import i18n
from steward.config import Settings
from steward.store.base import now_utc
from steward.workflow.notifications.models import Notification

log = logging.getLogger("steward.workflow.mail")
MAX_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class SendResult:
    sent: int = 0
    failed: int = 0
    skipped: int = 0


def base_url(settings: Settings) -> str:
    """Where people reach the hub (``STEWARD_PUBLIC_URL`` when set), for links in e-mails."""
    configured = getattr(settings, "public_url", None)
    return str(configured or f"http://{settings.host}:{settings.port}").rstrip("/")


def compose(note: Notification, settings: Settings, lang: str = i18n.DEFAULT) -> EmailMessage:
    """The e-mail of a notification; its wrapper (link line, signature) in the recipient's language
    (the body and subject were written in it when the notification was made)."""
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = note.email_to
    message["Subject"] = f"[Steward] {note.subject}"
    message["Message-ID"] = make_msgid(domain="steward.invalid")
    with i18n.use(lang):
        open_in = i18n.gettext("Open in Steward:")
        signature = i18n.gettext("Steward: every disclosure decided, explained and recorded.")
    link = f"\n\n{open_in} {base_url(settings)}{note.link}" if note.link else ""
    message.set_content(f"{note.body}{link}\n\n-- \n{signature}\n")
    return message


def recipient_language(db: Session, person_id: int) -> str:
    """The language the person chose for pages and e-mails (English when none)."""
    from steward.family.models import LanguagePreference  # the family package imports this one

    row = db.get(LanguagePreference, person_id)
    return i18n.normalise(row.language if row is not None else None) or i18n.DEFAULT


def send_pending(engine: Engine, settings: Settings, limit: int = 200) -> SendResult:
    """Send up to ``limit`` pending e-mails; idempotent (sent ones are never sent again)."""
    sent = failed = skipped = 0
    with Session(engine, expire_on_commit=False) as db:
        ids = list(
            db.scalars(
                select(Notification.id)
                .where(Notification.email_status == "pending")
                .order_by(Notification.id)
                .limit(limit)
            )
        )
    if not ids:
        return SendResult()
    smtp: smtplib.SMTP | None = None
    try:
        for note_id in ids:
            with Session(engine, expire_on_commit=False) as db, db.begin():
                note = db.get(Notification, note_id, with_for_update=True)
                if note is None or note.email_status != "pending":
                    continue
                if not settings.smtp_host:
                    note.email_status = "skipped"
                    note.email_error = "no SMTP server configured (STEWARD_SMTP_HOST)"
                    skipped += 1
                    continue
                note.email_attempts += 1
                try:
                    if smtp is None:
                        smtp = _connect(settings)
                    smtp.send_message(compose(note, settings, recipient_language(db, note.person_id)))
                except (OSError, smtplib.SMTPException) as exc:
                    log.warning("e-mail %s to %s failed: %s", note.id, note.email_to, exc)
                    note.email_error = str(exc)[:500]
                    if note.email_attempts >= MAX_ATTEMPTS:
                        note.email_status = "failed"
                    failed += 1
                    smtp = None
                    continue
                note.email_status = "sent"
                note.emailed_at = now_utc()
                sent += 1
    finally:
        if smtp is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                smtp.quit()
    return SendResult(sent, failed, skipped)


def _connect(settings: Settings) -> smtplib.SMTP:
    assert settings.smtp_host is not None
    smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout)
    if settings.smtp_starttls:
        smtp.starttls()
    if settings.smtp_username:
        smtp.login(settings.smtp_username, settings.smtp_password or "")
    return smtp
