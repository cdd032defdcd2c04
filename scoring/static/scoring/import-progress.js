// The web import's progress bar: polls the job's progress (JSON) while it runs and reloads the
// page once it has finished, to show the report or the result. No dependencies.
(function () {
  "use strict";
  var section = document.querySelector("[data-progress-url]");
  if (!section || section.dataset.finished === "true") return;
  var url = section.dataset.progressUrl;
  var status = section.querySelector("[data-testid=import-status]");

  function show(progress) {
    status.textContent = progress.status_label;
    status.dataset.status = progress.status;
    progress.steps.forEach(function (step) {
      var row = section.querySelector('[data-step="' + step.key + '"]');
      if (!row) return;
      row.querySelector("[data-count]").textContent = step.done;
      row.querySelector("[data-total]").textContent = step.total ? " / " + step.total : "";
      var bar = row.querySelector("progress");
      bar.value = step.percent;
      bar.textContent = step.percent + "%";
    });
  }

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (progress) {
        if (!progress) { window.setTimeout(poll, 3000); return; }
        show(progress);
        var newlyStale = progress.stale && section.dataset.stale !== "true";
        var moved = progress.status !== section.dataset.status;
        if (progress.finished || newlyStale || (section.dataset.stale === "true" && moved)) {
          window.location.reload();
          return;
        }
        window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 500);
})();
