/* vitreem: the little JavaScript every page uses (no inline scripts: the Content-Security-Policy
 * forbids them). Everything here is an enhancement; the pages work without it. */
(function () {
  "use strict";

  // The menu folds behind one button on a phone (site.css). Without JavaScript the button is a link
  // to #site-menu, which the stylesheet opens with :target.
  function menu() {
    var toggle = document.querySelector(".menu-toggle");
    var header = document.querySelector("header.top");
    if (!toggle || !header) return;
    toggle.setAttribute("role", "button");
    toggle.addEventListener("click", function (event) {
      event.preventDefault();
      var open = header.classList.toggle("menu-open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      if (open) {
        var first = header.querySelector(".site-menu a, .site-menu select, .site-menu button");
        if (first) first.focus();
      }
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && header.classList.contains("menu-open")) {
        header.classList.remove("menu-open");
        toggle.setAttribute("aria-expanded", "false");
        toggle.focus();
      }
    });
  }

  // Language switch: a select that submits its form when a choice is made (was an inline onchange).
  // A keyboard user moves through the options with the arrow keys, which fire "change" on a closed
  // select: that only moves the choice; Enter (or leaving the select) confirms it (issue 21 item 9:
  // ArrowDown switched the language at once).
  var NAVIGATION_KEYS = ["ArrowDown", "ArrowUp", "ArrowLeft", "ArrowRight", "Home", "End", "PageUp", "PageDown"];
  function autosubmit(root) {
    root.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      if (select.dataset.bound) return;
      select.dataset.bound = "1";
      var initial = select.value, keyed = false;
      function confirm() { if (select.value !== initial) select.form.submit(); }
      select.addEventListener("keydown", function (event) {
        if (NAVIGATION_KEYS.indexOf(event.key) >= 0 || event.key.length === 1) keyed = true;
        if (event.key === "Enter") { event.preventDefault(); confirm(); }
      });
      select.addEventListener("change", function () { if (!keyed) confirm(); keyed = false; });
      select.addEventListener("blur", confirm);
    });
  }

  // Tables become cards on a phone (site.css); each cell is labelled with its column's header so a
  // card reads "Ngày sinh: 03/04/2015". Roles keep the table's meaning for screen readers, which
  // drop it when a table's display is changed.
  function labelTables(root) {
    root.querySelectorAll("main table").forEach(function (table) {
      if (table.dataset.labelled) return;
      table.dataset.labelled = "1";
      var heads = [];
      var headRow = table.querySelector("thead tr:last-child");
      if (headRow) {
        Array.prototype.forEach.call(headRow.children, function (th) {
          var span = parseInt(th.getAttribute("colspan") || "1", 10);
          var text = th.textContent.replace(/\s+/g, " ").trim();
          for (var i = 0; i < span; i++) heads.push(text);
        });
      }
      table.setAttribute("role", "table");
      table.querySelectorAll("tr").forEach(function (tr) {
        tr.setAttribute("role", "row");
        var col = 0;
        Array.prototype.forEach.call(tr.children, function (cell) {
          var inHead = cell.parentElement.parentElement.tagName === "THEAD";
          cell.setAttribute("role", inHead ? "columnheader" : (cell.tagName === "TH" ? "rowheader" : "cell"));
          if (!inHead && heads[col] && !cell.hasAttribute("data-label") && cell.textContent.trim()) {
            cell.setAttribute("data-label", heads[col]);
          }
          col += parseInt(cell.getAttribute("colspan") || "1", 10);
        });
      });
    });
  }

  // A long filter form fills a phone's screen before the first result: show its first field and the
  // fields already in use, fold the others behind one button.
  var PHONE = window.matchMedia("(max-width: 640px)");

  function foldFilters(root) {
    if (!PHONE.matches) return;
    root.querySelectorAll("form.filters").forEach(function (form) {
      if (form.dataset.folded) return;
      var fields = Array.prototype.filter.call(form.children, function (el) {
        return el.tagName === "LABEL" && el.querySelector("input:not([type=hidden]), select");
      });
      if (fields.length <= 2) return;
      form.dataset.folded = "1";
      var hidden = fields.slice(1).filter(function (label) {
        var input = label.querySelector("input, select");
        var used = input.type === "checkbox" ? input.checked : (input.tagName === "SELECT" ? input.selectedIndex > 0 : !!input.value);
        return !used;
      });
      if (!hidden.length) return;
      hidden.forEach(function (label) { label.hidden = true; });
      var button = document.createElement("button");
      button.type = "button";
      button.className = "secondary";
      button.setAttribute("aria-expanded", "false");
      button.textContent = document.body.dataset.moreFilters + " (" + hidden.length + ")";
      button.addEventListener("click", function () {
        var open = button.getAttribute("aria-expanded") !== "true";
        hidden.forEach(function (label) { label.hidden = !open; });
        button.setAttribute("aria-expanded", open ? "true" : "false");
        button.textContent = open ? document.body.dataset.fewerFilters
          : document.body.dataset.moreFilters + " (" + hidden.length + ")";
      });
      fields[0].after(button);
    });
  }

  function enhance(root) {
    foldFilters(root);
    autosubmit(root);
    labelTables(root);
  }

  document.addEventListener("DOMContentLoaded", function () {
    menu();
    enhance(document);
    // htmx swaps in new rows (filters, pages): label them too.
    document.body.addEventListener("htmx:afterSettle", function (event) { enhance(event.target); });
  });
})();
