/* Keyboard shortcuts for the console: a generic binder.
 *
 * Any element with data-shortcut="x" (one key) or data-shortcut="g m" (two keys
 * pressed one after the other) is activated when the keys are pressed outside a
 * text field: fields are focused, everything else is clicked. "?" opens a help
 * dialog listing every shortcut's data-shortcut-label. No inline script (CSP).
 */
(function () {
  "use strict";

  var SEQUENCE_MS = 1200;
  var pending = "";
  var pendingTimer = null;

  function isTyping(target) {
    if (!target || !target.tagName) return false;
    var tag = target.tagName.toLowerCase();
    if (tag === "textarea" || tag === "select" || target.isContentEditable) return true;
    if (tag !== "input") return false;
    var type = (target.getAttribute("type") || "text").toLowerCase();
    return ["button", "submit", "reset", "checkbox", "radio"].indexOf(type) === -1;
  }

  function visible(element) {
    return !!(element.offsetWidth || element.offsetHeight || element.getClientRects().length);
  }

  function bound() {
    return Array.prototype.filter.call(document.querySelectorAll("[data-shortcut]"), function (el) {
      return !el.disabled && (visible(el) || el.hasAttribute("data-shortcut-help"));
    });
  }

  function activate(element) {
    if (element.hasAttribute("data-shortcut-help")) {
      showHelp();
      return;
    }
    var tag = element.tagName.toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select") {
      element.focus();
      if (element.select) element.select();
    } else {
      element.click();
    }
  }

  function showHelp() {
    var dialog = document.getElementById("shortcut-help");
    if (!dialog || typeof dialog.showModal !== "function") return;
    var list = dialog.querySelector(".shortcut-list");
    list.textContent = "";
    var seen = {};
    bound().forEach(function (element) {
      var keys = element.getAttribute("data-shortcut");
      if (seen[keys]) return;
      seen[keys] = true;
      var term = document.createElement("dt");
      keys.split(" ").forEach(function (key, index) {
        if (index) term.appendChild(document.createTextNode(" "));
        var kbd = document.createElement("kbd");
        kbd.textContent = key;
        term.appendChild(kbd);
      });
      var description = document.createElement("dd");
      description.textContent =
        element.getAttribute("data-shortcut-label") || element.textContent.trim();
      list.appendChild(term);
      list.appendChild(description);
    });
    if (!dialog.open) dialog.showModal();
  }

  function reset() {
    pending = "";
    if (pendingTimer) window.clearTimeout(pendingTimer);
    pendingTimer = null;
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (isTyping(event.target)) return;
    var dialog = document.getElementById("shortcut-help");
    if (dialog && dialog.open) return;
    var key = event.key;
    if (!key || key.length !== 1) return;
    var typed = pending ? pending + " " + key : key;
    var elements = bound();
    var exact = elements.filter(function (el) {
      return el.getAttribute("data-shortcut") === typed;
    });
    if (exact.length) {
      event.preventDefault();
      reset();
      activate(exact[0]);
      return;
    }
    var prefix = elements.some(function (el) {
      return el.getAttribute("data-shortcut").indexOf(typed + " ") === 0;
    });
    reset();
    if (prefix) {
      event.preventDefault();
      pending = typed;
      pendingTimer = window.setTimeout(reset, SEQUENCE_MS);
    }
  });

  document.addEventListener("click", function (event) {
    var trigger = event.target.closest && event.target.closest("[data-shortcut-help]");
    if (trigger) {
      event.preventDefault();
      showHelp();
    }
  });
})();
