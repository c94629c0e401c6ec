"""Les lignes du tableau des demandes du tableau de bord (usager/tableau_de_bord.html), écrites en Python.

Écrites par le gabarit, elles coûtaient 2,2 ms sur les 8,6 d'un affichage (25 demandes et leurs soixante
lignes de financement : 12 700 appels de fonctions, chaque valeur passant par `getattr`, `escape` et
`context.call` de Jinja). Même HTML, au caractère près, que la boucle qu'elles remplacent
(tests/unit/test_tableaux_en_python.py) ; les badges, montants, sigles et le bouton de détail viennent des
mêmes filtres, globales et macros que le gabarit.

Ce qui se répète d'une ligne à l'autre est écrit une fois par page : chaque montant (par valeur), badge (par
statut), structure, contrat, prochaine étape et adresse (ses deux morceaux autour de l'identifiant) ; le
bouton de détail remplit le modèle de sa macro (`badges.bouton_detail`). Chaque texte est échappé par
`echapper`, non par `str.translate` : 0,5 ms au lieu de 1,0 par affichage (base du banc)."""

from __future__ import annotations

from flask import current_app
from markupsafe import Markup

from dauphin.badges import bouton_detail
from dauphin.cellules import ParValeur, adresses_de_demandes
from forms.champs import echapper
from workflows.statuts import statut_ligne_vu_du_porteur


def _cellule_d_action(action):
    """La cellule « Prochaine étape » d'une action : `ident → HTML`."""
    if not action:
        return lambda _ident: "—"
    libelle = echapper(action.libelle)
    if not action.endpoint:
        return lambda _ident: libelle
    adresse = adresses_de_demandes(action.endpoint, etape=action.etape)
    return lambda ident: f'<a class="fr-link" href="{adresse(ident)}">{libelle}</a>'


def lignes_du_tableau(demandes, actions: dict, lignes_par_demande: dict, contrats: dict) -> Markup:
    """Le corps du tableau (sans <tbody>) : pour chaque demande sa ligne, puis ses sous-lignes par financeur,
    cachées. Par demande : `actions`, sa `prochaine_action` ; `lignes_par_demande`, ses lignes
    (`lignes_de_la_page`) ; `contrats`, le libellé de son contrat."""
    env = current_app.jinja_env
    badge_statut, euros, sigles = env.globals["badge_statut"], env.filters["euros"], env.filters["sigles"]
    quantite = env.filters["quantite"]
    bouton = bouton_detail(env)
    montants = ParValeur(euros)  # chiffres, espaces, virgule, signe, « € » ou « — » : rien à échapper
    badges = ParValeur(lambda statut: badge_statut(statut, petit=True))
    badges_de_ligne = ParValeur(lambda statut: badge_statut(statut_ligne_vu_du_porteur(statut), petit=True))
    detail = ParValeur(lambda nombre: "Détail : " + quantite(nombre, "financeur"))
    noms = {}  # des structures, par identifiant
    contrats_html = ParValeur(echapper)
    cellules_d_action = ParValeur(_cellule_d_action)
    dossier = adresses_de_demandes("dossiers.voir")
    html = []
    for demande in demandes:
        ident = demande.id
        lignes, sollicite, vote = lignes_par_demande[ident]
        numero = demande.numero
        nom = noms.get(demande.structure_id)
        if nom is None:
            nom = noms[demande.structure_id] = echapper(demande.structure.nom)
        titre = demande.titre
        titre_html = echapper(titre)
        bouton_html = ""
        if lignes:
            bouton_html = "<br>" + bouton(
                detail[len(lignes)],
                f"financeur-{ident}-",
                [ligne.id for ligne in lignes],
                f"de la demande {numero or titre}",
            )
        html.append(
            f'            <tr data-demande="{ident}">\n'
            f'    <th scope="row"><a href="{dossier(ident)}">{titre_html}</a><br>\n'
            '      <span class="fr-text--xs">'
            + (f'<span class="dauphin-sans-coupure">{echapper(numero)}</span> · ' if numero else "")
            + f"{nom} · {contrats_html[contrats[ident]]} · exercice "
            f"{demande.exercice}</span>{bouton_html}</th>\n"
            f"    <td>{badges[demande.statut]}</td>\n"
            f'    <td class="dauphin-numerique">{montants[sollicite]}</td>\n'
            f'    <td class="dauphin-numerique">{montants[vote]}</td>\n'
            f"    <td>\n{cellules_d_action[actions[ident]](ident)}    </td>\n"
            "  </tr>\n"
        )
        for ligne in lignes:
            vote_de_la_ligne = montants[ligne.montant_vote] if ligne.decidee else "—"
            html.append(
                f'  <tr id="financeur-{ident}-{ligne.id}" class="dauphin-sous-ligne" hidden>\n'
                f'    <th scope="row">{sigles(ligne.financeur)}</th>\n'
                f"    <td>{badges_de_ligne[ligne.statut]}</td>\n"
                f'    <td class="dauphin-numerique">{montants[ligne.montant_demande]}</td>\n'
                f'    <td class="dauphin-numerique">{vote_de_la_ligne}</td>\n'
                "    <td></td>\n"
                "  </tr>\n"
            )
    return Markup("".join(html))
