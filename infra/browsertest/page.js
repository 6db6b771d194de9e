// The in-page half of infra/browsertest. The Go side evaluates this file as
// one expression, an object of functions, and calls one of them:
//
//   (<this file>).find("field", "Email")
//
// It finds things the way a person does, by the text they see next to them
// (labels, button and link names), and checks a page the way a small axe
// would. It must not change the page: it reads, scrolls and, for the actions
// that need it, focuses or sets a value and fires the events a person's
// input fires.
({
  // norm collapses runs of white space, as a reader does.
  norm(s) {
    return (s || "").replace(/\s+/g, " ").trim();
  },

  // rendered reports whether el takes part in the layout at all
  // (display:none and hidden subtrees do not).
  rendered(el) {
    return el.checkVisibility ? el.checkVisibility() : el.getClientRects().length > 0;
  },

  // visible reports whether a person can see el: rendered, not
  // visibility:hidden, not fully transparent, with a size.
  visible(el) {
    if (!el.checkVisibility({ visibilityProperty: true, opacityProperty: true })) {
      return false;
    }
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  },

  isControl(el) {
    return ["INPUT", "SELECT", "TEXTAREA", "BUTTON"].includes(el.tagName);
  },

  // text is the text a person reads in node: the text of its rendered
  // descendants and the alt text of its images. skipControls leaves out the
  // controls inside (the text of a <label> that wraps its <select> is not the
  // select's options).
  text(node, skipControls) {
    let s = "";
    for (const c of node.childNodes) {
      if (c.nodeType === Node.TEXT_NODE) {
        s += c.textContent;
        continue;
      }
      if (c.nodeType !== Node.ELEMENT_NODE) continue;
      if (skipControls && this.isControl(c)) continue;
      const st = getComputedStyle(c);
      if (st.display === "none" || st.visibility === "hidden") continue;
      if (c.tagName === "IMG" || (c.tagName === "INPUT" && c.type === "image")) {
        s += " " + (c.getAttribute("alt") || "") + " ";
        continue;
      }
      if (c.getAttribute("aria-hidden") === "true") continue;
      const block = !st.display.startsWith("inline");
      s += (block ? " " : "") + this.text(c, skipControls) + (block ? " " : "");
    }
    return s;
  },

  // labelText is the visible text of a <label>, without the control it wraps.
  labelText(label) {
    return this.norm(this.text(label, true));
  },

  // labelsOf gives the texts of the <label>s of a control: label[for] and a
  // wrapping label alike (HTMLInputElement.labels holds both).
  labelsOf(el) {
    return Array.from(el.labels || []).map((l) => this.labelText(l)).filter((t) => t !== "");
  },

  byIds(ids) {
    return ids
      .split(/\s+/)
      .map((id) => document.getElementById(id))
      .filter((e) => e)
      .map((e) => this.norm(this.text(e, false)))
      .join(" ");
  },

  // controlName is the accessible name of a form control from what the
  // accessibility rule accepts: aria-labelledby, aria-label, a <label>.
  // (A placeholder or title is not a label.)
  controlName(el) {
    const by = el.getAttribute("aria-labelledby");
    if (by && this.norm(this.byIds(by))) return this.norm(this.byIds(by));
    const aria = this.norm(el.getAttribute("aria-label"));
    if (aria) return aria;
    return this.labelsOf(el).join(" ");
  },

  // name is a close cousin of the browser's accessible name computation:
  // what a screen reader says for el.
  name(el) {
    if (!el || el === document.body || el === document.documentElement) return "";
    const by = el.getAttribute("aria-labelledby");
    if (by && this.norm(this.byIds(by))) return this.norm(this.byIds(by));
    const aria = this.norm(el.getAttribute("aria-label"));
    if (aria) return aria;
    if (el.tagName === "INPUT") {
      switch (el.type) {
        case "submit":
          return this.norm(el.hasAttribute("value") ? el.value : "Submit");
        case "reset":
          return this.norm(el.hasAttribute("value") ? el.value : "Reset");
        case "button":
          return this.norm(el.value);
        case "image":
          return this.norm(el.getAttribute("alt") || el.value);
      }
    }
    if (["INPUT", "SELECT", "TEXTAREA"].includes(el.tagName)) {
      const labels = this.labelsOf(el).join(" ");
      if (labels) return labels;
      return this.norm(el.getAttribute("title") || el.getAttribute("placeholder"));
    }
    if (el.tagName === "IMG") return this.norm(el.getAttribute("alt") || el.getAttribute("title"));
    const content = this.norm(this.text(el, false));
    if (content) return content;
    return this.norm(el.getAttribute("title"));
  },

  // describe names an element for a failure message: tag#id.class[name] "text".
  describe(el) {
    let s = el.tagName.toLowerCase();
    if (el.id) s += "#" + el.id;
    const classes = Array.from(el.classList).slice(0, 2);
    if (classes.length) s += "." + classes.join(".");
    if (el.getAttribute("name")) s += '[name="' + el.getAttribute("name") + '"]';
    if (el.tagName === "INPUT") s += '[type="' + el.type + '"]';
    const t = this.norm(el.textContent);
    if (t && !["SELECT", "TABLE", "HTML", "BODY"].includes(el.tagName)) {
      s += ' "' + (t.length > 40 ? t.slice(0, 40) + "…" : t) + '"';
    }
    return s;
  },

  // kinds of things a person looks for, each with what matches and the name
  // it is found by.
  kinds: {
    field: {
      what: "field",
      by: "label",
      selector: "input, select, textarea",
      ok(el) {
        return !["hidden", "submit", "button", "reset", "image", "checkbox", "radio"].includes(el.type);
      },
      names(lib, el) {
        return lib.labelsOf(el);
      },
    },
    select: {
      what: "select",
      by: "label",
      selector: "select",
      ok() {
        return true;
      },
      names(lib, el) {
        return lib.labelsOf(el);
      },
    },
    check: {
      what: "checkbox or radio button",
      by: "label",
      selector: 'input[type="checkbox"], input[type="radio"]',
      ok() {
        return true;
      },
      names(lib, el) {
        return lib.labelsOf(el);
      },
    },
    button: {
      what: "button",
      by: "name",
      selector:
        // A <details>'s <summary> is a disclosure button to a person (and
        // to screen readers).
        'button, input[type="submit"], input[type="button"], input[type="reset"], input[type="image"], [role="button"], details > summary',
      ok() {
        return true;
      },
      names(lib, el) {
        return [lib.name(el)];
      },
    },
    link: {
      what: "link",
      by: "name",
      selector: 'a[href], [role="link"]',
      ok() {
        return true;
      },
      names(lib, el) {
        return [lib.name(el)];
      },
    },
  },

  // shown reports whether a person can see el or, for a checkbox or radio
  // button styled by hiding the input, one of its labels.
  shown(el) {
    if (this.visible(el)) return true;
    if (el.type === "checkbox" || el.type === "radio") {
      return Array.from(el.labels || []).some((l) => this.visible(l));
    }
    return false;
  },

  // find looks for the one visible thing of the kind with that name. It
  // answers {found: el} or, when there is none or more than one, the names
  // a person sees so that the failure message can list them.
  lookup(kind, name) {
    const k = this.kinds[kind];
    const want = this.norm(name);
    const matches = [];
    const seen = [];
    for (const el of document.querySelectorAll(k.selector)) {
      if (!k.ok(el) || !this.shown(el)) continue;
      const names = k.names(this, el);
      seen.push(...names.filter((n) => n !== ""));
      if (names.includes(want)) matches.push(el);
    }
    return { k, matches, seen: Array.from(new Set(seen)) };
  },

  // target scrolls el to the middle of the viewport and gives the point a
  // person would click: the middle of el, or of its label when the input is
  // hidden behind a styled label. It reports what covers the point, if
  // anything does.
  target(el) {
    let box = el;
    if (!this.visible(el) && el.labels) {
      box = Array.from(el.labels).find((l) => this.visible(l)) || el;
    }
    box.scrollIntoView({ block: "center", inline: "center", behavior: "instant" });
    const r = box.getBoundingClientRect();
    const x = r.left + r.width / 2;
    const y = r.top + r.height / 2;
    const hit = document.elementFromPoint(x, y);
    const reaches =
      hit && (hit === box || box.contains(hit) || hit === el || (el.labels && Array.from(el.labels).some((l) => l === hit || l.contains(hit))));
    return { x, y, covered: reaches ? "" : hit ? this.describe(hit) : "nothing (off screen)" };
  },

  // find is the entry point of every action: it finds, checks the element
  // can be used, and prepares it (scroll, point, focus).
  find(kind, name, arg) {
    const { k, matches, seen } = this.lookup(kind, name);
    if (matches.length !== 1) {
      // Say so when the name belongs to another kind of thing (a checkbox
      // looked for as a field, a link looked for as a button).
      const also = Object.keys(this.kinds)
        .filter((other) => other !== kind)
        .filter((other) => this.lookup(other, name).matches.length > 0)
        .map((other) => this.kinds[other].what);
      return { state: matches.length === 0 ? "missing" : "ambiguous", count: matches.length, what: k.what, by: k.by, seen, also };
    }
    const el = matches[0];
    if (el.disabled || el.getAttribute("aria-disabled") === "true") {
      return { state: "disabled", what: k.what, by: k.by, element: this.describe(el) };
    }
    const res = { state: "found", what: k.what, by: k.by, element: this.describe(el) };
    Object.assign(res, this.target(el));
    if (res.covered) return res; // a person cannot reach it: change nothing
    if (kind === "field") {
      res.typed = el.tagName === "TEXTAREA" || ["text", "search", "email", "url", "tel", "password", "number"].includes(el.type);
      res.readOnly = el.readOnly;
      res.isSelect = el.tagName === "SELECT";
      if (!res.typed && el.type === "file") res.file = true;
      if (!res.typed && !res.readOnly && arg !== undefined && el.tagName !== "SELECT" && el.type !== "file") {
        this.setValue(el, arg);
        res.set = true;
      }
    }
    if (kind === "select") {
      const opts = Array.from(el.options);
      const want = this.norm(arg);
      const opt = opts.find((o) => this.norm(o.label || o.text) === want);
      if (!opt) {
        return { state: "nooption", what: k.what, by: k.by, element: this.describe(el), seen: opts.map((o) => this.norm(o.label || o.text)) };
      }
      if (opt.disabled) return { state: "disabled", what: "option", by: "text", element: this.describe(opt) };
      el.focus();
      if (!opt.selected) {
        opt.selected = true;
        el.dispatchEvent(new Event("input", { bubbles: true }));
        el.dispatchEvent(new Event("change", { bubbles: true }));
      }
    }
    if (kind === "check") res.checked = el.checked;
    return res;
  },

  // setValue is for the inputs a person fills with a picker (date, colour,
  // range): the value, then the events the picker fires.
  setValue(el, v) {
    el.focus();
    el.value = v;
    el.dispatchEvent(new Event("input", { bubbles: true }));
    el.dispatchEvent(new Event("change", { bubbles: true }));
  },

  // selectAll selects what the focused field holds, so that typing replaces it.
  selectAll() {
    const el = document.activeElement;
    if (el && typeof el.select === "function") el.select();
    return el ? this.describe(el) : "";
  },

  value(kind, name) {
    const { matches } = this.lookup(kind, name);
    return matches.length === 1 ? (kind === "check" ? String(matches[0].checked) : matches[0].value) : null;
  },

  focused() {
    const el = document.activeElement;
    if (!el || el === document.body) return "";
    return this.name(el);
  },

  bodyText() {
    return document.body ? document.body.innerText : "";
  },

  // ---- accessibility ----

  // rgba turns any CSS colour (rgb, hsl, oklch, color(...)) into sRGB bytes
  // and an alpha in [0, 1], by painting it on a one-pixel canvas.
  rgba(css) {
    if (!this._ctx) {
      const c = document.createElement("canvas");
      c.width = c.height = 1;
      this._ctx = c.getContext("2d", { willReadFrequently: true });
      this._colors = new Map();
    }
    if (this._colors.has(css)) return this._colors.get(css);
    const ctx = this._ctx;
    ctx.clearRect(0, 0, 1, 1);
    ctx.fillStyle = "#000";
    ctx.fillStyle = css;
    ctx.fillRect(0, 0, 1, 1);
    const d = ctx.getImageData(0, 0, 1, 1).data;
    const c = { r: d[0], g: d[1], b: d[2], a: d[3] / 255 };
    this._colors.set(css, c);
    return c;
  },

  over(top, below) {
    const a = top.a;
    return {
      r: top.r * a + below.r * (1 - a),
      g: top.g * a + below.g * (1 - a),
      b: top.b * a + below.b * (1 - a),
      a: 1,
    };
  },

  luminance(c) {
    const ch = (v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    };
    return 0.2126 * ch(c.r) + 0.7152 * ch(c.g) + 0.0722 * ch(c.b);
  },

  // background is the colour behind el: its own and its ancestors'
  // background colours, composed down to the nearest opaque one (white, the
  // canvas, when there is none). null when an image is in the way, where no
  // colour can be computed.
  background(el) {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const st = getComputedStyle(e);
      if (st.backgroundImage && st.backgroundImage !== "none") return null;
      const c = this.rgba(st.backgroundColor);
      if (c.a > 0) layers.push(c);
      if (c.a >= 1) break;
    }
    let bg = { r: 255, g: 255, b: 255, a: 1 };
    for (let i = layers.length - 1; i >= 0; i--) bg = this.over(layers[i], bg);
    return bg;
  },

  contrast(el) {
    const st = getComputedStyle(el);
    const bg = this.background(el);
    if (!bg) return null;
    const fg = Object.assign({}, this.rgba(st.color));
    let opacity = 1;
    for (let e = el; e; e = e.parentElement) opacity *= parseFloat(getComputedStyle(e).opacity);
    fg.a *= opacity;
    const text = this.over(fg, bg);
    const l1 = this.luminance(text);
    const l2 = this.luminance(bg);
    const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
    const size = parseFloat(st.fontSize);
    const bold = parseInt(st.fontWeight, 10) >= 700;
    const large = size >= 24 || (bold && size >= 18.66);
    return { ratio, need: large ? 3 : 4.5, color: st.color, size };
  },

  // audit runs the checks and answers the violations: {rule, element, detail}.
  audit() {
    const out = [];
    const add = (rule, el, detail) => out.push({ rule, element: el ? this.describe(el) : "", detail });
    const all = (sel) => Array.from(document.querySelectorAll(sel));

    if (!this.norm(document.documentElement.getAttribute("lang"))) {
      add("html-lang", document.documentElement, "<html> has no lang attribute");
    }

    for (const el of all("input, select, textarea")) {
      if (el.tagName === "INPUT" && ["hidden", "submit", "button", "reset", "image"].includes(el.type)) continue;
      if (!this.rendered(el)) continue;
      if (!this.controlName(el)) add("control-name", el, "form control has no <label>, aria-label or aria-labelledby");
    }

    for (const el of all('button, input[type="submit"], input[type="button"], input[type="reset"], [role="button"]')) {
      if (!this.rendered(el)) continue;
      if (!this.name(el)) add("button-name", el, "button has no accessible name");
    }
    for (const el of all('a[href], [role="link"]')) {
      if (!this.rendered(el)) continue;
      if (!this.name(el)) add("link-name", el, "link has no accessible name");
    }
    for (const el of all('img, input[type="image"]')) {
      if (!el.hasAttribute("alt") && !el.getAttribute("aria-label") && !el.getAttribute("aria-labelledby") && el.getAttribute("role") !== "presentation" && el.getAttribute("role") !== "none") {
        add("image-alt", el, 'image has no alt attribute (alt="" for a decorative one)');
      }
    }

    const headings = all("h1, h2, h3, h4, h5, h6").filter((h) => this.rendered(h));
    const h1s = headings.filter((h) => h.tagName === "H1");
    if (h1s.length !== 1) {
      add("one-h1", h1s[1] || null, "the page has " + h1s.length + " <h1> elements, want exactly one");
    }
    let prev = 0;
    for (const h of headings) {
      const level = parseInt(h.tagName.slice(1), 10);
      if (level > prev + 1) {
        add("heading-order", h, "<h" + level + "> follows " + (prev ? "<h" + prev + ">" : "no heading") + ", skipping a level");
      }
      prev = level;
    }

    for (const t of all("table")) {
      const role = t.getAttribute("role");
      if (role === "presentation" || role === "none") continue;
      if (!t.querySelector("th")) add("table-header", t, "table has no <th> header cell");
    }

    for (const el of all("[tabindex]")) {
      if (parseInt(el.getAttribute("tabindex"), 10) > 0) {
        add("tabindex", el, "tabindex=" + el.getAttribute("tabindex") + " changes the tab order; use 0 or -1");
      }
    }

    for (const el of all("body *")) {
      if (["SCRIPT", "STYLE", "NOSCRIPT", "OPTION", "OPTGROUP", "TEMPLATE"].includes(el.tagName)) continue;
      const own = Array.from(el.childNodes).some((c) => c.nodeType === Node.TEXT_NODE && c.textContent.trim() !== "");
      if (!own || !this.visible(el)) continue;
      if (el.disabled || el.closest("[disabled], [aria-disabled=true]")) continue;
      const c = this.contrast(el);
      if (c && c.ratio < c.need) {
        add("contrast", el, "text contrast " + c.ratio.toFixed(2) + ":1 is below " + c.need + ":1 (" + c.color + " at " + c.size + "px)");
      }
    }
    return out;
  },
})
