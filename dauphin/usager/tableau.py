"""Les lignes du tableau des demandes du tableau de bord (usager/tableau_de_bord.html), écrites en Python.

Écrites par le gabarit, elles coûtaient 2,2 ms sur les 8,6 d'un affichage (25 demandes et leurs soixante
lignes de financement : 12 700 appels de fonctions, chaque valeur passant par `getattr`, `escape` et
`context.call` de Jinja). Même HTML, au caractère près, que la boucle qu'elles remplacent
(tests/unit/test_tableaux_en_python.py) ; les badges, montants, sigles et le bouton de détail viennent des
mêmes filtres, globales et macros que le gabarit."""

from __future__ import annotations

from flask import current_app
from markupsafe import Markup

from dauphin.urls import url_de_demande
from forms.champs import ENTITES
from workflows.statuts import statut_ligne_vu_du_porteur


def lignes_du_tableau(demandes, actions: dict, lignes_par_demande: dict, contrats: dict) -> Markup:
    """Le corps du tableau (sans <tbody>) : pour chaque demande sa ligne, puis ses sous-lignes par financeur,
    cachées. Par demande : `actions`, sa `prochaine_action` ; `lignes_par_demande`, ses lignes
    (`lignes_de_la_page`) ; `contrats`, le libellé de son contrat."""
    env = current_app.jinja_env
    badge_statut, euros, sigles = env.globals["badge_statut"], env.filters["euros"], env.filters["sigles"]
    quantite = env.filters["quantite"]
    bouton_detail = env.get_template("macros/dsfr.html").module.bouton_detail
    html = []
    for demande in demandes:
        ident = demande.id
        lignes, sollicite, vote = lignes_par_demande[ident]
        numero = demande.numero
        titre = demande.titre.translate(ENTITES)
        detail = ""
        if lignes:
            bouton = bouton_detail(
                "Détail : " + quantite(len(lignes), "financeur"),
                f"financeur-{ident}-",
                [ligne.id for ligne in lignes],
                f"de la demande {numero or demande.titre}",
            )
            detail = f"<br>{bouton}"  # pas « "<br>" + bouton » : Markup échapperait « <br> »
        action = actions[ident]
        if not action:
            suite = "—"
        elif action.endpoint:
            adresse = url_de_demande(action.endpoint, ident, etape=action.etape)
            libelle = action.libelle.translate(ENTITES)
            suite = f'<a class="fr-link" href="{adresse.translate(ENTITES)}">{libelle}</a>'
        else:
            suite = action.libelle.translate(ENTITES)
        dossier = url_de_demande("dossiers.voir", ident).translate(ENTITES)
        html.append(
            f'            <tr data-demande="{ident}">\n'
            f'    <th scope="row"><a href="{dossier}">{titre}</a><br>\n'
            '      <span class="fr-text--xs">'
            + (f'<span class="dauphin-sans-coupure">{numero.translate(ENTITES)}</span> · ' if numero else "")
            + f"{demande.structure.nom.translate(ENTITES)} · {contrats[ident].translate(ENTITES)} · exercice "
            f"{demande.exercice}</span>{detail}</th>\n"
            f"    <td>{badge_statut(demande.statut, petit=True)}</td>\n"
            f'    <td class="dauphin-numerique">{euros(sollicite).translate(ENTITES)}</td>\n'
            f'    <td class="dauphin-numerique">{euros(vote).translate(ENTITES)}</td>\n'
            f"    <td>\n{suite}    </td>\n"
            "  </tr>\n"
        )
        for ligne in lignes:
            vote_de_la_ligne = euros(ligne.montant_vote) if ligne.decidee else "—"
            html.append(
                f'  <tr id="financeur-{ident}-{ligne.id}" class="dauphin-sous-ligne" hidden>\n'
                f'    <th scope="row">{sigles(ligne.financeur)}</th>\n'
                f"    <td>{badge_statut(statut_ligne_vu_du_porteur(ligne.statut), petit=True)}</td>\n"
                f'    <td class="dauphin-numerique">{euros(ligne.montant_demande).translate(ENTITES)}</td>\n'
                f'    <td class="dauphin-numerique">{vote_de_la_ligne.translate(ENTITES)}</td>\n'
                "    <td></td>\n"
                "  </tr>\n"
            )
    return Markup("".join(html))
