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
      const url = new URL(target, self.registration.scope);
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
  // Tell the pages: the SDK subscribes again and registers the new
  // subscription as the user's device.
  event.waitUntil(
    clients.matchAll({ type: "window", includeUncontrolled: true }).then((all) => {
      for (const c of all) c.postMessage({ type: "herald:subscription-changed" });
    }),
  );
});
