// Herald console, campaigns: in the editor, the schedule builder shows the
// fields of the kind chosen, a new campaign takes the browser's time zone,
// and the next five runs (from /campaigns/check, computed as the API
// computes them), the audience's count and a preview (from /send/check,
// the send form's own check) follow what is typed. The form works without
// this file. No dependencies.

const csrf = document.querySelector('meta[name="csrf-token"]')?.content ?? '';

// post sends the form's fields (extra ones added) and returns the JSON.
async function post(url, form, extra = {}) {
  const body = new URLSearchParams(new FormData(form));
  body.delete('csrf');
  for (const [k, v] of Object.entries(extra)) body.set(k, v);
  const res = await fetch(url, {
    method: 'POST',
    body,
    headers: { Accept: 'application/json', 'X-CSRF-Token': csrf },
    credentials: 'same-origin',
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(sentence(data?.error?.message ?? `The console answered ${res.status}`));
  return data;
}

function sentence(s) {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function debounce(fn, ms) {
  let t;
  return () => {
    clearTimeout(t);
    t = setTimeout(fn, ms);
  };
}

function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  Object.assign(e, props);
  for (const c of children) e.append(c);
  return e;
}

// latest runs fn and drops the answers of calls a later call overtook.
function latest(fn, show, fail) {
  let seq = 0;
  return async () => {
    const mine = ++seq;
    try {
      const r = await fn();
      if (mine === seq) show(r);
    } catch (e) {
      if (mine === seq) fail(e);
    }
  };
}

const scheduleFields = new Set(['repeat', 'date', 'time', 'every', 'unit', 'day', 'at', 'cron', 'timezone']);
const audienceFields = new Set(['q', 'status', 'type', 'tag', 'language', 'push', 'email', 'phone', 'channel', 'category']);

function editor() {
  const form = document.getElementById('campaign-form');
  if (!form) return;

  // The builder: only the chosen kind's fields.
  const kinds = form.querySelectorAll('[data-repeat]');
  const showKind = () => {
    const kind = form.elements.repeat.value;
    for (const k of kinds) k.hidden = k.dataset.repeat !== kind;
  };

  // A new campaign's zone is the operator's, when the list has it or not.
  const tz = form.elements.timezone;
  if (tz?.hasAttribute('data-browser-zone')) {
    const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone) {
      if (![...tz.options].some((o) => o.value === zone)) tz.prepend(new Option(zone, zone));
      tz.value = zone;
    }
  }

  // The next five runs.
  const words = document.getElementById('schedule-words');
  const next = document.getElementById('next-runs');
  const checkSchedule = latest(
    () => post('/campaigns/check', form),
    (r) => {
      words.textContent = r.words ?? '';
      if (r.problems?.length) {
        next.replaceChildren(el('p', { className: 'field-error', textContent: r.problems.map((p) => sentence(p.problem)).join(' ') }));
        return;
      }
      next.replaceChildren(el('ol', {}, ...r.nextRuns.map((n) => el('li', {}, el('time', { dateTime: n.at, textContent: n.local })))));
    },
    (e) => next.replaceChildren(el('p', { className: 'field-error', textContent: e.message })),
  );

  // The count now and the preview, from the send form's check.
  const preview = document.getElementById('preview');
  const reach = document.getElementById('reach');
  const pushOnly = form.querySelector('.push-only');
  const channel = form.elements.channel;
  let counted = null;
  let countKey = '';
  const checkSend = latest(
    () => {
      countKey = [...audienceFields].map((k) => form.elements[k]?.value ?? '').join('|');
      return post('/send/check', form, countKey !== counted ? { count: '1' } : {});
    },
    (r) => {
      const p = r.preview;
      preview.replaceChildren(
        el('h3', { textContent: p.sample ? `As ${p.sample} sees it` : 'As a recipient sees it' }),
        el('div', { className: 'device' }, el('p', { className: 'device-title', textContent: p.title }), el('p', { textContent: p.body })),
        el('h3', { textContent: 'As written' }),
        el('div', { className: 'raw' }, el('p', {}, el('strong', { textContent: p.rawTitle })), el('p', { textContent: p.rawBody })),
      );
      if (p.missing?.length) preview.append(el('p', { className: 'field-error', textContent: `No value for: ${p.missing.join(', ')}` }));
      for (const w of r.warnings ?? []) preview.append(el('p', { className: 'warn', textContent: w }));
      for (const pr of r.problems ?? []) preview.append(el('p', { className: 'field-error', textContent: `${pr.field}: ${pr.problem}` }));
      const t = form.querySelector('[data-counter="title"]');
      const b = form.querySelector('[data-counter="body"]');
      if (t) t.textContent = `${[...form.elements.title.value].length} of ${r.limits.title} characters`;
      if (b) {
        b.textContent = `${[...form.elements.body.value].length} of ${r.limits.body} characters` +
          (r.segments ? ` · ${r.segments} SMS ${r.segments === 1 ? 'segment' : 'segments'} (${r.encoding})` : '');
      }
      if (r.reach) {
        counted = countKey;
        const skipped = r.reach.users - r.reach.recipients;
        reach.textContent = `Now: ${r.reach.users} ${r.reach.users === 1 ? 'user matches' : 'users match'} the filters` +
          (skipped > 0 ? `, ${r.reach.recipients} reachable on this channel.` : '.') + ' Counted again at each run.';
      }
    },
    (e) => preview.replaceChildren(el('p', { className: 'field-error', textContent: e.message })),
  );
  const showChannel = () => {
    if (!channel) return;
    if (pushOnly) pushOnly.hidden = !['push', 'webpush'].includes(channel.value);
    const title = form.elements.title?.closest('.field');
    if (title) title.hidden = channel.value === 'sms'; // an SMS has no title
  };

  const onSchedule = debounce(checkSchedule, 150);
  const onSend = debounce(checkSend, 300);
  const changed = (ev) => {
    const name = ev.target.name;
    if (name === 'repeat') showKind();
    if (name === 'channel') showChannel();
    if (scheduleFields.has(name)) onSchedule();
    else if (preview && name !== 'name') onSend();
  };
  form.addEventListener('input', changed);
  form.addEventListener('change', changed);
  showKind();
  showChannel();
  checkSchedule();
  if (preview) checkSend();
}

editor();
