// What the lender, advisor and admin consoles share: a login gate for one role (another role's
// account gets app.js's "not for this account" notice with a link to its own page, never a
// failing form),
// refusals shown as alerts, small table helpers with buttons, and paging.
"use strict";

const Console = (() => {
  const { ready, t, api, login, logout, token, el } = Autofin;
  const $ = (id) => document.getElementById(id);
  // Log in (or resume a session) for `role`; `onSignedIn(me)` loads the console.
  function start({ role, onSignedIn }) {
    async function enter(me) {
      $("account").hidden = true;
      // Another role's account gets app.js's "not for this account" notice, as every page does.
      if (!Autofin.requireRole(me, [role])) { $("console").hidden = true; return; }
      $("console").hidden = false;
      $("logout").hidden = false;
      Autofin.announceSession(me);
      await onSignedIn(me);
    }
    Autofin.onSubmit($("login-form"), async (data) => {
      await enter(await login(data.get("email"), data.get("password")));
    });
    $("logout").addEventListener("click", () => { logout(); location.reload(); });
    ready.then(async () => {
      if (!token()) { $("account").hidden = false; return; }
      try {
        await enter(await api("GET", "/v1/auth/me"));
      } catch {
        logout();
        $("account").hidden = false;
      }
    });
  }

  // A button that runs an async action, showing a refusal in `errorNode` (an alert region).
  function button(textKey, action, errorNode, attrs = {}) {
    const node = el("button", t(textKey), { type: "button", ...attrs });
    node.addEventListener("click", async () => {
      if (errorNode) errorNode.textContent = "";
      node.disabled = true;
      try { await action(); } catch (failure) {
        if (errorNode) errorNode.textContent = failure.message;
      } finally { node.disabled = false; }
    });
    return node;
  }

  // Like Autofin.table, but a column's value may be a DOM node (a button, a badge).
  function table(rows, columns, caption) {
    const tableNode = el("table");
    if (caption) tableNode.createCaption().textContent = t(caption);
    const head = tableNode.createTHead().insertRow();
    for (const [heading, , kind] of columns) head.append(el("th", t(heading), { scope: "col", ...(kind ? { class: kind } : {}) }));
    const body = tableNode.createTBody();
    for (const row of rows) {
      const tr = body.insertRow();
      for (const [heading, value, kind] of columns) {
        // data-label: on a phone each row is a card, each value beside its column's name.
        const cell = el("td", undefined, { "data-label": t(heading), ...(kind ? { class: kind } : {}) });
        const shown = value(row);
        if (shown instanceof Node) cell.append(shown); else cell.textContent = shown ?? "—";
        tr.append(cell);
      }
    }
    if (!rows.length) {
      const cell = body.insertRow().insertCell();
      cell.colSpan = columns.length;
      cell.textContent = t("console.none");
    }
    const wrap = el("div", undefined, { class: "table-wrap cards", tabindex: "0", role: "region", "aria-label": caption ? t(caption) : t("console.table") });
    wrap.append(tableNode);
    return wrap;
  }

  // A page of a list with "previous / next" around it: `load(offset)` answers {items,total,limit,offset}.
  function pager(container, load, render) {
    let offset = 0;
    async function show() {
      const page = await load(offset);
      const prev = el("button", t("console.previous"), { type: "button", class: "secondary" });
      const next = el("button", t("console.next"), { type: "button", class: "secondary" });
      prev.disabled = page.offset === 0;
      next.disabled = page.offset + page.items.length >= page.total;
      prev.onclick = () => { offset = Math.max(0, offset - page.limit); show(); };
      next.onclick = () => { offset += page.limit; show(); };
      const nav = el("div", undefined, { class: "pager" });
      const shown = page.total ? `${page.offset + 1}–${page.offset + page.items.length}` : "0";
      nav.append(prev, el("span", t("console.page_of", { shown, total: page.total })), next);
      container.replaceChildren(render(page.items), nav);
    }
    return { show, reset() { offset = 0; return show(); } };
  }

  // Accessible names in the reader's language: data-i18n-label="key" → aria-label.
  ready.then(() => {
    for (const node of document.querySelectorAll("[data-i18n-label]")) node.setAttribute("aria-label", t(node.dataset.i18nLabel));
  });

  return { $, start, button, table, pager };
})();
