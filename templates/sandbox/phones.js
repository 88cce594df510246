// The sandbox page: phones that poll /sandbox/feed and post to /sandbox/say and /sandbox/tap.
// Plain JS, no build step. Texts shown to people come from TEXT (phones.html).
(function () {
  "use strict";
  const POLL_MS = 700;
  let csrf = SANDBOX.csrf;
  let today = null;
  const phones = {};
  for (const el of document.querySelectorAll(".phone")) {
    phones[el.dataset.user] = {
      el, userid: el.dataset.user, list: el.querySelector(".messages"), after: 0,
      cards: {}, lastAt: null, name: el.dataset.name || el.dataset.user,
    };
  }

  function fmt(template, values) {
    return template.replace(/\{(\w+)\}/g, (_, key) => (values && values[key] != null ? values[key] : ""));
  }

  function explain(err) {
    if (err instanceof TypeError) return TEXT.errors.network;  // fetch itself failed
    const values = Object.assign({}, err);
    values.replace_name = err.replace_name ? "（" + err.replace_name + "）" : "";
    return fmt(TEXT.errors[err.error] || TEXT.errors.unknown, values);
  }

  function notice(text, isError) {
    const el = document.getElementById("notice");
    el.textContent = text;
    el.hidden = !text;
    el.classList.toggle("error", !!isError);
  }

  // The page's CSRF token, fresh: a link opened as a phone's member signs this browser in
  // again, which starts a new session (and token) under the page's feet.
  async function refreshToken() {
    const response = await fetch(SANDBOX.feed + "?as=&after=", {credentials: "same-origin"});
    if (response.ok) csrf = (await response.json()).csrf;
  }

  async function post(url, body, retried) {
    const response = await fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": csrf},
      body: JSON.stringify(body),
    });
    let data = {};
    try { data = await response.json(); } catch (e) { data = {}; }
    if (!response.ok && data.error === "csrf" && !retried) {  // refused before doing anything
      await refreshToken();
      return post(url, body, true);
    }
    if (!response.ok) throw (data.error ? data : {error: "unknown", status: response.status});
    return data;
  }

  // A link on a phone opens as in WeCom's in-app browser: signed in as the phone's member
  // (WeCom's silent OAuth, WECOM.md §7A). The sandbox's login form does what the emulator's
  // authorize page does for that member. The bot's own links (PUBLIC_URL, or by default
  // 127.0.0.1:5000) open on this server whatever its port; other sites' open as they are.
  async function openAs(phone, url) {
    let target;
    try { target = new URL(url, location.href); } catch (e) { return; }
    const ours = [location.origin, new URL(SANDBOX.links, location.href).origin];
    if (!ours.includes(target.origin)) {
      window.open(target.href, "_blank", "noopener");
      return;
    }
    // The window opens on the tap (no popup blocker), the sign-in follows with a fresh token.
    const name = "phone-link-" + phone.userid + "-" + Date.now();
    window.open("about:blank", name);
    await refreshToken();
    const form = document.createElement("form");
    form.method = "post"; form.action = SANDBOX.login; form.target = name;
    const fields = {csrf_token: csrf, userid: phone.userid, next: target.pathname + target.search};
    for (const [key, value] of Object.entries(fields)) {
      const input = document.createElement("input");
      input.type = "hidden"; input.name = key; input.value = value;
      form.appendChild(input);
    }
    document.body.appendChild(form);
    form.submit();
    form.remove();
  }

  // --- drawing -------------------------------------------------------------------------
  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text != null) node.textContent = text;
    return node;
  }

  function escapeHtml(text) {
    return text.replace(/[&<>"']/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
  }

  // WeCom's markdown subset: headings, bold, links, inline code, quotes, <font color="info|comment|warning">.
  function markdown(source) {
    return source.split("\n").map((line) => {
      let html = escapeHtml(line)
        .replace(/&lt;font color=&quot;(info|comment|warning)&quot;&gt;(.*?)&lt;\/font&gt;/g, '<span class="font-$1">$2</span>')
        .replace(/\*\*(.+?)\*\*/g, "<b>$1</b>")
        .replace(/`([^`]+)`/g, "<code>$1</code>")
        .replace(/\[([^\]]+)\]\((https?:\/\/[^)\s]+)\)/g, '<a href="$2" target="_blank" rel="noopener">$1</a>');
      const heading = html.match(/^(#{1,6}) (.*)$/);
      if (heading) {
        const level = Math.min(heading[1].length, 3);
        return "<h" + level + ">" + heading[2] + "</h" + level + ">";
      }
      if (html.startsWith("&gt; ")) return "<blockquote>" + html.slice(5) + "</blockquote>";
      return "<p>" + (html || "&nbsp;") + "</p>";
    }).join("");
  }

  function stampText(at) {
    const day = at.slice(0, 10), time = at.slice(11, 16);
    if (today && day === today.date) return time;
    return Number(day.slice(5, 7)) + "月" + Number(day.slice(8, 10)) + "日 " + time;
  }

  function drawStamp(phone, at) {
    const last = phone.lastAt;
    if (!last || last.slice(0, 10) !== at.slice(0, 10) || Date.parse(at) - Date.parse(last) > 5 * 60 * 1000) {
      phone.list.appendChild(el("div", "stamp", stampText(at)));
    }
    phone.lastAt = at;
  }

  function drawCard(phone, look, node) {
    const card = look.card || {};
    node = node || el("div");
    node.className = "card" + (look.replace_name ? " done" : "");
    node.dataset.taskId = look.task_id;
    node.replaceChildren();
    if (card.source && card.source.desc) node.appendChild(el("div", "source", card.source.desc));
    const main = card.main_title || {};
    if (main.title) node.appendChild(el("div", "title", main.title));
    if (main.desc) node.appendChild(el("div", "desc", main.desc));
    if (card.sub_title_text) node.appendChild(el("div", "sub", card.sub_title_text));
    const rows = card.horizontal_content_list || [];
    if (rows.length) {
      const dl = el("dl");
      for (const row of rows) {
        dl.appendChild(el("dt", null, row.keyname || ""));
        dl.appendChild(el("dd", null, row.value || ""));
      }
      node.appendChild(dl);
    }
    const links = [];
    if (card.card_action && card.card_action.url) links.push({title: "查看详情", url: card.card_action.url});
    for (const jump of card.jump_list || []) if (jump.url) links.push(jump);
    for (const link of links) {
      if (!/^https?:\/\//.test(link.url)) continue;
      const a = el("a", "link", link.title || link.url);
      a.href = link.url; a.target = "_blank"; a.rel = "noopener";
      a.addEventListener("click", (event) => { event.preventDefault(); openAs(phone, link.url); });
      node.appendChild(a);
    }
    const buttons = el("div", "buttons");
    if (look.replace_name) {
      const done = el("button", null, look.replace_name);
      done.disabled = true;
      buttons.appendChild(done);
    } else {
      for (const button of card.button_list || []) {
        const b = el("button", "style-" + (button.style || 1), button.text);
        b.type = "button";
        if (button.type === 1 && /^https?:\/\//.test(button.url || "")) {
          b.addEventListener("click", () => openAs(phone, button.url));
        } else {
          b.addEventListener("click", () => tap(phone, look.task_id, button, node));
        }
        buttons.appendChild(b);
      }
    }
    if (buttons.childElementCount) node.appendChild(buttons);
    phone.cards[look.task_id] = {node, updates: look.updates};
    return node;
  }

  function drawMessage(phone, m) {
    drawStamp(phone, m.at);
    const row = el("div", "row" + (m.mine ? " mine" : ""));
    row.dataset.id = m.id;
    row.appendChild(el("div", "avatar", m.mine ? phone.name.slice(0, 1) : "备"));
    if (m.type === "template_card") {
      row.appendChild(drawCard(phone, m));
    } else if (m.type === "markdown") {
      const bubble = el("div", "bubble markdown");
      bubble.innerHTML = markdown(m.text);  // escaped first: only the subset's tags survive
      row.appendChild(bubble);
    } else {
      row.appendChild(el("div", "bubble", m.text));
    }
    phone.list.appendChild(row);
  }

  function showToday(value) {
    today = value;
    document.getElementById("today-label").textContent = value.label;
    for (const phone of Object.values(phones)) {
      phone.el.querySelector("[data-time]").textContent = value.time;
      phone.el.querySelector("[data-date]").textContent = value.short;
    }
  }

  // --- polling -------------------------------------------------------------------------
  let inFlight = false, again = false, timer = null;

  async function poll() {
    if (inFlight) { again = true; return; }
    inFlight = true;
    clearTimeout(timer);
    let delay = POLL_MS;
    try {
      const users = Object.keys(phones);
      const params = new URLSearchParams({as: users.join(","), after: users.map((u) => phones[u].after).join(",")});
      const response = await fetch(SANDBOX.feed + "?" + params, {credentials: "same-origin"});
      if (!response.ok) throw {error: "unknown", status: response.status};
      const data = await response.json();
      csrf = data.csrf;
      showToday(data.today);
      const waiting = document.getElementById("waiting");
      waiting.textContent = data.waiting;
      waiting.hidden = !data.waiting;
      for (const [userid, update] of Object.entries(data.phones)) {
        const phone = phones[userid];
        const atBottom = phone.list.scrollHeight - phone.list.scrollTop - phone.list.clientHeight < 80;
        for (const m of update.messages) {
          if (m.id <= phone.after) continue;
          drawMessage(phone, m);
          phone.after = m.id;
        }
        for (const look of update.cards) {
          const known = phone.cards[look.task_id];
          if (known && known.updates !== look.updates) drawCard(phone, look, known.node);
        }
        if (update.messages.length && (atBottom || phone.list.dataset.loaded !== "1")) {
          phone.list.scrollTop = phone.list.scrollHeight;
        }
        phone.list.dataset.loaded = "1";
      }
      if (document.getElementById("notice").textContent === TEXT.errors.network) notice("");
    } catch (err) {
      notice(explain(err), true);
      delay = 2000;
    } finally {
      inFlight = false;
      if (again) { again = false; delay = 0; }
      timer = setTimeout(poll, delay);
    }
  }

  // --- acting ----------------------------------------------------------------------------
  async function tap(phone, taskId, button, node) {
    const buttons = node.querySelectorAll(".buttons button");
    buttons.forEach((b) => { b.disabled = true; });
    try {
      await post(SANDBOX.tap, {userid: phone.userid, task_id: taskId, key: button.key});
      notice("");
    } catch (err) {
      notice(explain(err), true);
      buttons.forEach((b) => { b.disabled = false; });
    }
    poll();
  }

  for (const phone of Object.values(phones)) {
    const form = phone.el.querySelector(".composer");
    const box = form.querySelector("textarea");
    const send = form.querySelector("button");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (!box.value.trim() || send.disabled) return;
      send.disabled = true;
      try {
        await post(SANDBOX.say, {userid: phone.userid, text: box.value});
        box.value = "";
        notice("");
      } catch (err) {
        notice(explain(err), true);
      } finally {
        send.disabled = false;
        box.focus();
      }
      poll();
    });
    box.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
  }

  const clock = document.getElementById("clock");
  clock.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const data = await post(SANDBOX.clock, {date: clock.date.value, time: clock.time.value});
      showToday(data.today);
      notice(fmt(TEXT.clockSet, data.today));
    } catch (err) {
      notice(explain(err), true);
    }
    poll();
  });
  document.getElementById("clock-reset").addEventListener("click", async () => {
    try {
      const data = await post(SANDBOX.clock, {reset: true});
      showToday(data.today);
      clock.date.value = data.today.date;
      notice(fmt(TEXT.clockReset, data.today));
    } catch (err) {
      notice(explain(err), true);
    }
    poll();
  });
  document.getElementById("run-reminders").addEventListener("click", async () => {
    try {
      const data = await post(SANDBOX.reminders, {});
      notice(data.result);
    } catch (err) {
      notice(explain(err), true);
    }
    poll();
  });

  poll();
})();
