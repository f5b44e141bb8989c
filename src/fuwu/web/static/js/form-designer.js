// Form designer: drag and drop with SortableJS. A drop posts every section's keys in their new
// order (the order form, via htmx), which saves the draft and re-renders the workspace. Without
// JavaScript the up / down buttons do the same job.
(function () {
  "use strict";

  function postOrder() {
    var form = document.getElementById("order-form");
    if (!form) { return; }
    form.querySelectorAll("input[name=order]").forEach(function (input) { input.remove(); });
    document.querySelectorAll("[data-section-list]").forEach(function (list) {
      var keys = [];
      list.querySelectorAll(":scope > [data-key]").forEach(function (item) {
        keys.push(item.getAttribute("data-key"));
      });
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = "order";
      input.value = keys.join(",");
      form.appendChild(input);
    });
    form.requestSubmit();
  }

  function init(root) {
    if (!window.Sortable || !root.querySelectorAll) { return; }
    root.querySelectorAll("[data-section-list]").forEach(function (list) {
      window.Sortable.create(list, {
        group: "layout",
        handle: ".drag",
        animation: 150,
        ghostClass: "ghost",
        onEnd: function (evt) {
          if (evt.from !== evt.to || evt.oldIndex !== evt.newIndex) { postOrder(); }
        }
      });
    });
    root.querySelectorAll("[data-palette-list]").forEach(function (list) {
      window.Sortable.create(list, {
        group: { name: "layout", pull: "clone", put: false },
        sort: false,
        handle: ".drag",
        animation: 150,
        onEnd: function (evt) {
          if (evt.to !== evt.from) { postOrder(); }
        }
      });
    });
  }

  htmx.onLoad(init);
})();
