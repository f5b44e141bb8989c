"""Admins see the dead-letter list and retry from it, by API and on the Background jobs page."""

from __future__ import annotations

from sqlalchemy import select

from fuwu.audit.models import AuditEntry
from fuwu.db import transaction
from fuwu.jobs import service as jobs
from fuwu.jobs.models import Job
from fuwu.kit.time import utcnow

PASSWORD = "Secret-pass-123"


def dead_job(app, kind: str = "mail.send") -> int:
    with transaction(app.state.writer) as session:
        job = jobs.enqueue(session, kind, {"to": "li@example.com"}, max_attempts=1)
        assert job is not None
        session.flush()
        job.state, job.attempts, job.finished_at = "dead", 1, utcnow()
        job.last_error = "SMTPServerDisconnected: Connection unexpectedly closed"
        return job.id


def test_admin_lists_dead_jobs_and_retries_one(app, client, factory, api_as):
    job_id = dead_job(app)
    admin = api_as(factory.user("admin"))
    listed = client.get("/api/v1/jobs?state=dead", headers=admin)
    assert listed.status_code == 200
    [item] = listed.json()
    assert (item["id"], item["kind"], item["state"]) == (job_id, "mail.send", "dead")
    assert "SMTPServerDisconnected" in item["last_error"]

    retried = client.post(f"/api/v1/jobs/{job_id}/retry", headers=admin)
    assert retried.status_code == 200
    assert (retried.json()["state"], retried.json()["attempts"]) == ("queued", 0)
    assert client.get("/api/v1/jobs?state=dead", headers=admin).json() == []
    with transaction(app.state.reader) as session:
        assert session.get(Job, job_id).state == "queued"
        audited = session.scalars(select(AuditEntry).where(AuditEntry.entity == "job")).all()
    assert [(a.action, a.entity_id) for a in audited] == [("retry", str(job_id))]


def test_only_admins_see_jobs(app, client, factory, api_as):
    dead_job(app)
    for role in ("supervisor", "agent"):
        response = client.get("/api/v1/jobs", headers=api_as(factory.user(role)))
        assert response.status_code == 403, role
    assert client.get("/api/v1/jobs").status_code == 401
    unknown = client.post("/api/v1/jobs/999999/retry", headers=api_as(factory.user("admin")))
    assert unknown.status_code == 404


def test_background_jobs_page_shows_dead_letters_with_a_retry_button(app, client, factory):
    dead_job(app, kind="webhook.deliver")
    factory.user("admin", username="boss", password=PASSWORD, locale="zh_CN")
    page = client.get("/login")
    signed_in = client.post(
        "/login",
        data={"username": "boss", "password": PASSWORD, "csrf_token": client.cookies["fuwu_csrf"]},
        follow_redirects=False,
    )
    assert signed_in.status_code == 303, page.text[:200]
    jobs_page = client.get("/admin/jobs")
    assert jobs_page.status_code == 200
    assert "webhook.deliver" in jobs_page.text
    assert "后台任务" in jobs_page.text  # the admin's language
    assert "立即重试" in jobs_page.text
