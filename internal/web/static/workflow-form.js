// workflow-form.js enhances the workflow editor's form view. Beside each
// notification text, a list inserts a placeholder ({email}, {name}...)
// where the cursor is. Choosing another kind of trigger or step, another
// connection or condition field updates the form at once, to show that
// kind's settings. Without it the form works the same: the placeholders
// are listed as a legend to type from, and "Update the form" updates it.
(function () {
  "use strict";

  function picker(input, legend) {
    var select = document.createElement("select");
    select.className = "token-picker";
    select.id = input.id + "-insert";
    select.setAttribute("aria-label", "Insert a placeholder into " + (input.labels && input.labels[0] ? input.labels[0].textContent : "the text"));
    select.add(new Option("Insert a placeholder…", ""));
    legend.querySelectorAll("code").forEach(function (code) {
      select.add(new Option(code.textContent + " – " + code.title, code.textContent));
    });
    select.addEventListener("change", function () {
      var token = select.value;
      if (!token) {
        return;
      }
      var start = input.selectionStart == null ? input.value.length : input.selectionStart;
      var end = input.selectionEnd == null ? start : input.selectionEnd;
      input.setRangeText(token, start, end, "end");
      input.dispatchEvent(new Event("input", { bubbles: true }));
      select.value = "";
      input.focus();
    });
    legend.parentNode.insertBefore(select, legend);
  }

  function init() {
    var form = document.getElementById("workflow-editor");
    if (!form) {
      return;
    }
    form.querySelectorAll("p.tokens[data-for]").forEach(function (legend) {
      var input = document.getElementById(legend.getAttribute("data-for"));
      if (input) {
        picker(input, legend);
      }
    });
    var refresh = document.getElementById("op-refresh");
    form.querySelectorAll("select[data-refresh]").forEach(function (select) {
      select.addEventListener("change", function () {
        if (refresh) {
          refresh.click();
        }
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
