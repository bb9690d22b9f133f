/* Canned replies in the reply box: "/" then a shortcut lists the replies; Enter, Tab or a click
   inserts the chosen one (its placeholders already filled by the server for this conversation). */
(function () {
  "use strict";
  const textarea = document.querySelector("[data-canned-url]");
  if (!textarea) return;
  const list = document.getElementById("canned-picker");
  let replies = null;
  let loading = null;
  let shown = [];
  let active = 0;
  let trigger = null; // {start, end} of "/query" in the textarea

  function load() {
    if (replies) return Promise.resolve(replies);
    if (!loading) {
      loading = fetch(textarea.dataset.cannedUrl, { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : { replies: [] }; })
        .then(function (data) { replies = data.replies; return replies; })
        .catch(function () { loading = null; return []; });
    }
    return loading;
  }

  function findTrigger() {
    const caret = textarea.selectionStart;
    if (caret !== textarea.selectionEnd) return null;
    const before = textarea.value.slice(0, caret);
    const match = /(^|\s)\/([\p{L}\p{N}_-]*)$/u.exec(before);
    if (!match) return null;
    return { start: caret - match[2].length - 1, end: caret, query: match[2].toLowerCase() };
  }

  function close() {
    list.hidden = true;
    list.replaceChildren();
    textarea.removeAttribute("aria-activedescendant");
    textarea.setAttribute("aria-expanded", "false");
    shown = [];
    trigger = null;
  }

  function render() {
    list.replaceChildren();
    shown.forEach(function (reply, index) {
      const option = document.createElement("li");
      option.id = "canned-option-" + reply.id;
      option.setAttribute("role", "option");
      option.className = "canned-picker__option" + (index === active ? " is-active" : "");
      option.setAttribute("aria-selected", index === active ? "true" : "false");
      const shortcut = document.createElement("code");
      shortcut.textContent = "/" + reply.shortcut;
      const title = document.createElement("span");
      title.className = "canned-picker__title";
      title.textContent = reply.title;
      const preview = document.createElement("span");
      preview.className = "canned-picker__preview";
      preview.textContent = reply.text;
      option.append(shortcut, title, preview);
      option.addEventListener("mousedown", function (event) {
        event.preventDefault(); // keep the focus in the textarea
        insert(reply);
      });
      list.appendChild(option);
    });
    if (shown.length) textarea.setAttribute("aria-activedescendant", "canned-option-" + shown[active].id);
    list.hidden = shown.length === 0;
    textarea.setAttribute("aria-expanded", shown.length ? "true" : "false");
  }

  function update() {
    const found = findTrigger();
    if (!found) { close(); return; }
    load().then(function (all) {
      const again = findTrigger();
      if (!again) { close(); return; }
      trigger = again;
      shown = all.filter(function (reply) {
        return reply.shortcut.startsWith(again.query) || reply.title.toLowerCase().includes(again.query);
      }).slice(0, 8);
      active = 0;
      render();
    });
  }

  function insert(reply) {
    if (!trigger) return;
    const value = textarea.value;
    textarea.value = value.slice(0, trigger.start) + reply.text + value.slice(trigger.end);
    const caret = trigger.start + reply.text.length;
    textarea.setSelectionRange(caret, caret);
    close();
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
    textarea.focus();
  }

  textarea.setAttribute("aria-controls", "canned-picker");
  textarea.setAttribute("aria-autocomplete", "list");
  textarea.addEventListener("input", update);
  textarea.addEventListener("click", update);
  textarea.addEventListener("blur", function () { setTimeout(close, 150); });
  textarea.addEventListener("keydown", function (event) {
    if (list.hidden || !shown.length) return;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      active = (active + (event.key === "ArrowDown" ? 1 : shown.length - 1)) % shown.length;
      render();
    } else if ((event.key === "Enter" || event.key === "Tab") && !event.ctrlKey && !event.metaKey) {
      event.preventDefault();
      event.stopImmediatePropagation();
      insert(shown[active]);
    } else if (event.key === "Escape") {
      event.preventDefault();
      close();
    }
  });
})();
