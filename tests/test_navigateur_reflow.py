"""Dans Chromium : chaque écran, pour chaque rôle, se lit à 320 px de large (zoom 400 %, RGAA 10.11 / WCAG
1.4.10) et à 1280 px avec un texte agrandi à 200 % (RGAA 10.4 / WCAG 1.4.4), sans défilement horizontal de
la page ni texte coupé ; à 1280 px au texte par défaut, chaque tableau tient dans la page, sans défiler.

Le monde est celui de la matrice des autorisations (tests/test_matrice_autorisations.py). Chaque rôle se
connecte une fois par le vrai formulaire (l'anonyme ne se connecte pas) ; il ouvre l'accueil et chaque page
que la matrice lui ouvre, puis suit leurs liens (même origine, GET, sans téléchargement ni déconnexion)
jusqu'à la profondeur 2. Chaque
écran est chargé une fois, mesuré à 320 px, puis à 1280 px (ses tableaux), puis à 1280 px avec
`font-size: 200%` sur la racine. Le test échoue en listant chaque adresse qui déborde, avec les éléments qui
dépassent, les textes rognés ou les tableaux qui défilent à 1280 px ; à 320 px, il exige aussi que chaque zone
qui défile se rejoigne au clavier et qu'un tableau qui défile le dise.
Captures des écrans fautifs dans test-artifacts/reflow/."""

from __future__ import annotations

import re
import time
from collections import Counter
from urllib.parse import parse_qsl, urldefrag, urlsplit

import pytest
from werkzeug.exceptions import HTTPException

from tests import test_matrice_autorisations as matrice
from tests.navigateur import DANS_CHROMIUM, serveur_local, tableaux_qui_debordent
from tests.navigateur import navigateur as ouvrir_navigateur
from tests.test_navigateur_tous_les_ecrans import EXCLUSIONS, se_connecter

pytestmark = DANS_CHROMIUM

ETROIT = {"width": 320, "height": 800}
LARGE = {"width": 1280, "height": 900}
PROFONDEUR = 2
NON_SUIVIES = {"auth.deconnexion"}
# Pour garder l'essai court, parmi les liens suivis : par rôle, un objet par gabarit d'adresse et deux
# adresses par route au plus (les pages que la matrice ouvre au rôle sont toutes mesurées).
PAR_GABARIT, PAR_ROUTE = 1, 2


@pytest.fixture
def objets(db, monde):
    """Les objets de la matrice des autorisations, validés pour de bon : le serveur local les lit."""
    return matrice.construire_objets(monde)


# Ce qui déborde de la page : sa largeur défilable au-delà de la fenêtre, et les éléments les plus
# extérieurs qui dépassent le bord droit sans qu'un conteneur défilant ou rogné les retienne. Avec
# `coupes` : les textes rognés, un élément `overflow: hidden` plus étroit que son contenu (hors textes
# réservés aux lecteurs d'écran, de 1 px, et points de suspension voulus).
_MESURE = """(coupes) => {
  const racine = document.documentElement;
  const largeur = racine.clientWidth;
  const decrire = (el) => {
    const texte = (el.innerText || el.getAttribute("aria-label") || "").trim().replace(/\\s+/g, " ");
    const classes = [...el.classList].slice(0, 3).map((c) => "." + c).join("");
    return el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + classes
      + (texte ? " « " + texte.slice(0, 50) + " »" : "");
  };
  const retenu = (el) => {
    const s = getComputedStyle(el);
    if (s.position === "fixed") { return true; }
    let parent = s.position === "absolute" ? el.offsetParent : el.parentElement;
    while (parent && parent !== document.body && parent !== racine) {
      if (getComputedStyle(parent).overflowX !== "visible") { return true; }
      parent = parent.parentElement;
    }
    return false;
  };
  const depassent = new Set();
  const resultat = {debord: racine.scrollWidth - largeur, elements: [], coupes: [], defilants: []};
  if (resultat.debord > 0) {
    for (const el of document.body.querySelectorAll("*")) {
      const r = el.getBoundingClientRect();
      if (r.width > 0 && r.right > largeur + 1 && !retenu(el)) {
        depassent.add(el);
        if (!depassent.has(el.parentElement)) {
          resultat.elements.push(decrire(el) + " +" + Math.round(r.right - largeur) + " px");
        }
      }
    }
  }
  // Textes masqués exprès : réservés aux lecteurs d'écran, ou libellé d'un bouton réduit à son icône.
  const voulu = ".fr-sr-only, .fr-btn--sort, .fr-btn--sort-asc, .fr-btn--sort-desc, "
    + ".fr-btn[class*='fr-icon-']:not([class*='fr-btn--icon-'])";
  for (const el of document.body.querySelectorAll("*")) {
    const s = getComputedStyle(el);
    if (!coupes) {
      // Une zone qui défile se rejoint au clavier, et un tableau qui défile le dit.
      if (["auto", "scroll"].includes(s.overflowX) && el.scrollWidth > el.clientWidth + 1
          && !el.matches("textarea, select, input") && el.getClientRects().length) {
        const indice = el.closest(".fr-table")?.querySelector(":scope > .dauphin-indice-defilement");
        if (el.tabIndex < 0) { resultat.defilants.push(decrire(el) + " : pas focalisable"); }
        else if (el.closest(".fr-table") && (!indice || indice.hidden)) {
          resultat.defilants.push(decrire(el) + " : défile sans l’indiquer");
        }
      }
      continue;
    }
    if (!["hidden", "clip"].includes(s.overflowX) || s.textOverflow === "ellipsis" || el.matches(voulu)) {
      continue;
    }
    if (el.clientWidth <= 1 || !(el.innerText || "").trim()) { continue; }
    if (el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1
        && ["hidden", "clip"].includes(s.overflowY) && el.clientHeight > 1) {
      resultat.coupes.push(decrire(el) + " (" + el.scrollWidth + "×" + el.scrollHeight + " dans "
        + el.clientWidth + "×" + el.clientHeight + ")");
    }
  }
  return resultat;
}"""


def _mesurer(page, *, coupes: bool) -> list[str]:
    mesure = page.evaluate(_MESURE, coupes)
    defauts = []
    if mesure["debord"] > 0:
        elements = ", ".join(mesure["elements"][:4]) or "(élément introuvable)"
        defauts.append(f"défile de {mesure['debord']} px : {elements}")
    if mesure["defilants"]:
        defauts.append("zone qui défile : " + ", ".join(mesure["defilants"][:4]))
    if mesure["coupes"]:
        defauts.append("texte coupé : " + ", ".join(mesure["coupes"][:4]))
    return defauts


def _liens(page, adresse: str) -> list[str]:
    hrefs = page.eval_on_selector_all("a[href]", "liens => liens.map((a) => a.href)")
    return [urldefrag(h).url.removeprefix(adresse) for h in hrefs if h.startswith(adresse + "/")]


def _endpoint(app, chemin: str) -> str | None:
    try:
        endpoint, _ = app.url_map.bind("127.0.0.1").match(urlsplit(chemin).path, method="GET")
    except HTTPException:
        return None
    return endpoint


def _gabarit(chemin: str) -> tuple:
    """Le même écran pour un autre objet, ou filtré, ou paginé : le chemin sans ses numéros et les noms de
    ses paramètres."""
    morceaux = urlsplit(chemin)
    return re.sub(r"\d+", "N", morceaux.path), frozenset(nom for nom, _ in parse_qsl(morceaux.query))


def test_chaque_ecran_se_lit_a_320_px_et_a_200_pourcent(app, db, objets, captures):
    comptes = {role: compte.email for role, compte in objets["comptes"].items()}
    pages_par_role = {
        role: [e.url(objets) for e in matrice.MATRICE.values() if e.methode == "GET" and role in e.ok]
        for role in comptes
    }
    pages_par_role["anonyme"] = [
        e.url(objets) for e in matrice.MATRICE.values() if e.methode == "GET" and e.anonyme == "ok"
    ]
    db.session.commit()
    debordements: dict[str, dict[str, list[str]]] = {}
    capturees: Counter = Counter()
    visites = 0
    debut = time.monotonic()
    with serveur_local(app) as adresse, ouvrir_navigateur(captures) as page:
        for role, pages in pages_par_role.items():
            page.context.clear_cookies()
            page.set_viewport_size(LARGE)
            if role != "anonyme":
                se_connecter(page, adresse, comptes[role])
            vues: set[str] = set()
            par_gabarit, par_route = Counter(), Counter()
            a_visiter = [(chemin, 0) for chemin in dict.fromkeys(["/", *pages])]
            while a_visiter:
                chemin, profondeur = a_visiter.pop(0)
                endpoint = _endpoint(app, chemin)
                if chemin in vues or endpoint is None or endpoint in EXCLUSIONS or endpoint in NON_SUIVIES:
                    continue
                limite = par_gabarit[_gabarit(chemin)] >= PAR_GABARIT or par_route[endpoint] >= PAR_ROUTE
                if profondeur > 0 and limite:
                    continue
                vues.add(chemin)
                par_gabarit[_gabarit(chemin)] += 1
                par_route[endpoint] += 1
                page.set_viewport_size(ETROIT)
                reponse = page.goto(adresse + chemin)
                if reponse is None or not reponse.headers.get("content-type", "").startswith("text/html"):
                    continue
                visites += 1
                defauts = [f"320 px, {d}" for d in _mesurer(page, coupes=False)]
                if defauts and not capturees[endpoint, 320]:
                    capturees[endpoint, 320] = page.capture(f"{endpoint}-320px") or 1
                page.set_viewport_size(LARGE)
                tableaux = [f"1280 px, tableau qui défile : {t}" for t in tableaux_qui_debordent(page)]
                if tableaux and not capturees[endpoint, 1280]:
                    capturees[endpoint, 1280] = page.capture(f"{endpoint}-1280px") or 1
                page.evaluate("document.documentElement.style.fontSize = '200%'")
                texte_200 = [f"texte à 200 %, {d}" for d in _mesurer(page, coupes=True)]
                if texte_200 and not capturees[endpoint, 200]:
                    capturees[endpoint, 200] = page.capture(f"{endpoint}-texte-200") or 1
                for defaut in defauts + tableaux + texte_200:
                    debordements.setdefault(f"{chemin} ({endpoint})", {}).setdefault(defaut, []).append(role)
                if profondeur < PROFONDEUR:
                    a_visiter += [(lien, profondeur + 1) for lien in _liens(page, adresse)]
    duree = time.monotonic() - debut
    print(f"\n{visites} écrans mesurés pour {len(pages_par_role)} rôles en {duree:.0f} s")
    rapport = [
        f"{url}\n" + "\n".join(f"  - {defaut} ({', '.join(roles)})" for defaut, roles in constats.items())
        for url, constats in sorted(debordements.items())
    ]
    assert debordements == {}, f"{len(debordements)} écrans débordent ou coupent du texte :\n" + "\n".join(
        rapport
    )
