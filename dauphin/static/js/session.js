// Avertissement avant la fin de la session (base.html, fenêtre #dauphin-session). Le serveur ferme une session
// restée sans activité (délai selon le compte) ; deux minutes avant, cette fenêtre le dit et propose « Rester
// connecté » (POST /compte/session/prolonger). Une personne qui tape ou clique dans la page n'est pas inactive :
// sa session est alors prolongée sans la déranger. Avant d'avertir, l'état est relu auprès du serveur (une
// autre page ouverte a pu prolonger la session). Sans JavaScript, le serveur ferme tout de même la session et
// la page de connexion dit pourquoi.
(function () {
  "use strict";
  var fenetre = document.getElementById("dauphin-session");
  if (!fenetre || !window.fetch) { return; }
  var AVANT = 120 * 1000; // l'avertissement, deux minutes avant la fin
  var formulaire = fenetre.querySelector("form");
  var echeance = Date.now() + Number(fenetre.dataset.restant) * 1000;
  var dernierContact = Date.now();
  var derniereActivite = 0;
  var minuteur = null;
  var ouverte = false;

  ["keydown", "pointerdown", "input"].forEach(function (evenement) {
    document.addEventListener(evenement, function (e) {
      if (!fenetre.contains(e.target)) { derniereActivite = Date.now(); }
    }, { passive: true, capture: true });
  });

  function planifier(delai, action) {
    window.clearTimeout(minuteur);
    minuteur = window.setTimeout(action, Math.max(0, delai));
  }

  function attendre() {
    planifier(echeance - AVANT - Date.now(), verifier);
  }

  function recu(reponse) {
    return reponse.json().then(function (etat) {
      dernierContact = Date.now();
      echeance = Date.now() + (etat.connecte ? etat.restant * 1000 : 0);
      return etat;
    });
  }

  function prolonger() {
    return fetch(formulaire.action, {
      method: "POST",
      body: new FormData(formulaire),
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    }).then(recu);
  }

  function verifier() {
    var lecture = derniereActivite > dernierContact ? prolonger() : fetch(fenetre.dataset.etat, {
      headers: { Accept: "application/json" }, credentials: "same-origin",
    }).then(recu);
    lecture.then(function (etat) {
      if (!etat.connecte) { expiree(); } else if (echeance - Date.now() > AVANT) { attendre(); } else { avertir(); }
    }).catch(function () { avertir(); });
  }

  function montrer(etape) {
    fenetre.querySelectorAll("[data-avant]").forEach(function (el) { el.hidden = etape !== "avant"; });
    fenetre.querySelectorAll("[data-apres]").forEach(function (el) { el.hidden = etape !== "apres"; });
    var titre = document.getElementById("dauphin-session-titre");
    titre.textContent = etape === "avant" ? titre.dataset.titreAvant : titre.dataset.titreApres;
    if (!ouverte) {
      ouverte = true;
      if (window.dsfr) {
        window.dsfr(fenetre).modal.disclose();
      } else {
        fenetre.classList.add("fr-modal--opened");
        if (fenetre.showModal) { fenetre.showModal(); }
      }
    }
  }

  function fermer() {
    if (!ouverte) { return; }
    ouverte = false;
    if (window.dsfr) { window.dsfr(fenetre).modal.conceal(); } else {
      fenetre.classList.remove("fr-modal--opened");
      if (fenetre.close) { fenetre.close(); }
    }
  }

  function avertir() {
    var heure = new Date(echeance).toLocaleTimeString("fr-FR", { hour: "2-digit", minute: "2-digit" });
    fenetre.querySelector("[data-heure]").textContent = heure.replace(":", "h");
    montrer("avant");
    planifier(echeance - Date.now(), function () {
      // Une autre page a peut-être prolongé la session entre-temps : on relit avant de conclure.
      fetch(fenetre.dataset.etat, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(recu)
        .then(function (etat) {
          if (etat.connecte && etat.restant > 0) { fermer(); attendre(); } else { expiree(); }
        })
        .catch(expiree);
    });
  }

  function expiree() {
    window.clearTimeout(minuteur);
    montrer("apres");
  }

  formulaire.addEventListener("submit", function (e) {
    e.preventDefault();
    prolonger().then(function (etat) {
      if (!etat.connecte) { expiree(); return; }
      fermer();
      attendre();
    }).catch(function () { formulaire.submit(); });
  });

  // La fenêtre fermée par sa croix : la session n'est pas prolongée, l'échéance reste.
  fenetre.addEventListener("dsfr.conceal", function () { ouverte = false; });

  attendre();
})();
