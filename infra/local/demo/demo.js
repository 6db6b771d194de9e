// The demo customer site: signs a user in through the demo backend, then
// uses Herald's SDK exactly as a customer's page would.
import { Herald } from "/sdk/v1/herald.js";

const $ = (id) => document.getElementById(id);
let herald;

async function signIn(user) {
  const res = await fetch("/demo/token?user=" + encodeURIComponent(user), { method: "POST" });
  if (!res.ok) throw new Error("the demo backend refused: " + res.status);
  const { token, clientId } = await res.json();
  let first = token; // the sign-in's token serves first; later ones are minted again
  herald = new Herald({
    url: location.origin,
    clientId,
    token: async () => {
      if (first) {
        const t = first;
        first = null;
        return t;
      }
      return (await (await fetch("/demo/token?user=" + encodeURIComponent(user), { method: "POST" })).json()).token;
    },
    serviceWorker: "/demo/herald-sw.js",
    softPrompt: { delayMs: 300 },
    onPermission: (p) => ($("permission").textContent = label(p)),
  });
  await herald.start();
  $("who").textContent = user;
  $("permission").textContent = label(herald.permission());
  $("presence").textContent = "Active in the app: Herald holds other channels back while this page is open.";
  $("console-link").href = "/users/" + encodeURIComponent(user);
  $("signin").hidden = true;
  $("account").hidden = false;
  herald.mountInbox($("bell"));
}

function label(p) {
  return { ask: "Ask (not asked yet)", allowed: "Allowed", blocked: "Blocked" }[p] ?? p;
}

$("signin").addEventListener("submit", (ev) => {
  ev.preventDefault();
  signIn($("user").value.trim()).catch((e) => ($("status").textContent = e.message));
});
$("enable").addEventListener("click", async () => {
  try {
    $("permission").textContent = label(await herald.askPush());
  } catch (e) {
    $("status").textContent = "Push could not be enabled: " + e.message;
  }
});
$("signout").addEventListener("click", async () => {
  await herald.signOut();
  location.reload();
});
