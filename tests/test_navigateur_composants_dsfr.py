"""Dans Chromium (Playwright) : la liste de résumé (macro dsfr.liste_resume) et les tableaux à 320 px de
large (zoom à 400 %, WCAG 1.4.10). L'intitulé passe au-dessus de sa valeur, aucune valeur ne sort de l'écran,
même une adresse électronique sans espace ; sur un écran large, intitulé et valeur restent sur une ligne."""

from __future__ import annotations

from tests.navigateur import DANS_CHROMIUM, navigateur, se_connecter, serveur_local

pytestmark = DANS_CHROMIUM

# Pour chaque couple intitulé / valeur de la liste : ses bords, et ceux de la page.
MESURER = """() => {
  const largeur = document.documentElement.clientWidth;
  return [...document.querySelectorAll('dl.dauphin-resume dt')].map((dt) => {
    const dd = dt.nextElementSibling, a = dt.getBoundingClientRect(), b = dd.getBoundingClientRect();
    return {intitule: dt.textContent.trim(), haut_dt: a.top, bas_dt: a.bottom, haut_dd: b.top,
            gauche_dd: b.left, droite_dd: b.right, debord_dd: dd.scrollWidth > dd.clientWidth, largeur};
  });
}"""


def test_la_liste_de_resume_tient_a_320_px_et_garde_deux_colonnes_sur_grand_ecran(app, db, monde, artefacts):
    monde.structure.email = "secretariat.general-de-l-association@centre-social-des-quartiers-nord.example.fr"
    db.session.commit()
    with serveur_local(app) as adresse, navigateur(artefacts) as page:
        se_connecter(page, adresse, monde.administrateur.email)
        page.goto(f"{adresse}/structures/{monde.structure.id}")

        larges = page.evaluate(MESURER)
        assert len(larges) >= 10
        for couple in larges:
            assert abs(couple["haut_dd"] - couple["haut_dt"]) < 2, couple  # sur une ligne

        page.set_viewport_size({"width": 320, "height": 640})
        etroits = page.evaluate(MESURER)
        for couple in etroits:
            assert couple["haut_dd"] >= couple["bas_dt"] - 1, couple  # la valeur sous son intitulé
            assert couple["droite_dd"] <= couple["largeur"] and not couple["debord_dd"], couple
        courriel = next(c for c in etroits if c["intitule"] == "Courriel")
        assert courriel["gauche_dd"] >= 0
        # Rien ne déborde de la page : un tableau plus large défile dans son propre conteneur.
        assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
        page.audit("structure-320px")
