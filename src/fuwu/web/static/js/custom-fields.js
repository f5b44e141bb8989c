// fuwu: custom fields are drawn again by the server after each change that form logic reads
// (htmx swaps the .cf-form container). Text typed into another field while that request ran
// would be lost with the old markup; remember it and put it back into the new markup.
(function () {
  "use strict";
  var typed = {}; // container id → { input id → value typed while its request ran }

  document.addEventListener("htmx:beforeRequest", function (evt) {
    var target = evt.detail.target;
    if (target && target.classList && target.classList.contains("cf-form") && target.id) {
      typed[target.id] = typed[target.id] || {}; // a replaced request keeps what was typed
    }
  });

  document.addEventListener("input", function (evt) {
    var box = evt.target.closest ? evt.target.closest(".cf-form") : null;
    var kind = evt.target.type;
    if (box && typed[box.id] && evt.target.id && kind !== "checkbox" && kind !== "file") {
      typed[box.id][evt.target.id] = evt.target.value;
    }
  }, true);

  document.addEventListener("htmx:afterSettle", function (evt) {
    var box = evt.target;
    var values = box && box.id ? typed[box.id] : null;
    if (!values || !box.classList.contains("cf-form")) { return; }
    delete typed[box.id];
    Object.keys(values).forEach(function (id) {
      var input = document.getElementById(id);
      if (input && box.contains(input) && !input.disabled) { input.value = values[id]; }
    });
  });
})();
