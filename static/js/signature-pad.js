// 盘图: a signature pad. The owner signs with a finger, a pen or the mouse on a <canvas>; on submit the drawing
// goes into the form's hidden input as a PNG data URL. An empty pad is refused here (and again by the server).
//
// Markup: <div data-signature-pad data-input="signature" data-empty-message="…">
//           <canvas></canvas> <button type="button" data-clear>…</button> <p data-error hidden></p>
//         </div>   inside the <form> that holds <input type="hidden" name="signature">.
(function () {
  "use strict";

  function setUp(pad) {
    var canvas = pad.querySelector("canvas");
    var form = pad.closest("form");
    var input = form && form.querySelector('input[name="' + (pad.getAttribute("data-input") || "signature") + '"]');
    var error = pad.querySelector("[data-error]");
    if (!canvas || !form || !input) return;
    var strokes = []; // each stroke: [{x, y}] in CSS pixels, so a resize can redraw it
    var current = null;
    var context = canvas.getContext("2d");

    function size() {
      var ratio = Math.min(window.devicePixelRatio || 1, 2);
      var box = canvas.getBoundingClientRect();
      canvas.width = Math.max(1, Math.round(box.width * ratio));
      canvas.height = Math.max(1, Math.round(box.height * ratio));
      context.setTransform(ratio, 0, 0, ratio, 0, 0);
      context.lineWidth = 2.5;
      context.lineCap = "round";
      context.lineJoin = "round";
      context.strokeStyle = "#1f2933";
      context.fillStyle = "#1f2933";
      strokes.forEach(draw);
    }

    function draw(stroke) {
      if (stroke.length === 1) {
        context.beginPath();
        context.arc(stroke[0].x, stroke[0].y, 1.5, 0, 2 * Math.PI);
        context.fill();
        return;
      }
      context.beginPath();
      context.moveTo(stroke[0].x, stroke[0].y);
      for (var i = 1; i < stroke.length; i++) context.lineTo(stroke[i].x, stroke[i].y);
      context.stroke();
    }

    function point(event) {
      var box = canvas.getBoundingClientRect();
      return { x: event.clientX - box.left, y: event.clientY - box.top };
    }

    function hideError() {
      if (error) error.hidden = true;
      pad.classList.remove("has-error");
    }

    canvas.addEventListener("pointerdown", function (event) {
      if (event.button !== undefined && event.button > 0) return;
      event.preventDefault();
      if (canvas.setPointerCapture) canvas.setPointerCapture(event.pointerId);
      current = [point(event)];
      strokes.push(current);
      draw(current);
      hideError();
    });
    canvas.addEventListener("pointermove", function (event) {
      if (!current) return;
      event.preventDefault();
      var events = event.getCoalescedEvents ? event.getCoalescedEvents() : [event];
      if (!events.length) events = [event];
      events.forEach(function (each) {
        var last = current[current.length - 1];
        var next = point(each);
        current.push(next);
        context.beginPath();
        context.moveTo(last.x, last.y);
        context.lineTo(next.x, next.y);
        context.stroke();
      });
    });
    function end() {
      current = null;
    }
    canvas.addEventListener("pointerup", end);
    canvas.addEventListener("pointercancel", end);
    canvas.addEventListener("lostpointercapture", end);

    var clear = pad.querySelector("[data-clear]");
    if (clear) {
      clear.addEventListener("click", function () {
        strokes = [];
        current = null;
        input.value = "";
        context.clearRect(0, 0, canvas.width, canvas.height);
      });
    }

    form.addEventListener("submit", function (event) {
      if (!strokes.length) {
        event.preventDefault();
        input.value = "";
        if (error) {
          error.textContent = pad.getAttribute("data-empty-message") || "Please sign";
          error.hidden = false;
        }
        pad.classList.add("has-error");
        canvas.scrollIntoView({ block: "center" });
        return;
      }
      input.value = canvas.toDataURL("image/png");
    });

    var width = canvas.getBoundingClientRect().width;
    window.addEventListener("resize", function () {
      var now = canvas.getBoundingClientRect().width;
      if (now !== width) {
        width = now;
        size();
      }
    });
    size();
  }

  function start() {
    document.querySelectorAll("[data-signature-pad]").forEach(setUp);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
