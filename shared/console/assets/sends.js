// New send: counts the typed list, sends a spreadsheet straight from the
// browser to its upload URL, and follows the send live. Without this file
// the forms still work: the list goes to its confirmation, the file to the
// console in the form, and the send's page has a Refresh link.

const csrf = document.querySelector('meta[name="csrf-token"]')?.content ?? '';

function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  Object.assign(e, props);
  for (const c of children) e.append(c);
  return e;
}

async function ask(url, { method = 'GET', body } = {}) {
  const res = await fetch(url, {
    method,
    body,
    headers: { Accept: 'application/json', ...(method === 'GET' ? {} : { 'X-CSRF-Token': csrf }) },
    credentials: 'same-origin',
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw problem(data, res.status);
  return data;
}

// problem is the API's error as a person reads it.
function problem(data, status) {
  const e = data?.error;
  let msg = e?.message ?? `The console answered ${status}`;
  msg = msg.charAt(0).toUpperCase() + msg.slice(1);
  const details = (e?.details ?? []).map((d) => `${d.field}: ${d.problem}`);
  return new Error(details.length ? `${msg} (${details.join('; ')})` : msg);
}

function counts(list) {
  return el('ul', { className: 'counts' }, ...list.map(([name, n]) => el('li', {}, `${name} `, el('strong', { textContent: String(n) }))));
}

// render shows a spreadsheet send as its page does (sends-upload.html),
// its headings at the box's level.
function render(box, v) {
  const level = Number(box.dataset.level ?? 3);
  const parts = [el(`h${level}`, { textContent: v.template ? `${v.filename} · ${v.template}` : v.filename })];
  parts.push(el('p', { className: v.rejected ? 'error' : 'flash', role: 'status', id: 'upload-message', textContent: v.message }));
  if (v.rows.total || v.notification) {
    parts.push(counts([['Rows', v.rows.total], ['Valid', v.rows.valid], ['Invalid', v.rows.invalid]]));
  }
  if (v.errors?.length) {
    const body = el('tbody', {}, ...v.errors.map((e) => el('tr', {},
      el('td', { textContent: e.row ? String(e.row) : 'The file' }),
      el('td', { textContent: e.column ?? '' }),
      el('td', { textContent: e.message.charAt(0).toUpperCase() + e.message.slice(1) }))));
    const head = el('thead', {}, el('tr', {}, ...['Row', 'Column', 'Problem'].map((h) => el('th', { scope: 'col', textContent: h }))));
    parts.push(el('table', { className: 'list', id: 'upload-errors' },
      el('caption', { textContent: v.rejected ? 'Why the file was rejected' : 'Rows with errors (not sent)' }), head, body));
  }
  if (v.notification) {
    const n = v.notification;
    parts.push(el(`h${level + 1}`, {}, 'Status: ', el('span', { className: `badge st-${n.status}`, textContent: n.status })));
    parts.push(counts([['Queued', n.counts.queued], ['Sent', n.counts.sent], ['Delivered', n.counts.delivered],
      ['Failed', n.counts.failed], ['Skipped', n.counts.skipped]]));
  }
  const links = el('p', { className: 'links' });
  if (v.report) links.append(el('a', { href: v.report, download: '', textContent: 'Download the result spreadsheet' }), ' ');
  if (v.history) links.append(el('a', { href: v.history, textContent: 'Open in History' }));
  parts.push(links);
  box.replaceChildren(...parts);
  box.hidden = false;
}

// follow asks for the send's state every second until nothing will change.
function follow(box, url) {
  const poll = async () => {
    try {
      const v = await ask(url);
      render(box, v);
      if (!v.done) setTimeout(poll, 1000);
    } catch {
      setTimeout(poll, 3000);
    }
  };
  poll();
}

// The typed list: how many entries it has, as the confirmation counts them.
function listForm() {
  const area = document.getElementById('addresses');
  const out = document.getElementById('addresses-count');
  if (!area || !out) return;
  const update = () => {
    const n = area.value.split(/[\n\r,;]+/).map((s) => s.trim()).filter(Boolean).length;
    out.textContent = n ? `${n} typed.` : '';
  };
  area.addEventListener('input', update);
  update();
}

// The spreadsheet: the console makes the upload, the browser PUTs the file
// to its URL (on AWS, S3 itself), and the result shows on this screen.
function fileForm() {
  const form = document.getElementById('file-form');
  const box = document.getElementById('upload-result');
  const input = document.getElementById('file');
  if (!form || !box || !input) return;
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const file = input.files[0];
    if (!file) {
      box.replaceChildren(el('p', { className: 'field-error', role: 'alert', textContent: 'Choose the spreadsheet to send (CSV or XLSX).' }));
      box.hidden = false;
      input.focus();
      return;
    }
    const button = form.querySelector('button[type="submit"]');
    button.disabled = true;
    box.replaceChildren(el('p', { textContent: 'Sending the file…' }));
    box.hidden = false;
    try {
      const up = await ask('/sends/uploads', {
        method: 'POST',
        body: new URLSearchParams({ template: form.dataset.template, filename: file.name }),
      });
      const res = await fetch(up.uploadUrl, { method: 'PUT', body: file, credentials: 'omit' });
      if (!res.ok) throw problem(await res.json().catch(() => ({})), res.status);
      // Sent: the button stays off, so that a second click sends nothing
      // twice, and the confirmation stays while the state below changes.
      const accepted = document.getElementById('upload-accepted');
      if (accepted) {
        accepted.textContent = `Accepted: ${file.name} was received. Its rows are checked, then the valid ones are sent in turn.`;
        accepted.hidden = false;
      }
      box.replaceChildren(el('p', { textContent: 'Checking the file…' }));
      follow(box, up.statusUrl);
    } catch (e) {
      box.replaceChildren(el('p', { className: 'error', role: 'alert', textContent: e.message }));
      button.disabled = false;
    }
  });
}

// A spreadsheet send's own page follows it too.
function sendPage() {
  const box = document.getElementById('upload-result');
  const url = box?.dataset.statusUrl;
  if (url) setTimeout(() => follow(box, url), 1000);
}

listForm();
fileForm();
sendPage();
