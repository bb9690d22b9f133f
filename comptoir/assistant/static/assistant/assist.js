/* Agent assist: suggested replies and knowledge-base passages, one click to insert.
 *
 * Loaded when the agent opens the "Assistant suggestions" panel (and again on
 * each opening, since new customer messages arrive meanwhile). Text is set
 * with textContent only: suggestions quote customer-written material.
 */
(function () {
  "use strict";

  function insert(text) {
    const box = document.getElementById("composer-text");
    if (!box) {
      return;
    }
    const start = box.selectionStart ?? box.value.length;
    const end = box.selectionEnd ?? box.value.length;
    box.value = box.value.slice(0, start) + text + box.value.slice(end);
    box.focus();
    box.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function item(panel, title, text) {
    const li = document.createElement("li");
    li.className = "assistant-assist__item";
    const head = document.createElement("strong");
    head.textContent = title;
    const body = document.createElement("p");
    body.textContent = text;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "button button--small";
    button.textContent = panel.dataset.textInsert;
    button.dataset.assistInsert = "";
    button.addEventListener("click", function () {
      insert(text);
    });
    li.append(head, body, button);
    return li;
  }

  function fill(list, panel, entries) {
    list.replaceChildren();
    if (!entries.length) {
      const li = document.createElement("li");
      li.className = "assistant-assist__empty";
      li.textContent = panel.dataset.textEmpty;
      list.append(li);
    }
    for (const [title, text] of entries) {
      list.append(item(panel, title, text));
    }
  }

  async function load(panel) {
    const suggestions = panel.querySelector("[data-assist-suggestions]");
    const passages = panel.querySelector("[data-assist-passages]");
    try {
      const response = await fetch(panel.dataset.assistUrl, {
        headers: { "X-Requested-With": "fetch" },
        credentials: "same-origin",
      });
      if (!response.ok) {
        throw new Error(String(response.status));
      }
      const data = await response.json();
      fill(suggestions, panel, data.suggestions.map((s) => [s.label, s.text]));
      fill(passages, panel, data.passages.map((p) => [p.title, p.text]));
    } catch (error) {
      suggestions.replaceChildren();
      passages.replaceChildren();
      const li = document.createElement("li");
      li.className = "assistant-assist__empty";
      li.textContent = panel.dataset.textFailed;
      suggestions.append(li);
    }
  }

  document.addEventListener("toggle", function (event) {
    const panel = event.target;
    if (panel instanceof HTMLDetailsElement && panel.id === "assistant-assist" && panel.open) {
      load(panel);
    }
  }, true);
})();
