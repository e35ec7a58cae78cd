// The meeting form: names the capital's zone once a state is chosen.
(function () {
  var s = document.getElementById('state'), hint = document.getElementById('zone-default');
  if (!s || !hint) return;
  s.addEventListener('change', function () {
    var v = s.value.trim().toUpperCase(), opts = document.querySelectorAll('#state-list option');
    for (var i = 0; i < opts.length; i++) {
      if (opts[i].value === v || opts[i].textContent.toUpperCase() === v) {
        hint.textContent = "Leave empty to use the zone of the state's capital: " + opts[i].dataset.zone +
          ' (' + opts[i].dataset.capital + ', ' + opts[i].textContent + ').';
        return;
      }
    }
  });
})();
