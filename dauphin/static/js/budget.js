// Totaux du budget prévisionnel calculés pendant la saisie (montants.js ; le serveur refait la vérification).
(function () {
  "use strict";
  var bloc = document.getElementById("totaux-budget");
  if (!bloc || !window.DauphinMontants) { return; }
  var montants = window.DauphinMontants;

  function calculer() {
    var champs = document.querySelectorAll("input.dauphin-montant-saisie");
    var t = montants.totaliser(champs, function (champ) { return montants.lire(champ.value); });
    montants.afficher(bloc, t, false, "Le budget est équilibré.");
  }

  document.addEventListener("input", function (evenement) {
    if (evenement.target.classList.contains("dauphin-montant-saisie")) { calculer(); }
  });
  calculer();
})();
