"""Outils des tests dans un vrai navigateur : le portail servi sur la boucle locale, Chromium de Debian
piloté par Playwright (jamais `playwright install` : aucun téléchargement de navigateur)."""

from __future__ import annotations

import shutil
import threading
from contextlib import contextmanager
from pathlib import Path

from werkzeug.serving import make_server

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


def auditer_accessibilite(page, nom: str) -> None:
    """Audite la page affichée avec axe-core ; échoue sur toute violation, en la décrivant."""
    page.add_script_tag(path=str(AXE))
    resultat = page.evaluate(
        "async (regles) => await axe.run(document, {runOnly: {type: 'tag', values: regles}})", REGLES_AXE
    )
    violations = resultat["violations"]
    if violations:
        lignes = [f"{nom} ({page.url}) : {len(violations)} violation(s) d’accessibilité"]
        for violation in violations:
            cibles = ", ".join(str(n["target"]) for n in violation["nodes"][:3])
            lignes.append(f"- {violation['id']} [{violation['impact']}] {violation['help']} — {cibles}")
        raise ViolationsAccessibilite("\n".join(lignes))


def chromium_disponible() -> bool:
    return Path(CHROMIUM).exists()


@contextmanager
def serveur_local(app):
    """Le portail servi dans un fil d'exécution, sur un port libre de 127.0.0.1."""
    serveur = make_server("127.0.0.1", 0, app, threaded=True)
    fil = threading.Thread(target=serveur.serve_forever, daemon=True)
    fil.start()
    try:
        yield f"http://127.0.0.1:{serveur.server_port}"
    finally:
        serveur.shutdown()
        fil.join(timeout=10)


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
        page.on("console", lambda m: erreurs.append(m.text) if m.type == "error" else None)
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
