// bulk.js enhances the users list's bulk bar: the box in the table's
// header ticks everyone on the page, the bar says how many are selected,
// and its buttons wait until someone is. Without it the form works the
// same: it posts what is ticked (or, with the header's box, everyone on
// the page; with "select all", everyone the filter matches).
(function () {
  "use strict";

  function number(n) {
    return n.toLocaleString("en-US");
  }

  function update(form) {
    var bar = form.querySelector("#bulk-bar");
    var count = form.querySelector("#bulk-count");
    if (!bar || !count) {
      return;
    }
    var boxes = Array.prototype.slice.call(form.querySelectorAll('input[name="id"]'));
    var ticked = boxes.filter(function (b) { return b.checked; }).length;
    var all = form.querySelector("#bulk-all");
    var page = form.querySelector("#bulk-page");
    var total = Number(bar.getAttribute("data-total") || 0);
    var everyone = !!(all && all.checked);
    if (page) {
      page.checked = boxes.length > 0 && ticked === boxes.length;
      page.indeterminate = ticked > 0 && ticked < boxes.length;
    }
    var n = everyone ? total : ticked;
    if (everyone) {
      count.textContent = "All " + number(total) + " matching this filter selected";
    } else if (ticked > 0) {
      count.textContent = number(ticked) + " selected on this page" + (all ? ", or" : "");
    } else {
      count.textContent = "Tick people in the list" + (all ? ", or" : "");
    }
    Array.prototype.forEach.call(form.querySelectorAll(".bulk-actions button"), function (b) {
      b.disabled = n === 0;
    });
    bar.classList.toggle("active", n > 0);
  }

  document.addEventListener("change", function (e) {
    var form = e.target.closest ? e.target.closest("#bulk-form") : null;
    if (!form) {
      return;
    }
    if (e.target.id === "bulk-page") {
      Array.prototype.forEach.call(form.querySelectorAll('input[name="id"]'), function (b) {
        b.checked = e.target.checked;
      });
    }
    update(form);
  });

  function init() {
    var form = document.getElementById("bulk-form");
    if (form) {
      update(form);
    }
  }
  document.addEventListener("DOMContentLoaded", init);
  // Back from the confirmation, the browser restores what was ticked.
  window.addEventListener("pageshow", init);
  // The filter form swaps the results (htmx): set the new bar up too.
  document.addEventListener("htmx:afterSwap", init);
})();
