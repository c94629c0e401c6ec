// Lien d'évitement « Menu » : sur un écran étroit (ou très zoomé), la navigation principale est dans la
// fenêtre du bouton « Menu », fermée ; suivre le lien sauterait alors la navigation sans l'atteindre.
// Dans ce cas, le lien ouvre cette fenêtre (le DSFR y place le focus, Échap la referme).
(function () {
  "use strict";
  var lien = document.querySelector('.fr-skiplinks a[href="#navigation-principale"]');
  var bouton = document.getElementById("bouton-menu");
  var navigation = document.getElementById("navigation-principale");
  if (!lien || !bouton || !navigation) { return; }

  function visible(element) {
    return element.getClientRects().length > 0 && getComputedStyle(element).visibility !== "hidden";
  }

  lien.addEventListener("click", function (evenement) {
    if (visible(navigation) || !visible(bouton)) { return; }
    evenement.preventDefault();
    bouton.click();
  });
})();
