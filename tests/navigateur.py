"""Outils des tests dans un vrai navigateur : le portail servi sur la boucle locale, Chromium de Debian
piloté par Playwright (jamais `playwright install` : aucun téléchargement de navigateur)."""

from __future__ import annotations

import shutil
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.fabriques_db import MOT_DE_PASSE

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
OPTIONS_CHROMIUM = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


AXE = Path(__file__).resolve().parent.parent / "node_modules" / "axe-core" / "axe.min.js"
# Règles RGAA/WCAG A et AA vérifiables automatiquement (axe-core)
REGLES_AXE = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


class ViolationsAccessibilite(AssertionError):
    pass


# Ce que Chromium répond quand la page change sous le script (un clic sur un lien vient de lancer la
# navigation : l'ancien document s'en va, le nouveau n'a pas encore de <head>).
NAVIGATION_EN_COURS = ("Execution context was destroyed", "reading 'appendChild'", "navigation")


def _sur_la_page_chargee(page, action, essais: int = 3):
    """`action()` sur la page une fois chargée ; si une navigation lancée juste avant (clic sur un lien) la
    remplace pendant l'action, attend la nouvelle page et recommence."""
    from playwright.sync_api import Error

    for essai in range(essais):
        page.wait_for_load_state("load")
        try:
            return action()
        except Error as erreur:
            if essai == essais - 1 or not any(m in str(erreur) for m in NAVIGATION_EN_COURS):
                raise


def auditer_accessibilite(page, nom: str, regles: list[str] | None = None) -> None:
    """Audite la page affichée avec axe-core (les règles RGAA/WCAG A-AA, ou seulement les `regles` nommées,
    « scrollable-region-focusable » par exemple) ; échoue sur toute violation, en la décrivant."""
    selection = {"type": "rule", "values": regles} if regles else {"type": "tag", "values": REGLES_AXE}
    resultat = _sur_la_page_chargee(
        page,
        lambda: (
            page.add_script_tag(path=str(AXE)),
            page.evaluate("async (selection) => await axe.run(document, {runOnly: selection})", selection),
        )[1],
    )
    violations = resultat["violations"]
    if violations:
        lignes = [f"{nom} ({page.url}) : {len(violations)} violation(s) d’accessibilité"]
        for violation in violations:
            cibles = ", ".join(str(n["target"]) for n in violation["nodes"][:3])
            lignes.append(f"- {violation['id']} [{violation['impact']}] {violation['help']} — {cibles}")
        raise ViolationsAccessibilite("\n".join(lignes))


# Les tableaux (macro tableau) plus larges que leur cadre : leur conteneur défile. Ceux qu'un élément replié
# cache ne comptent pas.
_TABLEAUX_QUI_DEBORDENT = """() => [...document.querySelectorAll(".fr-table__container")]
  .filter((c) => c.getClientRects().length && c.scrollWidth > c.clientWidth + 1)
  .map((c) => "« " + (c.getAttribute("aria-label") || "?").slice(0, 70) + " » +"
    + (c.scrollWidth - c.clientWidth) + " px")"""


def tableaux_qui_debordent(page) -> list[str]:
    """Les tableaux de la page affichée qui défilent dans leur cadre : leur titre, leur largeur cachée."""
    return page.evaluate(_TABLEAUX_QUI_DEBORDENT)


def chromium_disponible() -> bool:
    return Path(CHROMIUM).exists()


# Les marques d'un module de tests dans Chromium (`pytestmark = DANS_CHROMIUM`) : `navigateur` l'écarte de
# `make test-rapide` et le fait valider pour de bon (le serveur local lit la base par ses propres
# connexions) ; sans Chromium, il est sauté.
DANS_CHROMIUM = [
    pytest.mark.navigateur,
    pytest.mark.skipif(
        not chromium_disponible(), reason="Chromium absent : `make test` l’installe (paquet Debian chromium)."
    ),
]


@contextmanager
def serveur_local(app):
    """Le portail servi dans un fil d'exécution, sur un port libre de 127.0.0.1."""
    from tests.bases import TransactionAnnulee

    if TransactionAnnulee.courante is not None:
        raise RuntimeError(
            "Le serveur local lit la base par ses propres connexions : ce test doit valider pour de bon "
            "(pytestmark = DANS_CHROMIUM, ou @pytest.mark.navigateur / @pytest.mark.transactions_reelles)."
        )
    serveur = make_server("127.0.0.1", 0, app, threaded=True)
    fil = threading.Thread(target=serveur.serve_forever, daemon=True)
    fil.start()
    try:
        yield f"http://127.0.0.1:{serveur.server_port}"
    finally:
        serveur.shutdown()
        fil.join(timeout=10)


# Les réponses que le portail donne exprès à une saisie refusée (422), à une page périmée (409) ou à un
# lien déjà utilisé (410) : Chromium les note dans sa console, ce ne sont pas des erreurs de la page.
CODES_VOULUS = ("status of 409", "status of 410", "status of 422")


def _erreur_de_la_page(message) -> bool:
    return message.type == "error" and not (
        message.text.startswith("Failed to load resource") and any(c in message.text for c in CODES_VOULUS)
    )


@contextmanager
def navigateur(dossier_captures: Path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=OPTIONS_CHROMIUM)
        # bypass_csp : seulement pour injecter axe-core ; les pages gardent leur propre politique.
        contexte = chromium.new_context(
            viewport={"width": 1280, "height": 900}, locale="fr-FR", bypass_csp=True
        )
        page = contexte.new_page()
        erreurs: list[str] = []
        page.on("pageerror", lambda erreur: erreurs.append(str(erreur)))
        page.on("console", lambda m: erreurs.append(m.text) if _erreur_de_la_page(m) else None)
        page.erreurs_js = erreurs
        compteur = iter(range(1, 1000))

        def capture(nom: str) -> None:
            page.screenshot(path=str(dossier_captures / f"{next(compteur):02d}-{nom}.png"), full_page=True)

        page.capture = capture
        page.audit = lambda nom: auditer_accessibilite(page, nom)
        try:
            yield page
        finally:
            contexte.close()
            chromium.close()


# --- Gestes communs des parcours -----------------------------------------------------------------------


def se_connecter(page, adresse: str, email: str, mot_de_passe: str = MOT_DE_PASSE) -> None:
    """Le formulaire de connexion, rempli et envoyé comme le ferait la personne."""
    from tests.connexions import code_dans_le_navigateur

    page.goto(adresse + "/compte/connexion")
    page.get_by_label("Adresse électronique").fill(email)
    page.get_by_label("Mot de passe", exact=True).fill(mot_de_passe)
    with page.expect_navigation():
        page.get_by_role("button", name="Se connecter").click()
    code_dans_le_navigateur(page, email)


def cocher(page, libelle) -> None:
    """Les cases et boutons radio du DSFR se cochent en cliquant leur libellé, comme le fait une personne."""
    page.locator("label.fr-label", has_text=libelle).first.click()


def decrire_l_action(page, *, intitule: str, description: str, public: str, beneficiaires: str, debut, fin):
    """L'étape « action » du dépôt : un jardin partagé à Lille-Sud, aux dates et au public donnés."""
    page.get_by_label("Intitulé de l’action").fill(intitule)
    page.get_by_label("Objectifs de l’action").fill("Créer du lien entre voisins")
    page.get_by_label("Description de l’action").fill(description)
    page.get_by_label("Public visé").fill(public)
    page.get_by_label("Nombre de bénéficiaires attendus").fill(beneficiaires)
    cocher(page, "Lille-Sud (QN05901M)")
    page.get_by_label("Thématique").select_option("1.5")
    page.get_by_label("Date de début").fill(debut)
    page.get_by_label("Date de fin").fill(fin)
    page.get_by_label("Moyens humains mobilisés").fill("Une animatrice, dix bénévoles")
    page.get_by_label("Indicateurs d’évaluation").fill("Nombre de jardiniers réguliers")
    page.get_by_role("button", name="Enregistrer et continuer").click()


# --- Clavier seul -------------------------------------------------------------------------------------
# L'élément qui a le focus, décrit, avec ce qui rend son focus visible. Les cases et boutons radio du DSFR
# sont des champs transparents : leur case et l'anneau de focus sont dessinés sur `label::before`.
_FOCUS = """() => {
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) { return null; }
  const texte = (el.getAttribute("aria-label") || el.innerText || el.value || el.getAttribute("title") || "")
    .trim().replace(/\\s+/g, " ").slice(0, 70);
  const description = el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
    + (el.name ? "[name=" + el.name + "]" : "") + (texte ? " « " + texte + " »" : "");
  // Le contour est sur l'élément, ou sur son `::before` (liens agrandis `fr-enlarge-link` des tuiles et
  // cartes), ou, pour une case ou un bouton radio transparent, sur le `::before` de son libellé.
  let cible = el;
  const candidats = [[el, null], [el, "::before"]];
  if (el.matches("input[type=radio], input[type=checkbox]") && el.labels && el.labels.length
      && getComputedStyle(el).opacity === "0") {
    cible = el.labels[0];
    candidats.push([cible, "::before"]);
  }
  let contour = false, style = null;
  // Dans un champ de date, Tab s'arrête aussi sur le bouton du calendrier, dans l'arbre interne de
  // Chromium : l'hôte perd alors :focus-visible, et Chromium entoure lui-même le bouton (vu sur capture).
  if (el.matches("input[type=date]") && !el.matches(":focus-visible")) {
    contour = true;
    style = "anneau de Chromium sur le bouton du calendrier";
    candidats.length = 0;
  }
  for (const [element, pseudo] of candidats) {
    const s = getComputedStyle(element, pseudo);
    style = style || s.outlineStyle + " " + s.outlineWidth + " " + s.outlineColor;
    if (s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0
        && !/rgba\\([^)]*,\\s*0\\)$/.test(s.outlineColor)) {
      contour = true;
      style = s.outlineStyle + " " + s.outlineWidth + " " + s.outlineColor;
      break;
    }
  }
  const r = cible.getBoundingClientRect();
  const dansLaFenetre = r.width > 0 && r.height > 0 && r.bottom > 0 && r.right > 0
    && r.top < window.innerHeight && r.left < window.innerWidth;
  const cache = [el, cible].some((e) => getComputedStyle(e).visibility === "hidden");
  const position = `haut ${Math.round(r.top)}, bas ${Math.round(r.bottom)}, fenêtre ${window.innerWidth}×`
    + `${window.innerHeight}, défilement ${Math.round(window.scrollY)}/`
    + `${document.documentElement.scrollHeight - window.innerHeight}`;
  return {description, contour, dansLaFenetre, cache, style, position};
}"""


class FocusIntrouvable(AssertionError):
    pass


def focus_actuel(page) -> dict | None:
    return page.evaluate(_FOCUS)


def verifier_focus_visible(page) -> dict:
    """Le focus est sur un élément, dans la fenêtre, avec un contour visible (`outline` du DSFR)."""
    focus = focus_actuel(page)
    assert focus is not None, f"{page.url} : le focus est perdu (sur la page elle-même)"
    return _exiger_visible(page, focus)


def _exiger_visible(page, focus: dict) -> dict:
    assert focus["contour"] and not focus["cache"], (
        f"{page.url} : focus invisible sur {focus['description']} (contour : {focus['style']})"
    )
    if not focus["dansLaFenetre"]:
        focus = _apres_defilement(page, focus)
    assert focus["dansLaFenetre"], (
        f"{page.url} : {focus['description']}, focalisé, est hors de la fenêtre ({focus['position']})"
    )
    return focus


def _apres_defilement(page, focus: dict) -> dict:
    """Chromium peut ne faire défiler vers l'élément focalisé qu'à l'image suivante (vu une fois en CI, sous
    charge, sur un lien du pied de page) : on relit le focus à chaque image, une seconde au plus. Un élément
    que le défilement n'amène jamais dans la fenêtre échoue toujours."""
    from playwright.sync_api import TimeoutError as DelaiDepasse

    try:
        page.wait_for_function(
            f"() => {{ const f = ({_FOCUS})(); return !!(f && f.dansLaFenetre); }}", timeout=1000
        )
    except DelaiDepasse:
        return focus_actuel(page) or focus
    return focus_actuel(page)


def tabuler_jusqu_a(page, cible, *, arriere: bool = False, max_appuis: int = 200) -> dict:
    """Appuie sur Tab (Maj+Tab si `arriere`) jusqu'à ce que le focus soit sur `cible` : un Locator de
    Playwright ou un prédicat JavaScript `el => …` sur l'élément focalisé. À chaque arrêt, le focus doit
    être visible ; échoue en listant le parcours si la cible n'est pas atteinte."""
    if isinstance(cible, str):
        test, argument, nom = f"!!(({cible})(document.activeElement))", None, cible
    else:  # un seul aller-retour par appui : la description du focus et la comparaison à la cible
        test, argument, nom = (
            "document.activeElement === cible",
            cible.element_handle(timeout=10_000),
            str(cible),
        )
    script = f"(cible) => {{ const f = ({_FOCUS})(); if (f) {{ f.atteint = {test}; }} return f; }}"
    touche = "Shift+Tab" if arriere else "Tab"
    parcours: list[str] = []
    for _ in range(max_appuis):
        page.keyboard.press(touche)
        focus = page.evaluate(script, argument)
        if focus is None:  # sortie du document (au-delà du dernier élément) : on reprend au début
            parcours.append("(document)")
            continue
        parcours.append(focus["description"])
        _exiger_visible(page, focus)
        if focus["atteint"]:
            return focus
    raise FocusIntrouvable(
        f"{page.url} : {nom} pas atteint après {max_appuis} appuis sur {touche}. Parcours :\n- "
        + "\n- ".join(dict.fromkeys(parcours))
    )


def activer(page, touche: str = "Enter") -> None:
    """Active l'élément focalisé (Entrée ou Espace) et attend la page qui s'ensuit."""
    with page.expect_navigation():
        page.keyboard.press(touche)


def saisir(page, texte: str) -> None:
    """Remplace le contenu du champ focalisé, au clavier."""
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.type(texte)
