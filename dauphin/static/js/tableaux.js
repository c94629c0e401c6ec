// Tableaux plus larges que l'écran (macro tableau) : l'indication « le tableau défile » s'affiche, et une ombre
// marque le bord derrière lequel il reste des colonnes ; recalculé au défilement et quand la largeur change
// (fenêtre, zoom, taille du texte). Sans JavaScript, le conteneur défile et reste focalisable.
(function () {
  "use strict";
  var conteneurs = document.querySelectorAll(".fr-table__container");
  if (!conteneurs.length) { return; }

  function mettreAJour(conteneur) {
    var enveloppe = conteneur.parentElement;
    var indice = enveloppe.parentElement.querySelector(":scope > .dauphin-indice-defilement");
    var reste = conteneur.scrollWidth - conteneur.clientWidth;
    var defile = reste > 1;
    if (indice) { indice.hidden = !defile; }
    enveloppe.classList.toggle("dauphin-ombre--gauche", defile && conteneur.scrollLeft > 1);
    enveloppe.classList.toggle("dauphin-ombre--droite", defile && conteneur.scrollLeft < reste - 1);
  }

  var observateur = "ResizeObserver" in window ? new ResizeObserver(function (entrees) {
    entrees.forEach(function (entree) { mettreAJour(entree.target); });
  }) : null;
  Array.prototype.forEach.call(conteneurs, function (conteneur) {
    conteneur.addEventListener("scroll", function () { mettreAJour(conteneur); }, { passive: true });
    if (observateur) { observateur.observe(conteneur); }
    mettreAJour(conteneur);
  });
  if (!observateur) {
    window.addEventListener("resize", function () { Array.prototype.forEach.call(conteneurs, mettreAJour); });
  }
})();
