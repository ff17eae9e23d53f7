/* The request workspace: canned responses into the reply box, the entity filter of the
   forward picker, and htmx swapping refused actions (4xx pages carry the message). */
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-canned-insert]");
    if (!button) { return; }
    var select = document.getElementById(button.dataset.cannedInsert);
    var target = document.getElementById(button.dataset.cannedTarget);
    var option = select && select.selectedOptions[0];
    if (!option || !target) { return; }
    event.preventDefault();
    target.value = option.dataset.body || "";
    target.focus();
  });

  document.addEventListener("input", function (event) {
    var box = event.target.closest("[data-filter-select]");
    if (!box) { return; }
    var select = document.getElementById(box.dataset.filterSelect);
    if (!select) { return; }
    var query = box.value.trim().toLowerCase();
    var first = null;
    Array.prototype.forEach.call(select.options, function (option) {
      var match = !query || option.textContent.toLowerCase().indexOf(query) !== -1;
      option.hidden = !match;
      option.disabled = !match;
      if (match && first === null) { first = option; }
    });
    if (first && select.selectedOptions[0] && select.selectedOptions[0].hidden) {
      select.value = first.value;
    }
  });

  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    if (status === 400 || status === 403 || status === 404 || status === 409 || status === 422) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
})();
