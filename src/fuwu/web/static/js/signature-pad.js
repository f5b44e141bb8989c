// fuwu: signature fields. The customer or engineer signs on a canvas with a finger, a pen or the
// mouse; each stroke puts the drawing into the field's hidden file input as a PNG, so the form
// posts it like any other file (the server checks it is a real image and records who and when).
(function () {
  "use strict";

  function setup(pad) {
    if (pad.dataset.ready) { return; }
    pad.dataset.ready = "1";
    var canvas = pad.querySelector("canvas");
    var input = pad.querySelector("input[type=file]");
    var ctx = canvas.getContext("2d");
    var last = null;

    function fit() { // as many pixels as the canvas shows, sharp on phones too
      var ratio = window.devicePixelRatio || 1;
      var box = canvas.getBoundingClientRect();
      if (!box.width) { return; }
      canvas.width = Math.round(box.width * ratio);
      canvas.height = Math.round(box.height * ratio);
      ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
      ctx.lineWidth = 2.4;
      ctx.lineCap = "round";
      ctx.lineJoin = "round";
      ctx.strokeStyle = "#111";
    }

    function at(evt) {
      var box = canvas.getBoundingClientRect();
      return { x: evt.clientX - box.left, y: evt.clientY - box.top };
    }

    function line(from, to) {
      ctx.beginPath();
      ctx.moveTo(from.x, from.y);
      ctx.lineTo(to.x + 0.01, to.y + 0.01);
      ctx.stroke();
    }

    function save() {
      canvas.toBlob(function (blob) {
        var files = new DataTransfer();
        files.items.add(new File([blob], "signature.png", { type: "image/png" }));
        input.files = files.files;
      }, "image/png");
    }

    canvas.addEventListener("pointerdown", function (evt) {
      if (!canvas.width) { fit(); }
      last = at(evt);
      line(last, last);
      canvas.setPointerCapture(evt.pointerId);
      evt.preventDefault();
    });
    canvas.addEventListener("pointermove", function (evt) {
      if (!last) { return; }
      var point = at(evt);
      line(last, point);
      last = point;
      evt.preventDefault();
    });
    function end() {
      if (!last) { return; }
      last = null;
      pad.classList.add("signed");
      save();
    }
    canvas.addEventListener("pointerup", end);
    canvas.addEventListener("pointercancel", end);
    pad.querySelector(".sig-clear").addEventListener("click", function () {
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      input.value = "";
      pad.classList.remove("signed");
    });
    fit();
  }

  function scan(root) {
    (root && root.querySelectorAll ? root : document).querySelectorAll(".sig-pad").forEach(setup);
  }
  document.addEventListener("DOMContentLoaded", function () { scan(document); });
  document.addEventListener("htmx:load", function (evt) { scan(evt.target); });
})();
