/* Tawasul portal: the new-request wizard, enhanced.
 *
 * Without this script the form is one page with three fieldsets and a plain POST.
 * With it: one step at a time (Next/Back), an entity filter, categories limited to
 * the chosen kind, a character counter, drag-and-drop files and an upload progress
 * bar (the whole form is sent with XMLHttpRequest + FormData). Every text shown
 * comes from data-* attributes rendered (and translated) by the server.
 */
(function () {
  "use strict";

  function format(template, values) {
    return template.replace(/\{(\w+)\}/g, function (match, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : match;
    });
  }

  // Latin digits in both languages, as on the rest of the portal.
  function numberText(value) {
    return String(value);
  }

  /* --- steps ------------------------------------------------------------------------ */

  function setUpSteps(form) {
    var steps = Array.prototype.slice.call(form.querySelectorAll("[data-step]"));
    var progress = form.querySelector("[data-wizard-progress]");
    var current = 0;

    function fieldsOf(step) {
      return Array.prototype.slice.call(step.querySelectorAll("input, select, textarea")).filter(
        function (field) { return field.willValidate; }
      );
    }

    function stepIsValid(step) {
      var fields = fieldsOf(step);
      for (var i = 0; i < fields.length; i += 1) {
        if (!fields[i].checkValidity()) {
          fields[i].reportValidity();
          return false;
        }
      }
      return true;
    }

    function show(index, focus) {
      current = Math.max(0, Math.min(index, steps.length - 1));
      steps.forEach(function (step, position) { step.hidden = position !== current; });
      if (progress) {
        Array.prototype.forEach.call(progress.querySelectorAll("[data-progress-step]"), function (item, position) {
          if (position === current) {
            item.setAttribute("aria-current", "step");
          } else {
            item.removeAttribute("aria-current");
          }
          item.classList.toggle("is-done", position < current);
        });
      }
      form.dispatchEvent(new CustomEvent("wizard:step", { detail: { step: current + 1 } }));
      if (focus) {
        steps[current].focus();
        steps[current].scrollIntoView({ block: "start" });
      }
    }

    form.classList.add("wizard--enhanced");
    if (progress) { progress.hidden = false; }
    Array.prototype.forEach.call(form.querySelectorAll("[data-wizard-nav], [data-back]"), function (element) {
      element.hidden = false;
    });
    Array.prototype.forEach.call(form.querySelectorAll("[data-nojs-note]"), function (element) {
      element.hidden = true;
    });
    form.addEventListener("click", function (event) {
      var button = event.target.closest("button");
      if (!button || !form.contains(button)) { return; }
      if (button.hasAttribute("data-next")) {
        if (stepIsValid(steps[current])) { show(current + 1, true); }
      } else if (button.hasAttribute("data-back")) {
        show(current - 1, true);
      }
    });

    function stepOf(element) {
      var step = element && element.closest("[data-step]");
      return step ? steps.indexOf(step) : -1;
    }

    // Open on the first step that has an error (the server sent the form back).
    var firstError = form.querySelector(".field--error");
    show(firstError ? stepOf(firstError) : 0, false);

    // A link of the error summary opens the step of its field.
    var summary = document.getElementById("error-summary");
    if (summary) {
      summary.addEventListener("click", function (event) {
        var link = event.target.closest("a[href^='#']");
        if (!link) { return; }
        var target = document.getElementById(link.getAttribute("href").slice(1));
        var index = stepOf(target);
        if (index >= 0) {
          event.preventDefault();
          show(index, false);
          target.focus();
        }
      });
      summary.focus();
    }

    // Sending from a later step with an invalid field in an earlier one: go there.
    form.addEventListener("invalid", function (event) {
      var index = stepOf(event.target);
      if (index >= 0 && index !== current) { show(index, false); }
    }, true);
  }

  /* --- entity filter -------------------------------------------------------------------- */

  function setUpEntityFilter(form) {
    var box = form.querySelector("[data-entity-filter]");
    if (!box) { return; }
    var input = box.querySelector("input");
    var status = box.querySelector("[aria-live]");
    var select = document.getElementById(input.getAttribute("aria-controls"));
    if (!select) { return; }
    box.hidden = false;
    select.size = Math.min(8, select.options.length);
    var normalise = function (text) {
      return text.toLocaleLowerCase()
        .replace(/[\u064B-\u0652\u0640]/g, "")
        .replace(/[أإآ]/g, "ا").replace(/ة/g, "ه").replace(/ى/g, "ي");
    };
    input.addEventListener("input", function () {
      var query = normalise(input.value.trim());
      var shown = 0;
      Array.prototype.forEach.call(select.options, function (option) {
        if (!option.value) { return; } // "I don't know" stays
        var match = !query || normalise(option.text).indexOf(query) !== -1;
        option.hidden = !match;
        if (match) { shown += 1; }
        if (!match && option.selected) { select.value = ""; }
      });
      Array.prototype.forEach.call(select.querySelectorAll("optgroup"), function (group) {
        group.hidden = !Array.prototype.some.call(group.children, function (option) { return !option.hidden; });
      });
      status.textContent = query ? format(box.getAttribute("data-text-matches"), { count: numberText(shown) }) : "";
    });
  }

  /* --- categories follow the kind --------------------------------------------------------- */

  function setUpCategoryFilter(form) {
    var select = form.querySelector("select[name=category]");
    var radios = form.querySelectorAll("input[name=kind]");
    if (!select || !radios.length) { return; }
    function apply() {
      var chosen = form.querySelector("input[name=kind]:checked");
      var kind = chosen ? chosen.value : "";
      Array.prototype.forEach.call(select.options, function (option) {
        if (!option.value) { return; }
        var kinds = (option.getAttribute("data-kinds") || "").split(" ").filter(Boolean);
        var allowed = !kind || !kinds.length || kinds.indexOf(kind) !== -1;
        option.hidden = !allowed;
        option.disabled = !allowed;
        if (!allowed && option.selected) { select.value = ""; }
      });
      Array.prototype.forEach.call(select.querySelectorAll("optgroup"), function (group) {
        group.hidden = !Array.prototype.some.call(group.children, function (option) { return !option.hidden; });
      });
    }
    Array.prototype.forEach.call(radios, function (radio) { radio.addEventListener("change", apply); });
    apply();
  }

  /* --- character counter ------------------------------------------------------------------ */

  function setUpCounter(form) {
    Array.prototype.forEach.call(form.querySelectorAll("[data-counter-for]"), function (counter) {
      var field = document.getElementById(counter.getAttribute("data-counter-for"));
      if (!field) { return; }
      var max = parseInt(field.getAttribute("maxlength"), 10) || 0;
      function update() {
        counter.textContent = format(counter.getAttribute("data-text"), {
          count: numberText(field.value.length), max: numberText(max)
        });
        counter.classList.toggle("counter--near", max > 0 && field.value.length > max * 0.9);
      }
      counter.hidden = false;
      counter.id = counter.id || field.id + "_counter";
      var described = (field.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
      if (described.indexOf(counter.id) === -1) { described.push(counter.id); }
      field.setAttribute("aria-describedby", described.join(" "));
      field.addEventListener("input", update);
      update();
    });
  }

  /* --- files: drag and drop, list ------------------------------------------------------- */

  function fileSize(bytes) {
    if (bytes >= 1048576) { return numberText(Math.round(bytes / 104857.6) / 10) + " MB"; }
    return numberText(Math.max(1, Math.round(bytes / 1024))) + " KB";
  }

  function setUpFiles(form) {
    var zone = form.querySelector("[data-dropzone]");
    var input = form.querySelector("input[type=file][name=attachments]");
    var list = form.querySelector("[data-file-list]");
    if (!zone || !input || !list || typeof DataTransfer === "undefined") { return; }
    var maxFiles = parseInt(zone.getAttribute("data-max-files"), 10) || 5;
    zone.hidden = false;

    function setFiles(files) {
      var transfer = new DataTransfer();
      files.slice(0, maxFiles).forEach(function (file) { transfer.items.add(file); });
      input.files = transfer.files;
      input.setCustomValidity(files.length > maxFiles ? zone.getAttribute("data-text-too-many") : "");
      if (files.length > maxFiles) { input.reportValidity(); }
      render();
    }

    function render() {
      list.textContent = "";
      Array.prototype.forEach.call(input.files, function (file, index) {
        var item = document.createElement("li");
        var name = document.createElement("span");
        name.className = "file-list__name";
        name.textContent = file.name;
        var size = document.createElement("span");
        size.className = "file-list__size";
        size.textContent = fileSize(file.size);
        var remove = document.createElement("button");
        remove.type = "button";
        remove.className = "button button--link";
        remove.textContent = zone.getAttribute("data-text-remove");
        remove.setAttribute("aria-label", zone.getAttribute("data-text-remove") + ": " + file.name);
        remove.addEventListener("click", function () {
          var files = Array.prototype.slice.call(input.files);
          files.splice(index, 1);
          setFiles(files);
          input.focus();
        });
        item.append(name, " ", size, " ", remove);
        list.appendChild(item);
      });
      list.hidden = input.files.length === 0;
      form.dispatchEvent(new CustomEvent("wizard:files"));
    }

    input.addEventListener("change", render);
    ["dragenter", "dragover"].forEach(function (type) {
      zone.addEventListener(type, function (event) {
        event.preventDefault();
        zone.classList.add("dropzone--over");
      });
    });
    ["dragleave", "drop"].forEach(function (type) {
      zone.addEventListener(type, function () { zone.classList.remove("dropzone--over"); });
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      if (!event.dataTransfer || !event.dataTransfer.files.length) { return; }
      var files = Array.prototype.slice.call(input.files).concat(
        Array.prototype.slice.call(event.dataTransfer.files)
      );
      setFiles(files);
    });
    render();
  }

  /* --- summary ---------------------------------------------------------------------- */

  function setUpSummary(form) {
    var summary = form.querySelector("[data-summary]");
    if (!summary) { return; }
    summary.hidden = false;
    function selectedText(name) {
      var select = form.querySelector("select[name=" + name + "]");
      return select && select.selectedIndex >= 0 ? select.options[select.selectedIndex].text : "";
    }
    function fill() {
      var kind = form.querySelector("input[name=kind]:checked");
      var kindLabel = kind ? form.querySelector("label[for='" + kind.id + "'] .choice__label") : null;
      var files = form.querySelector("input[type=file][name=attachments]");
      var names = files ? Array.prototype.map.call(files.files, function (file) { return file.name; }) : [];
      var values = {
        kind: kindLabel ? kindLabel.textContent.trim() : "",
        entity: selectedText("entity"),
        category: selectedText("category"),
        subject: (form.elements.subject || {}).value || "",
        description: (form.elements.description || {}).value || "",
        attachments: names.length ? names.join(", ") : null
      };
      Array.prototype.forEach.call(summary.querySelectorAll("[data-summary-of]"), function (cell) {
        var key = cell.getAttribute("data-summary-of");
        var value = values[key];
        cell.textContent = value === null ? cell.getAttribute("data-text-none") : value;
      });
    }
    form.addEventListener("wizard:step", fill);
    form.addEventListener("wizard:files", fill);
    form.addEventListener("change", fill);
    fill();
  }

  /* --- sending with a progress bar ------------------------------------------------------ */

  function setUpSending(form) {
    if (typeof FormData === "undefined" || typeof XMLHttpRequest === "undefined") { return; }
    var box = form.querySelector("[data-upload-progress]");
    var bar = box ? box.querySelector("progress") : null;
    var percent = box ? box.querySelector("[data-upload-percent]") : null;
    var failed = form.querySelector("[data-send-failed]");
    var send = form.querySelector("[data-send]");

    function showProgress(value) {
      if (!bar) { return; }
      bar.value = value;
      bar.textContent = value + "%";
      if (percent) { percent.textContent = numberText(value) + "%"; }
    }

    function fail() {
      if (box) { box.hidden = true; }
      if (send) { send.disabled = false; }
      if (failed) {
        failed.textContent = form.getAttribute("data-text-failed");
        failed.hidden = false;
      }
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var xhr = new XMLHttpRequest();
      var action = new URL(form.getAttribute("action") || window.location.href, window.location.href).href;
      xhr.open("POST", action);
      xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
      xhr.upload.addEventListener("progress", function (progressEvent) {
        if (progressEvent.lengthComputable) {
          showProgress(Math.round((progressEvent.loaded / progressEvent.total) * 100));
        }
      });
      xhr.upload.addEventListener("load", function () { showProgress(100); });
      xhr.addEventListener("load", function () {
        if (xhr.status >= 200 && xhr.status < 300 && xhr.responseURL && xhr.responseURL !== action) {
          window.location.assign(xhr.responseURL); // followed the redirect: the confirmation
          return;
        }
        var page = new DOMParser().parseFromString(xhr.responseText || "", "text/html");
        var freshMain = page.getElementById("main");
        var main = document.getElementById("main");
        if (xhr.status >= 400 && xhr.status < 500 && freshMain && main && page.querySelector("[data-wizard]")) {
          Array.prototype.forEach.call(freshMain.querySelectorAll("script"), function (script) { script.remove(); });
          var nodes = Array.prototype.slice.call(freshMain.childNodes);
          main.replaceChildren.apply(main, nodes.map(function (node) { return document.adoptNode(node); }));
          if (page.title) { document.title = page.title; }
          start();
          return;
        }
        fail();
      });
      xhr.addEventListener("error", fail);
      xhr.addEventListener("abort", fail);
      if (failed) { failed.hidden = true; }
      if (send) { send.disabled = true; }
      showProgress(0);
      if (box) { box.hidden = false; }
      xhr.send(new FormData(form));
    });
  }

  function start() {
    var form = document.querySelector("form[data-wizard]");
    if (!form) { return; }
    setUpCategoryFilter(form);
    setUpEntityFilter(form);
    setUpCounter(form);
    setUpFiles(form);
    setUpSummary(form);
    setUpSteps(form);
    setUpSending(form);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
