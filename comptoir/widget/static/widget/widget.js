/*
 * Comptoir chat widget. Embed with one tag:
 *   <script src="https://help.example.com/widget.js" data-brand="maison-demo" async></script>
 * Optional: data-lang="fr" | "en". The API origin is the origin of this script.
 * Everything renders inside an open Shadow DOM so the host page's CSS cannot reach it;
 * visitor and agent text is only ever set with textContent.
 */
(function () {
  "use strict";
  if (window.__comptoirWidget) return;
  var script =
    document.currentScript || document.querySelector('script[data-brand][src*="widget.js"]');
  if (!script || !window.fetch || !document.body || !document.body.attachShadow) return;
  window.__comptoirWidget = true;

  var BRAND = script.getAttribute("data-brand") || "";
  var LANG = script.getAttribute("data-lang") || "";
  var ORIGIN = new URL(script.src, location.href).origin;
  var WS_ORIGIN = ORIGIN.replace(/^http/, "ws");
  var STORAGE_KEY = "comptoir:" + BRAND + ":token";
  var SVG_NS = "http://www.w3.org/2000/svg";

  var state = {
    token: null, session: null, texts: {}, limits: {}, persisted: false,
    highest: 0, seen: {}, open: false, socket: null, retries: 0, retryTimer: null,
    pingTimer: null, unread: 0, file: null, starting: null, fileUrl: null,
    waitTimer: null, waitText: ""
  };

  /* ---------- small DOM helpers: nodes and textContent only, never HTML strings ---------- */
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      if (name === "text") node.textContent = attrs.text;
      else if (attrs[name] !== null && attrs[name] !== undefined) node.setAttribute(name, attrs[name]);
    });
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    return node;
  }
  function icon(path) {
    var svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var p = document.createElementNS(SVG_NS, "path");
    p.setAttribute("d", path);
    svg.appendChild(p);
    return svg;
  }
  var ICONS = {
    chat: "M4 5.5A2.5 2.5 0 0 1 6.5 3h11A2.5 2.5 0 0 1 20 5.5v8a2.5 2.5 0 0 1-2.5 2.5H10l-4.5 4v-4A2.5 2.5 0 0 1 4 13.5z",
    close: "M6 6l12 12M18 6L6 18",
    attach: "M20.5 11.5l-8.2 8.2a5 5 0 0 1-7.1-7.1l8.2-8.2a3.3 3.3 0 0 1 4.7 4.7l-8.2 8.2a1.7 1.7 0 0 1-2.4-2.4l7.6-7.6",
    send: "M4 12l16-8-5.5 16-3-6.5z M11.5 13.5L20 4"
  };
  function t(key) { return state.texts[key] || ""; }

  /* ---------- storage: the token is kept per brand once the visitor has opened the chat ---------- */
  function storedToken() { try { return localStorage.getItem(STORAGE_KEY); } catch (e) { return null; } }
  function storeToken(token) {
    try {
      if (token) localStorage.setItem(STORAGE_KEY, token); else localStorage.removeItem(STORAGE_KEY);
    } catch (e) { /* storage may be blocked: the session lives for this page only */ }
  }

  function newClientId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    return Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
  }

  /* ---------- UI ---------- */
  // A custom tag and important :host rules: the host page's selectors and !important
  // declarations cannot hide or restyle the widget.
  var host = el("comptoir-widget", { id: "comptoir-widget" });
  var shadow = host.attachShadow({ mode: "open" });
  var style = el("style", { text: [
    ":host{all:initial!important;display:block!important;visibility:visible!important;opacity:1!important}",
    "*{box-sizing:border-box}",
    ".root{--accent:#1f3a5f;--accent-ink:#fff;font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif;color:#1d2330}",
    "button{font:inherit;cursor:pointer}",
    "svg{width:22px;height:22px;fill:none;stroke:currentColor;stroke-width:2;stroke-linecap:round;stroke-linejoin:round}",
    ":focus-visible{outline:3px solid #f0a830;outline-offset:2px}",
    ".launcher{position:fixed;right:20px;bottom:20px;z-index:2147483000;width:60px;height:60px;border:0;border-radius:50%;background:var(--accent);color:var(--accent-ink);box-shadow:0 6px 20px rgba(0,0,0,.28);display:flex;align-items:center;justify-content:center;transition:transform .15s}",
    ".launcher:hover{transform:scale(1.06)}",
    ".launcher svg{width:28px;height:28px}",
    ".badge{position:absolute;top:-3px;right:-3px;min-width:22px;height:22px;padding:0 6px;border-radius:11px;background:#c62828;color:#fff;font-size:12px;font-weight:700;line-height:22px;text-align:center}",
    ".panel{position:fixed;right:20px;bottom:92px;z-index:2147483001;width:380px;height:min(620px,calc(100vh - 112px));background:#fff;border-radius:16px;box-shadow:0 14px 44px rgba(0,0,0,.28);display:flex;flex-direction:column;overflow:hidden}",
    "[hidden]{display:none!important}",
    ".head{display:flex;align-items:center;gap:10px;padding:14px 14px 14px 18px;background:var(--accent);color:var(--accent-ink)}",
    ".head-text{flex:1;min-width:0}",
    ".title{margin:0;font-size:16px;font-weight:700;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}",
    ".subtitle{margin:2px 0 0;font-size:13px;opacity:.85}",
    ".offline{font-weight:600;opacity:1}",
    ".icon-btn{flex:none;width:40px;height:40px;border:0;border-radius:10px;background:transparent;color:inherit;display:flex;align-items:center;justify-content:center}",
    ".icon-btn:hover{background:rgba(127,127,127,.18)}",
    ".identify{border-bottom:1px solid #e6e8ec;background:#fafbfc;font-size:14px}",
    ".callback.is-offered{background:#fff7e0}",
    ".callback.is-offered .link-btn{font-weight:600}",
    ".link-btn{display:block;width:100%;padding:9px 18px;border:0;background:transparent;color:var(--accent);text-align:left;text-decoration:underline}",
    ".identify form{display:grid;gap:8px;padding:4px 18px 12px}",
    ".identify label{display:grid;gap:3px;font-size:13px;color:#4a5160}",
    ".identify input{font:inherit;font-size:16px;padding:7px 9px;border:1px solid #c9ced6;border-radius:8px}",
    ".identify label.choice{display:flex;gap:6px;align-items:center}",
    ".identify select{font:inherit;font-size:16px;padding:6px;border:1px solid #c9ced6;border-radius:8px}",
    ".slots{display:flex;flex-wrap:wrap;gap:6px}",
    ".slots label{display:flex;gap:4px;align-items:center;padding:4px 8px;border:1px solid #c9ced6;border-radius:8px}",
    ".book-day{flex:1;align-self:center;font-weight:600}",
    ".row{display:flex;gap:8px;justify-content:flex-end}",
    ".btn{padding:7px 14px;border-radius:8px;border:1px solid var(--accent);background:var(--accent);color:var(--accent-ink)}",
    ".btn.secondary{background:#fff;color:var(--accent)}",
    ".thread{flex:1;margin:0;padding:16px 14px;list-style:none;overflow-y:auto;background:#f4f5f7;overscroll-behavior:contain}",
    ".msg{display:flex;flex-direction:column;align-items:flex-start;max-width:82%;margin:0 0 12px}",
    ".msg.mine{margin-left:auto;align-items:flex-end}",
    ".author{margin:0 0 2px 4px;font-size:12px;font-weight:600;color:#4a5160}",
    ".bubble{padding:9px 13px;border-radius:16px;background:#fff;border:1px solid #e3e6eb;border-bottom-left-radius:5px;white-space:pre-wrap;overflow-wrap:anywhere}",
    ".mine .bubble{background:var(--accent);color:var(--accent-ink);border-color:var(--accent);border-bottom-left-radius:16px;border-bottom-right-radius:5px}",
    ".bubble.media-only{padding:4px}",
    ".pending .bubble{opacity:.65}",
    ".failed .bubble{background:#fdecea;color:#8c1d18;border-color:#f5c2bd}",
    ".meta{margin:3px 4px 0;font-size:12px;color:#6b7280}",
    ".retry{margin-left:6px;padding:0;border:0;background:none;color:#8c1d18;text-decoration:underline;font-size:12px}",
    ".files{display:grid;gap:6px;margin-top:6px}",
    ".files:first-child{margin-top:0}",
    ".thumb{display:block;max-width:100%;max-height:220px;border-radius:10px;background:#dde1e6}",
    ".file-link{color:inherit;text-decoration:underline}",
    ".sys{margin:6px auto 14px;max-width:90%;text-align:center;font-size:13px;color:#5b6270}",
    ".greeting{margin:0 0 14px;padding:10px 13px;border-radius:16px;background:#fff;border:1px solid #e3e6eb;max-width:82%}",
    ".status{padding:6px 14px 4px;font-size:13px;color:#2e6b3a}",
    ".typing{padding:4px 18px 0;font-size:13px;font-style:italic;color:#5b6270}",
    ".error{padding:6px 14px 4px;font-size:13px;color:#b3261e}",
    ".chip{display:flex;align-items:center;gap:8px;margin:8px 12px 0;padding:6px 6px 6px 8px;border:1px solid #d6dae0;border-radius:10px;background:#f8f9fa;font-size:13px}",
    ".chip img{width:40px;height:40px;object-fit:cover;border-radius:6px}",
    ".chip-name{flex:1;min-width:0;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}",
    ".chip .icon-btn{width:32px;height:32px;color:#4a5160}",
    ".composer{display:flex;align-items:flex-end;gap:6px;padding:10px 10px 12px;border-top:1px solid #e6e8ec;background:#fff}",
    ".composer .icon-btn{color:#4a5160}",
    ".composer .send{background:var(--accent);color:var(--accent-ink)}",
    ".composer .send:hover{background:var(--accent);opacity:.9}",
    "textarea{flex:1;min-height:40px;max-height:130px;padding:9px 11px;border:1px solid #c9ced6;border-radius:10px;font:inherit;font-size:16px;line-height:1.35;resize:none;color:inherit;background:#fff}",
    ".survey{margin:6px 0 14px;padding:10px 12px;border-radius:14px;background:#fff;border:1px solid #e3e6eb;display:grid;gap:8px}",
    ".survey p{margin:0;font-size:14px}",
    ".scale{display:flex;gap:4px;flex-wrap:wrap}",
    ".scale button{min-width:34px;padding:6px 0;border:1px solid #c9ced6;border-radius:8px;background:#fff;color:inherit;font:inherit}",
    ".scale button[aria-pressed=true]{background:var(--accent);color:var(--accent-ink);border-color:var(--accent)}",
    ".scale-ends{display:flex;justify-content:space-between;font-size:11px;color:#6b7280}",
    ".survey textarea{font-size:14px;min-height:48px}",
    ".visually-hidden{position:absolute!important;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;clip:rect(0 0 0 0);border:0}",
    "@media (max-width:480px){.panel{inset:0;right:0;bottom:0;width:100%;height:100%;height:100dvh;border-radius:0}.root.is-open .launcher{display:none}}",
    "@media (prefers-reduced-motion:reduce){.launcher{transition:none}}"
  ].join("\n") });

  var badge = el("span", { "class": "badge", hidden: "", "aria-hidden": "true" });
  var launcher = el("button", {
    type: "button", "class": "launcher", "data-testid": "comptoir-launcher",
    "aria-expanded": "false", "aria-controls": "comptoir-panel", hidden: ""
  }, [icon(ICONS.chat), badge]);

  var title = el("h2", { "class": "title", id: "comptoir-title" });
  var subtitle = el("p", { "class": "subtitle" });
  // Opening hours, and while closed, when the team is back (the session's "opening").
  var hoursLine = el("p", { "class": "subtitle hours", "data-testid": "comptoir-hours", hidden: "" });
  var offlineLine = el("p", { "class": "subtitle offline", "data-testid": "comptoir-offline", hidden: "" });
  var closeBtn = el("button", { type: "button", "class": "icon-btn", "data-testid": "comptoir-close" }, [icon(ICONS.close)]);

  var identifyToggle = el("button", { type: "button", "class": "link-btn", "data-testid": "comptoir-identify-toggle", "aria-expanded": "false" });
  var emailInput = el("input", { type: "email", required: "", autocomplete: "email", "data-testid": "comptoir-identify-email" });
  var nameInput = el("input", { type: "text", autocomplete: "name", maxlength: "200", "data-testid": "comptoir-identify-name" });
  var emailLabelText = el("span");
  var nameLabelText = el("span");
  var identifySubmit = el("button", { type: "submit", "class": "btn", "data-testid": "comptoir-identify-submit" });
  var identifyCancel = el("button", { type: "button", "class": "btn secondary" });
  var identifyForm = el("form", { hidden: "", novalidate: "" }, [
    el("label", {}, [emailLabelText, emailInput]),
    el("label", {}, [nameLabelText, nameInput]),
    el("div", { "class": "row" }, [identifyCancel, identifySubmit])
  ]);
  var identifyBox = el("div", { "class": "identify", hidden: "" }, [identifyToggle, identifyForm]);

  /* "Call me back": a phone number, now or at a time slot (comptoir.touchpoints.phone). */
  var callbackToggle = el("button", { type: "button", "class": "link-btn", "data-testid": "comptoir-callback-toggle", "aria-expanded": "false" });
  var callbackNumber = el("input", { type: "tel", required: "", autocomplete: "tel", maxlength: "40", "data-testid": "comptoir-callback-number" });
  var callbackNow = el("input", { type: "radio", name: "comptoir-callback-when", value: "now", checked: "" });
  var callbackLater = el("input", { type: "radio", name: "comptoir-callback-when", value: "slot" });
  var callbackTime = el("input", { type: "datetime-local", "data-testid": "comptoir-callback-time", hidden: "" });
  var callbackTexts = { number: el("span"), when: el("span"), now: el("span"), slot: el("span"), time: el("span") };
  var callbackSubmit = el("button", { type: "submit", "class": "btn", "data-testid": "comptoir-callback-submit" });
  var callbackCancel = el("button", { type: "button", "class": "btn secondary" });
  var callbackForm = el("form", { hidden: "", novalidate: "" }, [
    el("label", {}, [callbackTexts.number, callbackNumber]),
    el("label", { "class": "choice" }, [callbackNow, callbackTexts.now]),
    el("label", { "class": "choice" }, [callbackLater, callbackTexts.slot]),
    el("label", {}, [callbackTexts.time, callbackTime]),
    el("div", { "class": "row" }, [callbackCancel, callbackSubmit])
  ]);
  var callbackBox = el("div", { "class": "identify callback" }, [callbackToggle, callbackForm]);

  /* "Book an appointment in store": a service, a free slot, the device (comptoir.appointments). */
  var bookToggle = el("button", { type: "button", "class": "link-btn", "data-testid": "comptoir-book-toggle", "aria-expanded": "false" });
  var bookService = el("select", { "data-testid": "comptoir-book-service" });
  var bookDay = el("span", { "class": "book-day", "data-testid": "comptoir-book-day" });
  var bookNext = el("button", { type: "button", "class": "btn secondary", "data-testid": "comptoir-book-next" });
  var bookSlots = el("div", { "class": "slots", role: "radiogroup", "data-testid": "comptoir-book-slots" });
  var bookSerial = el("input", { type: "text", maxlength: "64", autocomplete: "off", "data-testid": "comptoir-book-serial" });
  var bookPhotos = el("input", { type: "file", accept: "image/*,video/*", capture: "environment", multiple: "", "data-testid": "comptoir-book-photos" });
  var bookTexts = { service: el("span"), serial: el("span"), photos: el("span") };
  var bookSubmit = el("button", { type: "submit", "class": "btn", "data-testid": "comptoir-book-submit" });
  var bookCancel = el("button", { type: "button", "class": "btn secondary" });
  var bookForm = el("form", { hidden: "", novalidate: "" }, [
    el("label", {}, [bookTexts.service, bookService]),
    el("div", { "class": "row" }, [bookDay, bookNext]),
    bookSlots,
    el("label", {}, [bookTexts.serial, bookSerial]),
    el("label", {}, [bookTexts.photos, bookPhotos]),
    el("div", { "class": "row" }, [bookCancel, bookSubmit])
  ]);
  var bookBox = el("div", { "class": "identify book", hidden: "" }, [bookToggle, bookForm]);
  var bookState = { nextDay: "" };

  var thread = el("div", { "class": "thread", role: "log", "aria-live": "polite", "data-testid": "comptoir-messages" });
  var statusLine = el("div", { "class": "status", role: "status", "data-testid": "comptoir-status", hidden: "" });
  var typingLine = el("div", { "class": "typing", "aria-live": "polite", "data-testid": "comptoir-typing", hidden: "" });
  var errorLine = el("div", { "class": "error", role: "alert", "data-testid": "comptoir-error", hidden: "" });

  var chipName = el("span", { "class": "chip-name" });
  var chipThumb = el("img", { alt: "", hidden: "" });
  chipThumb.addEventListener("error", function () { chipThumb.hidden = true; });
  var chipRemove = el("button", { type: "button", "class": "icon-btn", "data-testid": "comptoir-file-remove" }, [icon(ICONS.close)]);
  var chip = el("div", { "class": "chip", "data-testid": "comptoir-file-chip", hidden: "" }, [chipThumb, chipName, chipRemove]);

  var fileInput = el("input", {
    type: "file", accept: "image/*,video/*", capture: "environment",
    "class": "visually-hidden", tabindex: "-1", "data-testid": "comptoir-file-input"
  });
  var attachBtn = el("button", { type: "button", "class": "icon-btn", "data-testid": "comptoir-attach" }, [icon(ICONS.attach)]);
  var input = el("textarea", { rows: "1", id: "comptoir-input", "data-testid": "comptoir-input" });
  var inputLabel = el("label", { "for": "comptoir-input", "class": "visually-hidden" });
  var sendBtn = el("button", { type: "submit", "class": "icon-btn send", "data-testid": "comptoir-send" }, [icon(ICONS.send)]);
  var composer = el("form", { "class": "composer", novalidate: "" }, [fileInput, attachBtn, inputLabel, input, sendBtn]);

  var panel = el("section", {
    "class": "panel", id: "comptoir-panel", role: "dialog", "aria-labelledby": "comptoir-title",
    "data-testid": "comptoir-panel", hidden: ""
  }, [
    el("div", { "class": "head" }, [el("div", { "class": "head-text" }, [title, subtitle, hoursLine, offlineLine]), closeBtn]),
    identifyBox, callbackBox, bookBox, thread, typingLine, statusLine, errorLine, chip, composer
  ]);
  var root = el("div", { "class": "root" }, [launcher, panel]);
  shadow.appendChild(style);
  shadow.appendChild(root);
  document.body.appendChild(host);

  /* The brand's accent colour (Settings → Brand), with dark or light text for contrast. */
  function applyColour(colour) {
    if (!/^#[0-9a-fA-F]{6}$/.test(colour || "")) return;
    var r = parseInt(colour.slice(1, 3), 16), g = parseInt(colour.slice(3, 5), 16), b = parseInt(colour.slice(5, 7), 16);
    var light = (0.299 * r + 0.587 * g + 0.114 * b) > 160;
    root.style.setProperty("--accent", colour);
    root.style.setProperty("--accent-ink", light ? "#1d2330" : "#fff");
  }

  function applyTexts() {
    launcher.setAttribute("aria-label", t("open"));
    closeBtn.setAttribute("aria-label", t("close"));
    closeBtn.title = t("close");
    title.textContent = state.session ? state.session.brand.name : "";
    applyColour(state.session && state.session.brand.color);
    subtitle.textContent = t("subtitle");
    var opening = (state.session && state.session.opening) || {};
    hoursLine.textContent = opening.hours || "";
    hoursLine.hidden = !opening.hours;
    offlineLine.textContent = opening.offline || "";
    offlineLine.hidden = !opening.offline;
    identifyToggle.textContent = t("email_prompt");
    emailLabelText.textContent = t("email_label");
    nameLabelText.textContent = t("name_label");
    identifySubmit.textContent = t("email_submit");
    identifyCancel.textContent = t("email_cancel");
    callbackToggle.textContent = t("callback_prompt");
    callbackTexts.number.textContent = t("callback_number");
    callbackTexts.now.textContent = t("callback_now");
    callbackTexts.slot.textContent = t("callback_slot");
    callbackTexts.time.textContent = t("callback_time");
    callbackSubmit.textContent = t("callback_submit");
    callbackCancel.textContent = t("callback_cancel");
    bookToggle.textContent = t("book_prompt");
    bookTexts.service.textContent = t("book_service");
    bookTexts.serial.textContent = t("book_serial");
    bookTexts.photos.textContent = t("book_photos");
    bookNext.textContent = t("book_next_day");
    bookSubmit.textContent = t("book_submit");
    bookCancel.textContent = t("callback_cancel");
    thread.setAttribute("aria-label", t("messages_label"));
    inputLabel.textContent = t("input_label");
    input.placeholder = t("input_placeholder");
    if (state.limits.max_text_length) input.maxLength = state.limits.max_text_length;
    attachBtn.setAttribute("aria-label", t("attach"));
    attachBtn.title = t("attach");
    chipRemove.setAttribute("aria-label", t("remove_file"));
    sendBtn.setAttribute("aria-label", t("send"));
    sendBtn.title = t("send");
    root.lang = state.session ? state.session.language : "";
  }

  function showError(text) { errorLine.textContent = text || ""; errorLine.hidden = !text; }
  function showStatus(text) { statusLine.textContent = text || ""; statusLine.hidden = !text; }
  function scrollDown() { thread.scrollTop = thread.scrollHeight; }

  function updateIdentifyBox() {
    var known = state.session && state.session.customer && state.session.customer.email;
    identifyBox.hidden = !!known;
  }

  function setUnread(count) {
    state.unread = count;
    badge.textContent = count > 9 ? "9+" : String(count);
    badge.hidden = !count;
    launcher.setAttribute("aria-label", count ? t("open") + " (" + t("new_messages") + ": " + count + ")" : t("open"));
  }

  /* ---------- messages ---------- */
  /* Files are fetched with the token in a header and shown from blob URLs, so
     that no link to a file ever carries the visitor's credential. */
  function loadAttachment(attachment, apply) {
    var url = ORIGIN + "/widget/api/attachments/" + encodeURIComponent(attachment.id) + "/";
    fetch(url, { headers: { Authorization: "Bearer " + state.token } })
      .then(function (response) { return response.ok ? response.blob() : Promise.reject(response.status); })
      .then(function (blob) { apply(URL.createObjectURL(blob)); })
      .catch(function () {});
  }

  function formatTime(iso) {
    var d = new Date(iso);
    if (isNaN(d.getTime())) return "";
    var lang = (state.session && state.session.language) || undefined;
    var sameDay = d.toDateString() === new Date().toDateString();
    var options = sameDay ? { hour: "2-digit", minute: "2-digit" } : { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" };
    try { return d.toLocaleString(lang, options); } catch (e) { return d.toLocaleString(); }
  }

  function renderFiles(attachments) {
    if (!attachments || !attachments.length) return null;
    var box = el("div", { "class": "files" });
    attachments.forEach(function (a) {
      var type = String(a.content_type || "");
      var node;
      if (type.indexOf("image/") === 0 && type !== "image/svg+xml") {
        var image = el("img", { "class": "thumb", alt: a.filename || t("attachment") });
        node = el("a", { target: "_blank", rel: "noopener noreferrer" }, [image]);
        loadAttachment(a, function (blobUrl) { image.src = blobUrl; node.href = blobUrl; });
      } else if (type.indexOf("video/") === 0) {
        node = el("video", { "class": "thumb", controls: "", preload: "metadata" });
        node.setAttribute("aria-label", a.filename || t("attachment"));
        loadAttachment(a, function (blobUrl) { node.src = blobUrl; });
      } else {
        node = el("a", { "class": "file-link", rel: "noopener noreferrer", text: a.filename || t("attachment") });
        node.setAttribute("download", a.filename || "");
        loadAttachment(a, function (blobUrl) { node.href = blobUrl; });
      }
      box.appendChild(node);
    });
    return box;
  }

  function buildMessage(m) {
    var mine = m.author_kind === "customer";
    // The assistant says it is one: a customer must know whether a person is writing.
    var bot = m.author_kind === "bot";
    var item = el("div", {
      "class": "msg" + (mine ? " mine" : ""), "data-testid": "comptoir-message",
      "data-message-id": m.id, "data-author": mine ? "customer" : (bot ? "bot" : "agent")
    });
    if (!mine) {
      var author = bot ? t("assistant") : (m.author_name || t("advisor"));
      item.appendChild(el("span", { "class": "author", text: author }));
    }
    var bubble = el("div", { "class": m.text ? "bubble" : "bubble media-only" });
    if (m.text) bubble.appendChild(el("span", { "class": "text", text: m.text }));
    var files = renderFiles(m.attachments);
    if (files) bubble.appendChild(files);
    item.appendChild(bubble);
    var meta = formatTime(m.created_at);
    if (mine && m.channel === "webchat") meta = meta ? meta + " · " + t("sent") : t("sent");
    var via = m.channel && m.channel !== "webchat" && state.texts.via_channel ? state.texts.via_channel[m.channel] : "";
    if (via) meta = meta ? meta + " · " + via : via;
    item.appendChild(el("span", { "class": "meta", text: meta }));
    return item;
  }

  /* Show a stored message once, whether it arrives from the history, a send or the socket. */
  function addMessage(m, replacing) {
    if (!m || m.id === undefined || m.id === null) return false;
    if (state.seen[m.id]) { if (replacing) replacing.remove(); return false; }
    state.seen[m.id] = true;
    var node = buildMessage(m);
    if (replacing && replacing.parentNode) thread.replaceChild(node, replacing);
    else thread.appendChild(node);
    scrollDown();
    return true;
  }

  function addSystemLine(text, key) {
    if (key && state.seen[key]) return;
    if (key) state.seen[key] = true;
    thread.appendChild(el("div", { "class": "sys", "data-testid": "comptoir-system", text: text }));
    scrollDown();
  }

  /* ---------- surveys (comptoir.surveys): inline after a chat ends ---------- */
  function scaleButtons(count, label, onPick) {
    var box = el("div", { "class": "scale", role: "group", "aria-label": label });
    for (var i = 1; i <= count; i++) {
      (function (value) {
        var b = el("button", { type: "button", "aria-pressed": "false", "data-score": String(value), text: String(value) });
        b.addEventListener("click", function () {
          Array.prototype.forEach.call(box.children, function (c) { c.setAttribute("aria-pressed", "false"); });
          b.setAttribute("aria-pressed", "true");
          onPick(value);
        });
        box.appendChild(b);
      })(i);
    }
    return box;
  }

  function addSurvey(s) {
    var key = "survey:" + s.survey_id;
    if (!s.token || state.seen[key]) return;
    state.seen[key] = true;
    var chosen = { csat: null, ces: null };
    var card = el("form", { "class": "survey", "data-testid": "comptoir-survey", "data-survey-id": s.survey_id });
    card.appendChild(el("p", { text: s.question }));
    card.appendChild(scaleButtons(5, s.question, function (v) { chosen.csat = v; send.disabled = false; }));
    card.appendChild(el("div", { "class": "scale-ends" }, [el("span", { text: t("survey_csat_low") }), el("span", { text: t("survey_csat_high") })]));
    if (s.effort_question) {
      card.appendChild(el("p", { text: s.effort_question }));
      card.appendChild(scaleButtons(7, s.effort_question, function (v) { chosen.ces = v; }));
      card.appendChild(el("div", { "class": "scale-ends" }, [el("span", { text: t("survey_ces_low") }), el("span", { text: t("survey_ces_high") })]));
    }
    var comment = el("textarea", { "aria-label": t("survey_comment"), placeholder: t("survey_comment"), maxlength: "2000" });
    card.appendChild(comment);
    var send = el("button", { type: "submit", "class": "btn", text: t("survey_submit") });
    send.disabled = true;
    card.appendChild(el("div", { "class": "row" }, [send]));
    card.addEventListener("submit", function (e) {
      e.preventDefault();
      if (!chosen.csat) return;
      send.disabled = true;
      api("/widget/api/surveys/answer", { json: { token: s.token, csat: chosen.csat, ces: chosen.ces, comment: comment.value.trim() } }).then(function (result) {
        if (result.status === 200) { card.remove(); addSystemLine(t("survey_thanks"), "survey-done:" + s.survey_id); return; }
        if (result.status === 410) { card.remove(); addSystemLine(result.data.error || t("survey_thanks"), "survey-done:" + s.survey_id); return; }
        send.disabled = false;
        showError(result.data.error || t("network_error"));
      }).catch(function () { send.disabled = false; showError(t("network_error")); });
    });
    thread.appendChild(card);
    scrollDown();
  }

  function renderThread() {
    thread.textContent = "";
    state.seen = {};
    thread.appendChild(el("div", { "class": "greeting", "data-testid": "comptoir-greeting", text: t("greeting") }));
    (state.session.messages || []).forEach(function (m) { addMessage(m); });
    (state.session.surveys || []).forEach(addSurvey);
  }

  /* ---------- HTTP ---------- */
  function requestSession(token) {
    return fetch(ORIGIN + "/widget/api/session", {
      method: "POST", mode: "cors", credentials: "omit",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ brand: BRAND, token: token || null, language: LANG || null })
    }).then(function (res) {
      if (res.status === 401 && token) { storeToken(null); return requestSession(null); }
      if (!res.ok) throw new Error("session " + res.status);
      return res.json();
    });
  }

  function startSession(forgetToken) {
    if (state.starting) return state.starting;
    if (forgetToken) { storeToken(null); state.persisted = false; }
    var saved = forgetToken ? null : storedToken();
    state.starting = requestSession(saved).then(function (data) {
      var visitorChanged = !state.session || state.session.visitor_id !== data.visitor_id;
      state.session = data;
      bookBox.hidden = !(data.brand && data.brand.appointments);
      state.token = data.token;
      state.texts = data.texts || {};
      state.limits = data.limits || {};
      if (saved || state.persisted) { state.persisted = true; storeToken(data.token); }
      state.highest = Math.max(visitorChanged ? 0 : state.highest, data.last_event_id || 0);
      applyTexts();
      renderThread();
      updateIdentifyBox();
      launcher.hidden = false;
      if (state.persisted) { connect(); checkWait(); }
      return data;
    }).catch(function (err) {
      if (window.console) console.warn("Comptoir widget unavailable:", err);
      throw err;
    }).finally(function () { state.starting = null; });
    return state.starting;
  }

  /* The token is only kept in storage once the visitor has used the chat. */
  function persist() {
    if (!state.persisted && state.token) { state.persisted = true; storeToken(state.token); }
  }

  function api(path, options, retried) {
    var headers = { Authorization: "Bearer " + state.token };
    if (state.session && state.session.language) headers["Accept-Language"] = state.session.language;
    if (options.json) headers["Content-Type"] = "application/json";
    return fetch(ORIGIN + path, {
      method: "POST", mode: "cors", credentials: "omit", headers: headers,
      body: options.json ? JSON.stringify(options.json) : options.form
    }).then(function (res) {
      if (res.status === 401 && !retried) {
        disconnect();
        return startSession(true).then(function () { persist(); connect(); return api(path, options, true); });
      }
      return res.json().catch(function () { return {}; }).then(function (data) { return { status: res.status, data: data }; });
    });
  }

  /* ---------- sending ---------- */
  function checkFile(file) {
    var allowed = state.limits.allowed_types || [];
    var type = (file.type || "").toLowerCase();
    var typeOk = type && type !== "image/svg+xml" && allowed.some(function (p) { return type.indexOf(p) === 0; });
    if (!typeOk) return t("file_type_refused");
    if (state.limits.max_bytes && file.size > state.limits.max_bytes) return t("file_too_large");
    return "";
  }

  function pendingMessage(text, file) {
    var item = el("div", { "class": "msg mine pending", "data-testid": "comptoir-message", "data-author": "customer", "data-pending": "true" });
    var bubble = el("div", { "class": "bubble" });
    if (text) bubble.appendChild(el("span", { "class": "text", text: text }));
    if (file) {
      var files = el("div", { "class": "files" });
      if (state.fileUrl && file.type.indexOf("image/") === 0) files.appendChild(el("img", { "class": "thumb", src: state.fileUrl, alt: file.name }));
      else files.appendChild(el("span", { text: file.name }));
      bubble.appendChild(files);
    }
    item.appendChild(bubble);
    item.appendChild(el("span", { "class": "meta", text: t("sending") }));
    thread.appendChild(item);
    scrollDown();
    return item;
  }

  function markFailed(item, retry) {
    item.className = "msg mine failed";
    var meta = item.querySelector(".meta");
    meta.textContent = t("not_sent");
    var again = el("button", { type: "button", "class": "retry", text: t("retry") });
    again.addEventListener("click", function () {
      item.className = "msg mine pending";
      meta.textContent = t("sending");
      retry();
    });
    meta.appendChild(again);
  }

  function sendMessage(text, file, clientId, item) {
    var form = new FormData();
    form.append("text", text);
    form.append("client_id", clientId);
    if (file) form.append("files", file, file.name);
    persist();
    api("/widget/api/messages", { form: form }).then(function (result) {
      var data = result.data || {};
      if (data.message) {
        addMessage(data.message, item);
        showStatus(t("ack"));
        connect();
        resume();
        checkWait();
      } else if (item.parentNode) {
        item.remove();
      }
      if (result.status >= 400) {
        showError(data.error || (result.status === 413 ? t("file_too_large") : result.status === 415 ? t("file_type_refused") : t("network_error")));
        if (!data.message && text && !input.value) input.value = text;
      } else {
        showError("");
      }
    }).catch(function () {
      markFailed(item, function () { sendMessage(text, file, clientId, item); });
      showError(t("network_error"));
    });
  }

  function submit() {
    var text = input.value.trim();
    var file = state.file;
    if (!state.session) return;
    if (!text && !file) { showError(t("empty_message")); input.focus(); return; }
    if (file) {
      var problem = checkFile(file);
      if (problem) { showError(problem); return; }
    }
    showError("");
    var item = pendingMessage(text, file);
    input.value = "";
    autosize();
    clearFile(true);
    sendMessage(text, file, newClientId(), item);
    input.focus();
  }

  function clearFile(keepUrl) {
    state.file = null;
    fileInput.value = "";
    chip.hidden = true;
    chipThumb.hidden = true;
    chipThumb.removeAttribute("src");
    if (state.fileUrl && !keepUrl) URL.revokeObjectURL(state.fileUrl);
    state.fileUrl = null;
  }

  /* The first bytes of an image must look like an image (the server checks again). */
  function looksLikeImage(file) {
    if (file.type.indexOf("image/") !== 0 || !file.slice || !window.Response) return Promise.resolve(true);
    return new Response(file.slice(0, 12)).arrayBuffer().then(function (buffer) {
      var b = new Uint8Array(buffer);
      var ascii = String.fromCharCode.apply(null, b);
      return (b[0] === 0x89 && ascii.slice(1, 4) === "PNG") || (b[0] === 0xff && b[1] === 0xd8) ||
        ascii.slice(0, 3) === "GIF" || ascii.slice(0, 2) === "BM" || ascii.slice(4, 8) === "ftyp" ||
        (ascii.slice(0, 4) === "RIFF" && ascii.slice(8, 12) === "WEBP") ||
        ascii.slice(0, 4) === "II*\u0000" || ascii.slice(0, 4) === "MM\u0000*";
    }, function () { return true; });
  }

  function chooseFile(file) {
    clearFile(false);
    if (!file) return;
    var problem = checkFile(file);
    if (problem) { showError(problem); return; }
    looksLikeImage(file).then(function (ok) {
      if (!ok) { showError(t("file_type_refused")); fileInput.value = ""; return; }
      showError("");
      state.file = file;
      chipName.textContent = file.name;
      if (file.type.indexOf("image/") === 0 && window.URL && URL.createObjectURL) {
        state.fileUrl = URL.createObjectURL(file);
        chipThumb.src = state.fileUrl;
        chipThumb.hidden = false;
      }
      chip.hidden = false;
      scrollDown();
    });
  }

  function autosize() {
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight + 2, 130) + "px";
    scrollDown();
  }

  /* ---------- identify (optional e-mail) ---------- */
  function toggleIdentify(show) {
    identifyForm.hidden = !show;
    identifyToggle.setAttribute("aria-expanded", show ? "true" : "false");
    if (show) emailInput.focus(); else identifyToggle.focus();
  }

  function submitIdentify() {
    var email = emailInput.value.trim();
    if (!email || !emailInput.checkValidity()) { showError(t("invalid_email")); emailInput.focus(); return; }
    persist();
    api("/widget/api/identify", { json: { email: email, name: nameInput.value.trim() } }).then(function (result) {
      var data = result.data || {};
      if (result.status !== 200) { showError(data.error || t("invalid_email")); return; }
      showError("");
      identifyForm.hidden = true;
      state.session.customer = data.customer;
      showStatus(t("email_saved"));
      updateIdentifyBox();
      connect();
      resume();
    }).catch(function () { showError(t("network_error")); });
  }

  /* ---------- call me back ---------- */
  function toggleCallback(show) {
    callbackForm.hidden = !show;
    callbackToggle.setAttribute("aria-expanded", show ? "true" : "false");
    if (show) callbackNumber.focus(); else callbackToggle.focus();
  }

  function submitCallback() {
    var number = callbackNumber.value.trim();
    if (!number) { showError(t("invalid_phone")); callbackNumber.focus(); return; }
    var when = "now";
    if (callbackLater.checked) {
      var slot = callbackTime.value ? new Date(callbackTime.value) : null;
      if (!slot || isNaN(slot.getTime())) { showError(t("invalid_slot")); callbackTime.focus(); return; }
      when = slot.toISOString();
    }
    persist();
    var fromWaitOffer = callbackBox.classList.contains("is-offered");
    api("/widget/api/callbacks", { json: { number: number, when: when, client_id: newClientId(), from_wait_offer: fromWaitOffer } }).then(function (result) {
      var data = result.data || {};
      if (result.status !== 201 && result.status !== 200) { showError(data.error || t("invalid_phone")); return; }
      showError("");
      callbackForm.hidden = true;
      callbackToggle.setAttribute("aria-expanded", "false");
      if (data.message) addMessage(data.message);
      showStatus(t("callback_done"));
      connect();
      resume();
    }).catch(function () { showError(t("network_error")); });
  }

  /* ---------- booking an appointment: the first day with free slots, then the next ---------- */
  function loadSlots(day) {
    var query = { service_id: bookService.value || null };
    if (day) query.day = day;
    bookSlots.textContent = "";
    return api("/widget/api/appointments/slots", { json: query }).then(function (result) {
      var data = result.data || {};
      if (result.status !== 200) { showError(data.error || t("network_error")); return; }
      if (!bookService.options.length) {
        (data.services || []).forEach(function (s) { bookService.appendChild(el("option", { value: String(s.id), text: s.name })); });
      }
      bookService.value = String(data.service_id);
      bookDay.textContent = new Date(data.day + "T12:00:00").toLocaleDateString(state.session && state.session.language || undefined, { weekday: "long", day: "numeric", month: "long" });
      bookState.nextDay = data.next_day;
      (data.slots || []).forEach(function (slot) {
        var radio = el("input", { type: "radio", name: "comptoir-book-slot", value: slot.starts_at });
        bookSlots.appendChild(el("label", {}, [radio, document.createTextNode(slot.label)]));
      });
      if (!(data.slots || []).length) bookSlots.appendChild(el("span", { text: t("book_no_slot") }));
    }).catch(function () { showError(t("network_error")); });
  }

  function toggleBook(show) {
    bookForm.hidden = !show;
    bookToggle.setAttribute("aria-expanded", show ? "true" : "false");
    if (show) loadSlots(null); else bookToggle.focus();
  }

  function submitBook() {
    var chosen = bookForm.querySelector("input[name=comptoir-book-slot]:checked");
    if (!chosen) { showError(t("book_choose")); return; }
    var photos = Array.prototype.slice.call(bookPhotos.files || []);
    for (var i = 0; i < photos.length; i++) {
      var refusal = checkFile(photos[i]);
      if (refusal) { showError(refusal); return; }
    }
    persist();
    var fields = {
      service_id: bookService.value, starts_at: chosen.value, serial_number: bookSerial.value.trim(), client_id: newClientId()
    };
    var request = { json: fields };
    if (photos.length) {
      // Photos from the phone's camera: multipart, the same fields and the files.
      var form = new FormData();
      Object.keys(fields).forEach(function (key) { form.append(key, fields[key]); });
      photos.forEach(function (file) { form.append("files", file, file.name); });
      request = { form: form };
    }
    api("/widget/api/appointments", request).then(function (result) {
      var data = result.data || {};
      if (data.message) addMessage(data.message);
      if (result.status !== 201 && result.status !== 200) { showError(data.error || t("network_error")); loadSlots(null); return; }
      showError("");
      bookPhotos.value = "";
      bookForm.hidden = true;
      bookToggle.setAttribute("aria-expanded", "false");
      showStatus(t("book_done") + " " + data.appointment.when + " (" + data.appointment.reference + ")");
      connect();
      resume();
    }).catch(function () { showError(t("network_error")); });
  }

  /* ---------- waiting in line: place and wait in seconds, asked while the visitor waits ---------- */
  var WAIT_CHECK_MS = 10000;
  function checkWait() {
    clearTimeout(state.waitTimer);
    state.waitTimer = null;
    if (!state.token) return;
    api("/widget/api/wait", { json: {} }).then(function (result) {
      var waiting = (result.data && result.data.waiting) || [];
      if (waiting.length) {
        state.waitText = waiting[0].text + (waiting[0].offer_callback ? " " + t("callback_offer") : "");
        callbackBox.classList.toggle("is-offered", !!waiting[0].offer_callback);
        showStatus(state.waitText);
        state.waitTimer = setTimeout(checkWait, WAIT_CHECK_MS);
      } else if (state.waitText) {
        if (statusLine.textContent === state.waitText) showStatus("");
        state.waitText = "";
        callbackBox.classList.remove("is-offered");
      }
    }).catch(function () { state.waitTimer = setTimeout(checkWait, WAIT_CHECK_MS); });
  }

  /* ---------- real time ---------- */
  function resume() {
    if (state.socket && state.socket.readyState === 1) {
      state.socket.send(JSON.stringify({ type: "resume", last_event_id: state.highest }));
    }
  }

  function connect() {
    if (state.socket || !state.token || state.retryTimer) return;
    var ws;
    try { ws = new WebSocket(WS_ORIGIN + "/ws/widget/?token=" + encodeURIComponent(state.token)); }
    catch (e) { scheduleReconnect(); return; }
    state.socket = ws;
    ws.onopen = function () {
      state.retries = 0;
      if (statusLine.textContent === t("reconnecting")) showStatus("");
      resume();
      clearInterval(state.pingTimer);
      state.pingTimer = setInterval(function () {
        if (ws.readyState === 1) ws.send('{"type":"ping"}');
      }, 25000);
    };
    ws.onmessage = function (e) {
      var frame;
      try { frame = JSON.parse(e.data); } catch (err) { return; }
      handleFrame(frame);
    };
    ws.onclose = function (e) {
      clearInterval(state.pingTimer);
      if (state.socket !== ws) return;
      state.socket = null;
      if (e.code === 4401) {
        startSession(true).then(function () { persist(); connect(); }).catch(function () {});
        return;
      }
      // A single drop reconnects within a second: only say so when it lasts.
      if (state.open && state.retries >= 2) showStatus(t("reconnecting"));
      scheduleReconnect();
    };
  }

  function disconnect() {
    var ws = state.socket;
    state.socket = null;
    clearInterval(state.pingTimer);
    if (ws) ws.close();
  }

  function scheduleReconnect() {
    if (state.retryTimer) return;
    var delay = Math.min(10000, 500 * Math.pow(2, state.retries)) * (0.75 + Math.random() * 0.5);
    state.retries += 1;
    state.retryTimer = setTimeout(function () { state.retryTimer = null; connect(); }, delay);
  }

  function handleFrame(frame) {
    if (frame.type === "event") {
      if (typeof frame.id !== "number") return;
      // Two transactions may commit in the other order than their ids: an older
      // id can still be news. Messages and lines are deduplicated by their own keys.
      state.highest = Math.max(state.highest, frame.id);
      handleEvent(frame);
    } else if (frame.type === "typing" && frame.who === "agent") {
      showTyping();
    } else if (frame.type === "resumed") {
      state.highest = Math.max(state.highest, frame.last_event_id || 0);
    } else if (frame.type === "reset") {
      disconnect();
      startSession(false).catch(function () {});
    }
  }

  function handleEvent(frame) {
    var payload = frame.payload || {};
    if (frame.kind === "message.created" || frame.kind === "conversation.created") {
      if (addMessage(payload) && payload.author_kind !== "customer") {
        typingLine.hidden = true;
        showStatus("");
        if (!state.open) setUnread(state.unread + 1);
        checkWait();  // the assistant handed over (now in line), or a person answered (no more)
      }
    } else if (frame.kind === "conversation.updated" && payload.status === "resolved") {
      addSystemLine(t("conversation_closed"), "closed:" + frame.id);
    } else if (frame.kind === "appointment.slots_offered") {
      // The assistant offered slots: the picker opens, on the first day with free ones.
      bookBox.hidden = false;
      if (bookForm.hidden) toggleBook(true);
    } else if (frame.kind === "survey.sent") {
      addSurvey(payload);
      if (!state.open) setUnread(state.unread + 1);
    } else if (frame.kind === "survey.answered") {
      var card = thread.querySelector('[data-survey-id="' + payload.survey_id + '"]');
      if (card) { card.remove(); addSystemLine(t("survey_thanks"), "survey-done:" + payload.survey_id); }
    }
  }

  /* ---------- open / close ---------- */
  function openPanel() {
    state.open = true;
    panel.hidden = false;
    root.classList.add("is-open");
    launcher.setAttribute("aria-expanded", "true");
    setUnread(0);
    persist();
    connect();
    scrollDown();
    // On a phone, focusing the text field would throw the keyboard over the thread at once.
    if (window.matchMedia && window.matchMedia("(max-width: 480px)").matches) closeBtn.focus();
    else input.focus();
  }

  function closePanel() {
    state.open = false;
    panel.hidden = true;
    root.classList.remove("is-open");
    launcher.setAttribute("aria-expanded", "false");
    launcher.focus();
  }

  launcher.addEventListener("click", function () {
    if (state.open) { closePanel(); return; }
    if (state.session) openPanel();
    else startSession(false).then(openPanel).catch(function () {});
  });
  closeBtn.addEventListener("click", closePanel);
  root.addEventListener("keydown", function (e) {
    if (e.key === "Escape" && state.open) { e.preventDefault(); closePanel(); }
  });
  window.addEventListener("online", function () {
    if (state.socket || !state.persisted) return;
    clearTimeout(state.retryTimer);
    state.retryTimer = null;
    state.retries = 0;
    connect();
  });
  composer.addEventListener("submit", function (e) { e.preventDefault(); submit(); });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); submit(); }
  });
  input.addEventListener("input", autosize);
  input.addEventListener("input", sendTyping);

  /* Typing hints (never stored): the advisor's shown for a few seconds; the visitor's sent at
     most every few seconds while they type. */
  var typingTimer = null;
  var typingSentAt = 0;
  function showTyping() {
    typingLine.textContent = t("agent_typing");
    typingLine.hidden = false;
    clearTimeout(typingTimer);
    typingTimer = setTimeout(function () { typingLine.hidden = true; }, 6000);
  }
  function sendTyping() {
    var now = Date.now();
    if (now - typingSentAt < 2500 || !state.socket || state.socket.readyState !== 1) return;
    typingSentAt = now;
    state.socket.send('{"type":"typing"}');
  }
  attachBtn.addEventListener("click", function () { fileInput.click(); });
  fileInput.addEventListener("change", function () { chooseFile(fileInput.files && fileInput.files[0]); });
  chipRemove.addEventListener("click", function () { clearFile(false); attachBtn.focus(); });
  identifyToggle.addEventListener("click", function () { toggleIdentify(identifyForm.hidden); });
  identifyCancel.addEventListener("click", function () { toggleIdentify(false); });
  identifyForm.addEventListener("submit", function (e) { e.preventDefault(); submitIdentify(); });
  callbackToggle.addEventListener("click", function () { toggleCallback(callbackForm.hidden); });
  callbackCancel.addEventListener("click", function () { toggleCallback(false); });
  callbackForm.addEventListener("change", function () { callbackTime.hidden = !callbackLater.checked; });
  callbackForm.addEventListener("submit", function (e) { e.preventDefault(); submitCallback(); });
  bookToggle.addEventListener("click", function () { toggleBook(bookForm.hidden); });
  bookCancel.addEventListener("click", function () { toggleBook(false); });
  bookService.addEventListener("change", function () { loadSlots(null); });
  bookNext.addEventListener("click", function () { loadSlots(bookState.nextDay); });
  bookForm.addEventListener("submit", function (e) { e.preventDefault(); submitBook(); });

  startSession(false).catch(function () {});
})();
