// A refused form comes back to its page: the reason moves next to the field it is about and
// what was typed is filled in again (web/flash.py keeps them for one page view).
(function () {
  "use strict";
  var box = document.getElementById("form-error");
  if (!box) { return; }
  var action = box.getAttribute("data-action");
  var form = null;
  for (var i = 0; i < document.forms.length; i += 1) {
    var f = document.forms[i];
    if ((f.getAttribute("method") || "get").toLowerCase() === "post" &&
        new URL(f.action, window.location.href).pathname === action) { form = f; break; }
  }
  if (!form) { box.focus(); return; }
  var typed = {};
  try { typed = JSON.parse(box.getAttribute("data-typed") || "{}"); } catch (e) { typed = {}; }
  Object.keys(typed).forEach(function (name) {
    var values = typed[name];
    form.querySelectorAll("[name=\"" + CSS.escape(name) + "\"]").forEach(function (el) {
      if (el.type === "hidden" || el.type === "file" || el.type === "password") { return; }
      if (el.type === "checkbox" || el.type === "radio") {
        el.checked = values.indexOf(el.value) >= 0;
      } else if (el.tagName === "SELECT" && el.multiple) {
        Array.prototype.forEach.call(el.options, function (o) {
          o.selected = values.indexOf(o.value) >= 0;
        });
      } else {
        el.value = values[0];
      }
    });
  });
  var wanted = box.getAttribute("data-field");
  var field = wanted ? form.querySelector("[name=\"" + CSS.escape(wanted) + "\"]:not([type=hidden])") : null;
  var details = form.closest("details");
  if (details) { details.open = true; }
  if (field) {
    var label = field.closest("label");
    var after = label && form.contains(label) ? label : field;
    after.insertAdjacentElement("afterend", box);
    field.setAttribute("aria-invalid", "true");
    field.setAttribute("aria-describedby", box.id);
    box.classList.add("beside");
    field.focus();
  } else {
    form.insertAdjacentElement("afterbegin", box);
    box.classList.add("beside");
    var first = form.querySelector("input:not([type=hidden]), select, textarea");
    if (first) { first.focus(); } else { box.focus(); }
  }
}());
