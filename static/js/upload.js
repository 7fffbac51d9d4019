// Photo uploads: checks in the browser, then presign → POST straight to storage → confirm.

import { api, ApiError } from "./api.js";

const EXTENSION_TYPES = {
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  jfif: "image/jpeg",
  png: "image/png",
  webp: "image/webp",
  gif: "image/gif",
  heic: "image/heic",
  heif: "image/heif",
};

// The browser's idea of the type, or one from the extension when it has none (HEIC on
// many desktops). The server checks the real bytes anyway.
export function fileType(file) {
  const type = (file.type || "").toLowerCase();
  if (type) return type === "image/jpg" ? "image/jpeg" : type;
  const extension = (file.name.split(".").pop() || "").toLowerCase();
  return EXTENSION_TYPES[extension] || "";
}

// An ApiError-like object for checks that fail before anything is sent, or null.
export function checkFile(file, { allowedTypes, maxSize }) {
  const type = fileType(file);
  if (!type || !allowedTypes.includes(type)) return new ApiError(400, { code: "unsupported_type", detail: type });
  if (file.size === 0) return new ApiError(400, { code: "empty_file" });
  if (file.size > maxSize) return new ApiError(400, { code: "file_too_large" });
  return null;
}

// POST the presigned form with XMLHttpRequest, which (unlike fetch) reports upload progress.
export function postToStorage({ url, fields }, file, { onProgress, signal } = {}) {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    for (const [name, value] of Object.entries(fields || {})) form.append(name, value);
    form.append("file", file); // last: S3 ignores fields after the file
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable && onProgress) onProgress(event.loaded / event.total);
    });
    xhr.addEventListener("load", () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        if (onProgress) onProgress(1);
        resolve();
        return;
      }
      // S3 (and the local stand-in) answer errors as XML: <Error><Code>…</Code><Message>…
      const text = xhr.responseText || "";
      const code = (text.match(/<Code>([^<]+)<\/Code>/) || [])[1] || "upload_failed";
      const message = (text.match(/<Message>([^<]+)<\/Message>/) || [])[1] || "";
      const mapped = code === "EntityTooLarge" ? "file_too_large" : code === "EntityTooSmall" ? "empty_file" : code === "AccessDenied" ? "upload_expired" : code;
      reject(new ApiError(xhr.status, { code: mapped, detail: message || "The upload failed. Please try again." }));
    });
    xhr.addEventListener("error", () => reject(new ApiError(0, { code: "network_error" })));
    xhr.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")));
    if (signal) signal.addEventListener("abort", () => xhr.abort(), { once: true });
    xhr.send(form);
  });
}

// The whole upload; resolves to the confirmed upload {id, key, width, height, ...}.
export async function uploadPhoto(file, { onProgress, signal } = {}) {
  const presigned = await api("/api/upload/presigned-url", {
    method: "POST",
    body: { filename: file.name, content_type: fileType(file), size: file.size },
    signal,
  });
  await postToStorage(presigned, file, { onProgress, signal });
  return api("/api/upload/confirm", { method: "POST", body: { upload_id: presigned.upload_id }, signal });
}
