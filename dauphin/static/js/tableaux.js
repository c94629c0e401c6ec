// Tableaux plus larges que l'écran (macro tableau) : l'indication « le tableau défile » s'affiche, et une ombre
// marque le bord derrière lequel il reste des colonnes ; recalculé au défilement et quand la largeur change
// (fenêtre, zoom, taille du texte, détail ouvert). Sans JavaScript, le conteneur défile et reste focalisable.
// Détail d'une ligne (macro bouton_detail) : le bouton, caché sans JavaScript, montre ou cache ses sous-lignes.
(function () {
  "use strict";
  var conteneurs = document.querySelectorAll(".fr-table__container");

  function mettreAJour(conteneur) {
    var enveloppe = conteneur.parentElement;
    var indice = enveloppe.parentElement.querySelector(":scope > .dauphin-indice-defilement");
    var reste = conteneur.scrollWidth - conteneur.clientWidth;
    var defile = reste > 1;
    if (indice) { indice.hidden = !defile; }
    enveloppe.classList.toggle("dauphin-ombre--gauche", defile && conteneur.scrollLeft > 1);
    enveloppe.classList.toggle("dauphin-ombre--droite", defile && conteneur.scrollLeft < reste - 1);
  }

  Array.prototype.forEach.call(document.querySelectorAll("button.dauphin-bouton-detail"), function (bouton) {
    var lignes = (bouton.getAttribute("aria-controls") || "").split(" ").map(function (id) {
      return document.getElementById(id);
    }).filter(Boolean);
    if (!lignes.length) { return; }
    bouton.hidden = false;
    bouton.addEventListener("click", function () {
      var ouvrir = bouton.getAttribute("aria-expanded") !== "true";
      bouton.setAttribute("aria-expanded", ouvrir ? "true" : "false");
      lignes.forEach(function (ligne) { ligne.hidden = !ouvrir; });
      var conteneur = bouton.closest(".fr-table__container");
      if (conteneur) { mettreAJour(conteneur); }
    });
  });

  if (!conteneurs.length) { return; }
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
