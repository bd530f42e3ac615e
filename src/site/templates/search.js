// auditbook evidence site: offline search over a sharded index (see src/site/search.rs).
// searchindex.js (window.SEARCH_INDEX) lists the term shards; the shards a query needs, and then
// the doc shards of the results shown, are loaded by inserting <script> elements (no network API), so
// search works from file://. Everything the index holds is rendered as text nodes, never markup.
(function () {
  "use strict";
  // Dotted numbers (clause ids such as 8.5.1) are one word; else runs of letters and digits.
  var WORD = /\p{N}+(?:\.\p{N}+)+|[\p{Alphabetic}\p{N}]+/gu;
  var MAX_RESULTS = 50;
  var MAX_TERMS = 200;
  var CONT = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
  var FINAL = "abcdefghijklmnopqrstuvwxyz6789+/";
  var DIGIT = {};
  for (var c = 0; c < 32; c++) { DIGIT[CONT[c]] = -1 - c; DIGIT[FINAL[c]] = c; }

  var shards = {};   // key -> {terms, body, title}
  var docs = {};     // doc shard number -> {pages, rows}
  var loading = {};  // script src -> [callbacks]
  var failed = {};   // script src -> true
  window.SEARCH_SHARD = function (key, terms, body, title) {
    shards[key] = { terms: terms, body: body, title: title };
  };
  window.SEARCH_DOCS = function (n, pages, rows) { docs[n] = { pages: pages, rows: rows }; };

  function words(text) {
    var out = [];
    var m;
    WORD.lastIndex = 0;
    while ((m = WORD.exec(text)) !== null) { out.push(m[0].toLowerCase()); }
    return out;
  }
  function decode(s) {
    var out = [], doc = 0, n = 0;
    for (var i = 0; i < s.length; i++) {
      var d = DIGIT[s[i]];
      if (d < 0) { n = n * 32 + (-1 - d); } else { doc += n * 32 + d; out.push(doc); n = 0; }
    }
    return out;
  }
  function hex(key) {
    var out = "";
    new TextEncoder().encode(key).forEach(function (b) { out += (b < 16 ? "0" : "") + b.toString(16); });
    return out;
  }
  // Load every src, then call done(ok): ok is false when one of them failed to load.
  function load(srcs, done) {
    var left = srcs.length, ok = true;
    if (!left) { done(true); return; }
    function one(good) { ok = ok && good; if (--left === 0) { done(ok); } }
    srcs.forEach(function (src) {
      if (failed[src]) { one(false); return; }
      if (loading[src] === true) { one(true); return; }
      if (loading[src]) { loading[src].push(one); return; }
      loading[src] = [one];
      var s = document.createElement("script");
      s.src = src;
      s.onload = function () { var cbs = loading[src]; loading[src] = true; cbs.forEach(function (f) { f(true); }); };
      s.onerror = function () { var cbs = loading[src]; delete loading[src]; failed[src] = true; cbs.forEach(function (f) { f(false); }); };
      document.head.appendChild(s);
    });
  }
  // The shard keys a query word needs: its first two characters, or for a one-character word
  // every key that starts with it.
  function keysOf(index, w) {
    var chars = Array.from(w);
    if (chars.length >= 2) {
      var key = chars[0] + chars[1];
      return index.shards.indexOf(key) === -1 ? [] : [key];
    }
    return index.shards.filter(function (k) { return Array.from(k)[0] === w; });
  }
  function queryWords(index, query) {
    var stop = {};
    index.stop.forEach(function (s) { stop[s] = true; });
    return words(query).filter(function (w) { return !stop[w]; });
  }
  // Entries matching one query word (as a prefix of a term): exact 3, prefix 1, +4 in the title.
  function matches(index, w) {
    var scores = new Map(), inTitle = new Set(), limit = MAX_TERMS;
    keysOf(index, w).forEach(function (key) {
      var sh = shards[key];
      for (var t = 0; t < sh.terms.length && limit > 0; t++) {
        if (sh.terms[t].indexOf(w) !== 0) { continue; }
        limit--;
        var weight = sh.terms[t] === w ? 3 : 1;
        decode(sh.body[t]).forEach(function (d) { scores.set(d, Math.max(scores.get(d) || 0, weight)); });
        decode(sh.title[t]).forEach(function (d) { inTitle.add(d); });
      }
    });
    inTitle.forEach(function (d) { scores.set(d, scores.get(d) + 4); });
    return scores;
  }
  function search(index, qwords) {
    var total = null;
    qwords.forEach(function (w) {
      var m = matches(index, w);
      if (total === null) { total = m; return; }
      var next = new Map();
      total.forEach(function (s, d) { if (m.has(d)) { next.set(d, s + m.get(d)); } });
      total = next;
    });
    var results = [];
    total.forEach(function (score, d) { results.push({ d: d, score: score }); });
    results.sort(function (a, b) { return b.score - a.score || a.d - b.d; });
    return results;
  }
  // An entry of a loaded doc shard: title, url, kind, excerpt.
  function entry(index, d) {
    var sh = docs[Math.floor(d / index.per_shard)];
    var row = sh.rows[d % index.per_shard];
    var page = sh.pages[row[0]];
    // A record's page: its URL follows from the id that starts its title.
    if (page.length === 1) { page = [page[0], "records/" + page[0].split(" ")[0] + ".html"]; }
    var section = row.length > 3;
    return {
      title: section ? page[0] + " \u203a " + row[3] : page[0],
      url: section ? page[1] + "#" + row[4] : page[1],
      kind: index.kinds[row[1]],
      excerpt: row.length > 2 ? row[2] : ""
    };
  }
  // The excerpt with the first word that starts with a query word marked (text nodes only).
  function excerpt(text, qwords) {
    var p = document.createElement("p");
    p.className = "excerpt";
    var at = -1, len = 0, m;
    WORD.lastIndex = 0;
    while (at < 0 && (m = WORD.exec(text)) !== null) {
      var w = m[0].toLowerCase();
      for (var i = 0; i < qwords.length; i++) {
        if (w.indexOf(qwords[i]) === 0) { at = m.index; len = qwords[i].length; break; }
      }
    }
    if (at < 0) { p.textContent = text; return p; }
    var mark = document.createElement("mark");
    mark.textContent = text.slice(at, at + len);
    p.appendChild(document.createTextNode(text.slice(0, at)));
    p.appendChild(mark);
    p.appendChild(document.createTextNode(text.slice(at + len)));
    return p;
  }
  var generation = 0;
  function render(index, query) {
    var list = document.getElementById("search_results");
    var status = document.getElementById("search_status");
    if (!list || !status) { return; }
    var gen = ++generation;
    var started = performance.now();
    function clear() { while (list.firstChild) { list.removeChild(list.firstChild); } }
    if (!query.trim()) { clear(); return; }
    var qwords = queryWords(index, query);
    if (!qwords.length) {
      clear();
      status.textContent = "\u201c" + query + "\u201d has only common words, which are not indexed: add a more specific word.";
      return;
    }
    var keys = [];
    qwords.forEach(function (w) { keysOf(index, w).forEach(function (k) { if (keys.indexOf(k) === -1) { keys.push(k); } }); });
    status.textContent = "Searching\u2026";
    var broken = "A part of the search index could not be loaded (the search folder next to search.html is missing or damaged): rebuild the site.";
    load(keys.map(function (k) { return "search/t-" + hex(k) + ".js"; }), function (ok) {
      if (gen !== generation) { return; }
      if (!ok) { clear(); status.textContent = broken; return; }
      var results = search(index, qwords);
      var shown = results.slice(0, MAX_RESULTS);
      var need = [];
      shown.forEach(function (r) {
        var src = "search/d" + Math.floor(r.d / index.per_shard) + ".js";
        if (need.indexOf(src) === -1) { need.push(src); }
      });
      load(need, function (ok2) {
        if (gen !== generation) { return; }
        clear();
        if (!ok2) { status.textContent = broken; return; }
        status.textContent = results.length === 0 ? "No results for \u201c" + query + "\u201d." :
          results.length + " result" + (results.length === 1 ? "" : "s") + " for \u201c" + query + "\u201d" +
          (results.length > MAX_RESULTS ? " (showing the first " + MAX_RESULTS + ")." : ".");
        shown.forEach(function (r) {
          var e = entry(index, r.d);
          var li = document.createElement("li");
          var a = document.createElement("a");
          a.href = e.url;
          a.textContent = e.title;
          var kind = document.createElement("span");
          kind.className = "kind";
          kind.textContent = e.kind;
          li.appendChild(a);
          li.appendChild(kind);
          if (e.excerpt) { li.appendChild(excerpt(e.excerpt, qwords)); }
          list.appendChild(li);
        });
        list.setAttribute("data-ms", String(Math.round(performance.now() - started)));
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var index = window.SEARCH_INDEX;
    var input = document.getElementById("search_q");
    var status = document.getElementById("search_status");
    if (!index || index.version !== 2 || !input) {
      if (status) { status.textContent = "The search index (searchindex.js) could not be loaded: rebuild the site."; }
      return;
    }
    var query = new URLSearchParams(window.location.search).get("q") || "";
    input.value = query;
    render(index, query);
    input.addEventListener("input", function () { render(index, input.value); });
  });
})();
