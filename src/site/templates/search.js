// auditbook evidence site: offline search over window.SEARCH_INDEX (searchindex.js).
// The index is a script file, not a network request, so search works from file://.
(function () {
  "use strict";
  var WORD = /[\p{L}\p{N}]+/gu;
  var MAX_RESULTS = 50;

  function words(text) {
    var out = [];
    var m;
    WORD.lastIndex = 0;
    while ((m = WORD.exec(text)) !== null) { out.push(m[0].toLowerCase()); }
    return out;
  }
  // First index in the sorted term list whose term is >= word.
  function lowerBound(terms, word) {
    var lo = 0, hi = terms.length;
    while (lo < hi) {
      var mid = (lo + hi) >>> 1;
      if (terms[mid] < word) { lo = mid + 1; } else { hi = mid; }
    }
    return lo;
  }
  function postings(index, t) {
    var list = index.postings[t], out = [], doc = 0;
    for (var i = 0; i < list.length; i++) { doc += list[i]; out.push(doc); }
    return out;
  }
  // Entries matching one query word (as a prefix), with a score: exact term matches weigh more.
  function matches(index, word) {
    var scores = new Map();
    var terms = index.terms;
    var limit = 200;
    for (var t = lowerBound(terms, word); t < terms.length && terms[t].indexOf(word) === 0 && limit > 0; t++, limit--) {
      var weight = terms[t] === word ? 3 : 1;
      postings(index, t).forEach(function (d) { scores.set(d, Math.max(scores.get(d) || 0, weight)); });
    }
    return scores;
  }
  function search(index, query) {
    var qwords = words(query);
    if (!qwords.length) { return []; }
    var total = null;
    qwords.forEach(function (w) {
      var m = matches(index, w);
      if (total === null) {
        total = m;
      } else {
        var next = new Map();
        total.forEach(function (s, d) { if (m.has(d)) { next.set(d, s + m.get(d)); } });
        total = next;
      }
    });
    var results = [];
    total.forEach(function (score, d) {
      var doc = index.docs[d];
      var title = doc[0].toLowerCase();
      qwords.forEach(function (w) { if (title.indexOf(w) !== -1) { score += 4; } });
      results.push({ d: d, score: score });
    });
    results.sort(function (a, b) { return b.score - a.score || a.d - b.d; });
    return results;
  }
  function qwordsOf(query) { return words(query); }
  // The part of `text` around the first word that starts with a query word, that word marked.
  // Built with text nodes only: the index is data, never markup.
  var AROUND = 90;
  function excerpt(text, qwords) {
    var p = document.createElement("p");
    p.className = "excerpt";
    var at = -1, len = 0;
    WORD.lastIndex = 0;
    var m;
    while (at < 0 && (m = WORD.exec(text)) !== null) {
      var w = m[0].toLowerCase();
      for (var i = 0; i < qwords.length; i++) {
        if (w.indexOf(qwords[i]) === 0) { at = m.index; len = qwords[i].length; break; }
      }
    }
    if (at < 0) {
      p.textContent = text.length > 2 * AROUND ? text.slice(0, 2 * AROUND) + "\u2026" : text;
      return p;
    }
    var start = Math.max(0, at - AROUND), end = Math.min(text.length, at + len + AROUND);
    var before = (start > 0 ? "\u2026" : "") + text.slice(start, at);
    var after = text.slice(at + len, end) + (end < text.length ? "\u2026" : "");
    var mark = document.createElement("mark");
    mark.textContent = text.slice(at, at + len);
    p.appendChild(document.createTextNode(before));
    p.appendChild(mark);
    p.appendChild(document.createTextNode(after));
    return p;
  }
  function render(index, query) {
    var list = document.getElementById("search_results");
    var status = document.getElementById("search_status");
    if (!list || !status) { return; }
    while (list.firstChild) { list.removeChild(list.firstChild); }
    if (!query.trim()) { return; }
    var results = search(index, query);
    status.textContent = results.length === 0 ? "No results for \u201c" + query + "\u201d." :
      results.length + " result" + (results.length === 1 ? "" : "s") + " for \u201c" + query + "\u201d" +
      (results.length > MAX_RESULTS ? " (showing the first " + MAX_RESULTS + ")." : ".");
    results.slice(0, MAX_RESULTS).forEach(function (r) {
      var doc = index.docs[r.d];
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = doc[1];
      a.textContent = doc[0];
      var kind = document.createElement("span");
      kind.className = "kind";
      kind.textContent = doc[2];
      var p = excerpt(doc[3], qwordsOf(query));
      li.appendChild(a);
      li.appendChild(kind);
      li.appendChild(p);
      list.appendChild(li);
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var index = window.SEARCH_INDEX;
    var input = document.getElementById("search_q");
    var status = document.getElementById("search_status");
    if (!index || !input) {
      if (status) { status.textContent = "The search index could not be loaded."; }
      return;
    }
    var query = new URLSearchParams(window.location.search).get("q") || "";
    input.value = query;
    render(index, query);
    input.addEventListener("input", function () { render(index, input.value); });
  });
})();
