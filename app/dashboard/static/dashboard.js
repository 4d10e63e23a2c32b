// The explore page's filters update its results in place. The filter form is never replaced
// while it is being edited, so a value typed but not yet applied is never lost; each state is
// a URL (history.pushState), so a URL can be shared, a reload shows the same results and the
// back button returns to the filters before. Without this script the form is a plain GET.
"use strict";

(function () {
  const TYPING_PAUSE_MS = 400;
  let timer = null;
  let latest = 0; // the number of the last update asked for: older answers are dropped

  function filters() { return document.getElementById("filters"); }

  // The filters as a query string: every filled field but the new-measure row (its Add
  // button applies it) and the table's page (a new filter starts at page 1).
  function queryOf(form) {
    const params = new URLSearchParams();
    for (const field of form.elements) {
      if (!field.name || field.disabled || field.classList.contains("not-live")) { continue; }
      if (field.type === "checkbox" || field.type === "radio") {
        if (field.checked) { params.append(field.name, field.value); }
      } else if (field.tagName === "SELECT") {
        for (const option of field.selectedOptions) {
          if (option.value !== "") { params.append(field.name, option.value); }
        }
      } else if (field.type !== "submit" && field.value.trim() !== "") {
        params.append(field.name, field.value.trim());
      }
    }
    return params;
  }

  function urlOf(form) {
    const query = queryOf(form).toString();
    return form.getAttribute("action") + (query ? "?" + query : "");
  }

  function here() { return location.pathname + location.search; }

  // Fetch the page at `url` and show its results (and with `withForm` its filters too);
  // `how` is "push" (a new history entry), or "none" (moving through history).
  function show(url, how, withForm) {
    const ticket = ++latest;
    const results = document.getElementById("results");
    if (results) { results.setAttribute("aria-busy", "true"); }
    fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) { return response.text(); })
      .then(function (text) {
        if (ticket !== latest) { return; }
        const page = new DOMParser().parseFromString(text, "text/html");
        const fresh = page.getElementById("results");
        if (!fresh) { location.assign(url); return; } // e.g. signed out: show that page
        if (how === "push") { history.pushState(null, "", url); }
        const current = document.getElementById("results");
        current.replaceWith(document.importNode(fresh, true));
        const form = filters();
        const freshForm = page.getElementById("filters");
        if (withForm && freshForm) {
          form.replaceWith(document.importNode(freshForm, true));
        } else {
          // The table's sort and page size live in the form, so that a new filter keeps them.
          const params = new URL(url, location.href).searchParams;
          form.querySelectorAll("input.paging").forEach(function (input) {
            input.value = params.get(input.name) || "";
          });
        }
      })
      .catch(function () { location.assign(url); });
  }

  function applySoon(delay) {
    clearTimeout(timer);
    timer = setTimeout(function () {
      const url = urlOf(filters());
      if (url !== here()) { show(url, "push", false); }
    }, delay);
  }

  function inFilters(target) {
    return target.form && target.form.id === "filters" && !target.classList.contains("not-live");
  }

  document.addEventListener("change", function (event) {
    if (inFilters(event.target)) { applySoon(0); }
  });
  document.addEventListener("input", function (event) {
    if (inFilters(event.target) && event.target.tagName === "INPUT"
        && event.target.type !== "checkbox") { applySoon(TYPING_PAUSE_MS); }
  });
  // Sorting and paging links of the table load in place.
  document.addEventListener("click", function (event) {
    const link = event.target.closest("#results a.nav");
    if (!link || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) {
      return;
    }
    event.preventDefault();
    clearTimeout(timer);
    show(link.getAttribute("href"), "push", false);
  });
  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (form.id === "save-cohort" && filters()) {
      // Save what the filters say now, also a value typed a moment ago.
      form.querySelectorAll("input.filter").forEach(function (input) { input.remove(); });
      for (const [name, value] of queryOf(filters())) {
        if (name === "sort" || name === "per_page") { continue; }
        const input = document.createElement("input");
        Object.assign(input, { type: "hidden", name: name, value: value, className: "filter" });
        form.appendChild(input);
      }
    } else if (form.classList.contains("review")) {
      // The review returns to the results as they are shown now.
      form.elements.next.value = here();
    }
  });
  window.addEventListener("popstate", function () {
    if (filters()) { clearTimeout(timer); show(here(), "none", true); }
  });
}());
