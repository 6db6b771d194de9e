// Herald console: small enhancements over server-rendered pages. Every
// form works without this file; it adds live counts, previews as you type,
// AI variants in place and live delivery counts. No dependencies.

const csrf = document.querySelector('meta[name="csrf-token"]')?.content ?? '';

async function call(url, { method = 'GET', body } = {}) {
  const res = await fetch(url, {
    method,
    body,
    headers: { Accept: 'application/json', ...(method === 'GET' ? {} : { 'X-CSRF-Token': csrf }) },
    credentials: 'same-origin',
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) {
    const msg = data?.error?.message ?? `The console answered ${res.status}`;
    const err = new Error(msg.charAt(0).toUpperCase() + msg.slice(1));
    err.data = data;
    err.status = res.status;
    throw err;
  }
  return data;
}

function debounce(fn, ms) {
  let t;
  return (...args) => {
    clearTimeout(t);
    t = setTimeout(() => fn(...args), ms);
  };
}

function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  Object.assign(e, props);
  for (const c of children) e.append(c);
  return e;
}

// Users: "Send notification to N users" follows the filters as they change.
function usersPage() {
  const form = document.getElementById('user-filters');
  const button = document.getElementById('send-many');
  const reach = document.getElementById('reach');
  if (!form) return;
  let seq = 0;
  const update = async () => {
    const params = new URLSearchParams(new FormData(form));
    for (const [k, v] of [...params]) if (v === '') params.delete(k);
    const mine = ++seq;
    if (reach) reach.textContent = 'Counting…';
    try {
      const r = await call('/users/count?' + params);
      if (mine !== seq) return;
      if (button) {
        button.textContent = r.label;
        button.href = '/send?' + params;
      }
      if (reach) {
        const skipped = r.users - r.recipients;
        reach.textContent = `${r.users} ${r.users === 1 ? 'user matches' : 'users match'} the filters` +
          (skipped > 0 ? `; ${skipped} cannot be reached on this channel.` : '.');
      }
    } catch (e) {
      if (mine === seq && reach) reach.textContent = e.message;
    }
  };
  form.addEventListener('change', debounce(update, 250));
  form.addEventListener('input', debounce(update, 400));
  update();
}

// Send: preview, limits and the count as the operator types.
function sendPage() {
  const form = document.getElementById('send-form');
  if (!form) return;
  const preview = document.getElementById('preview');
  const submit = document.getElementById('review');
  const channel = form.elements.channel;
  const pushOnly = form.querySelector('.push-only');
  const titleField = form.elements.title?.closest('.field');
  const showPush = () => {
    if (pushOnly) pushOnly.hidden = !['push', 'webpush', 'inapp'].includes(channel.value);
    // An SMS has no title.
    if (titleField) titleField.hidden = channel.value === 'sms';
  };
  let seq = 0;
  let counted = null;
  const check = async () => {
    showPush();
    const mine = ++seq;
    const body = new FormData(form);
    body.delete('csrf');
    // The audience is counted again only when what it depends on changed.
    const countKey = `${channel.value}|${form.elements.category?.value ?? ''}`;
    if (!form.elements.user && countKey !== counted) body.set('count', '1');
    try {
      const r = await call('/send/check', { method: 'POST', body: new URLSearchParams(body) });
      if (mine !== seq) return;
      const p = r.preview;
      preview.replaceChildren(
        el('h3', { textContent: p.sample ? `As ${p.sample} sees it` : 'As a recipient sees it' }),
        el('div', { className: 'device' }, el('p', { className: 'device-title', textContent: p.title }), el('p', { textContent: p.body })),
        el('h3', { textContent: 'As written' }),
        el('div', { className: 'raw' }, el('p', {}, el('strong', { textContent: p.rawTitle })), el('p', { textContent: p.rawBody })),
      );
      if (p.missing?.length) preview.append(el('p', { className: 'field-error', textContent: `No value for: ${p.missing.join(', ')}` }));
      for (const w of r.warnings ?? []) preview.append(el('p', { className: 'warn', textContent: w }));
      const t = document.querySelector('[data-counter="title"]');
      const b = document.querySelector('[data-counter="body"]');
      if (t) t.textContent = `${[...form.elements.title.value].length} of ${r.limits.title} characters`;
      if (b) {
        b.textContent = `${[...form.elements.body.value].length} of ${r.limits.body} characters` +
          (r.segments ? ` · ${r.segments} SMS ${r.segments === 1 ? 'segment' : 'segments'} (${r.encoding})` : '');
      }
      if (r.reach) {
        counted = countKey;
        submit.textContent = r.reach.label;
        const count = document.getElementById('reach-count');
        if (count) {
          const skipped = r.reach.users - r.reach.recipients;
          count.textContent = `${r.reach.label} (${r.reach.users} ${r.reach.users === 1 ? 'user matches' : 'users match'} the filters` +
            (skipped > 0 ? `; ${skipped} cannot be reached on this channel).` : ').');
        }
      }
    } catch (e) {
      if (mine === seq) preview.replaceChildren(el('p', { className: 'field-error', textContent: e.message }));
    }
  };
  form.addEventListener('input', debounce(check, 300));
  form.addEventListener('change', debounce(check, 100));
  check();

  const generate = document.getElementById('generate');
  const variants = document.getElementById('variants');
  if (generate && variants) {
    generate.addEventListener('click', async (ev) => {
      ev.preventDefault();
      generate.disabled = true;
      variants.replaceChildren(el('p', { textContent: 'Writing…' }));
      try {
        const body = new FormData(form);
        body.delete('csrf');
        const r = await call('/compose', { method: 'POST', body: new URLSearchParams(body) });
        variants.replaceChildren(...r.variants.map((v, i) => {
          const use = el('button', { type: 'button', textContent: 'Use this text' });
          use.addEventListener('click', () => {
            form.elements.title.value = v.title ?? '';
            form.elements.body.value = v.body ?? '';
            form.elements.body.focus();
            check();
          });
          return el('div', { className: 'variant' }, el('p', {}, el('strong', { textContent: v.title ?? '' })), el('p', { textContent: v.body ?? '' }), use);
        }));
        variants.querySelector('button')?.focus();
      } catch (e) {
        variants.replaceChildren(el('p', { className: 'field-error', role: 'alert', textContent: e.message }));
      } finally {
        generate.disabled = false;
      }
    });
  }
}

// A notification: counts update live while it sends; Undo counts down.
function notificationPage() {
  const live = document.getElementById('live');
  const url = live?.dataset.statusUrl;
  const undo = document.getElementById('undo');
  if (undo) {
    const until = Date.parse(undo.dataset.until);
    const out = undo.querySelector('[data-countdown]');
    const tick = () => {
      const s = Math.max(0, Math.ceil((until - Date.now()) / 1000));
      out.textContent = s > 0 ? `in ${s} s` : 'now';
    };
    tick();
    setInterval(tick, 500);
  }
  if (!url) return;
  let last = document.getElementById('n-status')?.textContent;
  const poll = async () => {
    try {
      const r = await call(url);
      for (const [k, v] of Object.entries(r.counts)) {
        const c = live.querySelector(`[data-count="${k}"]`);
        if (c) c.textContent = v;
      }
      const st = document.getElementById('n-status');
      if (st) {
        st.textContent = r.status;
        st.className = `badge st-${r.status}`;
      }
      if (r.status !== last && (last === 'scheduled' || !r.cancellable)) {
        // The page's parts that depend on the state (Undo, recipients) change.
        location.replace(location.pathname);
        return;
      }
      last = r.status;
      if (r.cancellable) setTimeout(poll, 1000);
    } catch {
      setTimeout(poll, 3000);
    }
  };
  setTimeout(poll, 1000);
}

// Links shown once: select on focus for copying.
for (const input of document.querySelectorAll('input.copy')) {
  input.addEventListener('focus', () => input.select());
}

usersPage();
sendPage();
notificationPage();
