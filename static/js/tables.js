// List pages: "select all on this page" for the bulk form (the rows' checkboxes carry form="<id>").
(function () {
  "use strict";
  document.querySelectorAll("input[data-select-all]").forEach(function (all) {
    var boxes = document.querySelectorAll('input[type="checkbox"][name="ids"][form="' + all.getAttribute("data-select-all") + '"]');
    all.addEventListener("change", function () {
      boxes.forEach(function (box) { box.checked = all.checked; });
    });
  });
})();
