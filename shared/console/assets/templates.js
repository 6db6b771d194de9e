// Herald console, templates: the editor's live preview, its rows of
// buttons and languages, and the email's sandboxed preview as you type.
// The editor works without this file (its buttons ask the server).

const csrf = document.querySelector('meta[name="csrf-token"]')?.content ?? '';

function debounce(fn, ms) {
  let t;
  return (...args) => {
    clearTimeout(t);
    t = setTimeout(() => fn(...args), ms);
  };
}

function editor() {
  const form = document.getElementById('template-form');
  if (!form) return;
  const channel = form.elements.channel;
  const previews = document.getElementById('previews');
  const showPreview = document.getElementById('show-preview');
  const emailButton = document.getElementById('preview-email');
  const frameBox = document.getElementById('email-frame');
  const readOnly = form.querySelector('fieldset.bare')?.disabled ?? false;

  // Only the chosen channel's fields are shown; the others stay in the
  // form (the server keeps only the channel's).
  const show = () => {
    const ch = channel.value;
    // An in-app message shows a push's icon, image and buttons.
    const push = ch === 'push' || ch === 'webpush' || ch === 'inapp';
    const toggle = (sel, on) => {
      for (const el of form.querySelectorAll(sel)) el.hidden = !on;
    };
    toggle('.only-push', push);
    toggle('.only-email', ch === 'email');
    toggle('.only-whatsapp', ch === 'whatsapp');
    toggle('.only-buttons', push || ch === 'whatsapp');
    // SMS and WhatsApp messages have no title.
    toggle('.not-chat', ch !== 'sms' && ch !== 'whatsapp');
  };
  show();
  if (readOnly) return;
  if (showPreview) showPreview.hidden = true;

  let seq = 0;
  const refresh = debounce(async () => {
    const mine = ++seq;
    const body = new URLSearchParams(new FormData(form));
    try {
      const res = await fetch('/templates/preview', {
        method: 'POST',
        body,
        headers: { Accept: 'text/html, application/json', 'X-CSRF-Token': csrf },
        credentials: 'same-origin',
      });
      if (!res.ok) {
        const data = await res.json().catch(() => ({}));
        const msg = data?.error?.message ?? `The console answered ${res.status}`;
        throw new Error(msg.charAt(0).toUpperCase() + msg.slice(1));
      }
      const text = await res.text();
      if (mine !== seq) return;
      // The server's own template output, parsed inert (no script runs).
      const doc = new DOMParser().parseFromString(text, 'text/html');
      previews.replaceChildren(...doc.body.childNodes);
    } catch (e) {
      if (mine !== seq) return;
      const p = document.createElement('p');
      p.className = 'field-error';
      p.textContent = e.message;
      previews.replaceChildren(p);
    }
  }, 300);

  // The email's HTML is shown by the server under its sandbox policy: the
  // frame is replaced by a fresh one (so that previews do not pile up in
  // the browser's history) and the form is sent into it.
  const hasHTML = () => (form.elements.html?.value ?? '').trim() !== '';
  const refreshEmail = debounce(() => {
    if (channel.value !== 'email' || !emailButton || !frameBox || !hasHTML()) return;
    const old = frameBox.querySelector('iframe');
    const fresh = old.cloneNode(false);
    fresh.removeAttribute('src');
    fresh.setAttribute('aria-busy', 'true');
    old.replaceWith(fresh);
    // The fresh frame's own about:blank comes first; the form is sent
    // into it once that is done.
    setTimeout(() => {
      fresh.addEventListener('load', () => fresh.removeAttribute('aria-busy'), { once: true });
      form.requestSubmit(emailButton);
    }, 0);
  }, 700);

  form.addEventListener('submit', (ev) => {
    if (ev.submitter === showPreview) {
      ev.preventDefault();
      refresh();
    }
  });

  const renumber = (kind) => {
    form.querySelectorAll(`[data-rows="${kind}"] > [data-row]`).forEach((row, i) => {
      for (const n of row.querySelectorAll('[data-n]')) n.textContent = String(i + 1);
    });
  };
  let made = 0;
  form.addEventListener('click', (ev) => {
    const add = ev.target.closest('[data-add]');
    const remove = ev.target.closest('[data-remove]');
    if (add) {
      ev.preventDefault();
      const kind = add.dataset.add;
      const row = document.getElementById(`${kind}-row-template`).content.firstElementChild.cloneNode(true);
      const id = `new${++made}`;
      for (const el of row.querySelectorAll('[id]')) el.id = el.id.replace('NEW', id);
      for (const el of row.querySelectorAll('label[for]')) el.htmlFor = el.htmlFor.replace('NEW', id);
      form.querySelector(`[data-rows="${kind}"]`).append(row);
      renumber(kind);
      show();
      row.querySelector('input, textarea')?.focus();
    } else if (remove) {
      ev.preventDefault();
      const row = remove.closest('[data-row]');
      const kind = row.dataset.row;
      row.remove();
      renumber(kind);
      form.querySelector(`[data-add="${kind}"]`)?.focus();
      refresh();
      refreshEmail();
    }
  });

  const changed = () => {
    show();
    refresh();
    refreshEmail();
  };
  form.addEventListener('input', changed);
  form.addEventListener('change', changed);
  refresh();
  // Text typed but not saved (a refused save) has no saved email to show.
  if (!frameBox?.querySelector('iframe')?.getAttribute('src')) refreshEmail();
}

editor();
