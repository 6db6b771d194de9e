// Herald's service worker: host this file on your own origin (for
// example at /herald-sw.js) next to the page that loads herald.js. It
// shows Herald's Web Push notifications with their title, body, icon,
// image and buttons, opens the notification's destination on click, and
// reports "displayed" and "clicked" so that deliveries move to read and
// button presses are recorded as answers.

const DB = "herald";

function auth() {
  return new Promise((resolve) => {
    const open = indexedDB.open(DB, 1);
    open.onupgradeneeded = () => open.result.createObjectStore("auth");
    open.onerror = () => resolve(null);
    open.onsuccess = () => {
      const req = open.result.transaction("auth").objectStore("auth").get("current");
      req.onsuccess = () => resolve(req.result?.token ? req.result : null);
      req.onerror = () => resolve(null);
    };
  });
}

async function report(notificationId, event, button) {
  const a = await auth();
  if (!a || !notificationId) return false;
  const res = await fetch(a.url + "/sdk/v1/me/events", {
    method: "POST",
    headers: { Authorization: "Bearer " + a.token, "X-Herald-Client": a.clientId, "Content-Type": "application/json" },
    body: JSON.stringify({ notificationId, event, ...(button ? { button } : {}) }),
    credentials: "omit",
  }).catch(() => null);
  return !!res?.ok;
}

self.addEventListener("push", (event) => {
  let p = {};
  try {
    p = event.data?.json() ?? {};
  } catch {
    p = { title: event.data?.text() ?? "" };
  }
  event.waitUntil(
    (async () => {
      await self.registration.showNotification(p.title || "", {
        body: p.body,
        icon: p.icon,
        image: p.image,
        tag: p.notificationId,
        data: { notificationId: p.notificationId, route: p.route, actions: p.actions ?? [] },
        actions: (p.actions ?? []).map((a) => ({ action: a.action, title: a.title })),
      });
      await report(p.notificationId, "displayed");
    })(),
  );
});

self.addEventListener("notificationclick", (event) => {
  const n = event.notification;
  const d = n.data ?? {};
  n.close();
  const button = event.action || "";
  const target = (d.actions ?? []).find((a) => a.action === button)?.route || d.route || "/";
  event.waitUntil(
    (async () => {
      const reported = await report(d.notificationId, "clicked", button);
      let url = new URL(target, self.registration.scope);
      if (url.protocol !== "https:" && url.protocol !== "http:") url = new URL(self.registration.scope); // no javascript: or data: windows
      if (!reported && d.notificationId) {
        // No usable token here: the page reports the click when it opens.
        url.searchParams.set("herald_n", d.notificationId);
        if (button) url.searchParams.set("herald_b", button);
      }
      const open = await clients.matchAll({ type: "window", includeUncontrolled: true });
      const same = open.find((c) => new URL(c.url).pathname === url.pathname);
      if (same) {
        await same.focus();
        if (!reported) await same.navigate(url.href).catch(() => {});
        return;
      }
      await clients.openWindow(url.href);
    })(),
  );
});

self.addEventListener("pushsubscriptionchange", (event) => {
  // The push service replaced or dropped the subscription: subscribe
  // again with the same key, register the new subscription as the user's
  // device, and tell the pages (they remove the old device, or subscribe
  // themselves when this worker had no token).
  const renewed = (async () => {
    let device, endpoint;
    const a = await auth();
    try {
      const sub =
        event.newSubscription ??
        (await self.registration.pushManager.subscribe(event.oldSubscription?.options ?? { userVisibleOnly: true, applicationServerKey: await vapidKey(a) }));
      const json = sub.toJSON();
      if (a) {
        const res = await fetch(a.url + "/sdk/v1/me/devices", {
          method: "POST",
          headers: { Authorization: "Bearer " + a.token, "X-Herald-Client": a.clientId, "Content-Type": "application/json" },
          body: JSON.stringify({ kind: "webpush", subscription: { endpoint: json.endpoint, keys: json.keys } }),
          credentials: "omit",
        });
        if (res.ok) [device, endpoint] = [(await res.json()).id, json.endpoint];
      }
    } catch {
      // The pages try when they open.
    }
    const all = await clients.matchAll({ type: "window", includeUncontrolled: true });
    for (const c of all) c.postMessage({ type: "herald:subscription-changed", device, endpoint });
  })();
  event.waitUntil(renewed);
});

async function vapidKey(a) {
  if (!a) throw new Error("no Herald token here");
  const { vapidPublicKey } = await (await fetch(a.url + "/sdk/v1/config", { headers: { "X-Herald-Client": a.clientId }, credentials: "omit" })).json();
  const raw = atob(vapidPublicKey.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((vapidPublicKey.length + 3) % 4));
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
}
