// Live counts: the filter form is submitted as soon as one of its fields changes, except the
// fields of a row filled in several steps (a new measure filter: its Add button submits it).
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("form.live").forEach(function (form) {
    form.addEventListener("change", function (event) {
      if (!event.target.classList.contains("not-live")) { form.submit(); }
    });
  });
});
