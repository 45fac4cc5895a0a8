// Shows upload progress for forms marked data-upload-progress. Without JavaScript the
// form still submits normally; with it, the page stays and reports how far the upload is.
"use strict";

document.querySelectorAll("form[data-upload-progress]").forEach(function (form) {
  form.addEventListener("submit", function (event) {
    if (!window.FormData || !window.XMLHttpRequest) {
      return;
    }
    event.preventDefault();
    var panel = form.querySelector(".upload-progress");
    var bar = form.querySelector("progress");
    var status = form.querySelector("[data-upload-status]");
    var button = form.querySelector("button[type=submit]");
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    panel.hidden = false;
    button.disabled = true;
    status.textContent = "Uploading…";
    xhr.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable) {
        var percent = Math.round((e.loaded / e.total) * 100);
        bar.value = percent;
        status.textContent = "Uploading… " + percent + "%";
      }
    });
    xhr.upload.addEventListener("load", function () {
      bar.removeAttribute("value");
      status.textContent = "Uploaded. Checking and importing the package…";
    });
    xhr.addEventListener("load", function () {
      // A successful import redirects to the course page; anything else is a page that
      // explains what went wrong, shown in place of this one.
      if (xhr.status < 300 && xhr.responseURL && xhr.responseURL !== form.action) {
        window.location.assign(xhr.responseURL);
        return;
      }
      document.open();
      document.write(xhr.responseText);
      document.close();
    });
    xhr.addEventListener("error", function () {
      button.disabled = false;
      status.textContent = "The upload failed. Check your connection and try again.";
    });
    xhr.send(new FormData(form));
  });
});
