/* The workflow editor's graph (vendored drawflow): statuses as nodes where the server placed
   them, steps as lines. Drawing a line from one status to another fills in the "add a step"
   form with them; the table stays the one place where steps are saved. */
(function () {
  "use strict";

  function text(value) {
    var span = document.createElement("span");
    span.textContent = value;
    return span.innerHTML;
  }

  function draw(box) {
    if (!window.Drawflow || box.dataset.drawn) return;
    box.dataset.drawn = "1";
    var graph = JSON.parse(box.dataset.graph);
    var editor = new window.Drawflow(box);
    editor.reroute = true;
    editor.start();
    var ids = {}, keys = {};
    graph.nodes.forEach(function (n) {
      var out = graph.edges.filter(function (e) { return e.from === n.key; })
        .map(function (e) { return "<li>" + (e.automatic ? "⚡ " : "→ ") + text(e.label) + "</li>"; })
        .join("");
      var html = '<div class="wf-node' + (n.approval ? " wf-approval" : "") + '" style="border-color:' +
        text(n.colour) + '"><strong>' + (n.initial ? "▶ " : "") + text(n.label) + "</strong>" +
        '<span class="muted">' + text(n.key) + "</span>" + (out ? "<ul>" + out + "</ul>" : "") + "</div>";
      var id = editor.addNode(n.key, 1, 1, n.x, n.y, "wf-status", { key: n.key }, html);
      ids[n.key] = id;
      keys[id] = n.key;
    });
    graph.edges.forEach(function (e) {
      if (e.from !== e.to) editor.addConnection(ids[e.from], ids[e.to], "output_1", "input_1");
    });
    var wide = Math.max.apply(null, graph.nodes.map(function (n) { return n.x + 210; }));
    var high = Math.max.apply(null, graph.nodes.map(function (n) { return n.y + 130; }));
    var scale = Math.min(1, box.clientWidth / wide, box.clientHeight / high);
    if (scale < 1) {  // the whole process in view (drag the background to pan, Ctrl+wheel to zoom)
      editor.zoom = Math.max(scale, editor.zoom_min);
      editor.zoom_refresh();
      // drawflow scales around the canvas' centre: keep the top left corner in place
      editor.canvas_x = -(box.clientWidth / 2) * (1 - editor.zoom);
      editor.canvas_y = -(box.clientHeight / 2) * (1 - editor.zoom);
      editor.precanvas.style.transform = "translate(" + editor.canvas_x + "px, " +
        editor.canvas_y + "px) scale(" + editor.zoom + ")";
    }
    editor.on("connectionCreated", function (c) {
      var form = document.getElementById("step-form");
      if (!form) return;
      var from = form.querySelector("select[name=from]"), to = form.querySelector("select[name=to]");
      Array.prototype.forEach.call(from.options, function (o) { o.selected = o.value === keys[c.output_id]; });
      to.value = keys[c.input_id];
      form.open = true;
      form.scrollIntoView({ behavior: "smooth", block: "start" });
      var first = form.querySelector("input[name=key]");
      if (first) first.focus();
    });
  }

  function init() {
    var box = document.getElementById("wf-graph");
    if (box) draw(box);
  }

  document.addEventListener("DOMContentLoaded", init);
  document.body && document.body.addEventListener("htmx:afterSwap", init);
  document.addEventListener("htmx:afterSwap", init);
})();
