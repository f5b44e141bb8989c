// fuwu: search pickers for fields that hold a user, team, customer, asset or ticket.
// The server draws a number box (the id, which works without scripts); this hides it behind a
// search box that asks /lookup/<kind>?q=… and, when an option is chosen, writes its id into
// the number box and fires "change" there (so form logic that reads the field runs).
(function () {
  "use strict";
  var timer = null;

  function upgrade(root) {
    (root || document).querySelectorAll(".picker:not([data-ready])").forEach(function (box) {
      box.setAttribute("data-ready", "");
      box.querySelector(".picker-id").hidden = true;
      box.querySelector(".picker-search").hidden = false;
    });
  }

  function close(box) {
    var list = box.querySelector(".picker-options");
    list.hidden = true;
    list.innerHTML = "";
    box.querySelector(".picker-search").setAttribute("aria-expanded", "false");
  }

  function choose(box, option) {
    var id = box.querySelector(".picker-id");
    id.value = option ? option.getAttribute("data-id") : "";
    box.querySelector(".picker-search").value = option ? option.getAttribute("data-label") : "";
    close(box);
    id.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function search(box, text) {
    var url = box.getAttribute("data-lookup") + "?q=" + encodeURIComponent(text);
    fetch(url, { headers: { "HX-Request": "true" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : ""; })
      .then(function (html) {
        var list = box.querySelector(".picker-options");
        list.innerHTML = html;
        list.hidden = !list.querySelector("[data-id]") && !list.querySelector(".none");
        box.querySelector(".picker-search").setAttribute("aria-expanded", String(!list.hidden));
      });
  }

  document.addEventListener("input", function (evt) {
    var box = evt.target.closest ? evt.target.closest(".picker") : null;
    if (!box || !evt.target.classList.contains("picker-search")) { return; }
    clearTimeout(timer);
    var text = evt.target.value.trim();
    if (!text) { choose(box, null); return; }
    timer = setTimeout(function () { search(box, text); }, 200);
  });

  document.addEventListener("click", function (evt) {
    var option = evt.target.closest ? evt.target.closest(".picker-options [data-id]") : null;
    if (option) { choose(option.closest(".picker"), option); return; }
    document.querySelectorAll(".picker-options:not([hidden])").forEach(function (list) {
      if (!list.closest(".picker").contains(evt.target)) { close(list.closest(".picker")); }
    });
  });

  document.addEventListener("keydown", function (evt) {
    var box = evt.target.closest ? evt.target.closest(".picker") : null;
    if (!box || !evt.target.classList.contains("picker-search")) { return; }
    if (evt.key === "Escape") { close(box); }
    if (evt.key === "Enter") { // the first match, rather than submitting the form
      var first = box.querySelector(".picker-options [data-id]");
      if (first) { evt.preventDefault(); choose(box, first); }
    }
  });

  document.addEventListener("htmx:afterSwap", function (evt) { upgrade(evt.target); });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { upgrade(); });
  } else {
    upgrade();
  }
})();
