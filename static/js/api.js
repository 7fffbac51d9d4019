// The API as the pages use it: cookie auth + CSRF header, one silent refresh on 401,
// and errors turned into sentences a person understands.

export class ApiError extends Error {
  constructor(status, body = {}) {
    super(body.detail || `Request failed (${status})`);
    this.status = status;
    this.code = body.code || (status === 0 ? "network_error" : "error");
    this.detail = body.detail || "";
    this.errors = body.errors || null;
  }
}

export function getCookie(name) {
  for (const part of document.cookie.split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return decodeURIComponent(rest.join("="));
  }
  return "";
}

function csrfHeaders() {
  const token = getCookie("csrftoken");
  return token ? { "X-CSRFToken": token } : {};
}

let refreshing = null;

// One refresh at a time for the whole page: the refresh token rotates, so two parallel
// refreshes would race and the loser would be logged out. Resolves true (refreshed),
// false (the session is over) or null (the server could not be reached).
export function refreshSession() {
  if (!refreshing) {
    refreshing = fetch("/api/auth/refresh", {
      method: "POST",
      credentials: "same-origin",
      headers: { Accept: "application/json", ...csrfHeaders() },
    })
      .then((response) => (response.ok ? true : response.status === 401 || response.status === 403 ? false : null))
      .catch(() => null)
      .finally(() => {
        setTimeout(() => { refreshing = null; }, 0);
      });
  }
  return refreshing;
}

let expired = false;

// The refresh token is gone or expired: say so, then go to the login page and come back here.
export function sessionExpired() {
  if (expired) return;
  expired = true;
  const next = location.pathname + location.search;
  const target = `/login/?next=${encodeURIComponent(next)}`;
  showToast("Your session has expired. Taking you to the login page…");
  setTimeout(() => location.assign(target), 1500);
}

async function parseBody(response) {
  if (response.status === 204) return null;
  const type = response.headers.get("Content-Type") || "";
  if (type.includes("json")) {
    try { return await response.json(); } catch { return {}; }
  }
  return {};
}

export async function api(path, { method = "GET", body, signal, retried = false } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (!["GET", "HEAD"].includes(method)) Object.assign(headers, csrfHeaders());
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
      signal,
    });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, { detail: "network", code: "network_error" });
  }
  const data = await parseBody(response);
  if (response.status === 401 && !retried) {
    const refreshed = await refreshSession();
    if (refreshed) return api(path, { method, body, signal, retried: true });
    if (refreshed === null) throw new ApiError(0, { detail: "network", code: "network_error" });
    sessionExpired();
    throw new ApiError(401, { ...data, code: "session_expired" });
  }
  if (response.status === 403 && data && data.code === "csrf_failed" && !retried) {
    // No CSRF cookie yet (e.g. it was cleared): /api/auth/me hands one out.
    await fetch("/api/auth/me", { credentials: "same-origin" }).catch(() => null);
    return api(path, { method, body, signal, retried: true });
  }
  if (!response.ok) throw new ApiError(response.status, data || {});
  return data;
}

export function humanSize(bytes) {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(bytes >= 10 * 1024 * 1024 ? 0 : 1)} MB`;
  if (bytes >= 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${bytes} bytes`;
}

const FORMATS = "JPEG, PNG, WebP, GIF or HEIC";

// A sentence for any failure: API error codes, upload (S3-style) errors and the network.
export function describeError(error, { maxSize } = {}) {
  const code = error && error.code;
  const detail = (error && error.detail) || "";
  const limit = maxSize ? ` The limit is ${humanSize(maxSize)}.` : "";
  switch (code) {
    case "network_error":
      return "We couldn't reach the server. Check your connection and try again.";
    case "session_expired":
    case "not_authenticated":
    case "token_not_valid":
      return "Your session has expired. Please log in again.";
    case "unsupported_type":
      return `This file isn't a photo we can use. Please choose a ${FORMATS} image.`;
    case "unsupported_image":
    case "invalid_image":
      return `This file isn't an image we can read. Please choose a ${FORMATS} photo.`;
    case "corrupt_image":
      return "This image looks damaged or incomplete, so we can't read it. Try saving it again or pick another photo.";
    case "file_too_large":
    case "EntityTooLarge":
      return `This photo is too large.${limit} Try a smaller one or export it at a lower size.`;
    case "image_too_large":
      return `This image has too many pixels to draw. ${detail} Please resize it and try again.`.replace(/\s+/g, " ");
    case "empty_file":
    case "EntityTooSmall":
      return "This file is empty. Please choose another photo.";
    case "too_many_tasks":
      return detail || "You have too many sketches in progress. Wait for one to finish, then try again.";
    case "upload_missing":
      return "Your photo didn't arrive completely. Please try uploading it again.";
    case "upload_rejected":
      return `This photo was refused: ${detail.replace(/^This upload was rejected:\s*/, "")}`;
    case "upload_not_confirmed":
      return "Your photo is still being checked. Please wait a moment and try again.";
    case "AccessDenied":
    case "upload_expired":
      return "The upload link expired. Please choose the photo again.";
    case "not_found":
      return "This sketch no longer exists. It may have been deleted.";
    case "storage_unavailable":
      return "File storage is unavailable right now. Please try again in a minute.";
    case "throttled":
      return "Too many requests in a short time. Please wait a moment and try again.";
    case "csrf_failed":
      return "Your session needs a refresh. Reload the page and try again.";
    case "permission_denied":
      return "You don't have permission to do that.";
    default:
      if (error && error.status >= 500) return "Something went wrong on our side. Please try again in a moment.";
      return detail || "Something went wrong. Please try again.";
  }
}

let toastTimer = null;
export function showToast(text, ms = 4000) {
  let toast = document.getElementById("toast");
  if (!toast) {
    toast = document.createElement("div");
    toast.id = "toast";
    toast.className = "toast";
    toast.setAttribute("role", "status");
    document.body.append(toast);
  }
  toast.textContent = text;
  toast.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { toast.hidden = true; }, ms);
}

export function readJSON(id) {
  const node = document.getElementById(id);
  return node ? JSON.parse(node.textContent) : null;
}
