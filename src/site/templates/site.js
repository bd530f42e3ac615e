// auditbook evidence site: sortable tables. No network access; works from file://.
(function () {
  "use strict";
  function cellKey(row, i) {
    var cell = row.cells[i];
    if (!cell) { return ""; }
    var key = cell.getAttribute("data-sort");
    return key !== null ? key : cell.textContent.trim();
  }
  function compare(a, b) {
    var na = Number(a), nb = Number(b);
    if (a !== "" && b !== "" && !isNaN(na) && !isNaN(nb)) { return na - nb; }
    return a.localeCompare(b, undefined, { numeric: true, sensitivity: "base" });
  }
  function makeSortable(table) {
    var head = table.tHead;
    if (!head || !head.rows.length || !table.tBodies.length) { return; }
    var headers = head.rows[0].cells;
    Array.prototype.forEach.call(headers, function (th, index) {
      var button = document.createElement("button");
      button.type = "button";
      while (th.firstChild) { button.appendChild(th.firstChild); }
      th.appendChild(button);
      th.classList.add("sortable-header");
      button.addEventListener("click", function () {
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(headers, function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows).map(function (row, n) {
          return { row: row, key: cellKey(row, index), n: n };
        });
        rows.sort(function (a, b) {
          var c = compare(a.key, b.key);
          if (c === 0) { c = a.n - b.n; }
          return ascending ? c : -c;
        });
        var fragment = document.createDocumentFragment();
        rows.forEach(function (r) { fragment.appendChild(r.row); });
        body.appendChild(fragment);
      });
    });
  }
  // The rows of a kind (`kinds/<stem>.rows.js`, written by src/site/pages/rows.rs) as
  // [page, id, date, title, cells…]: page 0 for a row with a page of its own, else the table page
  // that holds it (`per` rows a page). Each column is plain (`s` joined by `p`, or a list `a`), a
  // dictionary (`d`, each row `w` base-64 digits in `i`) or words (`t`, each row in `c` its words'
  // numbers as base-32 varints, rows separated by commas).
  var DIGITS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  var CONT = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345", FINAL = "abcdefghijklmnopqrstuvwxyz6789+/";
  function digitTable(digits, base) {
    var t = {};
    for (var i = 0; i < digits.length; i++) { t[digits.charCodeAt(i)] = base + i; }
    return t;
  }
  var B64 = digitTable(DIGITS, 0), VARINT = digitTable(CONT, 0), VARINT_END = digitTable(FINAL, 0);
  function decodeColumn(c, n) {
    if (c.a) { return c.a; }
    if (typeof c.s === "string") { return n ? c.s.split(c.p) : []; }
    var out = new Array(n), i, k;
    if (c.d) {
      for (i = 0; i < n; i++) {
        var v = 0;
        for (k = 0; k < c.w; k++) { v = v * 64 + B64[c.i.charCodeAt(i * c.w + k)]; }
        out[i] = c.d[v];
      }
      return out;
    }
    var parts = n ? c.c.split(",") : [];
    for (i = 0; i < n; i++) {
      var part = parts[i], words = [], acc = 0;
      for (k = 0; k < part.length; k++) {
        var ch = part.charCodeAt(k);
        if (ch in VARINT) { acc = acc * 32 + VARINT[ch]; }
        else { words.push(c.t[acc * 32 + VARINT_END[ch]]); acc = 0; }
      }
      out[i] = words.join(" ");
    }
    return out;
  }
  function decodeRows(data) {
    var cols = data.cols.map(function (c) { return decodeColumn(c, data.n); });
    var own = {};
    data.own.forEach(function (i) { own[i] = true; });
    var rows = new Array(data.n);
    for (var i = 0; i < data.n; i++) {
      var r = [own[i] ? 0 : Math.floor(i / data.per) + 1];
      for (var j = 0; j < cols.length; j++) { r.push(cols[j][i]); }
      rows[i] = r;
    }
    return rows;
  }
  // `<input data-filter="SELECTOR">`: hide the body rows of the matching tables that do not
  // contain every word typed (case-insensitive). Works from file://: no request is made.
  function makeFilter(input) {
    var tables = document.querySelectorAll(input.getAttribute("data-filter"));
    function apply() {
      var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
      Array.prototype.forEach.call(tables, function (table) {
        Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
          var text = row.textContent.toLowerCase();
          row.hidden = !words.every(function (w) { return text.indexOf(w) !== -1; });
        });
      });
    }
    // `data-rows="URL"` (a kind's table of several pages): the rows of every page are in a
    // script that sets window.AUDITBOOK_ROWS (by column, see `decodeRows`), loaded by a <script>
    // element on the first keystroke (file:// refuses requests from scripts). Matches of every
    // page are listed in `data-results`, the page's own table is hidden meanwhile.
    var rowsUrl = input.getAttribute("data-rows");
    if (rowsUrl) {
      var results = document.querySelector(input.getAttribute("data-results"));
      var own = document.getElementById("page-table");
      var root = input.getAttribute("data-root") || "";
      var stem = input.getAttribute("data-stem") || "";
      // [page, id, …]: page 0 is the record's own page, else the table page holding its row.
      var urlOf = function (r) {
        if (r[0] === 0) { return root + "records/" + r[1] + ".html"; }
        return root + "kinds/" + stem + (r[0] === 1 ? "" : "~" + r[0]) + ".html#r-" + r[1];
      };
      var loading = false;
      var rows = null;
      var texts = null;
      var LIMIT = 500;
      var showAll = function () {
        var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
        if (!words.length) {
          results.hidden = true;
          own.hidden = false;
          return;
        }
        if (!rows && window.AUDITBOOK_ROWS) { rows = decodeRows(window.AUDITBOOK_ROWS); }
        if (!rows) {
          if (!loading) {
            loading = true;
            var s = document.createElement("script");
            s.src = rowsUrl;
            s.onload = showAll;
            document.head.appendChild(s);
          }
          return;
        }
        // The searchable text of every row, made once (a million rows are searched per keystroke).
        if (!texts) {
          texts = rows.map(function (r) { return r.slice(1).join(" ").toLowerCase(); });
        }
        var found = [], total = 0;
        for (var i = 0; i < rows.length; i++) {
          var text = texts[i];
          if (words.every(function (w) { return text.indexOf(w) !== -1; })) {
            total++;
            if (found.length < LIMIT) { found.push(rows[i]); }
          }
        }
        var table = document.createElement("table");
        table.className = "records matches";
        var head = own.querySelector("thead").cloneNode(true);
        table.appendChild(head);
        var body = document.createElement("tbody");
        found.forEach(function (r) {
          var tr = document.createElement("tr");
          r.slice(1).forEach(function (cell, j) {
            var td = document.createElement("td");
            if (j === 0) {
              var a = document.createElement("a");
              a.href = urlOf(r);
              a.textContent = cell;
              td.appendChild(a);
            } else {
              td.textContent = cell;
            }
            tr.appendChild(td);
          });
          body.appendChild(tr);
        });
        table.appendChild(body);
        var note = document.createElement("p");
        note.className = "matches-count";
        note.textContent = total + " matching record" + (total === 1 ? "" : "s") + " on all pages" +
          (total > found.length ? " (the first " + found.length + " shown)" : "");
        results.textContent = "";
        results.appendChild(note);
        results.appendChild(table);
        results.hidden = false;
        own.hidden = true;
      };
      apply = showAll;
    }
    input.addEventListener("input", function () { apply(); });
    // `?filter=…` in the address fills the box, so a filtered view can be linked to.
    var m = /[?&]filter=([^&#]*)/.exec(window.location.search);
    if (m) {
      input.value = decodeURIComponent(m[1].replace(/\+/g, " "));
      apply();
    }
  }
  // The traceability matrix: rows by clause group, columns by document id or title. `?group=`
  // and `?doc=` in the address preset both (a filtered view can be linked to).
  function param(name) {
    var m = new RegExp("[?&]" + name + "=([^&#]*)").exec(window.location.search);
    return m ? decodeURIComponent(m[1].replace(/\+/g, " ")) : null;
  }
  function makeMatrix(table) {
    var group = document.getElementById("matrix-group");
    var doc = document.getElementById("matrix-doc");
    var shown = document.getElementById("matrix-shown");
    if (!group || !doc) return;
    var heads = table.tHead.rows[0].cells;
    function apply() {
      var g = group.value, words = doc.value.toLowerCase().split(/\s+/).filter(Boolean);
      var keep = [true], docs = 0, rows = 0;
      for (var i = 1; i < heads.length; i++) {
        var text = (heads[i].getAttribute("data-doc") || "").toLowerCase();
        keep[i] = words.every(function (w) { return text.indexOf(w) !== -1; });
        heads[i].hidden = !keep[i];
        if (keep[i]) docs++;
      }
      Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
        row.hidden = g !== "" && row.getAttribute("data-group") !== g;
        if (!row.hidden) rows++;
        for (var i = 1; i < row.cells.length; i++) row.cells[i].hidden = !keep[i];
      });
      if (shown) shown.textContent = rows + (rows === 1 ? " clause × " : " clauses × ") + docs + (docs === 1 ? " document" : " documents") + " shown";
    }
    group.addEventListener("change", apply);
    doc.addEventListener("input", apply);
    var g = param("group"), d = param("doc");
    if (g !== null) group.value = g;
    if (d !== null) doc.value = d;
    if (g !== null || d !== null) apply();
  }
  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("table.matrix"), makeMatrix);
    Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), makeSortable);
    Array.prototype.forEach.call(document.querySelectorAll("input[data-filter]"), makeFilter);
  });
})();
