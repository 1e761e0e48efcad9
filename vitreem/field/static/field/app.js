/* The field notebook (Sổ tay thực địa): the commune worker's daily field work, with or without a
 * connection. Data comes from the phone's encrypted store (store.js); every change goes to the outbox
 * with the time she recorded it and is sent by sync (docs/en/offline.md). The page is the cached app
 * shell (field/shell.html); offline, the service worker serves it for any page of the site and it
 * shows the matching view (the child list for /registry/children/, a case for /cases/12/…).
 * No innerHTML with data: every text goes in through textContent. */
(function () {
  "use strict";

  var CONFIG = JSON.parse(document.getElementById("field-config").textContent);
  var STRINGS = JSON.parse(document.getElementById("field-strings").textContent);
  var MAX_WRONG_PINS = 10;
  var PAGE = 50;
  var BATCH = 100;
  var DAY = 86400000;

  var S = {store: null, data: null, outbox: [], state: {}, syncing: false, notice: "", clockMessage: "",
           shown: PAGE, query: "", lastRoute: ""};

  // ------------------------------------------------------------------ helpers

  function t(key, params) {
    var text = STRINGS[key] || key;
    if (params) {
      text = text.replace(/%\((\w+)\)s/g, function (m, name) { return params[name] === undefined ? m : String(params[name]); });
    }
    return text;
  }

  // h("p", {class: "muted"}, "text", child…): elements without innerHTML.
  function h(tag, attrs) {
    var el = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      var v = attrs[k];
      if (v === null || v === undefined || v === false) return;
      if (k.slice(0, 2) === "on") el.addEventListener(k.slice(2), v);
      else if (k === "text") el.textContent = v;
      else if (v === true) el.setAttribute(k, "");
      else el.setAttribute(k, v);
    });
    for (var i = 2; i < arguments.length; i++) append(el, arguments[i]);
    return el;
  }

  // Replace an element's content with children as h() takes them (arrays, nulls skipped).
  function refill(el) {
    el.replaceChildren();
    for (var i = 1; i < arguments.length; i++) append(el, arguments[i]);
  }

  function append(el, child) {
    if (child === null || child === undefined || child === false) return;
    if (Array.isArray(child)) { child.forEach(function (c) { append(el, c); }); return; }
    el.appendChild(typeof child === "string" || typeof child === "number" ? document.createTextNode(String(child)) : child);
  }

  function fold(text) {
    return (text || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/đ/g, "d").replace(/Đ/g, "D")
      .toLowerCase().replace(/\s+/g, " ").trim();
  }

  function pad(n) { return ("0" + n).slice(-2); }

  function fmtDate(iso) {
    if (!iso) return "";
    var m = /^(\d{4})-(\d{2})-(\d{2})/.exec(iso);
    return m ? m[3] + "/" + m[2] + "/" + m[1] : iso;
  }

  function fmtTime(value) {
    if (!value) return "";
    var d = new Date(value);
    return pad(d.getHours()) + ":" + pad(d.getMinutes()) + " " + pad(d.getDate()) + "/" + pad(d.getMonth() + 1) + "/" + d.getFullYear();
  }

  function localInput(d) {
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + "T" + pad(d.getHours()) + ":" + pad(d.getMinutes());
  }

  function todayIso() {
    var d = new Date();
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate());
  }

  function label(codeTable, value) {
    var row = ((S.data && S.data.codes && S.data.codes[codeTable]) || []).find(function (r) { return r[0] === value; });
    return row ? row[1] : (value || "");
  }

  function cookie(name) {
    var m = document.cookie.match(new RegExp("(?:^|; )" + name + "=([^;]*)"));
    return m ? decodeURIComponent(m[1]) : "";
  }

  function NeedLogin() { this.name = "NeedLogin"; }

  async function api(method, url, body) {
    var ctrl = new AbortController();
    var timer = setTimeout(function () { ctrl.abort(); }, 60000);
    try {
      var response = await fetch(url, {method: method, credentials: "same-origin", signal: ctrl.signal,
        headers: {"Accept": "application/json", "Content-Type": "application/json", "X-CSRFToken": cookie("csrftoken")},
        body: body === undefined ? undefined : JSON.stringify(body)});
      if (response.status === 401) {
        throw new NeedLogin();
      }
      var data = await response.json();
      if (!response.ok) { var err = new Error(data.message || response.statusText); err.status = response.status; err.body = data; throw err; }
      return data;
    } finally {
      clearTimeout(timer);
    }
  }

  // ------------------------------------------------------------------ data in memory

  function childById(id) {
    return S.data.children.find(function (c) { return String(c.id) === String(id); });
  }

  function withKeys(child) {
    child._key = fold(child.full_name + " " + (child.personal_id || "") + " " + (child.village || "") + " " +
      (child.guardians || []).map(function (g) { return g[1]; }).join(" "));
    return child;
  }

  function rowsToChildren(fields, rows) {
    return rows.map(function (row) {
      var c = {};
      fields.forEach(function (f, i) { c[f] = row[i]; });
      return withKeys(c);
    });
  }

  async function loadData() {
    var names = ["children", "cases", "activities", "codes", "held", "profile"];
    var values = await Promise.all(names.map(function (n) { return S.store.get(n); }));
    S.data = {};
    names.forEach(function (n, i) { S.data[n] = values[i]; });
    S.data.children = (S.data.children || []).map(withKeys);
    S.data.cases = S.data.cases || [];
    S.data.activities = S.data.activities || [];
    S.data.held = S.data.held || [];
    S.data.codes = S.data.codes || {};
    S.outbox = await S.store.outboxAll();
  }

  async function saveChildren() {
    await S.store.put("children", S.data.children.map(function (c) {
      var copy = Object.assign({}, c);
      delete copy._key;
      return copy;
    }));
  }

  async function saveState() { await S.store.setMeta("state", S.state); }

  // ------------------------------------------------------------------ the outbox

  function newChange(kind, target, data, base, baseVersion) {
    return {id: FieldStore.uuid(), kind: kind, recorded_at: new Date().toISOString(),
      base_version: baseVersion === undefined ? null : baseVersion, target: target || {}, data: data || {}, base: base || {}};
  }

  async function enqueue(change, label) {
    await S.store.outboxAdd(change, label);
    S.outbox = await S.store.outboxAll();
    if (navigator.onLine) sync(false);
  }

  function pending(status) {
    return S.outbox.filter(function (i) { return i.status === status; });
  }

  // ------------------------------------------------------------------ sync

  async function sync(manual) {
    if (S.syncing || !S.store || !S.store.key) return;
    if (!navigator.onLine) { if (manual) { S.notice = t("offline_wait"); render(); } return; }
    S.syncing = true;
    renderStatus();
    try {
      var who = await api("GET", CONFIG.urls.whoami);
      if (!(await checkAccount(who))) return;
      var offset = Date.parse(who.server_time) - Date.now();
      S.state.clockOffset = offset;
      S.clockMessage = Math.abs(offset) > who.settings.clock_tolerance_minutes * 60000
        ? t("clock_off", {h: (Math.abs(offset) / 3600000).toFixed(1).replace(".", ",")}) : "";
      await push();
      await pull();
      S.state.lastSync = Date.now();
      S.state.wipeDays = who.settings.wipe_days;
      await saveState();
      S.notice = manual ? t("synced") : (S.notice === t("downloading") ? "" : S.notice);
    } catch (e) {
      if (e instanceof NeedLogin) S.notice = t("need_login");
      else S.notice = t("sync_failed", {m: e.status ? (e.message || "") : t("no_connection")});
    } finally {
      S.syncing = false;
      S.outbox = await S.store.outboxAll();
      render();
    }
  }

  async function push() {
    var items = S.outbox.filter(function (i) { return i.status === "waiting"; });
    for (var start = 0; start < items.length; start += BATCH) {
      var batch = items.slice(start, start + BATCH);
      var answer = await api("POST", CONFIG.urls.sync, {device_id: S.state.deviceId, device_time: new Date().toISOString(),
        changes: batch.map(function (i) { return i.change; })});
      if (answer.clock && answer.clock.suspect) S.clockMessage = answer.clock.message;
      var byId = {};
      answer.results.forEach(function (r) { byId[r.id] = r; });
      for (var i = 0; i < batch.length; i++) {
        var item = batch[i];
        var r = byId[item.id];
        if (!r) continue;
        item.status = {applied: "sent", conflict: "conflict", review: "review", failed: "failed", waiting: "waiting"}[r.status] || "failed";
        item.answer = r;
        await S.store.outboxSet(item);
      }
    }
  }

  async function pull() {
    var url = CONFIG.urls.snapshot + (S.state.cursor ? "?since=" + encodeURIComponent(S.state.cursor) : "");
    var snap = await api("GET", url);
    S.outbox = await S.store.outboxAll();
    var unsentReg = {};
    S.outbox.forEach(function (i) {
      if (i.kind === "child.register" && i.status !== "sent") unsentReg["local:" + i.id] = true;
    });
    var locals = S.data.children.filter(function (c) { return unsentReg[c.id]; });
    var incoming = rowsToChildren(snap.child_fields, snap.children);
    if (snap.full) {
      S.data.children = incoming.concat(locals);
    } else {
      var keep = {};
      snap.child_ids.forEach(function (id) { keep[id] = true; });
      var changed = {};
      incoming.forEach(function (c) { changed[c.id] = c; });
      var merged = S.data.children.filter(function (c) { return keep[c.id] && !changed[c.id]; });
      S.data.children = merged.concat(incoming).concat(locals);
      S.data.children.sort(function (a, b) { return fold(a.full_name.split(" ").pop()).localeCompare(fold(b.full_name.split(" ").pop())); });
    }
    if (snap.codes) S.data.codes = snap.codes;
    S.data.cases = snap.cases;
    S.data.activities = snap.activities;
    S.data.held = snap.held;
    S.data.profile = {user: snap.user, scope: snap.scope, settings: snap.settings};
    // Held changes the server no longer holds were decided: sent.
    var held = {};
    snap.held.forEach(function (c) { held[c.id] = c; });
    for (var i = 0; i < S.outbox.length; i++) {
      var item = S.outbox[i];
      if ((item.status === "conflict" || item.status === "review") && !held[item.id]) {
        item.status = "sent";
        await S.store.outboxSet(item);
      }
    }
    await Promise.all([saveChildren(), S.store.put("codes", S.data.codes), S.store.put("cases", S.data.cases),
      S.store.put("activities", S.data.activities), S.store.put("held", S.data.held), S.store.put("profile", S.data.profile)]);
    S.state.cursor = snap.cursor;
  }

  // The account or its scope changed since the data was downloaded: nothing of the old one stays.
  async function checkAccount(who) {
    var lock = await S.store.lock();
    if (lock.userId !== who.user.id) {
      var unsent = S.outbox.filter(function (i) { return i.status !== "sent"; }).length;
      if (!unsent) { await wipeAll(t("wiped_account")); return false; }
      S.blocked = t("other_account", {n: unsent});
      return false;
    }
    if (lock.scopeKey !== who.scope_key) {
      await S.store.clearVault();
      lock.scopeKey = who.scope_key;
      await S.store.setMeta("lock", lock);
      S.state.cursor = null;
      S.data = {children: [], cases: [], activities: [], codes: {}, held: [], profile: null};
      S.notice = t("scope_changed");
    }
    return true;
  }

  async function wipeAll(message) {
    S.store.close();
    await FieldStore.wipe();
    try { sessionStorage.setItem("field-notice", message || ""); } catch (e) { /* private mode */ }
    location.reload();
  }

  // ------------------------------------------------------------------ rendering

  var app = document.getElementById("app");

  function route() {
    var hash = location.hash.replace(/^#\/?/, "");
    var q = hash.indexOf("?");
    var params = {};
    if (q >= 0) {
      hash.slice(q + 1).split("&").forEach(function (p) { var kv = p.split("="); params[kv[0]] = decodeURIComponent(kv[1] || ""); });
      hash = hash.slice(0, q);
    }
    return {parts: hash ? hash.split("/") : [], params: params};
  }

  function go(path) { location.hash = "#/" + path; }

  function render() {
    if (!S.store) return;
    var view, moved = false;
    if (S.blocked) view = viewBlocked();
    else if (!S.store.key) return;
    else {
      var r = route();
      var name = r.parts[0] || "";
      var views = {"": viewHome, children: viewChildren, child: viewChild, register: viewRegister, intake: viewIntake,
        cases: viewCases, "case": viewCase, activities: viewActivities, activity: viewActivity, outbox: viewOutbox,
        conflict: viewConflict};
      var key = location.hash;
      var moved = key !== S.lastRoute;
      if (moved) { S.lastRoute = key; S.shown = PAGE; }
      view = (views[name] || viewHome)(r);
    }
    app.replaceChildren(statusBar(), view);
    // A new view: move the focus to its title, so a screen reader announces where she is.
    var h1 = app.querySelector("h1");
    if (h1 && moved) { h1.setAttribute("tabindex", "-1"); h1.focus({preventScroll: true}); }
  }

  function renderStatus() {
    var bar = app.querySelector(".field-status");
    if (bar) bar.replaceWith(statusBar());
  }

  function statusBar() {
    var waiting = S.outbox.filter(function (i) { return i.status === "waiting" || i.status === "failed" || i.status === "conflict"; }).length;
    var online = navigator.onLine;
    var last = S.state.lastSync ? fmtTime(S.state.lastSync) : t("never");
    return h("div", {class: "field-status", role: "status"},
      h("p", {}, h("span", {class: "badge " + (online ? "ok" : "warn")}, online ? t("online") : t("offline")), " ",
        t("last_sync", {t: last}), waiting ? [" · ", h("a", {href: "#/outbox"}, t("outbox_count", {n: waiting}))] : null,
        S.syncing ? [" · ", t("syncing")] : null),
      S.clockMessage ? h("p", {class: "error"}, S.clockMessage) : null,
      S.wipeWarning ? h("p", {class: "error"}, S.wipeWarning) : null,
      S.pathNotice ? h("p", {class: "notice"}, S.pathNotice) : null,
      S.notice ? h("p", {class: "notice"}, S.notice) : null);
  }

  function page(title, back) {
    var section = h("section", {class: "field-page"});
    if (back) section.appendChild(h("p", {}, h("a", {href: back[0]}, "‹ " + back[1])));
    section.appendChild(h("h1", {}, title));
    return section;
  }

  function button(text, onclick, cls) {
    return h("button", {type: "button", class: cls || null, onclick: onclick}, text);
  }

  function link(text, href, cls) { return h("a", {href: href, class: cls || null}, text); }

  // ------------------------------------------------------------------ views

  function viewHome() {
    var p = page(t("home_title"));
    var profile = S.data.profile;
    if (profile) p.appendChild(h("p", {class: "muted"}, profile.user.name + " · " +
      profile.scope.units.filter(function (u) { return u.current; }).map(function (u) { return u.name; }).join(", ")));
    var conflicts = pending("conflict").length;
    if (conflicts) p.appendChild(h("p", {class: "error"}, link(t("conflicts_waiting", {n: conflicts}), "#/outbox")));
    p.appendChild(h("div", {class: "field-actions"},
      link(t("register_child"), "#/register", "button"),
      link(t("intake"), "#/intake", "button"),
      link(t("children_n", {n: S.data.children.length}), "#/children", "button secondary"),
      link(t("cases_n", {n: S.data.cases.length}), "#/cases", "button secondary"),
      link(t("activities_n", {n: S.data.activities.length}), "#/activities", "button secondary"),
      link(t("outbox_title"), "#/outbox", "button secondary"),
      button(t("sync_now"), function () { sync(true); }, "secondary")));
    return p;
  }

  function childCard(c) {
    var badges = [];
    if (String(c.id).indexOf("local:") === 0) badges.push(h("span", {class: "badge warn"}, t("not_sent")));
    if (c.special) badges.push(h("span", {class: "badge bad"}, t("special")));
    if ((c.risks || []).length) badges.push(h("span", {class: "badge warn"}, t("at_risk")));
    return h("li", {class: "card"},
      h("a", {href: "#/child/" + encodeURIComponent(c.id), class: "card-title"}, c.full_name),
      h("p", {}, fmtDate(c.birth_date) + " · " + label("sex", c.sex) + (c.village ? " · " + c.village : "")),
      badges.length ? h("p", {}, badges) : null);
  }

  function viewChildren(r) {
    var p = page(t("children_title"), ["#/", t("home_title")]);
    var input = h("input", {type: "search", id: "field-q", value: S.query, "aria-label": t("search_child"),
      placeholder: t("search_child")});
    var list = h("ul", {class: "field-list"});
    var more = h("p");
    function fill() {
      var key = fold(S.query);
      var found = key ? S.data.children.filter(function (c) { return c._key.indexOf(key) >= 0; }) : S.data.children;
      list.replaceChildren.apply(list, found.slice(0, S.shown).map(childCard));
      refill(more, h("span", {class: "muted"}, t("shown_of", {n: Math.min(S.shown, found.length), m: found.length})),
        found.length > S.shown ? [" ", button(t("show_more"), function () { S.shown += PAGE; fill(); }, "secondary")] : null);
    }
    input.addEventListener("input", function () { S.query = input.value; S.shown = PAGE; fill(); });
    p.appendChild(h("p", {}, link(t("register_child"), "#/register", "button")));
    p.appendChild(h("form", {role: "search", onsubmit: function (e) { e.preventDefault(); }}, h("label", {for: "field-q", class: "sr"}, t("search_child")), input));
    p.appendChild(list);
    p.appendChild(more);
    fill();
    return p;
  }

  function fact(name, value) {
    return value === "" || value === null || value === undefined ? null : h("p", {}, h("span", {class: "muted"}, name + ": "), String(value));
  }

  function viewChild(r) {
    var c = childById(decodeURIComponent(r.parts[1] || ""));
    if (!c) return viewMissing();
    var sub = r.parts[2];
    if (sub === "address") return formAddress(c);
    if (sub === "schooling") return formSchooling(c);
    if (sub === "guardian") return formGuardian(c, r.parts[3]);
    if (sub === "risk") return formRisk(c);
    var p = page(c.full_name, ["#/children", t("children_title")]);
    var local = String(c.id).indexOf("local:") === 0;
    p.appendChild(h("div", {class: "card"},
      fact(t("f_birth_date"), fmtDate(c.birth_date)), fact(t("f_sex"), label("sex", c.sex)),
      fact(t("f_ethnicity"), label("ethnicity", c.ethnicity)), fact(t("f_personal_id"), c.personal_id),
      fact(t("f_village"), c.village), fact(t("f_household"), c.household_head),
      fact(t("f_schooling"), label("schooling", c.schooling) + (c.school_level ? " · " + label("school_level", c.school_level) : "")),
      c.dropout_date ? fact(t("f_dropout_date"), fmtDate(c.dropout_date)) : null,
      fact(t("f_disability"), c.disability && c.disability !== "none" ? label("disability", c.disability) : ""),
      (c.risks || []).length ? fact(t("f_risks"), c.risks.map(function (code) { return label("risk_factor", code); }).join("; ")) : null,
      local ? h("p", {class: "badge warn"}, t("not_sent")) : null));
    var g = (c.guardians || []).map(function (row) {
      return h("li", {class: "card"}, h("p", {class: "card-title"}, row[1]), h("p", {}, label("relationship", row[2]) + (row[3] ? " · " + row[3] : "")),
        local || typeof row[0] !== "number" ? null : link(t("edit"), "#/child/" + c.id + "/guardian/" + row[0], "button secondary"));
    });
    p.appendChild(h("h2", {}, t("guardians")));
    p.appendChild(h("ul", {class: "field-list"}, g.length ? g : h("li", {class: "muted"}, t("none"))));
    p.appendChild(h("div", {class: "field-actions"},
      local ? null : link(t("edit_address"), "#/child/" + c.id + "/address", "button secondary"),
      local ? null : link(t("edit_schooling"), "#/child/" + c.id + "/schooling", "button secondary"),
      link(t("add_guardian"), "#/child/" + encodeURIComponent(c.id) + "/guardian/new", "button secondary"),
      link(t("risk_assess"), "#/child/" + encodeURIComponent(c.id) + "/risk", "button secondary"),
      link(t("intake_for_child"), "#/intake?child=" + encodeURIComponent(c.id), "button secondary")));
    return p;
  }

  function viewMissing() {
    var p = page(t("not_found"), ["#/", t("home_title")]);
    p.appendChild(h("p", {}, t("not_found_text")));
    return p;
  }

  // ------------------------------------------------------------------ forms

  // A labelled field in one column; `control` is an input/select/textarea named `name`.
  function row(name, text, control, help) {
    control.id = control.id || "f-" + name;
    control.name = name;
    return h("div", {class: "field", "data-field": name},
      control.type === "checkbox" ? h("label", {for: control.id}, control, " " + text)
        : [h("label", {for: control.id}, text), control],
      help ? h("small", {class: "muted"}, help) : null,
      h("p", {class: "error", id: control.id + "-error", hidden: true}));
  }

  function input(type, value, attrs) {
    return h("input", Object.assign({type: type, value: value === null || value === undefined ? "" : value}, attrs || {}));
  }

  function select(table, value, blank) {
    var options = (blank ? [h("option", {value: ""}, blank)] : []).concat(
      ((S.data.codes || {})[table] || []).map(function (r) { return h("option", {value: r[0], selected: r[0] === value}, r[1]); }));
    return h("select", {}, options);
  }

  function checkbox(checked) { return h("input", {type: "checkbox", checked: !!checked}); }

  function values(form) {
    var out = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name) return;
      if (el.type === "checkbox") {
        if (el.dataset.multi) { (out[el.name] = out[el.name] || []); if (el.checked) out[el.name].push(el.value); }
        else out[el.name] = el.checked;
      } else out[el.name] = el.value.trim();
    });
    return out;
  }

  function showErrors(form, errors) {
    form.querySelectorAll("p.error").forEach(function (p) { p.hidden = true; p.textContent = ""; });
    var first = null;
    Object.keys(errors).forEach(function (name) {
      var wrap = form.querySelector('[data-field="' + name + '"]');
      var p = wrap && wrap.querySelector("p.error");
      if (!p) { p = form.querySelector("p.form-error"); }
      p.hidden = false;
      p.textContent = errors[name];
      p.setAttribute("role", "alert");
      var control = wrap && wrap.querySelector("input, select, textarea");
      if (control) { control.setAttribute("aria-invalid", "true"); control.setAttribute("aria-describedby", p.id); }
      if (!first) first = control || p;
    });
    if (first && first.focus) first.focus();
    return !Object.keys(errors).length;
  }

  function form(fields, submitText, onsubmit, cancelHref) {
    var f = h("form", {class: "stack field-form", novalidate: true},
      fields, h("p", {class: "error form-error", hidden: true}),
      h("p", {}, h("button", {type: "submit"}, submitText), " ", cancelHref ? link(t("cancel"), cancelHref) : null));
    f.addEventListener("submit", async function (e) {
      e.preventDefault();
      var button = f.querySelector("button[type=submit]");
      button.disabled = true;
      try { await onsubmit(values(f), f); } finally { button.disabled = false; }
    });
    return f;
  }

  function guardianRows(prefix, g) {
    g = g || {};
    return [row(prefix + "full_name", t("f_guardian_name"), input("text", g.full_name, {autocomplete: "off"})),
      row(prefix + "relationship", t("f_relationship"), select("relationship", g.relationship, t("choose"))),
      row(prefix + "phone", t("f_phone"), input("tel", g.phone, {inputmode: "tel"}))];
  }

  function childFields(d, withUnit) {
    d = d || {};
    var units = ((S.data.profile && S.data.profile.scope.units) || []).filter(function (u) { return u.current; });
    return [row("full_name", t("f_full_name") + " *", input("text", d.full_name, {autocomplete: "off"})),
      row("birth_date", t("f_birth_date") + " *", input("date", d.birth_date, {max: todayIso()})),
      row("birth_precision", t("f_birth_precision"), select("birth_precision", d.birth_precision || "day")),
      row("sex", t("f_sex") + " *", select("sex", d.sex, t("choose"))),
      row("ethnicity", t("f_ethnicity"), select("ethnicity", d.ethnicity, t("choose"))),
      row("personal_id", t("f_personal_id"), input("text", d.personal_id, {inputmode: "numeric", maxlength: "14"}), t("h_personal_id")),
      withUnit && units.length > 1 ? row("unit", t("f_unit"), h("select", {}, units.map(function (u) { return h("option", {value: u.ref, selected: u.ref === d.unit}, u.name); }))) : null,
      row("village", t("f_village"), input("text", d.village))];
  }

  function schoolingFields(d) {
    d = d || {};
    return [row("schooling", t("f_schooling"), select("schooling", d.schooling || "unknown")),
      row("school_level", t("f_school_level"), select("school_level", d.school_level, t("none"))),
      row("dropout_date", t("f_dropout_date"), input("date", d.dropout_date, {max: todayIso()}))];
  }

  function viewRegister(r) {
    var p = page(t("register_child"), ["#/children", t("children_title")]);
    var editing = r.params.edit ? S.outbox.find(function (i) { return i.id === r.params.edit; }) : null;
    var d = editing ? editing.change.data : {};
    var g = (d.guardians || [])[0] || {};
    p.appendChild(h("p", {class: "muted"}, t("register_help")));
    p.appendChild(form([childFields(d, true), schoolingFields(d),
      row("disability", t("f_disability"), select("disability", d.disability || "none")),
      row("birth_registered", t("f_birth_registered"), checkbox(d.birth_registered !== false)),
      row("note", t("f_note"), h("textarea", {rows: "3"}, d.note || "")),
      h("h2", {}, t("guardian_optional")), guardianRows("g_", g)], t("save"), async function (v, f) {
      var errors = FieldValidate.child(v, S.data.codes, t);
      var guardian = {full_name: v.g_full_name, relationship: v.g_relationship, phone: v.g_phone};
      if (guardian.full_name || guardian.relationship || guardian.phone) {
        var ge = FieldValidate.guardian(guardian, t);
        Object.keys(ge).forEach(function (k) { errors["g_" + k] = ge[k]; });
      }
      if (!showErrors(f, errors)) return;
      var data = {full_name: v.full_name, birth_date: v.birth_date, birth_precision: v.birth_precision, sex: v.sex,
        ethnicity: v.ethnicity, personal_id: v.personal_id.replace(/\s/g, ""), village: v.village, schooling: v.schooling,
        school_level: v.school_level, dropout_date: v.dropout_date, disability: v.disability,
        birth_registered: v.birth_registered, note: v.note, unit: v.unit || "",
        guardians: guardian.full_name ? [guardian] : []};
      if (editing) {
        editing.change.data = data;
        editing.status = "waiting";
        editing.answer = null;
        editing.label = t("lbl_register", {n: data.full_name});
        await S.store.outboxSet(editing);
        var old = childById("local:" + editing.id);
        if (old) Object.assign(old, localChild(editing.id, data));
        await saveChildren();
        S.outbox = await S.store.outboxAll();
        go("outbox");
        if (navigator.onLine) sync(false);
        return;
      }
      var change = newChange("child.register", {}, data);
      S.data.children.push(localChild(change.id, data));
      await saveChildren();
      await enqueue(change, t("lbl_register", {n: data.full_name}));
      S.notice = t("saved_offline");
      go("child/" + encodeURIComponent("local:" + change.id));
    }, "#/children"));
    return p;
  }

  function localChild(changeId, d) {
    return withKeys({id: "local:" + changeId, version: 0, full_name: d.full_name.normalize("NFC").replace(/\s+/g, " "),
      birth_date: d.birth_date, birth_precision: d.birth_precision, sex: d.sex, ethnicity: d.ethnicity,
      personal_id: d.personal_id, village: d.village, schooling: d.schooling, school_level: d.school_level,
      dropout_date: d.dropout_date, disability: d.disability, birth_registered: d.birth_registered, household_head: "",
      special: false, risks: [], guardians: (d.guardians || []).map(function (g) { return ["new", g.full_name, g.relationship, g.phone, true]; })});
  }

  // An edit: the change carries the values she saw (base) and the record's version.
  async function saveEdit(kind, c, target, fieldsNew, fieldsSeen, labelText) {
    var changed = {};
    var seen = {};
    Object.keys(fieldsNew).forEach(function (k) {
      if ((fieldsNew[k] || "") !== (fieldsSeen[k] || "")) { changed[k] = fieldsNew[k]; }
      seen[k] = fieldsSeen[k] || "";
    });
    if (!Object.keys(changed).length) { S.notice = t("nothing_changed"); go("child/" + c.id); return; }
    // The whole group of fields goes, so the server can validate them together.
    await enqueue(newChange(kind, target, fieldsNew, seen, c.version), labelText);
    S.notice = t("saved_offline");
    go("child/" + c.id);
  }

  function formAddress(c) {
    var p = page(t("edit_address"), ["#/child/" + c.id, c.full_name]);
    p.appendChild(form([row("village", t("f_village"), input("text", c.village))], t("save"), async function (v) {
      var seen = {village: c.village};
      c.village = v.village;
      withKeys(c);
      await saveChildren();
      await saveEdit("child.address", c, {child: c.id}, {village: v.village}, seen,
        t("lbl_address", {n: c.full_name, v: v.village}));
    }, "#/child/" + c.id));
    return p;
  }

  function formSchooling(c) {
    var p = page(t("edit_schooling"), ["#/child/" + c.id, c.full_name]);
    p.appendChild(form(schoolingFields(c), t("save"), async function (v, f) {
      var birth = FieldValidate.parseDate(c.birth_date);
      if (!showErrors(f, FieldValidate.schooling(v, birth, t))) return;
      var fresh = {schooling: v.schooling, school_level: v.schooling === "in_school" ? v.school_level : "",
        dropout_date: v.schooling === "dropped_out" ? v.dropout_date : ""};
      var seen = {schooling: c.schooling, school_level: c.school_level, dropout_date: c.dropout_date || ""};
      Object.assign(c, fresh);
      await saveChildren();
      await saveEdit("child.schooling", c, {child: c.id}, fresh, seen,
        t("lbl_schooling", {n: c.full_name, v: label("schooling", fresh.schooling)}));
    }, "#/child/" + c.id));
    return p;
  }

  function formGuardian(c, gid) {
    var isNew = gid === "new";
    var g = isNew ? null : (c.guardians || []).find(function (row) { return String(row[0]) === gid; });
    if (!isNew && !g) return viewMissing();
    var seen = g ? {full_name: g[1], relationship: g[2], phone: g[3]} : {};
    var p = page(isNew ? t("add_guardian") : t("edit_guardian"), ["#/child/" + encodeURIComponent(c.id), c.full_name]);
    p.appendChild(form(guardianRows("", seen), t("save"), async function (v, f) {
      if (!showErrors(f, FieldValidate.guardian(v, t))) return;
      var fresh = {full_name: v.full_name, relationship: v.relationship, phone: v.phone};
      if (isNew) {
        c.guardians = (c.guardians || []).concat([["new", fresh.full_name, fresh.relationship, fresh.phone, false]]);
        await saveChildren();
        await enqueue(newChange("guardian.add", {child: c.id}, fresh), t("lbl_guardian_add", {n: c.full_name, g: fresh.full_name}));
        S.notice = t("saved_offline");
        go("child/" + encodeURIComponent(c.id));
        return;
      }
      g[1] = fresh.full_name; g[2] = fresh.relationship; g[3] = fresh.phone;
      withKeys(c);
      await saveChildren();
      await saveEdit("guardian.update", c, {guardian: g[0], child: c.id}, fresh, seen,
        t("lbl_guardian", {n: c.full_name, g: fresh.full_name}));
    }, "#/child/" + encodeURIComponent(c.id)));
    return p;
  }

  function formRisk(c) {
    var p = page(t("risk_assess"), ["#/child/" + encodeURIComponent(c.id), c.full_name]);
    var current = c.risks || [];
    var boxes = ((S.data.codes || {}).risk_factor || []).map(function (r) {
      var box = h("input", {type: "checkbox", value: r[0], checked: current.indexOf(r[0]) >= 0, "data-multi": "1",
        id: "risk-" + r[0], name: "factors"});
      return h("label", {for: box.id, class: "check"}, box, " " + r[1]);
    });
    p.appendChild(h("p", {class: "muted"}, t("risk_help")));
    p.appendChild(form([h("fieldset", {"data-field": "factors"}, h("legend", {}, t("f_factors")), boxes, h("p", {class: "error", id: "factors-error", hidden: true})),
      row("note", t("f_note"), h("textarea", {rows: "3"}))], t("save"), async function (v) {
      var factors = v.factors || [];
      c.risks = factors.slice().sort();
      await saveChildren();
      await enqueue(newChange("risk.assess", {child: c.id}, {factors: factors, note: v.note, assessed_on: todayIso()}),
        t("lbl_risk", {n: c.full_name, k: factors.length}));
      S.notice = t("saved_offline");
      go("child/" + encodeURIComponent(c.id));
    }, "#/child/" + encodeURIComponent(c.id)));
    return p;
  }

  // Picks a child of her list by name: a search box and the first matches as buttons.
  function childPicker(name, chosen, onpick) {
    var box = h("div", {class: "field", "data-field": name});
    var hidden = h("input", {type: "hidden", name: name, value: chosen ? chosen.id : ""});
    var q = h("input", {type: "search", id: "pick-" + name, "aria-label": t("search_child"), placeholder: t("search_child")});
    var results = h("ul", {class: "field-list"});
    var current = h("p", {class: "chosen"});
    function show(c) {
      hidden.value = c ? c.id : "";
      refill(current, c ? [h("strong", {}, c.full_name), " · " + fmtDate(c.birth_date)] : h("span", {class: "muted"}, t("no_child_chosen")));
      if (onpick) onpick(c);
    }
    q.addEventListener("input", function () {
      var key = fold(q.value);
      var found = key.length < 2 ? [] : S.data.children.filter(function (c) { return c._key.indexOf(key) >= 0; }).slice(0, 8);
      results.replaceChildren.apply(results, found.map(function (c) {
        return h("li", {}, button(c.full_name + " · " + fmtDate(c.birth_date) + (c.village ? " · " + c.village : ""), function () {
          show(c); results.replaceChildren(); q.value = "";
        }, "secondary pick"));
      }));
    });
    show(chosen);
    box.append(h("label", {for: q.id}, t("f_child")), current, q, results, hidden, h("p", {class: "error", id: "pick-" + name + "-error", hidden: true}));
    return box;
  }

  function viewIntake(r) {
    var p = page(t("intake"), ["#/", t("home_title")]);
    var editing = r.params.edit ? S.outbox.find(function (i) { return i.id === r.params.edit; }) : null;
    var d = editing ? editing.change.data : {};
    var chosen = d.child ? childById(d.child) : (r.params.child ? childById(r.params.child) : null);
    var newChild = h("fieldset", {class: "new-child", hidden: !!chosen}, h("legend", {}, t("new_child")), childFields(d.new_child || {}, true));
    p.appendChild(h("p", {class: "muted"}, t("intake_help")));
    p.appendChild(form([
      childPicker("child", chosen, function (c) { newChild.hidden = !!c; }),
      newChild,
      row("received_at", t("f_received_at") + " *", input("datetime-local", localInput(d.received_at ? new Date(d.received_at) : new Date()))),
      row("channel", t("f_channel"), select("channel", d.channel || "community")),
      row("concern", t("f_concern"), select("concern", d.concern)),
      row("in_danger", t("f_in_danger"), checkbox(d.in_danger)),
      row("place", t("f_place") + " *", input("text", d.place)),
      row("summary", t("f_summary") + " *", h("textarea", {rows: "4"}, d.summary || "")),
      row("perpetrator", t("f_perpetrator"), select("perpetrator", d.perpetrator || "unknown")),
      row("reporter_anonymous", t("f_anonymous"), checkbox(d.reporter_anonymous)),
      row("reporter_name", t("f_reporter_name"), input("text", d.reporter_name)),
      row("reporter_phone", t("f_reporter_phone"), input("tel", d.reporter_phone)),
      row("reporter_relation", t("f_reporter_relation"), input("text", d.reporter_relation))
    ], t("save"), async function (v, f) {
      var receivedAt = v.received_at ? new Date(v.received_at).toISOString() : "";
      var errors = FieldValidate.intake({place: v.place, summary: v.summary, reporter_anonymous: v.reporter_anonymous,
        reporter_name: v.reporter_name, received_at: receivedAt}, t);
      var data = {received_at: receivedAt, channel: v.channel, concern: v.concern, in_danger: v.in_danger, place: v.place,
        summary: v.summary, perpetrator: v.perpetrator, reporter_anonymous: v.reporter_anonymous,
        reporter_name: v.reporter_name, reporter_phone: v.reporter_phone, reporter_relation: v.reporter_relation};
      var childName;
      if (v.child) {
        data.child = v.child;
        childName = (childById(v.child) || {}).full_name;
      } else {
        Object.assign(errors, FieldValidate.child(v, S.data.codes, t));
        data.new_child = {full_name: v.full_name, birth_date: v.birth_date, birth_precision: v.birth_precision, sex: v.sex,
          ethnicity: v.ethnicity, personal_id: v.personal_id, village: v.village, unit: v.unit || ""};
        childName = v.full_name;
      }
      if (!showErrors(f, errors)) return;
      var due = data.in_danger ? t("due_12h", {t: fmtTime(Date.parse(receivedAt) + 12 * 3600000)}) : "";
      var text = t("lbl_intake", {n: childName, c: label("concern", data.concern)}) + (due ? " · " + due : "");
      if (editing) {
        editing.change.data = data; editing.status = "waiting"; editing.answer = null; editing.label = text;
        await S.store.outboxSet(editing);
        S.outbox = await S.store.outboxAll();
        go("outbox");
        if (navigator.onLine) sync(false);
        return;
      }
      await enqueue(newChange("case.intake", {}, data), text);
      // Decree 56/2017, Art. 26: a child in danger needs emergency intervention within 12 hours of the report.
      S.notice = t("saved_offline") + (due ? " " + due : "");
      go("outbox");
    }, "#/"));
    return p;
  }

  function viewCases() {
    var p = page(t("cases_title"), ["#/", t("home_title")]);
    var items = S.data.cases.map(function (c) {
      return h("li", {class: "card"}, h("a", {href: "#/case/" + c.id, class: "card-title"}, c.code + " · " + c.child_name),
        h("p", {}, c.status_label + " · " + c.concern_label),
        c.in_danger ? h("p", {}, h("span", {class: "badge bad"}, t("in_danger"))) : null,
        c.next_due_at ? h("p", {}, t("next_due", {t: fmtTime(c.next_due_at)})) : null);
    });
    p.appendChild(h("ul", {class: "field-list"}, items.length ? items : h("li", {class: "muted"}, t("no_cases"))));
    return p;
  }

  function viewCase(r) {
    var c = S.data.cases.find(function (x) { return String(x.id) === r.parts[1]; });
    if (!c) return viewMissing();
    var p = page(c.code, ["#/cases", t("cases_title")]);
    p.appendChild(h("div", {class: "card"}, fact(t("f_child"), c.child_name), fact(t("f_status"), c.status_label),
      fact(t("f_concern"), c.concern_label), fact(t("f_received_at"), fmtTime(c.received_at)),
      c.next_due_at ? fact(t("f_next_due"), fmtTime(c.next_due_at)) : null));
    p.appendChild(h("p", {}, link(t("open_child"), "#/child/" + c.child)));
    p.appendChild(h("h2", {}, t("home_visit")));
    p.appendChild(form([row("text", t("f_visit_text") + " *", h("textarea", {rows: "5"}))], t("save"), async function (v, f) {
      var errors = {};
      FieldValidate.required(v.text, "text", errors, t);
      if (!showErrors(f, errors)) return;
      await enqueue(newChange("case.note", {"case": c.id}, {text: v.text}), t("lbl_visit", {c: c.code}));
      S.notice = t("saved_offline");
      go("case/" + c.id);
    }));
    return p;
  }

  function viewActivities() {
    var p = page(t("activities_title"), ["#/", t("home_title")]);
    var items = S.data.activities.map(function (a) {
      return h("li", {class: "card"}, h("a", {href: "#/activity/" + a.id, class: "card-title"}, a.title),
        h("p", {}, a.kind_label + " · " + fmtDate(a.start) + (a.end !== a.start ? "–" + fmtDate(a.end) : "")));
    });
    p.appendChild(h("ul", {class: "field-list"}, items.length ? items : h("li", {class: "muted"}, t("no_activities"))));
    return p;
  }

  function viewActivity(r) {
    var a = S.data.activities.find(function (x) { return String(x.id) === r.parts[1]; });
    if (!a) return viewMissing();
    var p = page(a.title, ["#/activities", t("activities_title")]);
    p.appendChild(h("p", {class: "muted"}, a.kind_label + " · " + fmtDate(a.start)));
    var done = S.outbox.filter(function (i) { return i.kind === "activity.attend" && String(i.change.target.activity) === String(a.id); });
    if (done.length) p.appendChild(h("p", {}, t("attended_n", {n: done.length})));
    if (a.kind === "training") {
      p.appendChild(form([row("full_name", t("f_full_name") + " *", input("text", "")),
        row("sex", t("f_sex") + " *", select("sex", "", t("choose"))),
        row("role", t("f_role"), input("text", "")), row("unit_name", t("f_workplace"), input("text", ""))], t("attend"), async function (v, f) {
        var errors = {};
        FieldValidate.required(v.full_name, "full_name", errors, t);
        FieldValidate.required(v.sex, "sex", errors, t);
        if (!showErrors(f, errors)) return;
        await enqueue(newChange("activity.attend", {activity: a.id}, {participant: {full_name: v.full_name, sex: v.sex,
          role: v.role, unit_name: v.unit_name}}), t("lbl_attend", {n: v.full_name, a: a.title}));
        S.notice = t("saved_offline");
        render();
      }));
    } else {
      p.appendChild(form([childPicker("child", null), row("gift", t("f_gift"), input("text", ""))], t("attend"), async function (v, f) {
        var errors = {};
        FieldValidate.required(v.child, "child", errors, t);
        if (!showErrors(f, errors)) return;
        var c = childById(v.child);
        await enqueue(newChange("activity.attend", {activity: a.id}, {child: v.child, gift: v.gift}),
          t("lbl_attend", {n: c ? c.full_name : "", a: a.title}));
        S.notice = t("saved_offline");
        render();
      }));
    }
    return p;
  }

  var STATUS_CLASS = {waiting: "warn", sent: "ok", failed: "bad", conflict: "bad", review: "warn"};

  function viewOutbox() {
    var p = page(t("outbox_title"), ["#/", t("home_title")]);
    p.appendChild(h("p", {}, button(t("sync_now"), function () { sync(true); })));
    var items = S.outbox.slice().reverse().map(function (i) {
      var a = i.answer || {};
      var actions = [];
      if (i.status === "failed") {
        actions.push(button(t("retry"), async function () { i.status = "waiting"; await S.store.outboxSet(i); S.outbox = await S.store.outboxAll(); sync(true); }, "secondary"));
        if (i.kind === "child.register") actions.push(link(t("edit"), "#/register?edit=" + i.id, "button secondary"));
        if (i.kind === "case.intake") actions.push(link(t("edit"), "#/intake?edit=" + i.id, "button secondary"));
        actions.push(button(t("discard"), async function () {
          if (!window.confirm(t("discard_confirm"))) return;
          await S.store.outboxDelete(i.id); S.outbox = await S.store.outboxAll(); render();
        }, "secondary"));
      }
      if (i.status === "conflict") actions.push(link(t("resolve"), "#/conflict/" + i.id, "button"));
      if (i.status === "review") actions.push(link(t("review_queue"), CONFIG.urls.review, "button secondary"));
      var errors = a.errors ? Object.keys(a.errors).map(function (k) { return h("li", {}, a.errors[k]); }) : [];
      return h("li", {class: "card outbox-item", "data-status": i.status, "data-id": i.id},
        h("p", {class: "card-title"}, i.label),
        h("p", {}, h("span", {class: "badge " + STATUS_CLASS[i.status]}, t("st_" + i.status)), " " + t("recorded_at", {t: fmtTime(i.recordedAt)})),
        a.message && i.status !== "sent" ? h("p", {class: i.status === "failed" ? "error" : "muted"}, a.message) : null,
        errors.length > 1 ? h("ul", {class: "error"}, errors) : null,
        a.result && a.result.emergency_due_at ? h("p", {}, t("due_12h", {t: fmtTime(a.result.emergency_due_at)})) : null,
        actions.length ? h("p", {class: "field-actions"}, actions) : null);
    });
    p.appendChild(h("ul", {class: "field-list"}, items.length ? items : h("li", {class: "muted"}, t("outbox_empty"))));
    return p;
  }

  var FIELD_LABELS = {village: "f_village", schooling: "f_schooling", school_level: "f_school_level",
    dropout_date: "f_dropout_date", full_name: "f_guardian_name", relationship: "f_relationship", phone: "f_phone"};
  var FIELD_TABLES = {schooling: "schooling", school_level: "school_level", relationship: "relationship"};

  function shown(field, value) {
    if (value === "" || value === null || value === undefined) return t("empty_value");
    if (FIELD_TABLES[field]) return label(FIELD_TABLES[field], value);
    if (field === "dropout_date") return fmtDate(value);
    return String(value);
  }

  function viewConflict(r) {
    var held = S.data.held.find(function (c) { return c.id === r.parts[1]; });
    var item = S.outbox.find(function (i) { return i.id === r.parts[1]; });
    if (!held || held.status !== "conflict") return viewMissing();
    var p = page(t("conflict_title"), ["#/outbox", t("outbox_title")]);
    p.appendChild(h("p", {}, t("conflict_help", {n: held.result.child_name || ""})));
    var fields = held.result.fields;
    var rows = Object.keys(fields).map(function (name) {
      var c = fields[name];
      var id = "c-" + name;
      return h("fieldset", {class: "conflict", "data-field": name}, h("legend", {}, t(FIELD_LABELS[name] || name)),
        h("label", {for: id + "-server", class: "check"}, h("input", {type: "radio", name: name, value: "server", id: id + "-server"}),
          " " + t("keep_server") + ": ", h("strong", {}, shown(name, c.server))),
        h("label", {for: id + "-device", class: "check"}, h("input", {type: "radio", name: name, value: "device", id: id + "-device"}),
          " " + t("keep_mine") + ": ", h("strong", {}, shown(name, c.device))),
        h("p", {class: "muted"}, t("before_value") + ": " + shown(name, c.base)),
        h("p", {class: "error", id: id + "-error", hidden: true}));
    });
    var f = h("form", {class: "stack field-form"}, rows, h("p", {class: "error form-error", hidden: true}),
      h("p", {}, h("button", {type: "submit"}, t("save_choice"))));
    f.addEventListener("submit", async function (e) {
      e.preventDefault();
      if (!navigator.onLine) { showErrors(f, {_: t("needs_connection")}); return; }
      var choices = {};
      Object.keys(fields).forEach(function (name) {
        var chosen = f.querySelector('input[name="' + name + '"]:checked');
        if (chosen) choices[name] = chosen.value;
      });
      var missing = {};
      Object.keys(fields).forEach(function (name) { if (!choices[name]) missing[name] = t("choose_value"); });
      if (!showErrors(f, missing)) return;
      try {
        await api("POST", CONFIG.urls.resolve.replace("__id__", held.id), {choices: choices});
        if (item) { item.status = "sent"; await S.store.outboxSet(item); }
        S.notice = t("conflict_resolved");
        await sync(false);
        go("outbox");
      } catch (err) {
        if (err.status === 409 && err.body && err.body.held) {
          Object.assign(held, err.body.held);
          await S.store.put("held", S.data.held);
          S.notice = err.body.message;
          render();
          return;
        }
        showErrors(f, {_: err instanceof NeedLogin ? t("need_login") : (err.message || "")});
      }
    });
    p.appendChild(f);
    return p;
  }

  function viewBlocked() {
    var p = page(t("other_account_title"));
    p.appendChild(h("p", {class: "error"}, S.blocked));
    p.appendChild(h("p", {}, button(t("wipe_now"), function () {
      if (window.confirm(t("wipe_confirm"))) wipeAll(t("wiped_account"));
    })));
    return p;
  }

  // ------------------------------------------------------------------ first use and the PIN

  function pinForm(title, help, confirmField, onpin) {
    var p = page(title);
    p.appendChild(h("p", {}, help));
    var fields = [row("pin", t("f_pin"), input("password", "", {inputmode: "numeric", autocomplete: confirmField ? "new-password" : "current-password", pattern: "[0-9]*"}))];
    if (confirmField) fields.push(row("pin2", t("f_pin2"), input("password", "", {inputmode: "numeric", autocomplete: "new-password", pattern: "[0-9]*"})));
    p.appendChild(form(fields, confirmField ? t("set_pin") : t("unlock"), async function (v, f) {
      if (!/^\d{6,}$/.test(v.pin)) { showErrors(f, {pin: t("pin_rule")}); return; }
      if (confirmField && v.pin !== v.pin2) { showErrors(f, {pin2: t("pin_mismatch")}); return; }
      await onpin(v.pin, f);
    }));
    app.replaceChildren(statusBar(), p);
    var first = p.querySelector("input");
    if (first) first.focus();
  }

  async function setup() {
    if (!navigator.onLine) { message(t("first_needs_online")); return; }
    var who;
    try { who = await api("GET", CONFIG.urls.whoami); } catch (e) {
      if (e instanceof NeedLogin) { message(t("first_needs_login"), CONFIG.urls.login); return; }
      message(t("sync_failed", {m: e.message || ""})); return;
    }
    pinForm(t("setup_title"), t("setup_help"), true, async function (pin) {
      await S.store.createLock(pin, {userId: who.user.id, scopeKey: who.scope_key});
      S.state = {deviceId: FieldStore.uuid(), wipeDays: who.settings.wipe_days};
      await saveState();
      await loadData();
      S.notice = t("downloading");
      render();
      await sync(false);
    });
  }

  function unlockScreen() {
    pinForm(t("unlock_title"), t("unlock_help"), false, async function (pin, f) {
      if (await S.store.unlock(pin)) {
        await loadData();
        routeFromPath();
        render();
        if (navigator.onLine) sync(false);
        return;
      }
      var lock = await S.store.lock();
      if (lock.failures >= MAX_WRONG_PINS) { await wipeAll(t("wiped_pins")); return; }
      showErrors(f, {pin: t("pin_wrong", {n: MAX_WRONG_PINS - lock.failures})});
    });
  }

  function message(text, href) {
    var p = page(t("app_title"));
    p.appendChild(h("p", {}, text));
    if (href) p.appendChild(h("p", {}, link(t("login"), href, "button")));
    app.replaceChildren(statusBar(), p);
  }

  // Offline, the service worker opens this shell for any page of the site: show the matching view.
  function routeFromPath() {
    if (location.hash) return;
    var path = location.pathname;
    var m;
    if (path === CONFIG.urls.shell) return;
    if ((m = /^\/registry\/children\/(\d+)\/?$/.exec(path))) location.hash = "#/child/" + m[1];
    else if (/^\/registry\/children\/new\/?$/.test(path)) location.hash = "#/register";
    else if (/^\/registry\/children\/?$/.test(path)) location.hash = "#/children";
    else if ((m = /^\/cases\/(\d+)\/?$/.exec(path))) location.hash = "#/case/" + m[1];
    else if (/^\/cases\/new\/?$/.test(path)) location.hash = "#/intake";
    else if (/^\/cases\/?/.test(path)) location.hash = "#/cases";
    else if ((m = /^\/activities\/(\d+)\/?$/.exec(path))) location.hash = "#/activity/" + m[1];
    else if (/^\/activities\/?/.test(path)) location.hash = "#/activities";
    else if (path !== "/") S.pathNotice = t("page_needs_connection");
  }

  async function boot() {
    try { S.notice = sessionStorage.getItem("field-notice") || ""; sessionStorage.removeItem("field-notice"); } catch (e) { /* private mode */ }
    S.store = await FieldStore.open();
    S.state = (await S.store.meta("state")) || {};
    // Erased after N days without a sync (the setting comes with each sync); her unsent changes stay.
    var days = S.state.wipeDays || CONFIG.wipe_days;
    if (S.state.lastSync && Date.now() - S.state.lastSync > days * DAY) {
      await S.store.clearVault();
      S.state.cursor = null;
      S.state.lastSync = null;
      await saveState();
      S.notice = t("wiped_days", {n: days});
    } else if (S.state.lastSync && Date.now() - S.state.lastSync > (days - 2) * DAY) {
      S.wipeWarning = t("wipe_soon", {d: fmtTime(S.state.lastSync + days * DAY)});
    }
    var lock = await S.store.lock();
    if (!lock) { await setup(); return; }
    unlockScreen();
  }

  window.addEventListener("hashchange", function () { S.notice = ""; S.pathNotice = ""; render(); window.scrollTo(0, 0); });
  window.addEventListener("online", function () { renderStatus(); sync(false); });
  window.addEventListener("offline", renderStatus);
  window.FieldApp = {state: S, sync: sync};  // for the browser tests and the benchmark
  boot().catch(function (e) { message(t("sync_failed", {m: e.message || String(e)})); });
})();
