// The gallery's share dialog: create a public link to one sketch (expiry, with or without the
// photo), copy it, and see or revoke the links that exist. The full link is shown once, when it
// is made: the server keeps only a hash of its token, so lists show a short prefix.

import { api, describeError, showToast } from "./api.js";

const $ = (id) => document.getElementById(id);
const dialog = $("share-dialog");
const form = $("share-form");
const list = $("share-links");
const errorBox = $("share-error");
const urlInput = $("share-url");
const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

let current = null; // { sketch, opener }

function showError(error) {
  errorBox.textContent = error ? describeError(error) : "";
  errorBox.hidden = !error;
}

function describeLink(link) {
  const when = (value) => dateFormat.format(new Date(value));
  const state = {
    active: `Active until ${when(link.expires_at)}`,
    expired: `Expired on ${when(link.expires_at)}`,
    revoked: `Revoked on ${when(link.revoked_at || link.expires_at)}`,
  }[link.state] || link.state;
  const parts = [state];
  if (link.include_original) parts.push("with the photo");
  parts.push(link.view_count === 1 ? "1 view" : `${link.view_count} views`);
  return parts.join(" · ");
}

function renderLinks(links) {
  list.replaceChildren(
    ...links.map((link) => {
      const item = document.createElement("li");
      item.dataset.id = link.id;
      item.dataset.state = link.state;
      item.tabIndex = -1;
      const text = document.createElement("span");
      const name = document.createElement("strong");
      name.textContent = `…/s/${link.token_prefix}…`;
      const state = document.createElement("span");
      state.className = "link-state";
      state.textContent = ` ${describeLink(link)}`;
      text.append(name, state);
      item.append(text);
      if (link.state === "active") {
        const revoke = document.createElement("button");
        revoke.type = "button";
        revoke.className = "button danger-outline small";
        revoke.textContent = "Revoke";
        revoke.setAttribute("data-testid", "share-revoke");
        revoke.setAttribute("aria-label", `Revoke the link starting ${link.token_prefix}`);
        revoke.addEventListener("click", () => revokeLink(link, revoke));
        item.append(revoke);
      }
      return item;
    }),
  );
  $("share-empty").hidden = links.length > 0;
}

async function loadLinks() {
  const { sketch } = current;
  try {
    renderLinks(await api(`/api/sketch/${sketch.id}/share`));
  } catch (error) {
    showError(error);
  }
}

async function revokeLink(link, button) {
  button.disabled = true;
  try {
    await api(`/api/sketch/${current.sketch.id}/share/${link.id}`, { method: "DELETE" });
  } catch (error) {
    button.disabled = false;
    showError(error);
    return;
  }
  showToast("Link revoked: it no longer opens.");
  await loadLinks();
  list.querySelector(`[data-id="${CSS.escape(link.id)}"]`)?.focus();
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const submit = form.querySelector("[type=submit]");
  const data = new FormData(form);
  submit.disabled = true;
  showError(null);
  try {
    const link = await api(`/api/sketch/${current.sketch.id}/share`, {
      method: "POST",
      body: { expires_in_days: Number(data.get("expires_in_days")), include_original: data.get("include_original") === "on" },
    });
    urlInput.value = link.url;
    $("share-result").hidden = false;
    urlInput.focus();
    urlInput.select();
    await loadLinks();
  } catch (error) {
    showError(error);
  } finally {
    submit.disabled = false;
  }
});

$("share-copy").addEventListener("click", async () => {
  try {
    await navigator.clipboard.writeText(urlInput.value);
    showToast("Link copied.");
  } catch {
    // No clipboard permission: leave the link selected so the user can copy it by hand.
    urlInput.focus();
    urlInput.select();
    showToast("Press Ctrl+C (⌘C) to copy the selected link.");
  }
});

$("share-close").addEventListener("click", () => dialog.close());
dialog.addEventListener("close", () => {
  if (current && current.opener.isConnected) current.opener.focus();
  current = null;
});

export function openShare(sketch, { title, opener }) {
  current = { sketch, opener };
  $("share-title").textContent = title;
  form.reset();
  showError(null);
  urlInput.value = "";
  $("share-result").hidden = true;
  list.replaceChildren();
  $("share-empty").hidden = true;
  dialog.showModal();
  form.querySelector("input[name=expires_in_days]:checked").focus();
  loadLinks();
}
