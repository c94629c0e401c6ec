"""Les composants DSFR répétés (tableau, alerte, mise en avant, bandeau, liste de résumé, badge) viennent des
macros de `macros/dsfr.html`, et chaque tableau que le portail affiche a un titre et un conteneur que le
clavier fait défiler.

Le premier test lit les gabarits : un composant écrit à la main ailleurs que dans le module de macros échoue
(les gabarits des PDF et des courriels, rendus sans le DSFR, en sont exclus). Le second ouvre, avec le client
de test, chaque écran qu'audite axe-core dans Chromium (même carte des routes, mêmes rôles) et lit chaque
tableau rendu."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import dauphin
from tests import test_matrice_autorisations as matrice
from tests.formulaires_html import champs
from tests.test_navigateur_tous_les_ecrans import STATUTS_ATTENDUS, ecrans_a_auditer

objets = matrice.objets  # la fixture : les objets de la structure porteuse et un compte par rôle

GABARITS = Path(dauphin.__file__).parent / "templates"
MODULE_DE_MACROS = GABARITS / "macros" / "dsfr.html"
# Gabarits rendus sans le DSFR : PDF imprimés par WeasyPrint, courriels lus dans une messagerie.
HORS_DSFR = {"pdf", "courriels"}

# Ce qui trahit un composant écrit à la main, et la macro à appeler à la place.
COMPOSANTS = {
    "dsfr.tableau": re.compile(r"<table\b|<caption\b|\bfr-table"),
    "dsfr.alerte": re.compile(r"\bfr-alert"),
    "dsfr.mise_en_avant": re.compile(r"\bfr-callout"),
    "dsfr.bandeau": re.compile(r"\bfr-notice"),
    "dsfr.liste_resume": re.compile(r"\bdauphin-resume(?![\w-])"),
    "dsfr.badge": re.compile(r"\bfr-badge"),
}


def composants_ecrits_a_la_main(gabarits: Path = GABARITS) -> list[str]:
    ecarts = []
    for chemin in sorted(gabarits.rglob("*.html")):
        if chemin == MODULE_DE_MACROS or chemin.relative_to(gabarits).parts[0] in HORS_DSFR:
            continue
        for numero, ligne in enumerate(chemin.read_text(encoding="utf-8").splitlines(), start=1):
            for macro, motif in COMPOSANTS.items():
                if motif.search(ligne):
                    ecarts.append(f"{chemin.relative_to(gabarits)}:{numero} : utilisez {macro}")
    return ecarts


def test_les_composants_dsfr_viennent_des_macros():
    assert composants_ecrits_a_la_main() == []


def test_le_controle_des_gabarits_trouve_un_composant_ecrit_a_la_main(tmp_path):
    (tmp_path / "pdf").mkdir()
    (tmp_path / "pdf" / "recu.html").write_text("<table><caption>Reçu</caption></table>")
    (tmp_path / "courriels").mkdir()
    (tmp_path / "courriels" / "corps.html").write_text('<table role="presentation"></table>')
    (tmp_path / "liste.html").write_text(
        '<div class="fr-alert fr-alert--info"><p>Rien.</p></div>\n<dl class="dauphin-resume fr-mb-2w"></dl>\n'
        '<ul class="dauphin-resume-erreurs__liste"></ul>\n<a class="fr-icon-table-line">Programmations</a>'
    )
    assert composants_ecrits_a_la_main(tmp_path) == [
        "liste.html:1 : utilisez dsfr.alerte",
        "liste.html:2 : utilisez dsfr.liste_resume",
    ]


# --- Les tableaux rendus ------------------------------------------------------------------------

BALISES_VIDES = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "track",
    "wbr",
}


class _LecteurDeTableaux(HTMLParser):
    """Chaque <table> de la page : les classes de ses ancêtres, son conteneur qui défile, son titre."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.pile: list[tuple[str, dict]] = []
        self.tableaux: list[dict] = []
        self.identifiants: set[str] = set()
        self._titre: list[str] | None = None

    def handle_starttag(self, balise, attributs):
        a = {cle: valeur or "" for cle, valeur in attributs}
        if "id" in a:
            self.identifiants.add(a["id"])
        parent = self.pile[-1][1] if self.pile else {}
        if "_tableau" in parent and parent["_tableau"]["premier_enfant"] is None:
            parent["_tableau"]["premier_enfant"] = balise
        # Un tableau de mise en page (role="presentation" : l'aperçu d'un courriel) n'est pas un tableau.
        if balise == "table" and a.get("role") not in ("presentation", "none"):
            ancetres = [(b, x.get("class", "").split()) for b, x in self.pile]
            conteneur = next(
                (x for _, x in reversed(self.pile) if "fr-table__container" in x.get("class", "")), None
            )
            a["_tableau"] = {
                "id": a.get("id"),
                "ancetres": ancetres,
                "conteneur": conteneur,
                "premier_enfant": None,
            }
            a["_tableau"]["titre"] = ""
            self.tableaux.append(a["_tableau"])
        elif balise == "caption" and "_tableau" in parent:
            self._titre = []
            self._tableau_du_titre = parent["_tableau"]
        if balise not in BALISES_VIDES:
            self.pile.append((balise, a))

    def handle_endtag(self, balise):
        if balise == "caption" and self._titre is not None:
            self._tableau_du_titre["titre"] = " ".join("".join(self._titre).split())
            self._titre = None
        for i in range(len(self.pile) - 1, -1, -1):  # une balise non fermée se referme avec son parent
            if self.pile[i][0] == balise:
                del self.pile[i:]
                break

    def handle_data(self, donnees):
        if self._titre is not None:
            self._titre.append(donnees)


def defauts_des_tableaux(html: str) -> list[str]:
    lecteur = _LecteurDeTableaux()
    lecteur.feed(html)
    defauts = []
    for rang, tableau in enumerate(lecteur.tableaux, start=1):
        nom = f"tableau {rang} « {tableau['titre'] or tableau['id'] or '?'} »"
        if tableau["premier_enfant"] != "caption" or not tableau["titre"]:
            defauts.append(f"{nom} : sans titre (<caption> non vide en premier)")
        # Les quatre enveloppes du DSFR, dans l'ordre, la dernière juste autour du tableau.
        enveloppes = [
            c for _, classes in tableau["ancetres"] for c in classes if re.fullmatch(r"fr-table(__\w+)?", c)
        ]
        attendues = ["fr-table", "fr-table__wrapper", "fr-table__container", "fr-table__content"]
        if enveloppes[-4:] != attendues or "fr-table__content" not in tableau["ancetres"][-1][1]:
            defauts.append(f"{nom} : enveloppes DSFR {enveloppes} au lieu de {attendues}")
        conteneur = tableau["conteneur"] or {}
        if conteneur.get("tabindex") != "0":
            defauts.append(f"{nom} : conteneur non focalisable (tabindex=0)")
        nomme = conteneur.get("aria-label", "").strip() or (
            conteneur.get("aria-labelledby")
            and set(conteneur["aria-labelledby"].split()) <= lecteur.identifiants
        )
        if conteneur.get("role") != "region" or not nomme:
            defauts.append(f"{nom} : conteneur qui n'est pas une région nommée")
    return defauts


def test_le_lecteur_de_tableaux_voit_un_conteneur_que_le_clavier_n_atteint_pas():
    """La copie du tableau de clôture d'une séance, sans tabindex, telle qu'elle était."""
    html = (
        '<div class="fr-table"><div class="fr-table__wrapper"><div class="fr-table__container">'
        '<div class="fr-table__content"><table><caption>Décisions à la clôture</caption><tbody><tr><td>x</td>'
        "</tr></tbody></table></div></div></div></div>"
        '<table><thead><tr><th scope="col">Sans titre ni enveloppe</th></tr></thead></table>'
    )
    assert defauts_des_tableaux(html) == [
        "tableau 1 « Décisions à la clôture » : conteneur non focalisable (tabindex=0)",
        "tableau 1 « Décisions à la clôture » : conteneur qui n'est pas une région nommée",
        "tableau 2 « ? » : sans titre (<caption> non vide en premier)",
        "tableau 2 « ? » : enveloppes DSFR [] au lieu de "
        "['fr-table', 'fr-table__wrapper', 'fr-table__container', 'fr-table__content']",
        "tableau 2 « ? » : conteneur non focalisable (tabindex=0)",
        "tableau 2 « ? » : conteneur qui n'est pas une région nommée",
    ]


def test_chaque_tableau_rendu_a_un_titre_et_un_conteneur_que_le_clavier_fait_defiler(
    app, connexion, client, objets
):
    par_role, _ = ecrans_a_auditer(app, objets)
    pages: list[tuple[str, str]] = []  # (adresse et rôle, HTML)
    for role, ecrans in sorted(par_role.items()):
        if role != "anonyme":
            connexion.en_tant_que(objets["comptes"][role])
        for endpoint, chemin in ecrans:
            reponse = client.get(chemin)
            if reponse.status_code == 302:
                continue  # un écran qui renvoie ailleurs n'a pas de tableau ; l'audit axe-core le signale
            assert reponse.status_code == STATUTS_ATTENDUS.get(endpoint, 200), f"{chemin} ({role})"
            pages.append((f"{chemin} ({role})", reponse.get_data(as_text=True)))
        if role != "anonyme":
            connexion.deconnexion()
    # La séance du monde est en préparation : le pilote ouvre le vote, et la séance puis l'écran de clôture
    # montrent leurs tableaux (celui des décisions à la clôture, le clavier ne l'atteignait pas).
    connexion.en_tant_que(objets["comptes"]["pilote"])
    seance = f"/comites/{objets['seance']}"
    ouvrir = f"{seance}/ouvrir"
    formulaire = champs(client.get(seance).get_data(as_text=True), ouvrir)
    assert client.post(ouvrir, data=formulaire).status_code == 302
    # La feuille de présence remplie (chaque partenaire présent) : la clôture montre alors ses décisions.
    page = client.get(seance).get_data(as_text=True)
    presences = f"{seance}/presences"
    formulaire = champs(page, presences)
    formulaire.update(dict.fromkeys(set(re.findall(r'name="(presence_\d+)"', page)), "present"))
    assert client.post(presences, data=formulaire).status_code == 302
    for chemin in (seance, f"{seance}/clore"):
        pages.append((f"{chemin} (pilote)", client.get(chemin).get_data(as_text=True)))
    assert "Décisions à la clôture" in pages[-1][1]

    assert [f"{ou} : {defaut}" for ou, html in pages for defaut in defauts_des_tableaux(html)] == []
    tableaux = sum(html.count("<caption>") for _, html in pages)
    assert tableaux >= 40, "les écrans parcourus devraient montrer des dizaines de tableaux"


def test_resume_des_erreurs_sans_point_avant_les_deux_points(app):
    """Le libellé d'une case qui est une phrase finit par un point : le résumé lit « …sociaux : Cette
    attestation… », jamais « …sociaux. : Cette attestation… »."""
    from werkzeug.datastructures import MultiDict

    from forms.demande import AttestationForm

    with app.test_request_context(method="POST"):
        form = AttestationForm(formdata=MultiDict({"version": "1"}), meta={"csrf": False})
        assert not form.validate()
        rendu = app.jinja_env.from_string(
            '{% import "macros/dsfr.html" as dsfr %}{{ dsfr.resume_erreurs(form) }}'
        ).render(form=form)
    assert "fiscaux et sociaux : Cette attestation est obligatoire" in rendu
    assert ". :" not in rendu
