"""Les lignes du tableau de l'espace de travail (instruction/corbeille.html), écrites en Python.

Écrites par le gabarit, chaque valeur d'une ligne passait par `getattr`, `escape` et `context.call` de Jinja :
6 700 des 30 000 appels de fonctions d'une page de 25 demandes. Même HTML, au caractère près, que la boucle
qu'elles remplacent (tests/unit/test_tableaux_en_python.py) ; badges, montants, dates, le badge de retard
et le bouton de détail viennent des mêmes filtres, globales et macros que le gabarit.

Comme pour le tableau de bord (usager/tableau.py), ce qui se répète d'une ligne à l'autre est écrit une fois
par page : montants (par valeur), badges (par statut), contrats, gestionnaires, financeurs, structures et
leur lien de filtre, badges de retard ; l'adresse du dossier par ses deux morceaux autour de l'identifiant,
le bouton de détail par le modèle de sa macro (`badges.bouton_detail`), chaque texte échappé par `echapper`
et non par `str.translate`."""

from __future__ import annotations

from flask import current_app
from markupsafe import Markup

from dauphin.badges import bouton_detail
from dauphin.cellules import ParValeur, adresses_de_demandes
from dauphin.services.instruction import TRIS
from dauphin.urls import url_par_identifiant, url_par_textes
from forms.champs import echapper


def lignes_du_tableau(page, espace, retards: dict, parametres: dict) -> Markup:
    """Le corps du tableau (entre <tbody> et </tbody>) : une ligne par demande de `page` ; pour un financeur,
    sa ligne (`page.lignes`) ; pour un partenaire ou le pilote, les sous-lignes cachées par financeur.
    `retards` : `comptes_rendus.retards_envers` ; `parametres` : ceux des liens de la page."""
    env = current_app.jinja_env
    badge_statut, euros, date_courte = (
        env.globals["badge_statut"],
        env.filters["euros"],
        env.filters["date_courte"],
    )
    quantite = env.filters["quantite"]
    macros = env.get_template("macros/dsfr.html").module
    bouton = bouton_detail(env)
    montants = ParValeur(euros)  # chiffres, espaces, virgule, signe, « € » ou « — » : rien à échapper
    badges = ParValeur(lambda statut: badge_statut(statut, petit=True))
    detail = ParValeur(lambda nombre: "Détail : " + quantite(nombre, "financeur"))
    textes = ParValeur(echapper)  # contrats, gestionnaires, financeurs
    noms = {}  # des structures, par identifiant
    filtrer_sur_la_structure = url_par_identifiant("instruction.corbeille", "structure", **parametres)
    filtres = ParValeur(lambda structure_id: echapper(filtrer_sur_la_structure(structure_id)))
    badges_de_retard = ParValeur(lambda en_retard: _badge_de_retard(macros, ", ".join(en_retard)))
    dossier = adresses_de_demandes("dossiers.voir")
    financeur = espace.mode == "financeur"
    html = []
    for demande in page.items:
        ident, numero, structure_id = demande.id, demande.numero, demande.structure_id
        numero_html = echapper(str(numero))  # « None » sans numéro, comme le gabarit
        nom = noms.get(structure_id)
        if nom is None:
            nom = noms[structure_id] = echapper(demande.structure.nom)
        lignes = [] if financeur else demande.lignes_actives
        suite = ""
        en_retard = retards.get((structure_id, espace.organisation_id))
        if en_retard:
            en_retard = tuple(n for n in en_retard if n != numero)
            if en_retard:
                suite = "<br>" + badges_de_retard[en_retard]
        if lignes:
            suite += "<br>" + bouton(
                detail[len(lignes)],
                f"financeur-{ident}-",
                [ligne.id for ligne in lignes],
                f"de la demande {numero}",
            )
        if financeur:
            ligne = page.lignes[ident]
            gestionnaire = (
                f'<span class="fr-text--xs">Gestionnaire : {textes[ligne.gestionnaire]}</span>'
                if ligne.gestionnaire
                else ""
            )
            montants_html = (
                f"      <td>{badges[ligne.statut]}{gestionnaire}</td>\n"
                f'      <td class="dauphin-numerique">{montants[ligne.montant_demande]}</td>\n'
            )
            # Pour un financeur, le libellé du contrat est lu avec sa ligne (`page_demandes`)
            contrat = textes[ligne.contrat]
        else:
            montants_html = (
                f'      <td class="dauphin-numerique">{montants[demande.montant_sollicite]}</td>\n'
            )
            contrat = textes[demande.campagne.contrat.libelle]
        html.append(
            f'    <tr data-demande="{numero_html}">\n'
            f'      <td class="dauphin-sans-coupure">{numero_html}</td>\n'
            f'      <th scope="row"><a href="{dossier(ident)}">'
            f'{echapper(demande.titre)}</a><br><span class="fr-text--xs">{contrat}'
            f" · exercice {demande.exercice}</span>{suite}</th>\n"
            f'      <td><a class="fr-link fr-link--sm" href="{filtres[structure_id]}"'
            f' title="Filtrer sur les demandes de {nom}">{nom}</a></td>\n'
            # une date (chiffres et barres obliques) ou « — » : rien à échapper
            f'      <td class="dauphin-sans-coupure">{date_courte(demande.transmise_le)}</td>\n'
            f"      <td>{badges[demande.statut]}</td>\n"
            f"{montants_html}"
            "    </tr>\n"
        )
        for ligne in lignes:
            html.append(
                f'    <tr id="financeur-{ident}-{ligne.id}" class="dauphin-sous-ligne" hidden>\n'
                f'      <th scope="row" colspan="4">{textes[ligne.organisation.nom]}</th>\n'
                f"      <td>{badges[ligne.statut]}</td>\n"
                f'      <td class="dauphin-numerique">{montants[ligne.montant_demande]}</td>\n'
                "    </tr>\n"
            )
    return Markup("".join(html))


def _badge_de_retard(macros, liste: str) -> str:
    """Le badge des comptes rendus en retard de la structure (numéros de ses autres demandes, `liste`)."""
    return str(
        macros.badge(
            f"Compte rendu en retard ({liste})",
            "error",
            petit=True,
            classes="dauphin-retard-cr",
            attributs={"title": f"Comptes rendus financiers en retard : {liste}"},
        )
    )


# Les colonnes triables du tableau, (clé du tri, libellé) : les tris du service sauf la pertinence, qui n'a
# pas de colonne ; et celles qui se trient d'abord en croissant
COLONNES_TRIABLES = {cle: libelle for cle, libelle in TRIS.items() if cle != "pertinence"}
_CROISSANTES_D_ABORD = ("structure", "numero")


def entetes_de_tri(parametres: dict, onglet: str, tri: str, ordre: str) -> dict[str, Markup]:
    """L'en-tête de chaque colonne triable (`COLONNES_TRIABLES`), écrit en Python comme ses lignes : même
    HTML que la macro `entete_tri` qu'il remplace (tests/unit/test_tableaux_en_python.py), les adresses des
    tris par un modèle (`url_par_textes`) au lieu d'un `url_for` et d'un appel de macro par colonne."""
    adresse = url_par_textes("instruction.corbeille", ("tri", "ordre"), **dict(parametres, onglet=onglet))
    entetes = {}
    for cle, libelle in COLONNES_TRIABLES.items():
        actif = tri == cle
        if actif:
            prochain = "asc" if ordre == "desc" else "desc"
            aria = f' aria-sort="{"ascending" if ordre == "asc" else "descending"}"'
            classe = "fr-btn--sort-asc" if ordre == "asc" else "fr-btn--sort-desc"
        else:
            prochain = "asc" if cle in _CROISSANTES_D_ABORD else "desc"
            aria, classe = "", "fr-btn--sort"
        sens = "croissant" if prochain == "asc" else "décroissant"
        texte = f"Trier par {echapper(libelle.lower())}, ordre {sens}"
        entetes[cle] = Markup(
            f'<th scope="col"{aria}>\n'
            '  <div class="fr-cell--sort">\n'
            f"    {echapper(libelle)}\n"
            f'    <a class="fr-btn fr-btn--sm fr-btn--tertiary-no-outline {classe}"'
            f' href="{echapper(adresse(cle, prochain))}" title="{texte}">{texte}</a>\n'
            "  </div>\n"
            "</th>"
        )
    return entetes
