// Live counts: the filter form is submitted as soon as one of its fields changes.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("form.live").forEach(function (form) {
    form.addEventListener("change", function () { form.submit(); });
  });
});
