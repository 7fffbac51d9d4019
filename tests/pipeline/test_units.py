"""Services, jobs and the reconciler in-process: fast, exact checks of the state machine.

These run on the test PostgreSQL database with local media in a temporary directory. The RQ
queue is replaced by a recorder, so nothing runs behind the test's back.
"""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.utils import timezone

from sketches import events, jobs, lifecycle, payloads, queue, reconcile, services
from sketches.models import Sketch, Upload
from sketches.storage import StorageError, get_storage
from tests.conftest import image_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def local_media(settings, tmp_path, monkeypatch):
    # Inside the test's transaction close_old_connections() would close the connection under it.
    monkeypatch.setattr(jobs, "close_old_connections", lambda: None)
    settings.MEDIA_ROOT = tmp_path / "media"
    get_storage.cache_clear()
    yield
    get_storage.cache_clear()


@pytest.fixture
def enqueued(monkeypatch):
    """Replace the queue: record enqueues/cancels; jobs are 'alive' while recorded and not forgotten."""

    class Recorder:
        def __init__(self):
            self.enqueued: list[str] = []
            self.cancelled: list[str] = []
            self.alive: dict[str, bool | None] = {}

        def enqueue(self, sketch):
            self.enqueued.append(str(sketch.pk))
            self.alive[sketch.task_id] = True

        def cancel(self, task_id):
            self.cancelled.append(task_id)

        def job_is_alive(self, task_id):
            return self.alive.get(task_id, False)

    recorder = Recorder()
    monkeypatch.setattr(queue, "enqueue", recorder.enqueue)
    monkeypatch.setattr(queue, "cancel", recorder.cancel)
    monkeypatch.setattr(queue, "job_is_alive", recorder.job_is_alive)
    monkeypatch.setattr(queue, "forget", lambda task_id: None)
    return recorder


@pytest.fixture
def renders(monkeypatch):
    """Count the conversions handed to the engine's child processes."""
    from sketches import engine_process

    calls = []
    pool = engine_process.pool()
    real = pool.run

    def counting(job, report, deadline):
        calls.append((job.style, job.method))
        return real(job, report, deadline)

    monkeypatch.setattr(pool, "run", counting)
    return calls


def confirmed_upload(user, data=None, content_type="image/jpeg", name="photo.jpg") -> Upload:
    data = data if data is not None else image_bytes(160, 120, "JPEG", quality=90)
    upload, _ = services.create_upload(user, filename=name, content_type=content_type, size=len(data))
    get_storage().write(upload.key, data, content_type)
    return services.confirm_upload(user, upload.pk)


def new_sketch(user, upload=None, **fields) -> Sketch:
    upload = upload or confirmed_upload(user)
    defaults = {"style": "pencil", "method": "basic", "task_id": f"t-{Sketch.objects.count()}-{timezone.now().timestamp()}"}
    return Sketch.objects.create(owner=user, upload=upload, **{**defaults, **fields})


# ----------------------------------------------------------------------------- jobs
def test_claim_is_idempotent(user, enqueued):
    sketch = new_sketch(user)
    first = lifecycle.claim(str(sketch.pk))
    assert first is not None and first.status == "processing" and first.attempts == 1 and first.stage == "download"
    assert lifecycle.claim(str(sketch.pk)) is None
    sketch.refresh_from_db()
    assert sketch.attempts == 1


def test_a_job_run_twice_renders_once(user, enqueued, renders):
    sketch = new_sketch(user)
    assert jobs.run_sketch(str(sketch.pk)) == "completed"
    assert jobs.run_sketch(str(sketch.pk)) == "skipped"
    assert len(renders) == 1
    sketch.refresh_from_db()
    assert (sketch.status, sketch.progress, sketch.stage, sketch.attempts) == ("completed", 100, "", 1)
    assert (sketch.result_width, sketch.result_height) == (160, 120)
    results = sorted(k for k in _stored_keys() if k.startswith("results/"))
    assert results == sorted([sketch.result_key, sketch.thumbnail_key])


def _stored_keys() -> list[str]:
    root = get_storage().root
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.mark.parametrize("terminal", ["completed", "failed", "cancelled"])
def test_terminal_statuses_never_move_backwards(user, enqueued, terminal):
    sketch = new_sketch(
        user, status=terminal, progress=100 if terminal == "completed" else 40, error="" if terminal == "completed" else "done"
    )
    before = Sketch.objects.values().get(pk=sketch.pk)
    assert lifecycle.claim(str(sketch.pk)) is None
    assert lifecycle.fail(sketch.pk, Sketch.FailureCode.INTERNAL, "late failure") is False
    assert lifecycle.complete(sketch, result_key="results/x.png", size=1, width=1, height=1) is False
    assert lifecycle.requeue(sketch.pk, "late retry", enqueue=False) is False
    assert lifecycle.cancel(sketch) is False
    assert lifecycle.fail(sketch.pk, Sketch.FailureCode.FAILED_BY_ADMIN, "admin says no") is False
    with pytest.raises(jobs.Cancelled):
        jobs.Progress(sketch, deadline=float("inf")).report(50, "render")
    sketch.updated_at = timezone.now() - timedelta(hours=1)
    Sketch.objects.filter(pk=sketch.pk).update(updated_at=sketch.updated_at, started_at=sketch.updated_at)
    reconcile.reconcile()
    after = Sketch.objects.values().get(pk=sketch.pk)
    for field in ("status", "progress", "error", "result_key", "attempts"):
        assert after[field] == before[field], field
    assert enqueued.enqueued == []


# Committed for real: news goes out on commit, and each message is checked against the saved row.
@pytest.mark.django_db(transaction=True)
def test_progress_is_saved_then_published_and_never_decreases(user, enqueued, monkeypatch):
    published = []
    monkeypatch.setattr(
        events, "publish", lambda s: published.append((s.status, s.stage, s.progress, Sketch.objects.get(pk=s.pk).progress))
    )
    sketch = new_sketch(user, style="watercolor", method="advanced")
    assert jobs.run_sketch(str(sketch.pk)) == "completed"
    stages = [stage for _, stage, _, _ in published if stage]
    assert stages[0] == "download" and {"download", "decode", "render", "encode", "upload"} <= set(stages)
    assert [s for s in dict.fromkeys(stages)] == ["download", "decode", "render", "encode", "upload"]
    percents = [p for _, _, p, _ in published]
    assert percents == sorted(percents) and percents[-1] == 100
    # each message went out after its row was saved: the database already had that progress
    assert all(saved == sent for _, _, sent, saved in published)


def test_bad_image_fails_at_once_with_a_reason(user, enqueued):
    good = image_bytes(400, 300, "JPEG", quality=90)
    upload = confirmed_upload(user, good)
    storage = get_storage()
    storage.write(upload.key, good[: len(good) // 2], "image/jpeg")
    # A file that passed confirm (its size and ETag recorded as they are now) but does not decode.
    info = storage.head(upload.key)
    Upload.objects.filter(pk=upload.pk).update(size=info.size, etag=info.etag)
    sketch = new_sketch(user, upload)
    assert jobs.run_sketch(str(sketch.pk)) == "failed"
    sketch.refresh_from_db()
    assert sketch.status == "failed" and "damaged or incomplete" in sketch.error and sketch.attempts == 1
    assert sketch.failure_code == Sketch.FailureCode.BAD_IMAGE


SOURCE_CHANGED = "The original photo was changed in storage after it was confirmed; upload it again."


@pytest.mark.parametrize("change", ["other-size", "same-size"])
def test_an_original_replaced_after_confirm_fails_with_a_reason(user, enqueued, renders, change):
    good = image_bytes(400, 300, "JPEG", quality=90)
    upload = confirmed_upload(user, good)
    storage = get_storage()
    if change == "other-size":
        replacement = b"<html><script>alert(1)</script></html>"
    else:  # same length, other bytes (and so another ETag)
        replacement = image_bytes(400, 300, "JPEG", color=(9, 9, 9), quality=90)[: len(good)].ljust(len(good), b"\0")
        assert replacement != good and len(replacement) == len(good)
    storage.write(upload.key, replacement, "image/jpeg")
    sketch = new_sketch(user, upload)
    assert jobs.run_sketch(str(sketch.pk)) == "failed"
    sketch.refresh_from_db()
    assert (sketch.status, sketch.error, sketch.attempts) == ("failed", SOURCE_CHANGED, 1)
    assert renders == []  # refused before any decoding


def test_missing_original_fails_with_a_reason(user, enqueued):
    sketch = new_sketch(user)
    get_storage().delete(sketch.upload.key)
    assert jobs.run_sketch(str(sketch.pk)) == "failed"
    sketch.refresh_from_db()
    assert sketch.status == "failed" and "no longer in storage" in sketch.error


def test_storage_error_hands_the_row_back_for_rqs_retry(user, enqueued, monkeypatch):
    sketch = new_sketch(user)
    storage = get_storage()
    real_read = storage.read

    def broken_read(key, length=None):
        raise StorageError("connection refused")

    monkeypatch.setattr(storage, "read", broken_read)
    with pytest.raises(StorageError):
        jobs.run_sketch(str(sketch.pk))
    sketch.refresh_from_db()
    assert sketch.status == "queued" and sketch.error.startswith("Retrying") and sketch.attempts == 1
    monkeypatch.setattr(storage, "read", real_read)
    assert jobs.run_sketch(str(sketch.pk)) == "completed"
    sketch.refresh_from_db()
    assert sketch.status == "completed" and sketch.attempts == 2 and sketch.error == ""


def test_in_process_retries_end_in_failed_with_a_reason(user, enqueued, monkeypatch):
    sketch = new_sketch(user)
    monkeypatch.setattr(get_storage(), "read", lambda key, length=None: (_ for _ in ()).throw(StorageError("down")))
    monkeypatch.setattr(jobs.time, "sleep", lambda seconds: None)
    assert jobs.run_sketch_with_retries(str(sketch.pk), [1, 1]) == "failed"
    sketch.refresh_from_db()
    assert sketch.status == "failed" and "Storage stayed unavailable" in sketch.error and sketch.attempts == 3


@pytest.mark.parametrize("outage", [30, 100, 111, 200, 229])
def test_retries_ride_out_a_storage_outage_of_up_to_four_minutes(user, enqueued, monkeypatch, outage):
    """``queue.RETRY_INTERVALS`` (RQ's schedule too) on a clock of its own: storage down for ``outage`` s.

    The sketch completes, and never more than 60 s after storage is back: a drill's sketches are
    final within TASK_TIMEOUT + 60 s of the fault's end.
    """
    sketch = new_sketch(user)
    clock = {"now": 0.0}
    storage = get_storage()
    real_read = storage.read

    def read_after_the_outage(key, length=None):
        if clock["now"] < outage:
            raise StorageError("connection refused")
        return real_read(key, length)

    monkeypatch.setattr(storage, "read", read_after_the_outage)
    monkeypatch.setattr(jobs.time, "sleep", lambda seconds: clock.update(now=clock["now"] + seconds))
    assert jobs.run_sketch_with_retries(str(sketch.pk), queue.RETRY_INTERVALS) == "completed"
    sketch.refresh_from_db()
    assert sketch.status == "completed" and sketch.attempts > 1
    assert clock["now"] - outage <= 60, f"completed {clock['now'] - outage:.0f} s after storage was back"


def test_cooperative_timeout_fails_the_sketch(user, enqueued, settings, monkeypatch):
    settings.TASK_TIMEOUT = 7
    clock = iter(range(0, 10_000, 5))
    monkeypatch.setattr(jobs.time, "monotonic", lambda: float(next(clock)))
    sketch = new_sketch(user)
    assert jobs.run_sketch(str(sketch.pk)) == "timed out"
    sketch.refresh_from_db()
    assert sketch.status == "failed" and sketch.error == "The conversion timed out after 7 s."
    assert sketch.failure_code == Sketch.FailureCode.TIMEOUT
    assert not [k for k in _stored_keys() if k.startswith("results/")]


def test_cancelled_while_running_leaves_no_result(user, enqueued, monkeypatch):
    sketch = new_sketch(user)
    real_write = get_storage().write

    def write_then_cancel(key, data, content_type):
        real_write(key, data, content_type)
        lifecycle.cancel(Sketch.objects.get(pk=sketch.pk), "Deleted.")

    monkeypatch.setattr(get_storage(), "write", write_then_cancel)
    assert jobs.run_sketch(str(sketch.pk)) == "completed"  # the run ended; finish() found no row to complete
    sketch.refresh_from_db()
    assert sketch.status == "cancelled" and sketch.result_key == ""
    assert not [k for k in _stored_keys() if k.startswith("results/")]


def test_rq_failure_callback(user, enqueued):

    from rq.exceptions import AbandonedJobError

    def job(sketch, retries_left):
        return SimpleNamespace(
            meta={"sketch_id": str(sketch.pk)}, args=(str(sketch.pk),), retries_left=retries_left, should_retry=retries_left > 0
        )

    # a storage error RQ will retry: run_sketch already queued the row again; nothing to do
    queued = new_sketch(user)
    jobs.on_job_failure(job(queued, 2), None, StorageError, StorageError("down"), None)
    queued.refresh_from_db()
    assert queued.status == "queued"
    # the last storage failure
    jobs.on_job_failure(job(queued, 0), None, StorageError, StorageError("down"), None)
    queued.refresh_from_db()
    assert queued.status == "failed" and "Storage stayed unavailable" in queued.error
    # a dead worker's job found by RQ: with retries left the row goes back to the queue
    running = new_sketch(user)
    lifecycle.claim(str(running.pk))
    jobs.on_job_failure(job(running, 1), None, AbandonedJobError, AbandonedJobError(), None)
    running.refresh_from_db()
    assert running.status == "queued"
    lifecycle.claim(str(running.pk))
    jobs.on_job_failure(job(running, 0), None, AbandonedJobError, AbandonedJobError(), None)
    running.refresh_from_db()
    assert running.status == "failed" and running.error == "The worker stopped while converting this sketch."


# ----------------------------------------------------------------------------- services
def test_cancel_fail_and_retry(user, enqueued, django_capture_on_commit_callbacks):
    sketch = new_sketch(user)
    assert lifecycle.cancel(sketch, "Changed my mind.") is True
    assert sketch.status == "cancelled" and sketch.error == "Changed my mind." and sketch.finished_at
    assert enqueued.cancelled == [sketch.task_id]
    assert jobs.run_sketch(str(sketch.pk)) == "skipped"

    old_task = sketch.task_id
    with django_capture_on_commit_callbacks(execute=True):
        assert lifecycle.retry(sketch) is True
    sketch.refresh_from_db()
    assert sketch.status == "queued" and sketch.task_id != old_task and sketch.error == "" and sketch.finished_at is None
    assert enqueued.enqueued == [str(sketch.pk)]

    assert lifecycle.fail(sketch.pk, Sketch.FailureCode.FAILED_BY_ADMIN, "Broken by an admin.") is True
    sketch.refresh_from_db()
    assert (sketch.status, sketch.error, sketch.failure_code) == ("failed", "Broken by an admin.", "failed_by_admin")
    assert enqueued.cancelled == [old_task, sketch.task_id]  # fail takes the waiting job off the queue too
    with django_capture_on_commit_callbacks(execute=True):
        assert lifecycle.retry(sketch) is True
    sketch.refresh_from_db()
    assert (sketch.status, sketch.error, sketch.failure_code) == ("queued", "", "")
    assert jobs.run_sketch(str(sketch.pk)) == "completed"
    sketch.refresh_from_db()
    assert lifecycle.retry(sketch) is False  # completed stays completed
    assert lifecycle.cancel(sketch) is False


def test_news_of_a_transition_goes_out_on_commit_and_never_for_a_rollback(user, enqueued, monkeypatch):
    from django.db import transaction

    published = []
    monkeypatch.setattr(events, "publish", lambda s: published.append((str(s.pk), s.status)))
    sketch = new_sketch(user)
    with pytest.raises(RuntimeError), transaction.atomic():
        assert lifecycle.cancel(sketch, "Changed my mind.") is True
        raise RuntimeError("rolled back")
    assert published == [] and Sketch.objects.get(pk=sketch.pk).status == "queued"


def test_every_requeue_says_why_until_the_sketch_is_claimed_again(user, enqueued, settings, django_capture_on_commit_callbacks):
    from sketches.worker import hand_back

    def running():
        sketch = new_sketch(user)
        lifecycle.claim(str(sketch.pk))
        return Sketch.objects.get(pk=sketch.pk)

    released, handed, lost = running(), running(), running()
    assert lifecycle.requeue(released.pk, "storage is unavailable", enqueue=False) is True
    with django_capture_on_commit_callbacks(execute=True):
        assert hand_back(SimpleNamespace(meta={"sketch_id": str(handed.pk)}, args=())) is True
        _age(lost, settings.SKETCH_STALE_AFTER + 5)
        assert reconcile.reconcile().requeued == [str(lost.pk)]
    errors = {s.pk: (s.status, s.error, s.progress) for s in Sketch.objects.filter(pk__in=[released.pk, handed.pk, lost.pk])}
    assert errors == {
        released.pk: ("queued", "Retrying: storage is unavailable", 0),
        handed.pk: ("queued", "Retrying: the worker shut down", 0),
        lost.pk: ("queued", "Retrying: the worker stopped while converting this sketch", 0),
    }
    # only the handed-back and the lost one get a fresh job; RQ's own retry claims the released one
    assert sorted(enqueued.enqueued) == sorted([str(handed.pk), str(lost.pk)])
    assert lifecycle.claim(str(handed.pk)).error == ""


def test_the_api_and_the_socket_show_the_same_sketch_with_its_failure_code(user, enqueued):
    from sketches.api.serializers import SketchSerializer

    sketch = new_sketch(user)
    lifecycle.fail(sketch.pk, Sketch.FailureCode.TIMEOUT, "The conversion timed out after 300 s.")
    sketch = Sketch.objects.select_related("upload").get(pk=sketch.pk)
    body = SketchSerializer(sketch).data
    assert (body["status"], body["error_code"], body["error"]) == ("failed", "timeout", "The conversion timed out after 300 s.")
    assert body == payloads.sketch_payload(sketch) and events.snapshot(user) == []


def test_create_enqueues_only_after_commit(user, enqueued, django_capture_on_commit_callbacks):
    upload = confirmed_upload(user)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        sketch = services.create_sketch(user, upload_id=upload.pk, style="INK", method="Artistic")
    assert enqueued.enqueued == [] and len(callbacks) == 1
    callbacks[0]()
    assert enqueued.enqueued == [str(sketch.pk)]
    assert (sketch.style, sketch.method, sketch.status) == ("ink", "artistic", "queued")


def test_create_refuses_unknown_choices_and_unconfirmed_uploads(user, enqueued):
    upload = confirmed_upload(user)
    with pytest.raises(services.ServiceError) as error:
        services.create_sketch(user, upload_id=upload.pk, style="crayon", method="basic")
    assert "pencil" in error.value.message and "acrylic" in error.value.message
    pending, _ = services.create_upload(user, filename="x.png", content_type="image/png", size=10)
    with pytest.raises(services.ServiceError) as error:
        services.create_sketch(user, upload_id=pending.pk, style="ink", method="basic")
    assert error.value.code == "upload_not_confirmed"


def test_cap_on_active_sketches(user, enqueued, settings, bearer):
    settings.MAX_CONCURRENT_TASKS = 2
    upload = confirmed_upload(user)
    client = bearer(user)

    def create():
        return client.post("/api/sketch/create", {"upload_id": str(upload.pk), "style": "ink"}, format="json", secure=True)

    assert [create().status_code for _ in range(2)] == [202, 202]
    refused = create()
    assert refused.status_code == 429 and refused.json()["code"] == "too_many_tasks"
    Sketch.objects.filter(owner=user).update(status="completed")
    assert create().status_code == 202


def test_delete_removes_result_and_orphaned_original(user, enqueued):
    upload = confirmed_upload(user)
    first, second = new_sketch(user, upload), new_sketch(user, upload)
    for sketch in (first, second):
        jobs.run_sketch(str(sketch.pk))
        sketch.refresh_from_db()
    services.delete_sketch(user, first.pk)
    assert not get_storage().root.joinpath(first.result_key).exists()
    assert get_storage().root.joinpath(upload.key).exists()  # the second sketch still uses it
    services.delete_sketch(user, second.pk)
    assert _stored_keys() == []
    assert not Upload.objects.filter(pk=upload.pk).exists()


def test_delete_after_a_late_completion_removes_its_result(user, enqueued):
    """The job completes between the delete's lookup and its cancel: the result must still go."""
    sketch = new_sketch(user)
    stale_view = Sketch.objects.get(pk=sketch.pk)  # what delete_sketch read: no result yet
    jobs.run_sketch(str(sketch.pk))
    sketch.refresh_from_db()
    assert sketch.result_key and stale_view.result_key == ""
    lifecycle.cancel(stale_view)  # no-op: already completed
    services.delete_sketch(user, sketch.pk)
    assert _stored_keys() == []


# ----------------------------------------------------------------------------- reconciler
def _age(sketch, seconds, started=None):
    past = timezone.now() - timedelta(seconds=seconds)
    Sketch.objects.filter(pk=sketch.pk).update(updated_at=past, started_at=started or past)
    sketch.refresh_from_db()


def test_reconciler_requeues_a_dead_workers_sketch(user, enqueued, settings, django_capture_on_commit_callbacks):
    sketch = new_sketch(user)
    lifecycle.claim(str(sketch.pk))
    _age(sketch, settings.SKETCH_STALE_AFTER + 5)
    with django_capture_on_commit_callbacks(execute=False) as after_commit:
        report = reconcile.reconcile()
    assert enqueued.enqueued == []  # the fresh job waits for the commit: it must find the row queued
    for callback in after_commit:
        callback()
    sketch.refresh_from_db()
    assert report.requeued == [str(sketch.pk)] and sketch.status == "queued" and sketch.progress == 0
    assert enqueued.enqueued == [str(sketch.pk)]
    assert jobs.run_sketch(str(sketch.pk)) == "completed"
    sketch.refresh_from_db()
    assert sketch.attempts == 2


def test_reconciler_never_requeues_a_job_that_is_still_running(user, enqueued, settings):
    """A silent row whose job the queue still runs (a long decode, a slow database) stays as it is."""
    sketch = new_sketch(user)
    lifecycle.claim(str(sketch.pk))
    _age(sketch, settings.SKETCH_STALE_AFTER + 5, started=timezone.now() - timedelta(seconds=settings.SKETCH_STALE_AFTER + 5))
    enqueued.alive[sketch.task_id] = True
    report = reconcile.reconcile()
    sketch.refresh_from_db()
    assert (str(report), sketch.status, sketch.attempts) == ("requeued 0, failed 0", "processing", 1)
    assert enqueued.enqueued == []


def test_reconciler_gives_up_after_max_attempts(user, enqueued, settings):
    sketch = new_sketch(user, status="processing", attempts=reconcile.MAX_ATTEMPTS)
    _age(sketch, settings.SKETCH_STALE_AFTER + 5)
    report = reconcile.reconcile()
    sketch.refresh_from_db()
    assert report.failed == [str(sketch.pk)] and sketch.status == "failed"
    assert "worker stopped" in sketch.error and "gave up after 3 attempts" in sketch.error
    assert sketch.failure_code == Sketch.FailureCode.LOST


def test_reconciler_fails_a_sketch_running_past_the_timeout(user, enqueued, settings):
    sketch = new_sketch(user, status="processing", attempts=1)
    Sketch.objects.filter(pk=sketch.pk).update(started_at=timezone.now() - timedelta(seconds=settings.TASK_TIMEOUT + 60))
    enqueued.alive[sketch.task_id] = True  # RQ still says started (a hung job)
    report = reconcile.reconcile()
    sketch.refresh_from_db()
    assert report.failed == [str(sketch.pk)] and sketch.status == "failed" and "timed out" in sketch.error


def test_reconciler_requeues_jobs_redis_lost_but_leaves_fresh_and_alive_ones(user, enqueued):
    lost = new_sketch(user)
    _age(lost, reconcile.ENQUEUE_GRACE.total_seconds() + 5)
    fresh = new_sketch(user)  # just created: its on_commit enqueue may not have run yet
    waiting = new_sketch(user)
    _age(waiting, 600)
    enqueued.alive[waiting.task_id] = True  # a long queue: still waiting in Redis
    report = reconcile.reconcile()
    assert report.requeued == [str(lost.pk)]
    assert {s.pk: s.status for s in Sketch.objects.filter(pk__in=[lost.pk, fresh.pk, waiting.pk])} == {
        lost.pk: "queued",
        fresh.pk: "queued",
        waiting.pk: "queued",
    }


def test_reconciler_decides_nothing_while_redis_is_unreachable(user, enqueued, settings):
    sketch = new_sketch(user)
    lifecycle.claim(str(sketch.pk))
    _age(sketch, settings.SKETCH_STALE_AFTER + 5)
    enqueued.alive[sketch.task_id] = None
    assert str(reconcile.reconcile()) == "requeued 0, failed 0"
    sketch.refresh_from_db()
    assert sketch.status == "processing"


def test_reconcile_command(user, enqueued, settings):
    sketch = new_sketch(user)
    lifecycle.claim(str(sketch.pk))
    _age(sketch, settings.SKETCH_STALE_AFTER + 5)
    from io import StringIO

    out = StringIO()
    call_command("reconcile_sketches", stdout=out)
    assert "requeued 1" in out.getvalue()


# ----------------------------------------------------------------------------- uploads
def test_sweep_uploads_deletes_day_old_unconfirmed_uploads_and_their_objects(user, enqueued):
    storage = get_storage()
    old_pending, _ = services.create_upload(user, filename="a.png", content_type="image/png", size=10)
    storage.write(old_pending.key, b"half an upload", "image/png")
    old_never_sent, _ = services.create_upload(user, filename="b.png", content_type="image/png", size=10)
    new_pending, _ = services.create_upload(user, filename="c.png", content_type="image/png", size=10)
    storage.write(new_pending.key, b"in flight", "image/png")
    old_confirmed = confirmed_upload(user)
    used = confirmed_upload(user)
    new_sketch(user, used)
    day_ago = timezone.now() - timedelta(hours=25)
    Upload.objects.exclude(pk=new_pending.pk).update(created_at=day_ago)

    from io import StringIO

    out = StringIO()
    call_command("sweep_uploads", stdout=out)
    assert "swept 2" in out.getvalue()
    remaining = set(Upload.objects.values_list("pk", flat=True))
    assert remaining == {new_pending.pk, old_confirmed.pk, used.pk}
    assert not storage.root.joinpath(old_pending.key).exists()
    assert storage.root.joinpath(new_pending.key).exists() and storage.root.joinpath(old_confirmed.key).exists()


def test_confirm_checks_what_arrived(user, enqueued):
    storage = get_storage()
    jpeg = image_bytes(640, 480, "JPEG", quality=90)
    cases = {
        "cut": (jpeg[: len(jpeg) * 2 // 3], "corrupt_image", "incomplete"),
        "html": (b"<html><script>alert(1)</script></html>", "unsupported_image", "not a supported image"),
    }
    for name, (data, code, words) in cases.items():
        upload, _ = services.create_upload(user, filename=f"{name}.jpg", content_type="image/jpeg", size=len(data))
        storage.write(upload.key, data, "image/jpeg")
        with pytest.raises(services.ServiceError) as error:
            services.confirm_upload(user, upload.pk)
        assert error.value.code == code and words in error.value.message, name
        upload.refresh_from_db()
        assert upload.status == "rejected" and not storage.root.joinpath(upload.key).exists()
    ok = confirmed_upload(user, jpeg)
    assert (ok.status, ok.width, ok.height, ok.content_type) == ("confirmed", 640, 480, "image/jpeg")
    assert services.confirm_upload(user, ok.pk).pk == ok.pk  # twice is harmless


# ----------------------------------------------------------------------------- thumbnails
def test_a_completed_sketch_has_a_small_jpeg_thumbnail_that_delete_removes(user, enqueued, bearer):
    import cv2
    import numpy as np

    sketch = new_sketch(user, confirmed_upload(user, image_bytes(1600, 900, "JPEG", quality=90)))
    assert jobs.run_sketch(str(sketch.pk)) == "completed"
    sketch.refresh_from_db()
    assert sketch.thumbnail_key.endswith("-thumb.jpg") and sketch.thumbnail_key != sketch.result_key
    data = get_storage().read(sketch.thumbnail_key)
    assert data[:3] == b"\xff\xd8\xff"
    preview = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    assert preview.shape[:2] == (270, 480)  # the longer side is 480, the aspect ratio kept
    assert len(data) < len(get_storage().read(sketch.result_key)) / 4

    body = bearer(user).get(f"/api/sketch/{sketch.pk}").json()
    assert body["thumbnail_url"] and body["thumbnail_url"] != body["result_url"]
    services.delete_sketch(user, sketch.pk)
    assert _stored_keys() == []


def test_thumbnail_never_upscales_and_keeps_channels():
    import numpy as np

    from sketches.engine import InvalidParameter, thumbnail

    small = np.zeros((40, 30, 3), np.uint8)
    assert thumbnail(small, 480) is small
    gray = np.zeros((3000, 1000), np.uint8)
    assert thumbnail(gray, 480).shape == (480, 160)
    assert thumbnail(np.zeros((1, 5000, 3), np.uint8), 480).shape == (1, 480, 3)
    with pytest.raises(InvalidParameter):
        thumbnail(small, 0)


def test_enqueues_share_one_redis_client():
    """A new client per enqueue meant a new TCP connection and handshake in every create."""
    first, second = queue.rq_queue(), queue.rq_queue()
    assert first.connection is second.connection
    assert first.connection.ping()
