// Live news of the user's sketches over /ws, with reconnects and a polling fallback.
//
// The socket carries news, not state: each message holds a sketch's full state, and every
// (re)connect begins with a snapshot of the unfinished ones. Sketches this page watches that
// are not in the snapshot (they finished while we were away) are fetched once. While the
// socket is down, watched sketches that are still running are polled over the API.

import { api, ApiError, refreshSession, sessionExpired } from "./api.js";

const ACTIVE = new Set(["queued", "processing"]);
const CLOSE_UNAUTHENTICATED = 4401;
const CLOSE_FORBIDDEN_ORIGIN = 4403;
const PING_EVERY = 25000;
const POLL_EVERY = 2500;
const MAX_BACKOFF = 30000;

export function isActive(sketch) {
  return ACTIVE.has(sketch.status);
}

export class LiveSketches {
  constructor({ onSketch, onState } = {}) {
    this.onSketch = onSketch || (() => {});
    this.onState = onState || (() => {});
    this.known = new Map(); // id -> last sketch seen
    this.watched = new Set();
    this.socket = null;
    this.attempt = 0;
    this.authTries = 0;
    this.timer = null;
    this.pingTimer = null;
    this.pollTimer = null;
    this.state = "connecting";
    this.stopped = false;
  }

  start() {
    this.connect();
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") this.reconnectNow();
    });
    window.addEventListener("online", () => this.reconnectNow());
    window.addEventListener("pagehide", () => this.stop());
    return this;
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.pingTimer);
    clearTimeout(this.pollTimer);
    if (this.socket) this.socket.close(1000);
  }

  watch(sketch) {
    this.watched.add(sketch.id);
    this.deliver(sketch);
    // News of it may have overtaken the answer that announced it (a job that fails at once):
    // deliver() kept the newer state and dropped this one, so show that state now.
    const newest = this.known.get(sketch.id);
    if (newest !== sketch) this.onSketch(newest);
    this.schedulePoll();
  }

  unwatch(id) {
    this.watched.delete(id);
    this.known.delete(id);
  }

  setState(state) {
    if (state === this.state) return;
    this.state = state;
    this.onState(state);
  }

  connect() {
    if (this.stopped) return;
    clearTimeout(this.timer);
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    let socket;
    try {
      socket = new WebSocket(`${scheme}://${location.host}/ws`);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    socket.addEventListener("open", () => {
      clearInterval(this.pingTimer);
      this.pingTimer = setInterval(() => this.send({ type: "ping" }), PING_EVERY);
    });
    socket.addEventListener("message", (event) => this.receive(event.data));
    socket.addEventListener("close", (event) => this.closed(socket, event));
  }

  send(message) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }

  receive(text) {
    let message;
    try { message = JSON.parse(text); } catch { return; }
    if (message.type === "sketch.snapshot") {
      this.attempt = 0;
      this.authTries = 0;
      this.setState("live");
      const seen = new Set();
      for (const sketch of message.sketches || []) {
        seen.add(sketch.id);
        this.deliver(sketch);
      }
      // Watched sketches that finished while we were disconnected are not in the snapshot.
      for (const id of this.watched) {
        const last = this.known.get(id);
        if (!seen.has(id) && (!last || isActive(last))) this.fetchOne(id);
      }
    } else if (message.type === "sketch.update" && message.sketch) {
      this.deliver(message.sketch);
    }
  }

  // Messages may arrive out of order (a poll answer racing a socket update): never let an
  // older state replace a newer one of the same task.
  deliver(sketch) {
    const last = this.known.get(sketch.id);
    if (last && last.task_id === sketch.task_id && Date.parse(sketch.updated_at) < Date.parse(last.updated_at)) return;
    this.known.set(sketch.id, sketch);
    this.onSketch(sketch);
  }

  async fetchOne(id) {
    try {
      this.deliver(await api(`/api/sketch/${id}`));
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) {
        const last = this.known.get(id);
        this.unwatch(id);
        if (last) this.onSketch({ ...last, status: "deleted" });
      }
    }
  }

  async closed(socket, event) {
    if (socket !== this.socket) return;
    clearInterval(this.pingTimer);
    this.socket = null;
    if (this.stopped) return;
    if (event.code === CLOSE_UNAUTHENTICATED) {
      // The access token expired: refresh it (the cookie rotates) and connect again.
      if (this.authTries < 2) {
        this.authTries += 1;
        const refreshed = await refreshSession();
        if (refreshed) {
          this.connect();
          return;
        }
        if (refreshed === false) {
          this.setState("offline");
          sessionExpired();
          return;
        }
      }
      this.scheduleReconnect();
      return;
    }
    if (event.code === CLOSE_FORBIDDEN_ORIGIN) {
      this.setState("offline"); // nothing a retry can fix: poll instead
      this.schedulePoll();
      return;
    }
    this.scheduleReconnect();
  }

  scheduleReconnect() {
    this.setState("reconnecting");
    const delay = Math.min(MAX_BACKOFF, 1000 * 2 ** this.attempt) * (0.75 + Math.random() * 0.5);
    this.attempt += 1;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), delay);
    this.schedulePoll();
  }

  reconnectNow() {
    if (this.stopped || this.socket) return;
    this.attempt = 0;
    this.connect();
  }

  // Fallback while the socket is down: poll the watched sketches that are still running.
  schedulePoll() {
    clearTimeout(this.pollTimer);
    this.pollTimer = setTimeout(() => this.poll(), POLL_EVERY);
  }

  async poll() {
    if (this.stopped) return;
    const open = this.socket && this.socket.readyState === WebSocket.OPEN && this.state === "live";
    const running = [...this.watched].filter((id) => {
      const last = this.known.get(id);
      return !last || isActive(last);
    });
    if (!open && running.length && document.visibilityState !== "hidden") {
      await Promise.all(running.map((id) => this.fetchOne(id)));
    }
    if (running.length) this.schedulePoll();
  }
}
