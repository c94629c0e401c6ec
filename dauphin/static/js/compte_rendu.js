// Compte rendu financier : écarts (€ et %) par poste et totaux (montants.js) calculés pendant la saisie, en
// centimes entiers comme le serveur, qui refait toujours tous les calculs à l'enregistrement.
(function () {
  "use strict";
  var tableau = document.getElementById("tableau-compte-rendu");
  var bloc = document.getElementById("totaux-compte-rendu");
  if (!tableau || !bloc || !window.DauphinMontants) { return; }
  var montants = window.DauphinMontants;
  var euros = montants.euros;
  var seuil = Math.round(parseFloat(tableau.dataset.seuil) * 100);  // en centièmes de point
  var nombre = new Intl.NumberFormat("fr-FR", { minimumFractionDigits: 2, maximumFractionDigits: 2 });

  function cellule(attribut, ordre) {
    return tableau.querySelector("[" + attribut + '="' + ordre + '"]');
  }

  function ligne(champ) {
    var ordre = champ.dataset.ordre;
    var prevu = parseInt(champ.dataset.prevu, 10);
    var realise = montants.lire(champ.value);
    var ecartEuros = cellule("data-ecart-euros", ordre);
    var ecartPct = cellule("data-ecart-pct", ordre);
    var exigee = cellule("data-exigee", ordre);
    if (realise === null || isNaN(realise)) {
      ecartEuros.textContent = realise === null ? "—" : "saisie à corriger";
      ecartPct.textContent = "—";
      exigee.textContent = "";
      return realise;
    }
    var ecart = realise - prevu;
    ecartEuros.textContent = (ecart > 0 ? "+" : "") + euros.format(ecart / 100);
    var requise;
    if (prevu === 0) {
      ecartPct.textContent = "—";
      requise = realise > 0;
    } else {
      // centièmes de point, arrondis en s'éloignant de zéro (comme ROUND_HALF_UP côté serveur)
      var centiemes = Math.sign(ecart) * Math.round(Math.abs(ecart) * 10000 / prevu);
      ecartPct.textContent = (centiemes > 0 ? "+" : "") + nombre.format(centiemes / 100) + " %";
      requise = Math.abs(centiemes) > seuil;
    }
    exigee.textContent = requise ? "Explication obligatoire : l’écart dépasse le seuil." : "";
    return realise;
  }

  function calculer() {
    var t = montants.totaliser(tableau.querySelectorAll("input.dauphin-realise"), ligne);
    montants.afficher(bloc, t, true, "Le tableau est équilibré.");
  }

  tableau.addEventListener("input", function (evenement) {
    if (evenement.target.classList.contains("dauphin-realise")) { calculer(); }
  });
  calculer();
})();
