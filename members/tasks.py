"""Thin Celery tasks of the members app."""

from celery import shared_task

from core.jobs import job_run


@shared_task(name="members.purge_codes")
def purge_codes() -> dict:
    """Delete expired one-time codes and finished rate-limit windows."""
    from .services.codes import codes_purge

    with job_run("members.purge_codes") as counts:
        counts.update(codes_purge())
    return dict(counts)
