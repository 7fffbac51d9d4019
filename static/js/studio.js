// The studio: pick a photo, upload it straight to storage, create sketches, watch them live.

import { api, describeError, humanSize, readJSON, showToast } from "./api.js";
import { LiveSketches, isActive } from "./live.js";
import { checkFile, uploadPhoto } from "./upload.js";
import { setupCompare } from "./compare.js";

const $ = (id) => document.getElementById(id);
const root = $("studio");
const maxSize = Number(root.dataset.maxSize);
const allowedTypes = readJSON("allowed-types") || [];
const styles = Object.fromEntries((readJSON("styles-data") || []).map((s) => [s.id, s]));
const methods = Object.fromEntries((readJSON("methods-data") || []).map((m) => [m.id, m]));

const STAGES = {
  download: "Fetching your photo",
  decode: "Reading the image",
  render: "Drawing",
  encode: "Finishing the picture",
  upload: "Saving the result",
};

const els = {
  dropzone: $("dropzone"),
  input: $("photo-input"),
  canvas: $("canvas"),
  fileMeta: $("file-meta"),
  changePhoto: $("change-photo"),
  compare: $("compare"),
  before: $("before-img"),
  after: $("after-img"),
  veil: $("veil"),
  uploadError: $("upload-error"),
  uploadStatus: $("upload-status"),
  uploadLabel: $("upload-label"),
  uploadPct: $("upload-pct"),
  uploadBar: $("upload-bar"),
  jobStatus: $("job-status"),
  jobLabel: $("job-label"),
  jobPct: $("job-pct"),
  jobBar: $("job-bar"),
  connectionNote: $("connection-note"),
  jobError: $("job-error"),
  jobErrorTitle: $("job-error-title"),
  jobErrorText: $("job-error-text"),
  resultActions: $("result-actions"),
  download: $("download"),
  tryAnother: $("try-another"),
  resultMeta: $("result-meta"),
  form: $("sketch-form"),
  create: $("create"),
  hint: $("create-hint"),
  styleDescription: $("style-description"),
};

const state = {
  file: null,
  objectUrl: null,
  upload: null, // the confirmed upload
  uploading: null, // AbortController of the upload in flight
  sketch: null, // the sketch shown
  resultFetchedAt: 0,
  creating: false,
};

const compare = setupCompare(els.compare, $("compare-range"));

// ------------------------------------------------------------------ helpers
function setBar(bar, pctNode, fraction) {
  const pct = Math.max(0, Math.min(100, Math.round(fraction * 100)));
  bar.setAttribute("aria-valuenow", String(pct));
  bar.firstElementChild.style.width = `${pct}%`;
  if (pctNode) pctNode.textContent = `${pct}%`;
}

function showUploadError(message) {
  els.uploadError.textContent = message;
  els.uploadError.hidden = !message;
  if (message) els.input.setAttribute("aria-invalid", "true");
  else els.input.removeAttribute("aria-invalid");
}

// Focus that sat on a control which just disappeared or was disabled falls to <body>, and
// keyboard and screen-reader users lose their place: hand it to what replaced the control.
function focusLost() {
  const active = document.activeElement;
  return !active || active === document.body || active.disabled || active.closest("[hidden]") !== null;
}

function moveFocus(target, { force = false } = {}) {
  if (force || focusLost()) target.focus();
}

// Back to the dropzone, e.g. when the server refused the file: no broken preview stays behind.
function showDropzone() {
  if (state.objectUrl) URL.revokeObjectURL(state.objectUrl);
  state.objectUrl = null;
  state.file = null;
  els.before.removeAttribute("src");
  els.canvas.hidden = true;
  els.dropzone.hidden = false;
}

function label(sketch) {
  const style = styles[sketch.style] ? styles[sketch.style].name : sketch.style;
  const method = methods[sketch.method] ? methods[sketch.method].name : sketch.method;
  return `${style} · ${method}`;
}

function updateCreateButton() {
  const running = state.sketch && isActive(state.sketch);
  els.create.disabled = !state.upload || state.creating || running;
  if (state.uploading) els.hint.textContent = "Your photo is uploading…";
  else if (!state.upload) els.hint.textContent = state.file ? "Choose another photo to continue." : "Choose a photo to begin.";
  else if (running && state.sketch.status === "queued") els.hint.textContent = "Waiting in line… you can change the settings for the next one.";
  else if (running) els.hint.textContent = "Drawing… you can change the settings for the next one.";
  else if (state.sketch) els.hint.textContent = "Change the style or settings and create another from the same photo.";
  else els.hint.textContent = "Ready when you are.";
  els.create.textContent = state.sketch && !running ? "Create another" : "Create sketch";
}

// ------------------------------------------------------------------ choosing a photo
async function selectFile(file) {
  showUploadError("");
  const problem = checkFile(file, { allowedTypes, maxSize });
  if (problem) {
    showUploadError(describeError(problem, { maxSize }));
    els.input.value = "";
    if (!els.dropzone.hidden) els.input.focus(); // the error describes the file input
    return;
  }
  if (state.uploading) state.uploading.abort();
  if (state.objectUrl) URL.revokeObjectURL(state.objectUrl);
  state.file = file;
  state.upload = null;
  state.objectUrl = URL.createObjectURL(file);
  showSketch(null);

  els.dropzone.hidden = true;
  els.canvas.hidden = false;
  els.canvas.classList.remove("no-preview");
  moveFocus(els.canvas);
  els.fileMeta.replaceChildren(Object.assign(document.createElement("strong"), { textContent: file.name }), ` · ${humanSize(file.size)}`);
  els.compare.classList.remove("has-result", "only-result");
  els.before.alt = `Your photo, ${file.name}`;
  els.before.src = state.objectUrl;
  els.compare.style.aspectRatio = "3 / 2";
  els.before.onload = () => {
    if (els.before.naturalWidth) els.compare.style.aspectRatio = `${els.before.naturalWidth} / ${els.before.naturalHeight}`;
  };
  els.before.onerror = () => {
    // e.g. HEIC, which most browsers cannot show: the server can still read it. No broken icon.
    if (!els.before.getAttribute("src")) return;
    els.before.alt = `${file.name} (no preview in this browser)`;
    els.canvas.classList.add("no-preview");
  };

  const controller = new AbortController();
  state.uploading = controller;
  els.uploadStatus.hidden = false;
  els.uploadLabel.textContent = "Uploading your photo…";
  setBar(els.uploadBar, els.uploadPct, 0);
  updateCreateButton();
  try {
    const upload = await uploadPhoto(file, {
      signal: controller.signal,
      onProgress: (fraction) => {
        setBar(els.uploadBar, els.uploadPct, fraction);
        if (fraction >= 1) els.uploadLabel.textContent = "Checking your photo…";
      },
    });
    if (state.uploading !== controller) return;
    state.upload = upload;
    els.uploadStatus.hidden = true;
    if (upload.width && upload.height) {
      els.compare.style.aspectRatio = `${upload.width} / ${upload.height}`;
      els.fileMeta.append(` · ${upload.width}×${upload.height}`);
    }
  } catch (error) {
    if (error.name === "AbortError" || state.uploading !== controller) return;
    els.uploadStatus.hidden = true;
    showUploadError(describeError(error, { maxSize }));
    if (error.status === 400) {
      // The server refused the file itself: start again from the dropzone, error in view.
      showDropzone();
      els.input.focus();
    } else {
      state.file = file; // keep the preview (a retry may work), but nothing can be created from it
    }
  } finally {
    if (state.uploading === controller) state.uploading = null;
    updateCreateButton();
    els.input.value = "";
  }
}

els.input.addEventListener("change", () => {
  if (els.input.files && els.input.files[0]) selectFile(els.input.files[0]);
});
els.changePhoto.addEventListener("click", () => els.input.click());

for (const target of [els.dropzone, els.canvas]) {
  target.addEventListener("dragover", (event) => {
    event.preventDefault();
    els.dropzone.classList.add("dragging");
  });
  target.addEventListener("dragleave", () => els.dropzone.classList.remove("dragging"));
  target.addEventListener("drop", (event) => {
    event.preventDefault();
    els.dropzone.classList.remove("dragging");
    const file = event.dataTransfer && event.dataTransfer.files[0];
    if (file) selectFile(file);
  });
}
// A file dropped anywhere else must not navigate away from the page.
window.addEventListener("dragover", (event) => event.preventDefault());
window.addEventListener("drop", (event) => event.preventDefault());

// ------------------------------------------------------------------ settings
for (const input of els.form.querySelectorAll('input[name="style"]')) {
  input.addEventListener("change", () => { els.styleDescription.textContent = input.dataset.description || ""; });
}
for (const name of ["strength", "detail"]) {
  const input = $(name);
  const output = $(`${name}-out`);
  const show = () => { output.textContent = Number(input.value).toFixed(2); };
  input.addEventListener("input", show);
  show();
}

els.tryAnother.addEventListener("click", () => {
  const checked = els.form.querySelector('input[name="style"]:checked') || els.form.querySelector('input[name="style"]');
  els.form.scrollIntoView({ behavior: "smooth", block: "start" });
  checked.focus({ preventScroll: true });
});

// ------------------------------------------------------------------ creating a sketch
els.form.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!state.upload || state.creating) return;
  const data = new FormData(els.form);
  state.creating = true;
  updateCreateButton();
  els.jobError.hidden = true;
  try {
    const sketch = await api("/api/sketch/create", {
      method: "POST",
      body: {
        upload_id: state.upload.id,
        style: data.get("style"),
        method: data.get("method"),
        options: { strength: Number(data.get("strength")), detail: Number(data.get("detail")) },
      },
    });
    if (state.sketch) live.unwatch(state.sketch.id);
    state.sketch = null;
    showSketch(sketch);
    live.watch(sketch);
    moveFocus(els.jobStatus, { force: true });
    if (window.matchMedia("(max-width: 900px)").matches) els.canvas.scrollIntoView({ behavior: "smooth", block: "start" });
  } catch (error) {
    if (error.code === "upload_not_confirmed" || error.status === 404) state.upload = null;
    showJobError("We couldn't start this sketch.", describeError(error, { maxSize }));
  } finally {
    state.creating = false;
    updateCreateButton();
  }
});

function showJobError(title, text) {
  els.jobErrorTitle.textContent = title;
  els.jobErrorText.textContent = text;
  els.jobError.hidden = false;
  moveFocus(els.jobError);
}

// ------------------------------------------------------------------ showing a sketch
function showSketch(sketch) {
  const previous = state.sketch;
  state.sketch = sketch;
  els.jobError.hidden = true;
  if (!sketch) {
    els.jobStatus.hidden = true;
    els.resultActions.hidden = true;
    els.veil.hidden = true;
    els.compare.classList.remove("has-result", "only-result");
    els.after.removeAttribute("src");
    updateCreateButton();
    return;
  }
  const active = isActive(sketch);
  els.veil.hidden = !active;
  els.jobStatus.hidden = !active;
  if (active) {
    els.resultActions.hidden = true;
    els.compare.classList.remove("has-result", "only-result");
    const stage = sketch.status === "queued" ? (sketch.error && sketch.error.startsWith("Retrying") ? "Retrying shortly…" : "Waiting in line…") : STAGES[sketch.stage] || "Working…";
    els.jobLabel.textContent = `${label(sketch)} — ${stage}`;
    els.jobBar.classList.toggle("indeterminate", sketch.status === "queued");
    setBar(els.jobBar, els.jobPct, (sketch.progress || 0) / 100);
  } else if (sketch.status === "completed") {
    setBar(els.jobBar, els.jobPct, 1);
    showResult(sketch, previous);
  } else if (sketch.status === "failed") {
    els.resultActions.hidden = true;
    showJobError(`${label(sketch)} failed.`, sketch.error || "Something went wrong while drawing. Please try again.");
  } else if (sketch.status === "cancelled") {
    els.resultActions.hidden = true;
    showJobError(`${label(sketch)} was cancelled.`, sketch.error && sketch.error !== "Cancelled." ? sketch.error : "It was stopped before it finished.");
  } else if (sketch.status === "deleted") {
    els.resultActions.hidden = true;
    showJobError("This sketch was deleted.", "Create a new one whenever you like.");
  }
  updateCreateButton();
}

function showResult(sketch, previous) {
  const sameResult = previous && previous.id === sketch.id && previous.status === "completed" && els.after.getAttribute("src");
  state.resultFetchedAt = Date.now();
  els.download.href = sketch.result_url;
  els.download.setAttribute("download", `sketch-${sketch.style}-${sketch.method}.png`);
  const size = sketch.result_size ? ` · ${humanSize(sketch.result_size)}` : "";
  const dims = sketch.result_width ? `${sketch.result_width}×${sketch.result_height}` : "";
  els.resultMeta.textContent = `${label(sketch)}${dims ? ` · ${dims}` : ""}${size}`;
  if (sameResult) return;
  els.after.alt = `Your photo drawn in the ${label(sketch)} style`;
  els.after.onload = () => {
    els.compare.classList.add("has-result");
    els.compare.classList.toggle("only-result", !state.objectUrl || !els.before.naturalWidth);
    compare.set(50);
    els.resultActions.hidden = false;
    els.veil.hidden = true;
    moveFocus(els.download);
    showToast("Your sketch is ready.", 2500);
  };
  els.after.onerror = () => {
    els.resultActions.hidden = false;
    showJobError("The result could not be shown.", "It is finished, though: use Download to get the file.");
  };
  els.after.src = sketch.result_url;
}

// Result links are presigned and expire: fetch a fresh one when this one is getting old.
els.download.addEventListener("click", async (event) => {
  if (!state.sketch || Date.now() - state.resultFetchedAt < 5 * 60 * 1000) return;
  event.preventDefault();
  try {
    const fresh = await api(`/api/sketch/${state.sketch.id}`);
    state.resultFetchedAt = Date.now();
    els.download.href = fresh.result_url;
    els.download.click();
  } catch (error) {
    showJobError("The download could not start.", describeError(error));
  }
});

// ------------------------------------------------------------------ live updates
const live = new LiveSketches({
  onSketch: (sketch) => {
    if (state.sketch && sketch.id === state.sketch.id) showSketch(sketch);
  },
  onState: (connection) => {
    const watching = state.sketch && isActive(state.sketch);
    els.connectionNote.hidden = connection === "live" || !watching;
    els.connectionNote.textContent = connection === "reconnecting" ? "Live updates paused — reconnecting…" : "Live updates are unavailable; checking for progress every few seconds.";
  },
}).start();

updateCreateButton();
