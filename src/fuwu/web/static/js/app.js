// fuwu: small glue for htmx. Every htmx request carries the CSRF token (see base.html hx-headers).
(function () {
  "use strict";

  // htmx 2 swaps only 2xx by default. Our error fragments (retargeted to #flash by the server)
  // and 422 form re-renders must be shown too; they still count as errors for htmx events.
  htmx.config.responseHandling = [
    { code: "204", swap: false },
    { code: "[23]..", swap: true },
    { code: "[45]..", swap: true, error: true },
    { code: "...", swap: false }
  ];
  // A history restore after a cache miss needs the whole page, not the fragment.
  htmx.config.historyRestoreAsHxRequest = false;

  document.addEventListener("htmx:responseError", function (evt) {
    // A response without a body (proxy error, dropped connection): say so in #flash.
    var flash = document.getElementById("flash");
    if (flash && !evt.detail.xhr.responseText) {
      flash.textContent = document.body.dataset.msgFailed + " (" + evt.detail.xhr.status + ")";
    }
  });

  document.addEventListener("htmx:sendError", function () {
    var flash = document.getElementById("flash");
    if (flash) { flash.textContent = document.body.dataset.msgFailed; }
  });

  document.addEventListener("htmx:beforeRequest", function (evt) {
    // A new action replaces the message of the previous one.
    var flash = document.getElementById("flash");
    if (flash && evt.detail.elt && evt.detail.elt.tagName === "FORM") { flash.innerHTML = ""; }
  });

  document.addEventListener("htmx:afterRequest", function (evt) {
    var form = evt.detail.elt;
    if (evt.detail.successful && form && form.hasAttribute && form.hasAttribute("data-reset-on-success")) {
      // Clear what was sent; keep choices such as "internal note" for the next message.
      form.querySelectorAll("textarea, input[type=file]").forEach(function (el) { el.value = ""; });
    }
  });

  // Live inbox: the server only says "changed"; we re-fetch the list for the current URL.
  function startLive() {
    var box = document.querySelector("[data-live-events]");
    if (!box || !window.EventSource) { return; }
    var source = new EventSource(box.getAttribute("data-live-events"));
    var pending = null;
    source.addEventListener("changed", function () {
      if (pending) { return; }
      pending = setTimeout(function () {
        pending = null;
        var target = box.getAttribute("data-live-target");
        // Not while tickets are ticked for the bulk bar: a reload would drop the selection.
        if (document.querySelector(target) && !document.querySelector("input[name=ids]:checked")) {
          htmx.ajax("GET", window.location.pathname + window.location.search,
            { target: target, swap: "outerHTML" });
        }
      }, 300);
    });
    window.addEventListener("pagehide", function () { source.close(); });
  }

  // Inbox bulk bar: shown while tickets are ticked, saying how many; "all" ticks the page.
  function countPicked() {
    var bar = document.getElementById("bulk-form");
    if (!bar) { return; }
    var picked = document.querySelectorAll("input[name=ids]:checked").length;
    bar.hidden = picked === 0;
    var label = bar.querySelector("[data-picked-label]");
    label.textContent = label.getAttribute("data-picked-label").replace("%(n)s", picked);
  }
  document.addEventListener("change", function (evt) {
    var box = evt.target;
    if (box.hasAttribute && box.hasAttribute("data-pick-all")) {
      document.querySelectorAll("input[name=ids]").forEach(function (el) { el.checked = box.checked; });
    }
    if (box.name === "ids" || (box.hasAttribute && box.hasAttribute("data-pick-all"))) { countPicked(); }
  });
  document.addEventListener("htmx:afterSwap", countPicked);

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", startLive);
  } else {
    startLive();
  }
})();
