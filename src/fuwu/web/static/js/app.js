// fuwu: small glue for htmx. Every htmx request carries the CSRF token (see base.html hx-headers).
document.addEventListener("htmx:responseError", function (evt) {
  // Server errors arrive as fragments retargeted to #flash; show a plain message if none came.
  var flash = document.getElementById("flash");
  if (flash && !evt.detail.xhr.responseText) {
    flash.textContent = "Request failed (" + evt.detail.xhr.status + ")";
  }
});
