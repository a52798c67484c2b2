// 盘图 battle plan: reorder target estates by dragging their handle (mouse, pen or finger).
// The arrows next to each estate do the same without dragging; both post to the server via htmx.
(function () {
  "use strict";

  var dragging = null;

  function rowAt(list, y) {
    var rows = Array.prototype.slice.call(list.querySelectorAll(".plan-estate"));
    return rows.filter(function (row) {
      var box = row.getBoundingClientRect();
      return y >= box.top && y <= box.bottom;
    })[0];
  }

  document.addEventListener("pointerdown", function (event) {
    var handle = event.target.closest && event.target.closest(".drag-handle");
    if (!handle) return;
    var row = handle.closest(".plan-estate");
    dragging = { row: row, list: row.parentElement, moved: false };
    row.classList.add("dragging");
    handle.setPointerCapture(event.pointerId);
    event.preventDefault();
  });

  document.addEventListener("pointermove", function (event) {
    if (!dragging) return;
    var over = rowAt(dragging.list, event.clientY);
    if (!over || over === dragging.row) return;
    var box = over.getBoundingClientRect();
    var after = event.clientY > box.top + box.height / 2;
    dragging.list.insertBefore(dragging.row, after ? over.nextSibling : over);
    dragging.moved = true;
  });

  function drop() {
    if (!dragging) return;
    var state = dragging;
    dragging = null;
    state.row.classList.remove("dragging");
    if (!state.moved) return;
    var ids = Array.prototype.map.call(state.list.querySelectorAll(".plan-estate"), function (row) {
      return row.getAttribute("data-plan-estate-id");
    });
    htmx.ajax("POST", state.list.getAttribute("data-reorder-url"), {
      target: "#plan-body",
      values: { plan_estate_id: ids },
    });
  }

  document.addEventListener("pointerup", drop);
  document.addEventListener("pointercancel", drop);
})();
