// Montants saisis à la française, lus en centimes entiers comme le serveur les lit (forms.champs.MontantField),
// et totaux d'un tableau au plan comptable du CERFA : budget prévisionnel (budget.js) et compte rendu
// financier (compte_rendu.js). Le serveur refait toujours tous les calculs à l'enregistrement.
window.DauphinMontants = (function () {
  "use strict";
  var euros = new Intl.NumberFormat("fr-FR", { style: "currency", currency: "EUR" });

  // « 1 250,50 € » → 125050 ; vide → null ; illisible, négatif ou à plus de deux décimales → NaN
  function lire(texte) {
    var propre = (texte || "").replace(/[\s\u00a0\u202f€]/g, "").replace(",", ".");
    if (propre === "") { return null; }
    if (!/^\d+(\.\d{1,2})?$/.test(propre)) { return NaN; }
    return Math.round(parseFloat(propre) * 100);
  }

  // Charges, produits, 86 et 87 des champs (attributs data-sens et data-nature) ; `centimes(champ)` lit un champ
  function totaliser(champs, centimes) {
    var t = { charges: 0, produits: 0, c86: 0, c87: 0, illisible: false };
    champs.forEach(function (champ) {
      var valeur = centimes(champ);
      if (valeur !== null && isNaN(valeur)) { t.illisible = true; return; }
      var nature = champ.dataset.nature === "1";
      var cle = champ.dataset.sens === "charge" ? (nature ? "c86" : "charges") : (nature ? "c87" : "produits");
      t[cle] += valeur || 0;
    });
    return t;
  }

  // Les totaux dans les éléments [data-total] du bloc, et le message d'équilibre (règles du budget : charges =
  // produits, 86 = 87) ; `realises` : « charges et produits réalisés » ; `equilibre` : le message sans écart
  function afficher(bloc, t, realises, equilibre) {
    ["charges", "produits", "c86", "c87"].forEach(function (cle) {
      bloc.querySelector('[data-total="' + cle + '"]').textContent = euros.format(t[cle] / 100);
    });
    var message = bloc.querySelector('[data-total="message"]');
    if (t.illisible) {
      message.textContent = "Un montant saisi n’est pas lisible : utilisez des chiffres, par exemple 1 250,50.";
    } else if (t.charges !== t.produits) {
      message.textContent = "Écart entre charges et produits" + (realises ? " réalisés" : "") + " : " +
        euros.format(Math.abs(t.charges - t.produits) / 100) + ".";
    } else if (t.c86 !== t.c87) {
      message.textContent = "Écart entre les contributions volontaires en nature (87) et leurs emplois (86) : " + euros.format(Math.abs(t.c86 - t.c87) / 100) + ".";
    } else {
      message.textContent = equilibre;
    }
  }

  return { euros: euros, lire: lire, totaliser: totaliser, afficher: afficher };
})();
