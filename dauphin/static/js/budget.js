// Totaux du budget prévisionnel calculés pendant la saisie (le serveur refait toujours la vérification).
(function () {
  "use strict";
  var bloc = document.getElementById("totaux-budget");
  if (!bloc) { return; }
  var format = new Intl.NumberFormat("fr-FR", { style: "currency", currency: "EUR" });

  function lire(texte) {
    var propre = (texte || "").replace(/[\s\u00a0\u202f€]/g, "").replace(",", ".");
    if (propre === "") { return 0; }
    if (!/^-?\d+(\.\d+)?$/.test(propre)) { return NaN; }
    return Math.round(parseFloat(propre) * 100);  // en centimes : pas d'erreur d'arrondi
  }

  function afficher(nom, centimes) {
    var cible = bloc.querySelector('[data-total="' + nom + '"]');
    cible.textContent = isNaN(centimes) ? "saisie à corriger" : format.format(centimes / 100);
  }

  function calculer() {
    var t = { charges: 0, produits: 0, c86: 0, c87: 0 };
    document.querySelectorAll("input.dauphin-montant-saisie").forEach(function (champ) {
      var valeur = lire(champ.value);
      var nature = champ.dataset.nature === "1";
      var cle = champ.dataset.sens === "charge" ? (nature ? "c86" : "charges") : (nature ? "c87" : "produits");
      t[cle] += valeur;
    });
    Object.keys(t).forEach(function (cle) { afficher(cle, t[cle]); });
    var message = bloc.querySelector('[data-total="message"]');
    var ecart = t.charges - t.produits;
    if (isNaN(ecart)) {
      message.textContent = "Un montant saisi n’est pas lisible : utilisez des chiffres, par exemple 1 250,50.";
    } else if (ecart !== 0) {
      message.textContent = "Écart entre charges et produits : " + format.format(Math.abs(ecart) / 100) + ".";
    } else if (t.c86 !== t.c87) {
      message.textContent = "Écart entre 86 et 87 : " + format.format(Math.abs(t.c86 - t.c87) / 100) + ".";
    } else {
      message.textContent = "Le budget est équilibré.";
    }
  }

  document.addEventListener("input", function (evenement) {
    if (evenement.target.classList.contains("dauphin-montant-saisie")) { calculer(); }
  });
  calculer();
})();
