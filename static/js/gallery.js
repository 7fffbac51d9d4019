// The gallery: the user's sketches as cards, filtered and paginated through the API,
// unfinished ones kept current over the WebSocket, deletion behind a confirmation dialog.

import { api, describeError, humanSize, readJSON, showToast } from "./api.js";
import { formatDateTime } from "./dates.js";
import { LiveSketches, isActive } from "./live.js";
import { openShare } from "./share.js";

const $ = (id) => document.getElementById(id);
const grid = $("sketch-grid");
const pageSize = Number(grid.dataset.pageSize) || 12;
const styles = Object.fromEntries((readJSON("styles-data") || []).map((s) => [s.id, s]));
const methods = Object.fromEntries((readJSON("methods-data") || []).map((m) => [m.id, m]));
const template = $("card-template");
const filters = $("filters");
const selects = { status: $("filter-status"), style: $("filter-style"), method: $("filter-method") };
const dialog = $("delete-dialog");
const STATUS_NAMES = { queued: "Queued", processing: "Drawing", completed: "Completed", failed: "Failed", cancelled: "Cancelled" };
const STAGES = { download: "Fetching the photo", decode: "Reading the image", render: "Drawing", encode: "Finishing", upload: "Saving" };

let deleting = null; // the sketch the dialog asks about
let loadToken = 0;

function params() {
  const query = new URLSearchParams(location.search);
  return {
    status: query.get("status") || "",
    style: query.get("style") || "",
    method: query.get("method") || "",
    page: Math.max(1, parseInt(query.get("page") || "1", 10) || 1),
  };
}

function urlFor(p) {
  const query = new URLSearchParams();
  for (const key of ["status", "style", "method"]) if (p[key]) query.set(key, p[key]);
  if (p.page > 1) query.set("page", String(p.page));
  const text = query.toString();
  return `/sketches/${text ? `?${text}` : ""}`;
}

function nameOf(sketch) {
  const style = styles[sketch.style] ? styles[sketch.style].name : sketch.style;
  const method = methods[sketch.method] ? methods[sketch.method].name : sketch.method;
  return { style, method };
}

// ------------------------------------------------------------------ cards
function fillCard(card, sketch) {
  const { style, method } = nameOf(sketch);
  const created = formatDateTime(sketch.created_at);
  card.dataset.id = sketch.id;
  card.dataset.status = sketch.status;
  card.querySelector(".title").textContent = `${style} · ${method}`;
  const badge = card.querySelector(".badge");
  badge.className = `badge status-${sketch.status}`;
  const thumb = card.querySelector(".thumb");
  const img = thumb.querySelector("img");
  const active = isActive(sketch);
  let status = STATUS_NAMES[sketch.status] || sketch.status;
  if (active && sketch.status === "processing") status = `${STATUS_NAMES.processing} ${sketch.progress || 0}%`;
  badge.textContent = status;

  const time = card.querySelector("time");
  time.dateTime = sketch.created_at;
  time.textContent = created;
  const meta = card.querySelector(".meta");
  meta.replaceChildren(time);
  if (sketch.status === "completed" && sketch.result_width) {
    const dims = document.createElement("span");
    dims.className = "dims";
    dims.textContent = ` · ${sketch.result_width}×${sketch.result_height}${sketch.result_size ? ` · ${humanSize(sketch.result_size)}` : ""}`;
    meta.append(dims);
  }

  thumb.className = "thumb";
  let overlay = thumb.querySelector(".overlay");
  // The small preview JPEG when there is one (older results have only the full file).
  const picture = sketch.thumbnail_url || sketch.result_url;
  if (sketch.status === "completed" && picture) {
    if (img.dataset.src !== picture) {
      img.dataset.src = picture;
      img.src = picture;
    }
    img.alt = `Sketch in the ${style} style (${method} method), made ${created}`;
    img.hidden = false;
  } else {
    // Until there is a result, the style's sample stands in, faded.
    const preview = styles[sketch.style] && styles[sketch.style].preview_url;
    thumb.classList.add(active ? "pending" : "failed");
    if (active && preview) {
      img.src = preview;
      img.dataset.src = "";
      img.alt = "";
      img.hidden = false;
    } else {
      img.hidden = true;
      img.removeAttribute("src");
      if (!thumb.querySelector("svg")) thumb.insertAdjacentHTML("afterbegin", '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" aria-hidden="true"><circle cx="12" cy="12" r="9"/><path d="M12 7.5v5.5M12 16.5v.01"/></svg>');
    }
  }
  if (sketch.status === "completed" || active) thumb.querySelector("svg")?.remove();

  if (active) {
    if (!overlay) {
      overlay = document.createElement("div");
      overlay.className = "overlay";
      overlay.innerHTML = '<span class="stage"></span><div class="bar" role="progressbar" aria-valuemin="0" aria-valuemax="100"><span></span></div>';
      thumb.append(overlay);
    }
    const stage = sketch.status === "queued" ? "Waiting in line…" : `${STAGES[sketch.stage] || "Working"}… ${sketch.progress || 0}%`;
    overlay.querySelector(".stage").textContent = stage;
    const bar = overlay.querySelector(".bar");
    bar.setAttribute("aria-label", `Progress of the ${style} sketch`);
    bar.setAttribute("aria-valuenow", String(sketch.progress || 0));
    bar.classList.toggle("indeterminate", sketch.status === "queued");
    bar.firstElementChild.style.width = `${sketch.progress || 0}%`;
  } else if (overlay) {
    overlay.remove();
  }

  const error = card.querySelector(".error");
  const showError = sketch.status === "failed" || (sketch.status === "cancelled" && sketch.error && sketch.error !== "Cancelled.");
  error.hidden = !showError;
  error.textContent = showError ? sketch.error || "Something went wrong while drawing." : "";

  const download = card.querySelector(".download");
  download.hidden = !(sketch.status === "completed" && sketch.result_url);
  if (!download.hidden) {
    download.href = sketch.result_url;
    download.setAttribute("download", `sketch-${sketch.style}-${sketch.method}.png`);
    download.setAttribute("aria-label", `Download the ${style} sketch made ${created}`);
  }
  const share = card.querySelector(".share");
  share.hidden = sketch.status !== "completed";
  share.setAttribute("aria-label", `Share the ${style} sketch made ${created}`);
  share.onclick = () => openShare(sketch, { title: `Share this ${style} sketch`, opener: share });
  const remove = card.querySelector(".delete");
  remove.setAttribute("aria-label", `Delete the ${style} sketch made ${created}`);
  remove.onclick = () => askDelete(sketch, card);
}

function makeCard(sketch) {
  const card = template.content.firstElementChild.cloneNode(true);
  fillCard(card, sketch);
  return card;
}

// ------------------------------------------------------------------ loading
async function load({ focus = false } = {}) {
  const p = params();
  for (const [key, select] of Object.entries(selects)) select.value = p[key];
  const token = ++loadToken;
  grid.setAttribute("aria-busy", "true");
  $("gallery-error").hidden = true;
  const query = new URLSearchParams({ page: String(p.page), page_size: String(pageSize) });
  for (const key of ["status", "style", "method"]) if (p[key]) query.set(key, p[key]);
  let data;
  try {
    data = await api(`/api/sketch/?${query}`);
  } catch (error) {
    if (token !== loadToken) return;
    if (error.status === 404 && p.page > 1) {
      history.replaceState(null, "", urlFor({ ...p, page: 1 }));
      load();
      return;
    }
    grid.replaceChildren();
    grid.setAttribute("aria-busy", "false");
    $("gallery-error").textContent = `We couldn't load your sketches. ${describeError(error)}`;
    $("gallery-error").hidden = false;
    return;
  }
  if (token !== loadToken) return;
  for (const id of [...live.watched]) live.unwatch(id);
  grid.replaceChildren(...data.results.map(makeCard));
  grid.setAttribute("aria-busy", "false");
  for (const sketch of data.results) if (isActive(sketch)) live.watch(sketch);

  const filtered = p.status || p.style || p.method;
  $("empty").hidden = data.results.length > 0;
  $("empty-title").textContent = filtered ? "Nothing matches these filters" : "No sketches yet";
  $("empty-text").textContent = filtered ? "Try another status or style, or clear the filters." : "Upload a photo in the studio and your drawings will appear here.";
  $("summary").textContent = data.count === 1 ? "1 sketch" : `${data.count} sketches`;

  const pages = Math.max(1, Math.ceil(data.count / pageSize));
  const pagination = $("pagination");
  pagination.hidden = pages <= 1;
  $("page-info").textContent = `Page ${p.page} of ${pages}`;
  setLink($("prev"), data.previous ? urlFor({ ...p, page: p.page - 1 }) : null);
  setLink($("next"), data.next ? urlFor({ ...p, page: p.page + 1 }) : null);
  if (focus) $("summary").focus?.();
}

function setLink(link, href) {
  if (href) {
    link.href = href;
    link.removeAttribute("aria-disabled");
    link.tabIndex = 0;
  } else {
    link.removeAttribute("href");
    link.setAttribute("aria-disabled", "true");
    link.tabIndex = -1;
  }
}

function navigate(url) {
  history.pushState(null, "", url);
  window.scrollTo({ top: 0, behavior: "smooth" });
  return load();
}

// After a delete the focused button is gone: land on the card that took its place (or the one
// before it), or on the empty state's heading, never on <body>.
function focusCardAt(index) {
  const cards = grid.querySelectorAll(".sketch-card");
  const card = cards[Math.min(index, cards.length - 1)];
  const target = card ? card.querySelector(".title") : $("empty").hidden ? document.querySelector("h1") : $("empty-title");
  target.tabIndex = -1;
  target.focus();
}

for (const link of [$("prev"), $("next")]) {
  link.addEventListener("click", (event) => {
    event.preventDefault();
    if (link.getAttribute("href")) navigate(link.getAttribute("href"));
  });
}
filters.addEventListener("change", () => {
  const p = { status: selects.status.value, style: selects.style.value, method: selects.method.value, page: 1 };
  history.pushState(null, "", urlFor(p));
  load();
});
filters.addEventListener("submit", (event) => {
  event.preventDefault();
  filters.dispatchEvent(new Event("change"));
});
window.addEventListener("popstate", () => load());

// ------------------------------------------------------------------ deleting
function askDelete(sketch, card) {
  const { style } = nameOf(sketch);
  deleting = { sketch, card };
  $("delete-title").textContent = `Delete this ${style} sketch?`;
  $("delete-error").hidden = true;
  $("confirm-delete").disabled = false;
  dialog.showModal();
}

$("confirm-delete").addEventListener("click", async (event) => {
  event.preventDefault(); // keep the dialog open until the server has answered
  if (!deleting) return;
  const { sketch, card } = deleting;
  const button = $("confirm-delete");
  button.disabled = true;
  try {
    await api(`/api/sketch/${sketch.id}`, { method: "DELETE" });
  } catch (error) {
    if (error.status !== 404) {
      $("delete-error").textContent = describeError(error);
      $("delete-error").hidden = false;
      button.disabled = false;
      return;
    }
  }
  live.unwatch(sketch.id);
  const index = [...grid.children].indexOf(card);
  dialog.close("deleted");
  deleting = null;
  card.remove();
  showToast("Sketch deleted.");
  const p = params();
  const reloaded = !grid.children.length && p.page > 1 ? navigate(urlFor({ ...p, page: p.page - 1 })) : load();
  await reloaded;
  focusCardAt(index);
});

dialog.addEventListener("close", () => {
  if (deleting && deleting.card.isConnected) deleting.card.querySelector(".delete").focus();
  deleting = null;
});

// ------------------------------------------------------------------ live
let reloadTimer = null;
const live = new LiveSketches({
  onSketch: (sketch) => {
    const card = grid.querySelector(`[data-id="${CSS.escape(sketch.id)}"]`);
    if (card) {
      if (sketch.status === "deleted") card.remove();
      else fillCard(card, sketch);
      return;
    }
    // A sketch made elsewhere (another tab, a retry): on the first page, if it matches, show it.
    const p = params();
    const matches = (!p.status || p.status === sketch.status) && (!p.style || p.style === sketch.style) && (!p.method || p.method === sketch.method);
    if (p.page === 1 && matches && sketch.status !== "deleted") {
      clearTimeout(reloadTimer);
      reloadTimer = setTimeout(() => load(), 300);
    }
  },
}).start();

load();
