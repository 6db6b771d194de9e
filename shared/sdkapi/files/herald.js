// Herald's browser SDK: push permission with a soft opt-in, Web Push
// subscription, presence, and the in-app inbox. A plain ES module with no
// dependencies and no build step; served by Herald at /sdk/v1/herald.js.
//
//   import { Herald } from "https://herald.example/sdk/v1/herald.js";
//   const herald = new Herald({
//     url: "https://herald.example",          // where Herald is served
//     clientId: "ws_acme",                    // the workspace's public client id
//     token: async () => (await fetch("/herald-token")).text(), // your backend mints user tokens
//   });
//   await herald.start();                     // reports permission, starts presence
//   herald.mountInbox(document.querySelector("#bell"));
//   document.querySelector("#notify-me").onclick = () => herald.askPush();
//
// The service worker (herald-sw.js) is a separate file you host on your
// own origin (browsers require it), at serviceWorker's path.

const DB = "herald";
const HOUR = 3600e3;

/** Herald's SDK for one signed-in user of a customer's site. */
export class Herald {
  constructor(o) {
    if (!o?.url || !o?.clientId || !o?.token) throw new Error("Herald: url, clientId and token are required");
    this.url = o.url.replace(/\/$/, "");
    this.clientId = o.clientId;
    this.tokenSource = typeof o.token === "function" ? o.token : () => o.token;
    this.serviceWorker = o.serviceWorker ?? "/herald-sw.js";
    this.softPrompt = {
      text: "Get notified about your account? You can change this at any time.",
      allow: "Allow",
      later: "Not now",
      delayMs: 3000,
      askAgainDays: 7,
      ...(o.softPrompt ?? {}),
    };
    this.presence = o.presence ?? true;
    this.heartbeatMs = o.heartbeatMs ?? 30e3;
    this.pollMs = o.pollMs; // unset: the server's suggestion (1 s locally, 10 s on AWS)
    this.onPermission = o.onPermission ?? (() => {});
    this.listeners = new Set();
    this.inbox = { items: [], unread: 0, etag: "" };
    this.tab = globalThis.crypto?.randomUUID?.() ?? String(Math.random()).slice(2);
  }

  /** The server's public settings (VAPID key, poll interval), read once. */
  config() {
    this._config ??= fetch(this.url + "/sdk/v1/config", { headers: { "X-Herald-Client": this.clientId }, credentials: "omit" })
      .then((r) => (r.ok ? r.json() : {}))
      .catch(() => {
        this._config = null; // ask again next time
        return {};
      });
    return this._config;
  }

  // ---- HTTP ----

  async token() {
    if (!this._token || this._tokenAt < Date.now() - 10 * 60e3) {
      this._token = await this.tokenSource();
      this._tokenAt = Date.now();
      this._saved = false;
    }
    if (!this._saved) {
      this._saved = true;
      saveToken(this.url, this.clientId, this._token); // for the service worker's reports and renewals
    }
    return this._token;
  }

  async call(path, { method = "GET", body, headers = {} } = {}) {
    const res = await fetch(this.url + "/sdk/v1" + path, {
      method,
      headers: {
        Authorization: "Bearer " + (await this.token()),
        "X-Herald-Client": this.clientId,
        ...(body ? { "Content-Type": "application/json" } : {}),
        ...headers,
      },
      body: body ? JSON.stringify(body) : undefined,
      credentials: "omit",
      keepalive: method !== "GET",
    });
    if (res.status === 304 || res.status === 204) return { status: res.status, headers: res.headers };
    const data = await res.json().catch(() => ({}));
    if (!res.ok) {
      const err = new Error(data?.error?.message ?? `Herald answered ${res.status}`);
      err.status = res.status;
      err.code = data?.error?.code;
      throw err;
    }
    return { status: res.status, headers: res.headers, data };
  }

  // ---- start and stop ----

  /** Reports the push permission, starts presence and reports a click that opened the page. */
  async start() {
    await this.reportPermission();
    this.watchPermission();
    this.watchSubscription();
    if (this.presence) this.startPresence();
    await this.reportOpen();
    if ("serviceWorker" in navigator && permissionState() === "allowed") {
      // Keep the subscription registered (it may have changed while away).
      this.subscribe().catch(() => {});
    }
    return this;
  }

  /** Signing out: the device is removed, presence ends, the inbox stops. */
  async signOut() {
    this.stopPresence();
    this.stopInbox();
    if (this._onWorker) navigator.serviceWorker.removeEventListener("message", this._onWorker);
    this._onWorker = null;
    const reg = await this.registration();
    const sub = await reg?.pushManager.getSubscription();
    const id = localStorage.getItem(key(this, "device"));
    if (id) await this.call("/me/devices/" + encodeURIComponent(id), { method: "DELETE" }).catch(() => {});
    localStorage.removeItem(key(this, "device"));
    await sub?.unsubscribe().catch(() => {});
    await saveToken(this.url, this.clientId, "");
  }

  // ---- push permission ----

  /** ask, allowed or blocked, as Herald names them. */
  permission() {
    return permissionState();
  }

  async reportPermission() {
    const status = permissionState();
    if (status === localStorage.getItem(key(this, "permission"))) return status;
    await this.call("/me/push-permission", { method: "PUT", body: { status } });
    localStorage.setItem(key(this, "permission"), status);
    this.onPermission(status);
    return status;
  }

  watchPermission() {
    navigator.permissions?.query({ name: "notifications" }).then((p) => {
      p.onchange = () => this.reportPermission().catch(() => {});
    }, () => {});
  }

  /**
   * Asks for push the polite way: the soft prompt first (unless the person
   * said "Not now" fewer than askAgainDays ago), then the browser's own.
   * Resolves to the permission after asking.
   */
  async askPush({ soft = true } = {}) {
    if (!("Notification" in window) || !("serviceWorker" in navigator)) return "blocked";
    if (permissionState() !== "ask") {
      if (permissionState() === "allowed") await this.subscribe();
      return this.reportPermission();
    }
    const later = Number(localStorage.getItem(key(this, "later")) ?? 0);
    if (soft && later && Date.now() - later < this.softPrompt.askAgainDays * 24 * HOUR) return "ask";
    if (soft && !(await this.showSoftPrompt())) {
      localStorage.setItem(key(this, "later"), String(Date.now()));
      return "ask";
    }
    await Notification.requestPermission();
    const status = await this.reportPermission();
    if (status === "allowed") await this.subscribe();
    return status;
  }

  showSoftPrompt() {
    return new Promise((resolve) => {
      setTimeout(() => {
        const box = el("div", { className: "herald-soft-prompt", role: "dialog", "aria-live": "polite", "aria-label": this.softPrompt.text });
        const text = el("p", { className: "herald-soft-prompt-text", textContent: this.softPrompt.text });
        const allow = el("button", { type: "button", className: "herald-soft-prompt-allow", textContent: this.softPrompt.allow });
        const later = el("button", { type: "button", className: "herald-soft-prompt-later", textContent: this.softPrompt.later });
        const done = (ok) => {
          box.remove();
          resolve(ok);
        };
        allow.onclick = () => done(true);
        later.onclick = () => done(false);
        box.append(text, allow, later);
        document.body.append(box);
        allow.focus();
      }, this.softPrompt.delayMs);
    });
  }

  async registration() {
    if (!("serviceWorker" in navigator)) return null;
    return (await navigator.serviceWorker.getRegistration(this.serviceWorker)) ?? navigator.serviceWorker.register(this.serviceWorker);
  }

  /** Subscribes with the workspace's VAPID key and registers the subscription as the user's device. */
  async subscribe() {
    const reg = await this.registration();
    await navigator.serviceWorker.ready;
    let sub = await reg.pushManager.getSubscription();
    if (!sub) {
      const { vapidPublicKey } = await this.config();
      if (!vapidPublicKey) throw new Error("Herald: Web Push is not configured on this server");
      sub = await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: b64url(vapidPublicKey) });
    }
    const json = sub.toJSON();
    const known = localStorage.getItem(key(this, "endpoint"));
    const old = localStorage.getItem(key(this, "device"));
    if (known === json.endpoint && old) return;
    const { data } = await this.call("/me/devices", { method: "POST", body: { kind: "webpush", subscription: { endpoint: json.endpoint, keys: json.keys } } });
    this.replaceDevice(old, data.id, json.endpoint);
  }

  /** The user's device for this browser is now id: the one it replaces is removed. */
  replaceDevice(old, id, endpoint) {
    localStorage.setItem(key(this, "device"), id);
    localStorage.setItem(key(this, "endpoint"), endpoint);
    if (old && old !== id) this.call("/me/devices/" + encodeURIComponent(old), { method: "DELETE" }).catch(() => {});
  }

  /**
   * The push service changed the subscription (pushsubscriptionchange):
   * the service worker subscribed again and registered the new one when it
   * could, and tells the pages; otherwise this page does it.
   */
  watchSubscription() {
    if (!("serviceWorker" in navigator) || this._onWorker) return;
    this._onWorker = (ev) => {
      if (ev.data?.type !== "herald:subscription-changed") return;
      if (ev.data.device && ev.data.endpoint) {
        this.replaceDevice(localStorage.getItem(key(this, "device")), ev.data.device, ev.data.endpoint);
        return;
      }
      localStorage.removeItem(key(this, "endpoint"));
      if (permissionState() === "allowed") this.subscribe().catch(() => {});
    };
    navigator.serviceWorker.addEventListener("message", this._onWorker);
  }

  /** A notification click opened this page: report it (the worker may have had no token). */
  async reportOpen() {
    const q = new URLSearchParams(location.search);
    const id = q.get("herald_n");
    if (!id) return;
    await this.call("/me/events", { method: "POST", body: { notificationId: id, event: "clicked", button: q.get("herald_b") || undefined } }).catch(() => {});
    q.delete("herald_n");
    q.delete("herald_b");
    history.replaceState(history.state, "", location.pathname + (q.size ? "?" + q : "") + location.hash);
  }

  // ---- presence ----

  /**
   * While a page is visible the user is active: a heartbeat every
   * heartbeatMs. A page going away says so with the until of its last
   * heartbeat; Herald ends the presence only if no other tab (or device)
   * beat since, so the last page to go ends it.
   */
  startPresence() {
    const ttl = Math.max(30, Math.ceil((this.heartbeatMs * 2) / 1000));
    const beat = async () => {
      if (document.visibilityState !== "visible") return;
      try {
        const { data } = await this.call("/me/presence", { method: "POST", body: { active: true, ttlSeconds: ttl } });
        this._until = data?.until ?? this._until;
        this.tabs((t) => (t[this.tab] = Date.now()));
        // The latest until of this browser's tabs: the last tab to go ends
        // presence with it, whichever tab beat last.
        const last = localStorage.getItem(key(this, "until"));
        if (this._until && !(Date.parse(last) > Date.parse(this._until))) localStorage.setItem(key(this, "until"), this._until);
      } catch {
        // The next beat tries again.
      }
    };
    this._onVisibility = () => (document.visibilityState === "visible" ? beat() : this.leave());
    this._onHide = () => this.leave();
    document.addEventListener("visibilitychange", this._onVisibility);
    addEventListener("pagehide", this._onHide);
    beat();
    this._beat = setInterval(beat, this.heartbeatMs);
  }

  /**
   * This page stops counting. Presence ends unless another visible tab of
   * this browser is still beating (it says so in localStorage), or another
   * page or device beat since (Herald compares the until).
   */
  leave() {
    const fresh = Date.now() - 2 * this.heartbeatMs - 5e3;
    const others = this.tabs((t) => {
      delete t[this.tab];
      for (const [id, at] of Object.entries(t)) if (at < fresh) delete t[id];
    });
    if (!this._until) return;
    const last = localStorage.getItem(key(this, "until"));
    const until = Date.parse(last) > Date.parse(this._until) ? last : this._until;
    this._until = null;
    if (Object.keys(others).length) return;
    localStorage.removeItem(key(this, "until"));
    this.call("/me/presence", { method: "POST", body: { active: false, until } }).catch(() => {});
  }

  /** The visible tabs of this browser by id, with their last heartbeat; change edits them. */
  tabs(change) {
    const k = key(this, "tabs");
    let t = {};
    try {
      t = JSON.parse(localStorage.getItem(k) ?? "{}") ?? {};
    } catch {
      // A damaged entry is replaced.
    }
    change(t);
    localStorage.setItem(k, JSON.stringify(t));
    return t;
  }

  stopPresence() {
    clearInterval(this._beat);
    document.removeEventListener("visibilitychange", this._onVisibility);
    removeEventListener("pagehide", this._onHide);
    this.leave();
  }

  // ---- inbox ----

  /** Calls fn(inbox) whenever the inbox changes; polls while a listener is set. */
  onInbox(fn) {
    this.listeners.add(fn);
    if (!this._polling) {
      this._polling = true;
      this.pollInbox();
    }
    return () => {
      this.listeners.delete(fn);
      if (!this.listeners.size) this.stopInbox();
    };
  }

  async pollInbox() {
    clearTimeout(this._poll);
    try {
      if (document.visibilityState === "visible" || !this.inbox.etag) await this.refreshInbox();
    } catch {
      // Network trouble: try again at the next tick.
    }
    const ms = this.pollMs ?? (await this.config()).inboxPollMs ?? 10e3;
    if (this._polling) this._poll = setTimeout(() => this.pollInbox(), Math.max(1e3, ms));
  }

  stopInbox() {
    this._polling = false;
    clearTimeout(this._poll);
  }

  async refreshInbox() {
    const r = await this.call("/me/inbox?status=all&limit=50", { headers: this.inbox.etag ? { "If-None-Match": this.inbox.etag } : {} });
    if (r.status === 304) return;
    this.inbox = { items: r.data.items ?? [], unread: r.data.unread ?? 0, etag: r.headers.get("ETag") ?? "" };
    for (const fn of this.listeners) fn(this.inbox);
  }

  async mark(id, change) {
    await this.call("/me/inbox/" + encodeURIComponent(id), { method: "POST", body: change });
    this.inbox.etag = "";
    await this.refreshInbox();
  }

  markRead(id) { return this.mark(id, { read: true }); }
  markUnread(id) { return this.mark(id, { read: false }); }
  archive(id) { return this.mark(id, { archived: true }); }
  async markAllRead() {
    await this.call("/me/inbox:markAllRead", { method: "POST" });
    this.inbox.etag = "";
    await this.refreshInbox();
  }

  /**
   * A bell with the unread count and a list of messages with Mark read /
   * Mark unread and Archive, inside element. Style it with the classes
   * herald-bell, herald-badge, herald-panel, herald-message (and
   * .herald-unread), or the CSS custom properties --herald-accent,
   * --herald-bg and --herald-fg.
   */
  mountInbox(element, { title = "Notifications", empty = "Nothing new.", labels = {} } = {}) {
    const l = { read: "Mark read", unread: "Mark unread", archive: "Archive", allRead: "Mark all read", ...labels };
    const bell = el("button", { type: "button", className: "herald-bell", "aria-expanded": "false", "aria-haspopup": "true" });
    const badge = el("span", { className: "herald-badge", "aria-hidden": "true" });
    const label = el("span", { className: "herald-visually-hidden" });
    bell.append("🔔", badge, label);
    const panel = el("section", { className: "herald-panel", hidden: true, "aria-label": title });
    const list = el("ul", { className: "herald-list" });
    const all = el("button", { type: "button", className: "herald-all-read", textContent: l.allRead });
    all.onclick = () => this.markAllRead();
    // A paragraph, not a heading: the bell sits anywhere in the customer's
    // outline (the section is named by its aria-label).
    panel.append(el("p", { className: "herald-title", textContent: title }), all, list);
    bell.onclick = () => {
      panel.hidden = !panel.hidden;
      bell.setAttribute("aria-expanded", String(!panel.hidden));
      if (!panel.hidden) for (const m of this.inbox.items) if (!m.seenAt) this.mark(m.id, { seen: true }).catch(() => {});
    };
    element.append(bell, panel);
    const render = (inbox) => {
      badge.textContent = inbox.unread ? String(inbox.unread) : "";
      label.textContent = `${title}: ${inbox.unread} unread`;
      list.replaceChildren(
        ...(inbox.items.filter((m) => !m.archivedAt).length
          ? inbox.items.filter((m) => !m.archivedAt).map((m) => {
              const item = el("li", { className: "herald-message" + (m.readAt ? "" : " herald-unread") });
              const read = el("button", { type: "button", textContent: m.readAt ? l.unread : l.read });
              read.onclick = () => (m.readAt ? this.markUnread(m.id) : this.markRead(m.id));
              const archive = el("button", { type: "button", textContent: l.archive });
              archive.onclick = () => this.archive(m.id);
              item.append(
                el("p", { className: "herald-message-title", textContent: m.title ?? "" }),
                el("p", { className: "herald-message-body", textContent: m.body ?? "" }),
                el("time", { dateTime: m.createdAt, textContent: new Date(m.createdAt).toLocaleString() }),
                read,
                archive,
              );
              return item;
            })
          : [el("li", { className: "herald-empty", textContent: empty })]),
      );
    };
    render(this.inbox);
    return this.onInbox(render);
  }
}

/** Default browser states in Herald's words. */
function permissionState() {
  if (!("Notification" in globalThis)) return "blocked";
  return { granted: "allowed", denied: "blocked" }[Notification.permission] ?? "ask";
}

function key(h, name) {
  return `herald:${h.clientId}:${name}`;
}

function el(tag, props = {}) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k.startsWith("aria-") || k === "role") e.setAttribute(k, v);
    else e[k] = v;
  }
  return e;
}

function b64url(s) {
  const raw = atob(s.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((s.length + 3) % 4));
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
}

/** Keeps the current token where the service worker can read it. */
function saveToken(url, clientId, token) {
  return new Promise((resolve) => {
    if (!("indexedDB" in globalThis)) return resolve();
    const open = indexedDB.open(DB, 1);
    open.onupgradeneeded = () => open.result.createObjectStore("auth");
    open.onerror = () => resolve();
    open.onsuccess = () => {
      const tx = open.result.transaction("auth", "readwrite");
      tx.objectStore("auth").put({ url, clientId, token, at: Date.now() }, "current");
      tx.oncomplete = tx.onerror = () => resolve();
    };
  });
}
