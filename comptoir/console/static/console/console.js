/*
 * Comptoir agent console: live updates and forms without page reloads.
 *
 * The console works without this script (every form posts and redirects back).
 * With it, the page listens to the console WebSocket and, on every event,
 * re-fetches the server-rendered fragments that may have changed (inbox list and
 * counts; the open conversation's thread and customer panel when the event
 * concerns them) and swaps them in. Fragments are rendered by the same templates
 * as the full page, so there is one source of truth for the markup and all
 * customer-supplied text arrives already escaped by Django; this script never
 * builds markup from event data (it only reads ids from events).
 */
(function () {
  "use strict";

  const FETCH_HEADERS = { "X-Requested-With": "fetch" };
  const REFRESH_DELAY_MS = 120;
  const PING_INTERVAL_MS = 25000;
  const MAX_BACKOFF_MS = 30000;
  const FLASH_LIFETIME_MS = 8000;
  const BOARD_TICK_MS = 5000;

  // Selects that act as soon as they change (language, assignee).
  document.addEventListener("change", function (event) {
    const select = event.target.closest && event.target.closest("select[data-autosubmit]");
    if (select && select.form) {
      select.form.requestSubmit();
    }
  });

  // Forms that destroy something ask first (the question is in the page's language).
  document.addEventListener("submit", function (event) {
    const form = event.target.closest && event.target.closest("form[data-confirm]");
    if (form && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  const workspace = document.getElementById("workspace");
  if (!workspace) {
    return; // The login and administration pages need nothing more.
  }

  function parseId(value) {
    const number = parseInt(value || "", 10);
    return Number.isFinite(number) && number > 0 ? number : null;
  }

  const state = {
    lastEventId: parseId(workspace.dataset.lastEventId) || 0,
    view: workspace.dataset.view || "all",
    conversationId: parseId(workspace.dataset.conversationId),
    customerId: parseId(workspace.dataset.customerId),
  };
  const texts = {
    network: workspace.dataset.textNetwork || "Network error",
    failed: workspace.dataset.textFailed || "Error",
  };

  /* ---------- flash messages ---------- */

  const flashes = document.getElementById("flashes");

  function dismissLater(flash) {
    window.setTimeout(function () {
      flash.remove();
    }, FLASH_LIFETIME_MS);
  }

  function showFlash(text, kind) {
    if (!flashes) {
      return;
    }
    const flash = document.createElement("div");
    flash.className = "flash flash--" + (kind || "error");
    flash.setAttribute("role", "alert");
    flash.textContent = text;
    flashes.appendChild(flash);
    dismissLater(flash);
  }

  if (flashes) {
    flashes.querySelectorAll(".flash").forEach(dismissLater);
    flashes.addEventListener("click", function (event) {
      const flash = event.target.closest(".flash");
      if (flash) {
        flash.remove();
      }
    });
  }

  /* ---------- fragments ---------- */

  function fragmentUrl(base, extra) {
    const url = new URL(base, window.location.href);
    url.searchParams.set("view", state.view);
    Object.keys(extra || {}).forEach(function (key) {
      url.searchParams.set(key, extra[key]);
    });
    return url.toString();
  }

  async function fetchFragment(url) {
    const response = await fetch(url, {
      headers: FETCH_HEADERS,
      credentials: "same-origin",
      cache: "no-store",
    });
    if (response.redirected) {
      // The session ended: the login page was served instead.
      window.location.reload();
      return null;
    }
    if (!response.ok) {
      throw new Error("fragment " + url + " answered " + response.status);
    }
    // DOMParser never runs scripts; the markup was escaped by the server's templates.
    const doc = new DOMParser().parseFromString(await response.text(), "text/html");
    return doc.body.firstElementChild;
  }

  function swap(id, fresh) {
    const current = document.getElementById(id);
    if (!current || !fresh || fresh.id !== id) {
      return null;
    }
    const adopted = document.adoptNode(fresh);
    current.replaceWith(adopted);
    return adopted;
  }

  function scrollTimelineToEnd() {
    const timeline = document.getElementById("timeline");
    if (!timeline) {
      return;
    }
    if (timeline.scrollHeight > timeline.clientHeight + 1) {
      timeline.scrollTop = timeline.scrollHeight;
    } else if (timeline.lastElementChild && window.innerWidth <= 900) {
      // A phone-sized screen: the page scrolls, not the timeline.
      timeline.lastElementChild.scrollIntoView({ block: "end" });
    }
  }

  // The thread stays at its last message while pictures load and the summary card folds
  // (heights known only then), unless the agent scrolled up meanwhile.
  function followTimelineEnd() {
    const timeline = document.getElementById("timeline");
    if (!timeline || typeof ResizeObserver === "undefined") {
      return;
    }
    let atEnd = true;
    function check() {
      if (timeline.scrollHeight > timeline.clientHeight + 1) {
        atEnd = timeline.scrollHeight - timeline.scrollTop - timeline.clientHeight < 48;
      } else {
        // A phone-sized screen: the page scrolls, not the timeline.
        const last = timeline.lastElementChild;
        atEnd = !last || last.getBoundingClientRect().bottom <= window.innerHeight + 48;
      }
    }
    timeline.addEventListener("scroll", check, { passive: true });
    window.addEventListener("scroll", check, { passive: true });
    const observer = new ResizeObserver(function () {
      if (atEnd && document.body.contains(timeline)) {
        scrollTimelineToEnd();
      }
    });
    observer.observe(timeline);
    Array.from(timeline.children).forEach(function (child) {
      observer.observe(child);
    });
  }

  const refreshers = {
    inbox: async function () {
      const base = workspace.dataset.inboxUrl;
      if (!base) {
        return; // a page without the inbox (the supervisor's board)
      }
      const extra = state.conversationId ? { conversation: state.conversationId } : {};
      const fresh = await fetchFragment(fragmentUrl(base, extra));
      // What the agent ticked and chose in the bulk bar survives the refresh.
      const ticked = Array.from(document.querySelectorAll(".conversation-tick:checked")).map(
        function (box) {
          return box.value;
        }
      );
      const fields = Array.from(document.querySelectorAll("[data-bulk-field]")).map(function (f) {
        return [f.id, f.value];
      });
      swap("inbox", fresh);
      document.querySelectorAll(".conversation-tick").forEach(function (box) {
        box.checked = ticked.indexOf(box.value) !== -1;
      });
      fields.forEach(function (pair) {
        const again = document.getElementById(pair[0]);
        if (again) {
          again.value = pair[1];
        }
      });
    },
    thread: async function () {
      if (!workspace.dataset.threadUrl) {
        return;
      }
      const fresh = await fetchFragment(fragmentUrl(workspace.dataset.threadUrl));
      const before = document.getElementById("timeline");
      const wasAtEnd =
        !before || before.scrollHeight - before.scrollTop - before.clientHeight < 48;
      const scrollTop = before ? before.scrollTop : 0;
      // Quoted mail history the agent unfolded stays unfolded across refreshes.
      const unfolded = Array.from(document.querySelectorAll("details[data-history-of][open]")).map(
        function (details) {
          return details.dataset.historyOf;
        }
      );
      swap("thread", fresh);
      applySummaryFold();
      unfolded.forEach(function (id) {
        const details = document.querySelector('details[data-history-of="' + id + '"]');
        if (details) {
          details.open = true;
        }
      });
      const after = document.getElementById("timeline");
      if (after) {
        after.scrollTop = wasAtEnd ? after.scrollHeight : scrollTop;
        if (wasAtEnd) {
          followTimelineEnd();
        }
      }
    },
    panel: async function () {
      if (!workspace.dataset.panelUrl) {
        return;
      }
      swap("customer-panel", await fetchFragment(fragmentUrl(workspace.dataset.panelUrl)));
    },
    board: async function () {
      if (!workspace.dataset.boardUrl) {
        return;
      }
      const fresh = await fetchFragment(fragmentUrl(workspace.dataset.boardUrl));
      // What the supervisor picked and has not sent yet (an agent, a team) survives the
      // refresh: a new board must not change the choice under their click.
      const picked = Array.from(document.querySelectorAll("#board select[data-picked]"));
      swap("board", fresh);
      picked.forEach(function (select) {
        const again = document.getElementById(select.id);
        if (again && Array.from(again.options).some((o) => o.value === select.value)) {
          again.value = select.value;
          again.dataset.picked = "1";
        }
      });
    },
  };

  // The supervisor's board: every event may move a line; waits grow while nothing happens.
  if (workspace.dataset.boardUrl) {
    document.addEventListener("change", function (event) {
      if (event.target.matches && event.target.matches("#board select:not([data-autosubmit])")) {
        event.target.dataset.picked = "1";
      }
    });
    window.setInterval(function () {
      scheduleRefresh(["board"]);
    }, BOARD_TICK_MS);
  }

  // Refreshes are coalesced (a burst of events costs one fetch per fragment)
  // and never overlap, so an older response cannot overwrite a newer one.
  const pendingParts = new Set();
  let refreshTimer = null;
  let refreshing = false;

  function scheduleRefresh(parts) {
    parts.forEach(function (part) {
      pendingParts.add(part);
    });
    if (refreshTimer === null) {
      refreshTimer = window.setTimeout(runRefresh, REFRESH_DELAY_MS);
    }
  }

  async function runRefresh() {
    refreshTimer = null;
    if (refreshing) {
      refreshTimer = window.setTimeout(runRefresh, REFRESH_DELAY_MS);
      return;
    }
    const parts = Array.from(pendingParts);
    pendingParts.clear();
    refreshing = true;
    try {
      await Promise.all(
        parts.map(function (part) {
          return refreshers[part]();
        })
      );
    } catch (error) {
      console.warn("console refresh failed", error);
    } finally {
      refreshing = false;
    }
  }

  /* ---------- the assistant's summary card: folded or not, remembered per agent ---------- */

  const SUMMARY_KEY = "comptoir.summaryFolded." + (workspace.dataset.membershipId || "");

  function summaryFolded() {
    try {
      return window.localStorage.getItem(SUMMARY_KEY) === "1";
    } catch (error) {
      return false;
    }
  }

  // Applied on load and after every thread refresh (the card comes back unfolded).
  function applySummaryFold() {
    const card = document.getElementById("assistant-summary");
    const toggle = document.getElementById("assistant-summary-toggle");
    if (!card || !toggle) {
      return;
    }
    const folded = summaryFolded();
    card.classList.toggle("is-folded", folded);
    toggle.setAttribute("aria-expanded", folded ? "false" : "true");
    toggle.textContent = folded ? toggle.dataset.textShow : toggle.dataset.textHide;
  }

  document.addEventListener("click", function (event) {
    const toggle = event.target.closest && event.target.closest("#assistant-summary-toggle");
    if (!toggle) {
      return;
    }
    try {
      window.localStorage.setItem(SUMMARY_KEY, summaryFolded() ? "0" : "1");
    } catch (error) {
      return; // storage refused: nothing to remember the choice with
    }
    applySummaryFold();
  });

  applySummaryFold();

  /* ---------- unread count and desktop notifications ---------- */

  // New customer messages in conversations assigned to this agent: counted per conversation
  // in the tab's title ("(3) Inbox · Brand"), kept across pages of this tab
  // (sessionStorage), cleared when the conversation is opened and seen.
  const UNREAD_KEY = "comptoir.unread";
  const baseTitle = document.title;
  const membershipId = parseId(workspace.dataset.membershipId);
  // Events up to the page's own are in what it shows, and were counted by the page before:
  // a resume replays recent ones below it, which must not count twice.
  const pageEventId = state.lastEventId;

  function readUnread() {
    try {
      const stored = JSON.parse(window.sessionStorage.getItem(UNREAD_KEY) || "{}");
      return stored && typeof stored === "object" ? stored : {};
    } catch (error) {
      return {};
    }
  }

  function writeUnread(unread) {
    try {
      window.sessionStorage.setItem(UNREAD_KEY, JSON.stringify(unread));
    } catch (error) {
      // Storage refused (private mode, quota): the count lives until the page changes.
    }
    const total = Object.values(unread).reduce(function (sum, n) {
      return sum + (Number.isFinite(n) ? n : 0);
    }, 0);
    document.title = total > 0 ? "(" + total + ") " + baseTitle : baseTitle;
  }

  function seeOpenConversation() {
    const unread = readUnread();
    if (state.conversationId !== null && document.visibilityState === "visible") {
      delete unread[state.conversationId];
    }
    writeUnread(unread);
  }

  function notifyDesktop(payload) {
    if (!("Notification" in window) || Notification.permission !== "granted") {
      return;
    }
    const conversationId = payload.conversation_id;
    // Plain text: a notification renders no markup.
    const notification = new Notification(workspace.dataset.textNotificationTitle || "", {
      body: String(payload.text || "").slice(0, 140),
      tag: "comptoir-conversation-" + conversationId,
    });
    notification.addEventListener("click", function () {
      window.focus();
      window.location.href = workspace.dataset.conversationsUrl + conversationId + "/";
    });
  }

  function countIfMine(frame) {
    const payload = frame.payload || {};
    const conversation = payload.conversation || {};
    if (
      frame.id <= pageEventId ||
      frame.kind !== "message.created" ||
      payload.direction !== "in" ||
      payload.author_kind !== "customer" ||
      membershipId === null ||
      conversation.assignee_id !== membershipId
    ) {
      return;
    }
    const seen =
      payload.conversation_id === state.conversationId && document.visibilityState === "visible";
    if (seen) {
      return;
    }
    const unread = readUnread();
    unread[payload.conversation_id] = (unread[payload.conversation_id] || 0) + 1;
    writeUnread(unread);
    if (document.visibilityState !== "visible") {
      notifyDesktop(payload);
    }
  }

  document.addEventListener("visibilitychange", seeOpenConversation);
  seeOpenConversation();

  // Permission is asked on a click (browsers refuse a request made without one).
  const notifyButton = document.getElementById("enable-notifications");
  if (notifyButton && "Notification" in window && Notification.permission === "default") {
    notifyButton.hidden = false;
    notifyButton.addEventListener("click", function () {
      Notification.requestPermission().then(function () {
        notifyButton.hidden = true;
      });
    });
  }

  /* ---------- WebSocket ---------- */

  const indicator = document.getElementById("connection-status");
  // Ids already handled: the same event can arrive twice (brand and personal groups).
  const seenEventIds = new Set();
  let socket = null;
  let failures = 0;
  let pingTimer = null;
  let reconnectTimer = null;

  function setReconnecting(reconnecting) {
    if (indicator) {
      indicator.hidden = !reconnecting;
    }
  }

  function concernsOpenCustomer(frame) {
    if (state.customerId === null) {
      return false;
    }
    const payload = frame.payload || {};
    const conversation = payload.conversation || {};
    return payload.customer_id === state.customerId || conversation.customer_id === state.customerId;
  }

  function onEvent(frame) {
    if (typeof frame.id !== "number" || seenEventIds.has(frame.id)) {
      return;
    }
    seenEventIds.add(frame.id);
    if (seenEventIds.size > 500) {
      seenEventIds.delete(seenEventIds.values().next().value);
    }
    // An event whose id is below the highest seen still refreshes (ids can
    // commit out of order); refreshing is idempotent. Resume uses the highest.
    state.lastEventId = Math.max(state.lastEventId, frame.id);
    countIfMine(frame);
    const parts = workspace.dataset.boardUrl ? ["board"] : ["inbox"];
    const aboutOpenConversation =
      state.conversationId !== null && frame.conversation_id === state.conversationId;
    if (aboutOpenConversation || concernsOpenCustomer(frame)) {
      parts.push("thread", "panel");
    }
    scheduleRefresh(parts);
  }

  // Typing hints (never stored): the customer of the open conversation typing, or another
  // agent typing in it (two people about to answer the same customer).
  let typingTimer = null;
  let typingSentAt = 0;

  function onTyping(frame) {
    const line = document.getElementById("typing-indicator");
    if (!line || state.conversationId === null) {
      return;
    }
    let text = "";
    if (frame.who === "customer" && frame.customer_id === state.customerId) {
      text = line.dataset.customerTyping;
      line.classList.remove("is-collision");
    } else if (frame.who === "agent" && frame.conversation_id === state.conversationId) {
      text = line.dataset.agentTyping.replace("__name__", frame.name || "");
      line.classList.add("is-collision");
    }
    if (!text) {
      return;
    }
    line.textContent = text;
    line.hidden = false;
    clearTimeout(typingTimer);
    typingTimer = setTimeout(function () {
      line.hidden = true;
    }, 6000);
  }

  // Who else has this conversation open: said on opening it and every 20 s, shown for 45 s.
  let viewingTimer = null;

  function sendViewing() {
    if (state.conversationId !== null && socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify({ type: "viewing", conversation_id: state.conversationId }));
    }
  }

  function onViewing(frame) {
    const line = document.getElementById("viewing-indicator");
    if (!line || frame.conversation_id !== state.conversationId) {
      return;
    }
    line.textContent = line.dataset.agentViewing.replace("__name__", frame.name || "");
    line.hidden = false;
    clearTimeout(viewingTimer);
    viewingTimer = setTimeout(function () {
      line.hidden = true;
    }, 45000);
  }

  setInterval(sendViewing, 20000);

  function sendTyping(isNote) {
    const now = Date.now();
    if (state.conversationId === null || now - typingSentAt < 2500) {
      return;
    }
    if (socket && socket.readyState === WebSocket.OPEN) {
      typingSentAt = now;
      socket.send(
        JSON.stringify({ type: "typing", conversation_id: state.conversationId, note: isNote })
      );
    }
  }

  function onFrame(frame) {
    switch (frame.type) {
      case "event":
        onEvent(frame);
        break;
      case "resumed":
        sendViewing();
        failures = 0;
        setReconnecting(false);
        if (typeof frame.last_event_id === "number") {
          state.lastEventId = Math.max(state.lastEventId, frame.last_event_id);
        }
        break;
      case "reset":
        // Too much was missed to replay: start again from a fresh page.
        window.location.reload();
        break;
      case "typing":
        onTyping(frame);
        break;
      case "viewing":
        onViewing(frame);
        break;
      default:
        break; // pong, error (the close that follows is handled below)
    }
  }

  function connect() {
    reconnectTimer = null;
    const scheme = window.location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(scheme + "://" + window.location.host + "/ws/console/");
    socket.addEventListener("open", function () {
      socket.send(JSON.stringify({ type: "resume", last_event_id: state.lastEventId }));
      pingTimer = window.setInterval(function () {
        if (socket && socket.readyState === WebSocket.OPEN) {
          socket.send(JSON.stringify({ type: "ping" }));
        }
      }, PING_INTERVAL_MS);
    });
    socket.addEventListener("message", function (message) {
      let frame;
      try {
        frame = JSON.parse(message.data);
      } catch (error) {
        return;
      }
      if (frame && typeof frame.type === "string") {
        onFrame(frame);
      }
    });
    socket.addEventListener("close", function (event) {
      window.clearInterval(pingTimer);
      socket = null;
      setReconnecting(true);
      if (event.code === 4401) {
        // Refused as logged out: a fragment fetch reloads to the login page if so.
        scheduleRefresh(["inbox"]);
      }
      scheduleReconnect();
    });
  }

  function scheduleReconnect() {
    if (reconnectTimer !== null) {
      return;
    }
    const ceiling = Math.min(MAX_BACKOFF_MS, 1000 * Math.pow(2, failures));
    failures += 1;
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    reconnectTimer = window.setTimeout(connect, delay);
  }

  window.addEventListener("online", function () {
    if (socket === null && reconnectTimer !== null) {
      window.clearTimeout(reconnectTimer);
      connect();
    }
  });

  /* ---------- forms (reply, note, assign, resolve, reopen) ---------- */

  function reportFormError(form, text) {
    const slot = form.querySelector("#composer-error");
    if (slot) {
      slot.textContent = text;
    } else {
      showFlash(text, "error");
    }
  }

  document.addEventListener("submit", async function (event) {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-async")) {
      return;
    }
    event.preventDefault();
    if (form.dataset.busy) {
      return;
    }
    const body = new FormData(form);
    const controls = form.querySelectorAll("button, select");
    form.dataset.busy = "1";
    controls.forEach(function (control) {
      control.disabled = true;
    });
    try {
      const response = await fetch(form.action, {
        method: "POST",
        body: body,
        headers: FETCH_HEADERS,
        credentials: "same-origin",
      });
      if (response.redirected) {
        window.location.reload();
        return;
      }
      if (response.status === 400) {
        reportFormError(form, (await response.text()) || texts.failed);
        return;
      }
      if (!response.ok) {
        reportFormError(form, texts.failed + " (" + response.status + ")");
        return;
      }
      if (form.hasAttribute("data-composer")) {
        form.querySelector("textarea").value = "";
      }
      // A reopen or reassignment may have lifted the reason of an earlier refusal.
      const composerError = document.getElementById("composer-error");
      if (composerError) {
        composerError.textContent = "";
      }
      scheduleRefresh(["inbox", "thread", "panel"]);
    } catch (error) {
      reportFormError(form, texts.network);
    } finally {
      delete form.dataset.busy;
      controls.forEach(function (control) {
        control.disabled = false;
      });
    }
  });

  /* ---------- reply box ---------- */

  const composer = document.querySelector("[data-composer]");
  if (composer) {
    const textarea = composer.querySelector("textarea");
    const submit = composer.querySelector("button[type=submit]");
    const hint = composer.querySelector(".composer__hint");
    const applyMode = function () {
      const checked = composer.querySelector("input[name=mode]:checked");
      const isNote = checked !== null && checked.value === "note";
      composer.classList.toggle("is-note", isNote);
      submit.textContent = isNote ? submit.dataset.labelNote : submit.dataset.labelReply;
      textarea.placeholder = isNote
        ? textarea.dataset.placeholderNote
        : textarea.dataset.placeholderReply;
    };
    composer.addEventListener("change", applyMode);
    applyMode();
    const errorSlot = composer.querySelector("#composer-error");
    textarea.addEventListener("input", function () {
      const checked = composer.querySelector("input[name=mode]:checked");
      sendTyping(Boolean(checked && checked.value === "note"));
    });
    textarea.addEventListener("input", function () {
      errorSlot.textContent = "";
    });
    if (hint && hint.dataset.hintMac && /Mac|iPhone|iPad/.test(navigator.platform || "")) {
      hint.textContent = hint.dataset.hintMac;
    }
    // Enter makes a new line; Ctrl+Enter (Cmd+Enter on a Mac) sends.
    textarea.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        composer.requestSubmit();
      }
    });
  }

  scrollTimelineToEnd();
  followTimelineEnd();
  connect();
})();
