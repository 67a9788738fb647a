// The demo page: one phone per person, kept up to date by long-polling /api/state.
// Message HTML arrives already sanitised by the server (demo/render.py).
"use strict";

const ROLE_LABELS = {
  refugee: "Refugee",
  lotse: "Lotse",
  coordinator: "Coordinator",
  person: "New person",
};

const phones = new Map(); // id -> {el, rendered, toast, replyTo}
let version = -1;
let current = null;

function $(selector, root = document) {
  return root.querySelector(selector);
}

async function api(path, body) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body || {}),
  });
  if (!response.ok) {
    const text = await response.text();
    showError(`${response.status}: ${text}`);
    throw new Error(text);
  }
  showError("");
  return response.json();
}

function showError(text) {
  const box = $("#error");
  box.textContent = text;
  box.hidden = !text;
}

// ------------------------------------------------------------------ polling

async function poll() {
  for (;;) {
    try {
      const response = await fetch(`/api/state?after=${version}`, { cache: "no-store" });
      if (!response.ok) throw new Error(`${response.status}`);
      const state = await response.json();
      version = state.version;
      render(state);
    } catch (error) {
      setStatus("The demo is not answering. Is `lotsenbot demo` still running?");
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

function setStatus(text) {
  const box = $("#status");
  box.textContent = text;
  box.hidden = !text;
}

const STATUS_TEXT = {
  starting: "Starting the bot…",
  seeding: "Setting up the demo world: a coordinator, Lotsen and a few open requests…",
  resetting: "Resetting: deleting the demo database and starting again…",
};

function render(state) {
  current = state;
  document.body.dataset.status = state.status;
  if (state.status === "failed") {
    setStatus(`The bot stopped: ${state.error || "unknown error"}. Try “Reset demo”.`);
  } else {
    setStatus(STATUS_TEXT[state.status] || "");
  }
  renderLanguages(state.languages);
  if (state.clock) {
    $("#clock-now").textContent = state.clock.label;
    $("#clock-now").dataset.now = state.clock.now;
    $("#clock-ahead").textContent = state.clock.ahead
      ? `${state.clock.ahead} ahead of real time`
      : "the same as real time";
  }
  renderPeople(state.phones);
  const seen = new Set();
  for (const phone of state.phones) {
    if (!phone.shown) continue;
    seen.add(phone.id);
    renderPhone(phone, state.bot);
  }
  for (const [id, entry] of phones) {
    if (!seen.has(id)) {
      entry.el.remove();
      phones.delete(id);
    }
  }
}

function renderLanguages(languages) {
  const select = $("#new-language");
  if (select.options.length || !languages) return;
  for (const language of languages) {
    select.add(new Option(`${language.name} (${language.code})`, language.code));
  }
}

function roleLabel(role) {
  return ROLE_LABELS[role] || role.charAt(0).toUpperCase() + role.slice(1);
}

function renderPeople(list) {
  const bar = $("#people");
  bar.replaceChildren();
  const hidden = list.filter((phone) => !phone.shown);
  if (!hidden.length) return;
  bar.append("Show: ");
  for (const phone of hidden) {
    const chip = document.createElement("button");
    chip.type = "button";
    chip.className = "chip";
    chip.dataset.person = phone.id;
    chip.textContent = `${phone.name} · ${roleLabel(phone.role)} · ${phone.language}${phone.messenger === "signal" ? " · Signal" : ""}`;
    chip.addEventListener("click", () => api(`/api/people/${phone.id}/shown`, { shown: true }));
    bar.append(chip);
  }
}

// ------------------------------------------------------------------ phones

function renderPhone(phone, botName) {
  let entry = phones.get(phone.id);
  if (!entry) {
    entry = createPhone(phone);
    phones.set(phone.id, entry);
  }
  const el = entry.el;
  el.dataset.role = phone.role;
  el.dataset.language = phone.language;
  el.dataset.messenger = phone.messenger;
  $(".name", el).textContent = phone.name;
  const where = phone.messenger === "signal" ? `Signal ${phone.number}` : `@${botName || ""}`;
  $(".role", el).textContent = `${roleLabel(phone.role)} · ${phone.language} · ${where}`;
  $(".open-console", el).hidden = !(phone.role === "coordinator" && phone.messenger === "telegram");
  $(".composer .entry", el).placeholder = phone.messenger === "signal"
    ? "Message, or the number of a choice"
    : "Message";
  const chat = $(".chat", el);
  chat.dir = phone.dir;
  const key = JSON.stringify(phone.messages);
  if (key !== entry.rendered) {
    const atBottom = chat.scrollHeight - chat.scrollTop - chat.clientHeight < 40;
    entry.rendered = key;
    chat.replaceChildren(...renderMessages(phone));
    if (atBottom || !entry.scrolled) chat.scrollTop = chat.scrollHeight;
    entry.scrolled = true;
  }
  if (phone.toast && phone.toast.id !== entry.toast) {
    entry.toast = phone.toast.id;
    const toast = $(".toast", el);
    toast.textContent = phone.toast.text;
    toast.dir = "auto";
    toast.hidden = false;
    clearTimeout(entry.toastTimer);
    entry.toastTimer = setTimeout(() => { toast.hidden = true; }, 3500);
  }
}

function createPhone(phone) {
  const el = $("#phone-template").content.firstElementChild.cloneNode(true);
  el.id = `phone-${phone.id}`;
  el.dataset.person = phone.id;
  $(".avatar", el).textContent = phone.name.slice(0, 1).toUpperCase();
  const entry = { el, rendered: null, toast: null, replyTo: null, scrolled: false };
  $(".hide", el).addEventListener("click", () => api(`/api/people/${phone.id}/shown`, { shown: false }));
  $(".composer", el).addEventListener("submit", (event) => {
    event.preventDefault();
    const input = $(".composer .entry", el);
    const text = input.value.trim();
    if (!text) return;
    const body = { text };
    if (entry.replyTo) body.reply_to = entry.replyTo;
    input.value = "";
    setReply(entry, null);
    api(`/api/people/${phone.id}/send`, body).catch(() => { input.value = text; });
  });
  for (const button of el.querySelectorAll(".attach")) {
    button.addEventListener("click", () => api(`/api/people/${phone.id}/attach`, { kind: button.dataset.kind }));
  }
  $(".open-console", el).addEventListener("click", () => {
    // Opened now, while the click counts, and sent to the link once the chat has it.
    const tab = window.open("about:blank", "_blank");
    api(`/api/people/${phone.id}/console`, {})
      .then((answer) => {
        if (tab) {
          tab.opener = null;
          tab.location.href = answer.url;
        } else {
          window.location.href = answer.url;
        }
      })
      .catch(() => { if (tab) tab.close(); });
  });
  $(".replying-cancel", el).addEventListener("click", () => setReply(entry, null));
  $("#phones").append(el);
  return entry;
}

function setReply(entry, message) {
  entry.replyTo = message ? message.id : null;
  const bar = $(".replying", entry.el);
  bar.hidden = !message;
  $(".replying-text", bar).textContent = message ? `Reply to: ${excerpt(message)}` : "";
  if (message) $(".composer .entry", entry.el).focus();
}

function excerpt(message) {
  const div = document.createElement("div");
  div.innerHTML = message.html;
  const text = div.textContent.replace(/\s+/g, " ").trim();
  return text.length > 60 ? `${text.slice(0, 60)}…` : text || message.kind;
}

function renderMessages(phone) {
  if (!phone.messages.length) {
    const empty = document.createElement("div");
    empty.className = "empty";
    const start = document.createElement("button");
    start.type = "button";
    start.className = "start";
    if (phone.messenger === "signal") {  // no Start button on Signal: a first message starts
      start.textContent = "SAY HELLO";
      start.title = "Send a first message: on Signal, whatever it says, it starts the conversation";
      start.addEventListener("click", () => api(`/api/people/${phone.id}/send`, { text: "Hallo" }));
    } else {
      start.textContent = "START";
      start.title = "Send /start, as Telegram's Start button does";
      start.addEventListener("click", () => api(`/api/people/${phone.id}/send`, { text: "/start" }));
    }
    empty.append(start);
    return [empty];
  }
  return phone.messages.map((message) => renderMessage(phone, message));
}

function renderMessage(phone, message) {
  const wrap = document.createElement("div");
  wrap.className = `msg ${message.out ? "out" : "in"}`;
  wrap.dataset.id = message.id;
  const bubble = document.createElement("div");
  bubble.className = "bubble";
  bubble.dir = "auto";
  if (message.reply) {
    const quote = document.createElement("div");
    quote.className = "quote";
    quote.textContent = message.reply;
    bubble.append(quote);
  }
  const media = renderMedia(message);
  if (media) bubble.append(media);
  if (message.html) {
    const text = document.createElement("div");
    text.className = "text";
    text.dir = "auto";
    text.innerHTML = message.html; // sanitised on the server: Telegram's tags only
    bubble.append(text);
  }
  const meta = document.createElement("div");
  meta.className = "meta";
  if (!message.out) {
    const reply = document.createElement("button");
    reply.type = "button";
    reply.className = "reply";
    reply.textContent = "↩";
    reply.title = "Reply to this message";
    reply.addEventListener("click", () => setReply(phones.get(phone.id), message));
    meta.append(reply);
  }
  meta.append(`${message.edited ? "edited " : ""}${message.time}`);
  bubble.append(meta);
  wrap.append(bubble);
  if (message.buttons.length) wrap.append(renderKeyboard(phone, message));
  return wrap;
}

function renderMedia(message) {
  if (message.kind === "photo" && message.file) {
    const img = document.createElement("img");
    img.src = message.file;
    img.alt = "photo";
    img.className = "photo";
    return img;
  }
  if (message.kind === "voice") {
    const box = document.createElement("div");
    box.className = "voice";
    box.append("🎤 ");
    if (message.file) {
      const audio = document.createElement("audio");
      audio.controls = true;
      audio.preload = "none";
      audio.src = message.file;
      box.append(audio);
    } else {
      box.append("voice note");
    }
    return box;
  }
  if (message.kind === "document") {
    const doc = document.createElement("div");
    doc.className = "document";
    doc.textContent = "📄 letter.pdf";
    return doc;
  }
  if (message.kind === "sticker") {
    const sticker = document.createElement("div");
    sticker.className = "document";
    sticker.textContent = "🙂 sticker";
    return sticker;
  }
  return null;
}

function renderKeyboard(phone, message) {
  const keyboard = document.createElement("div");
  keyboard.className = "keyboard";
  for (const row of message.buttons) {
    const line = document.createElement("div");
    line.className = "row";
    for (const button of row) {
      let el;
      if (button.data !== undefined) {
        el = document.createElement("button");
        el.type = "button";
        el.addEventListener("click", () => {
          el.disabled = true;
          api(`/api/people/${phone.id}/press`, { message_id: message.id, data: button.data })
            .finally(() => { el.disabled = false; });
        });
        el.dataset.data = button.data;
      } else {
        el = document.createElement("a");
        el.href = button.url;
        el.target = "_blank";
        el.rel = "noopener noreferrer";
      }
      el.className = "key";
      el.dir = "auto";
      el.textContent = button.text;
      line.append(el);
    }
    keyboard.append(line);
  }
  return keyboard;
}

// ------------------------------------------------------------------ page tools

document.addEventListener("click", (event) => {
  const link = event.target.closest("a.deeplink");
  if (link) {
    event.preventDefault();
    openDeepLink(link.dataset.start);
  }
  const spoiler = event.target.closest(".spoiler");
  if (spoiler) spoiler.classList.add("revealed");
});

function openDeepLink(code) {
  const dialog = $("#deeplink");
  $("#deeplink-code").textContent = code;
  const select = $("#deeplink-person");
  select.replaceChildren();
  for (const phone of (current && current.phones) || []) {
    select.add(new Option(`${phone.name} (${roleLabel(phone.role)})`, phone.id));
  }
  dialog.onclose = () => {
    if (dialog.returnValue !== "open" || !select.value) return;
    const id = select.value;
    api(`/api/people/${id}/shown`, { shown: true })
      .then(() => api(`/api/people/${id}/send`, { text: `/start ${code}` }));
  };
  dialog.showModal();
}

$("#add-person").addEventListener("submit", (event) => {
  event.preventDefault();
  const name = $("#new-name").value.trim();
  if (!name) return;
  const messenger = $("#new-messenger").value;
  api("/api/people", { name, language: $("#new-language").value, messenger }).then(() => {
    $("#new-name").value = "";
  });
});

for (const button of document.querySelectorAll(".clock button")) {
  button.addEventListener("click", () => {
    const result = $("#clock-result");
    result.textContent = "…";
    api("/api/clock", { step: button.dataset.step }).then((answer) => {
      result.textContent = answer.timers === 1 ? "1 timer ran" : `${answer.timers} timers ran`;
    });
  });
}

$("#reset").addEventListener("click", () => {
  if (!confirm("Delete the demo database and all chats, and start again?")) return;
  for (const entry of phones.values()) entry.el.remove();
  phones.clear();
  api("/api/reset");
});

poll();
