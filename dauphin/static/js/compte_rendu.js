// Compte rendu financier : écarts (€ et %) et totaux calculés pendant la saisie, en centimes entiers
// comme le serveur, qui refait toujours tous les calculs à l'enregistrement.
(function () {
  "use strict";
  var tableau = document.getElementById("tableau-compte-rendu");
  var bloc = document.getElementById("totaux-compte-rendu");
  if (!tableau || !bloc) { return; }
  var seuil = Math.round(parseFloat(tableau.dataset.seuil) * 100);  // en centièmes de point
  var euros = new Intl.NumberFormat("fr-FR", { style: "currency", currency: "EUR" });
  var nombre = new Intl.NumberFormat("fr-FR", { minimumFractionDigits: 2, maximumFractionDigits: 2 });

  function lire(texte) {
    var propre = (texte || "").replace(/[\s\u00a0\u202f€]/g, "").replace(",", ".");
    if (propre === "") { return null; }
    if (!/^\d+(\.\d{1,2})?$/.test(propre)) { return NaN; }
    return Math.round(parseFloat(propre) * 100);
  }

  function cellule(attribut, ordre) {
    return tableau.querySelector("[" + attribut + '="' + ordre + '"]');
  }

  function ligne(champ) {
    var ordre = champ.dataset.ordre;
    var prevu = parseInt(champ.dataset.prevu, 10);
    var realise = lire(champ.value);
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
    var t = { charges: 0, produits: 0, c86: 0, c87: 0 };
    var illisible = false;
    tableau.querySelectorAll("input.dauphin-realise").forEach(function (champ) {
      var valeur = ligne(champ);
      if (valeur !== null && isNaN(valeur)) { illisible = true; return; }
      var nature = champ.dataset.nature === "1";
      var cle = champ.dataset.sens === "charge" ? (nature ? "c86" : "charges") : (nature ? "c87" : "produits");
      t[cle] += valeur || 0;
    });
    Object.keys(t).forEach(function (cle) {
      bloc.querySelector('[data-total="' + cle + '"]').textContent = euros.format(t[cle] / 100);
    });
    var message = bloc.querySelector('[data-total="message"]');
    if (illisible) {
      message.textContent = "Un montant saisi n’est pas lisible : utilisez des chiffres, par exemple 1 250,50.";
    } else if (t.charges !== t.produits) {
      message.textContent = "Écart entre charges et produits réalisés : " + euros.format(Math.abs(t.charges - t.produits) / 100) + ".";
    } else if (t.c86 !== t.c87) {
      message.textContent = "Écart entre 86 et 87 : " + euros.format(Math.abs(t.c86 - t.c87) / 100) + ".";
    } else {
      message.textContent = "Le tableau est équilibré.";
    }
  }

  tableau.addEventListener("input", function (evenement) {
    if (evenement.target.classList.contains("dauphin-realise")) { calculer(); }
  });
  calculer();
})();
