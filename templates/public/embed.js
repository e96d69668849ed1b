{% autoescape off %}/* Status notice for {{ base_url }}: shows a small dismissible notice while an incident or
   maintenance is active, nothing otherwise. No dependencies. */
(function () {
  "use strict";
  var base = "{{ base_url|escapejs }}";
  var storageKey = "statuspage-dismissed:" + base;
  function dismissed() { try { return JSON.parse(localStorage.getItem(storageKey) || "[]"); } catch (e) { return []; } }
  function dismiss(id) { try { var d = dismissed(); d.push(id); localStorage.setItem(storageKey, JSON.stringify(d.slice(-20))); } catch (e) {} }
  function text(tag, value, style) { var el = document.createElement(tag); el.textContent = value; if (style) el.setAttribute("style", style); return el; }
  function show(item) {
    var box = document.createElement("div");
    box.setAttribute("role", "status");
    box.setAttribute("style", "position:fixed;right:16px;bottom:16px;max-width:320px;z-index:2147483000;background:#fff;color:#1d2330;border:1px solid #d0d5dd;border-left:6px solid " + item.colour + ";border-radius:8px;box-shadow:0 4px 16px rgba(16,24,40,.18);padding:12px 36px 12px 14px;font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif");
    box.appendChild(text("strong", item.name, "display:block;margin-bottom:2px"));
    box.appendChild(text("span", item.status, "display:block;color:#4b5565"));
    var link = text("a", "View status", "color:#175cd3");
    link.href = item.url; link.target = "_blank"; link.rel = "noopener";
    box.appendChild(link);
    var close = text("button", "\u00d7", "position:absolute;top:6px;right:8px;border:0;background:none;font-size:20px;line-height:1;cursor:pointer;color:#4b5565");
    close.setAttribute("aria-label", "Dismiss status notice");
    close.onclick = function () { dismiss(item.id); box.parentNode.removeChild(box); };
    box.appendChild(close);
    document.body.appendChild(box);
  }
  function label(s) { return s.charAt(0).toUpperCase() + s.slice(1).replace(/_/g, " "); }
  var colours = { minor: "#f5b60b", major: "#f79009", critical: "#d92d20", none: "#4b5565", maintenance: "#2e90fa" };
  var request = new XMLHttpRequest();
  request.open("GET", base + "/api/v2/summary.json");
  request.onload = function () {
    if (request.status !== 200) return;
    var data = JSON.parse(request.responseText), skip = dismissed(), items = [];
    (data.incidents || []).forEach(function (i) { items.push(i); });
    (data.scheduled_maintenances || []).forEach(function (m) { if (m.status === "in_progress" || m.status === "verifying") items.push(m); });
    for (var n = 0; n < items.length; n++) {
      var i = items[n];
      if (skip.indexOf(i.id) !== -1) continue;
      show({ id: i.id, name: i.name, status: label(i.status), url: base + "/incidents/" + i.id, colour: colours[i.impact] || colours.none });
      return;
    }
  };
  if (document.body) request.send(); else document.addEventListener("DOMContentLoaded", function () { request.send(); });
})();
{% endautoescape %}
