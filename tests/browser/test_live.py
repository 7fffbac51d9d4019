"""static/js/live.js on its own, in the browser: the order in which news and answers arrive."""

import pytest

pytestmark = pytest.mark.browser

# A sketch as the API shows it, at two moments of one run.
QUEUED = {"id": "s1", "task_id": "t1", "status": "queued", "progress": 0, "updated_at": "2026-11-25T10:00:00.100Z"}
FAILED = {
    **QUEUED,
    "status": "failed",
    "error": "The original photo is no longer in storage.",
    "updated_at": "2026-11-25T10:00:00.200Z",
}

OVERTAKEN = """async ([queued, failed]) => {
  const { LiveSketches } = await import("/static/js/live.js");
  // As the studio does: show news of the sketch on screen only; the create answer puts it there.
  let current = null;
  const shown = [];
  const live = new LiveSketches({ onSketch: (sketch) => sketch.id === current && shown.push(sketch.status) });
  // The job failed at once: its news arrives before the create answer that announced it.
  live.receive(JSON.stringify({ type: "sketch.update", sketch: failed }));
  current = queued.id;
  shown.push(queued.status);
  live.watch(queued);
  return { shown, known: live.known.get(queued.id).status };
}"""

IN_ORDER = """async ([queued, failed]) => {
  const { LiveSketches } = await import("/static/js/live.js");
  const shown = [];
  const live = new LiveSketches({ onSketch: (sketch) => shown.push(sketch.status) });
  live.watch(queued);
  live.receive(JSON.stringify({ type: "sketch.update", sketch: failed }));
  live.receive(JSON.stringify({ type: "sketch.update", sketch: queued }));  // a stale poll answer
  return { shown, known: live.known.get(queued.id).status };
}"""


def test_news_that_overtakes_the_create_answer_is_shown_when_the_sketch_is_watched(app, pages):
    page = pages.new()
    page.goto("/login/")
    result = page.evaluate(OVERTAKEN, [QUEUED, FAILED])
    assert result == {"shown": ["queued", "failed"], "known": "failed"}  # ends on the newest state, not "queued"


def test_an_older_state_never_replaces_a_newer_one(app, pages):
    page = pages.new()
    page.goto("/login/")
    result = page.evaluate(IN_ORDER, [QUEUED, FAILED])
    assert result == {"shown": ["queued", "failed"], "known": "failed"}
