/* Agent assist: suggested replies and knowledge-base passages, one click to insert.
 *
 * Loaded when the agent opens the "Assistant suggestions" panel (and again on
 * each opening, since new customer messages arrive meanwhile), with "Loading"
 * shown until they come. Text is set with textContent only: suggestions quote
 * customer-written material.
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

  // While the server loads its language models (seconds, once per process) it
  // answers {loading: true}: the panel says so and asks again after this long.
  const RETRY_MS = 1000;
  // Each load gets a number: an answer to an older one (the panel was closed and
  // opened again meanwhile) is dropped, and so is its retry.
  let latest = 0;

  function say(list, text) {
    const li = document.createElement("li");
    li.className = "assistant-assist__empty";
    li.textContent = text;
    list.replaceChildren(li);
  }

  function fill(list, panel, entries) {
    list.replaceChildren();
    if (!entries.length) {
      say(list, panel.dataset.textEmpty);
    }
    for (const [title, text] of entries) {
      list.append(item(panel, title, text));
    }
  }

  async function load(panel) {
    const current = ++latest;
    const body = panel.querySelector(".assistant-assist__body");
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
      if (current !== latest) {
        return;
      }
      if (data.loading) {
        setTimeout(function () {
          if (current === latest && panel.open && panel.isConnected) {
            load(panel);
          }
        }, RETRY_MS);
        return;
      }
      fill(suggestions, panel, data.suggestions.map((s) => [s.label, s.text]));
      fill(passages, panel, data.passages.map((p) => [p.title, p.text]));
      body.removeAttribute("aria-busy");
    } catch (error) {
      if (current !== latest) {
        return;
      }
      passages.replaceChildren();
      say(suggestions, panel.dataset.textFailed);
      body.removeAttribute("aria-busy");
    }
  }

  function open(panel) {
    panel.querySelector(".assistant-assist__body").setAttribute("aria-busy", "true");
    say(panel.querySelector("[data-assist-suggestions]"), panel.dataset.textLoading);
    panel.querySelector("[data-assist-passages]").replaceChildren();
    load(panel);
  }

  document.addEventListener("toggle", function (event) {
    const panel = event.target;
    if (panel instanceof HTMLDetailsElement && panel.id === "assistant-assist" && panel.open) {
      open(panel);
    }
  }, true);
})();
