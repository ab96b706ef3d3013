"""Every background job records a JobRun with the counts of what it did."""

from __future__ import annotations

import contextlib
import logging
import traceback
from collections import Counter
from collections.abc import Iterator

from django.utils import timezone

from .models import JobRun

logger = logging.getLogger("memberhub.jobs")


@contextlib.contextmanager
def job_run(name: str) -> Iterator[Counter]:
    """with job_run("points.expire") as counts: counts["expired"] += n"""
    run = JobRun.objects.create(name=name)
    counts: Counter = Counter()
    try:
        yield counts
    except BaseException:
        JobRun.objects.filter(pk=run.pk).update(
            status=JobRun.Status.FAILED,
            finished_at=timezone.now(),
            counts=dict(counts),
            error=traceback.format_exc()[-4000:],
        )
        logger.exception("job %s failed after %s", name, dict(counts))
        raise
    JobRun.objects.filter(pk=run.pk).update(
        status=JobRun.Status.SUCCEEDED, finished_at=timezone.now(), counts=dict(counts)
    )
    logger.info("job %s done: %s", name, dict(counts))
