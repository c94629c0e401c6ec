// Reste de l'enveloppe recalculé pendant la saisie du montant (le serveur refait toujours la vérification).
(function () {
  "use strict";
  var format = new Intl.NumberFormat("fr-FR", { style: "currency", currency: "EUR" });

  function lire(texte) {
    var propre = (texte || "").replace(/[\s\u00a0\u202f€]/g, "").replace(",", ".");
    if (propre === "") { return 0; }
    if (!/^\d+(\.\d{1,2})?$/.test(propre)) { return NaN; }
    return Math.round(parseFloat(propre) * 100);
  }

  document.querySelectorAll("input[data-reste-centimes]").forEach(function (champ) {
    var sortie = document.getElementById(champ.dataset.sortie);
    if (!sortie) { return; }
    var reste = parseInt(champ.dataset.resteCentimes, 10);
    var demande = parseInt(champ.dataset.demandeCentimes, 10);
    function calculer() {
      var saisie = lire(champ.value);
      if (isNaN(saisie)) {
        sortie.textContent = "Montant à corriger (exemple : 4 500 ou 4 500,50).";
        return;
      }
      var apres = reste - saisie;
      var message = "Reste de l’enveloppe après ce montant : " + format.format(apres / 100) + ".";
      if (apres < 0) { message += " Ce montant dépasse le reste de votre enveloppe."; }
      if (saisie > demande) { message += " Il dépasse le montant demandé."; }
      sortie.textContent = message;
    }
    champ.addEventListener("input", calculer);
    calculer();
  });
})();
