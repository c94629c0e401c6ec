"""Les rangées des tableaux de la vue d'un dossier (financeurs sollicités, autres demandes de la structure,
historique), écrites en Python.

Écrite par le gabarit, une rangée passait par un appel du `caller` de `dsfr.tableau` et, pour chaque valeur,
par `getattr`, `escape` et les filtres de Jinja : une centaine d'appels de fonctions Python par rangée. Même
HTML, au caractère près, que les appels `{% call(…) dsfr.tableau(…, lignes=…) %}` qu'elles remplacent
(tests/unit/test_tableaux_du_dossier.py) : le gabarit appelle `dsfr.tableau` sans `lignes` et écrit
`<tbody>{{ rangées }}          </tbody>` (comme usager/tableau_de_bord.html) ; badges et montants viennent
des mêmes globales et filtres que le gabarit."""

from __future__ import annotations

from flask import current_app
from markupsafe import Markup

from dauphin.socle import echapper_en_markup as _texte  # la valeur échappée comme l'écrit `{{ valeur }}`
from dauphin.urls import url_de_demande
from workflows.statuts import statut_ligne_vu_du_porteur

# Ce que `dsfr.tableau` écrit avant chaque rangée d'un tableau à `lignes` (l'indentation de sa ligne).
AVANT_LA_RANGEE = " " * 10


def rangees_des_financeurs(lignes, instruction_visible: bool) -> Markup:
    """Le corps du tableau des lignes de financement (entre <tbody> et l'indentation de </tbody>) : le
    statut de la ligne tel que le porteur le voit hors de l'instruction, et le montant proposé pour
    l'instruction seule."""
    env = current_app.jinja_env
    badge_statut, euros = env.globals["badge_statut"], env.filters["euros"]
    html = []
    for ligne in lignes:
        statut = ligne.statut if instruction_visible else statut_ligne_vu_du_porteur(ligne.statut)
        propose = (
            f'<td class="dauphin-numerique">{_texte(euros(ligne.montant_propose))}</td>'
            if instruction_visible
            else ""
        )
        html.append(
            f"{AVANT_LA_RANGEE}    <tr>\n"
            f'      <th scope="row">{_texte(ligne.organisation.nom)}</th>\n'
            f"      <td>{badge_statut(statut, petit=True)}</td>\n"
            f'      <td class="dauphin-numerique">{_texte(euros(ligne.montant_demande))}</td>\n'
            f"{propose}"
            f'      <td class="dauphin-numerique">{_texte(euros(ligne.montant_vote))}</td>\n'
            f'      <td class="dauphin-numerique">{_texte(euros(ligne.montant_verse))}</td>\n'
            "    </tr>\n"
        )
    return Markup("".join(html))


def rangees_des_autres_demandes(autres) -> Markup:
    """Le corps d'un tableau des autres demandes de la structure (`services.instruction.AutreDemande`)."""
    env = current_app.jinja_env
    badge_statut, euros = env.globals["badge_statut"], env.filters["euros"]
    html = []
    for autre in autres:
        adresse = url_de_demande("dossiers.voir", autre.id)
        html.append(
            f"{AVANT_LA_RANGEE}    <tr>\n"
            f'      <td class="dauphin-sans-coupure">{_texte(autre.numero)}</td>\n'
            f'      <th scope="row"><a href="{_texte(adresse)}">{_texte(autre.titre)}</a></th>\n'
            f"      <td>{_texte(autre.contrat)}</td>\n"
            f"      <td>{_texte(autre.exercice)}</td>\n"
            f"      <td>{badge_statut(autre.statut, petit=True)}</td>\n"
            f'      <td class="dauphin-numerique">{_texte(euros(autre.montant_demande))}</td>\n'
            f'      <td class="dauphin-numerique">{_texte(euros(autre.montant_vote))}</td>\n'
            "    </tr>\n"
        )
    return Markup("".join(html))


def rangees_de_l_historique(evenements) -> Markup:
    """Le corps du tableau de l'historique : ses cellules, déjà écrites (`dossiers.LigneDHistorique`)."""
    html = [
        f"{AVANT_LA_RANGEE}    <tr>\n"
        f"      <td>{_texte(e.date)}</td>\n"
        f'      <td>{_texte(e.qui)}<br><span class="fr-text--xs">{_texte(e.role)}</span></td>\n'
        f"      <td>{_texte(e.objet)}</td>\n"
        f'      <td>{_texte(e.action)}<br><span class="fr-text--xs">{_texte(e.statuts)}</span></td>\n'
        f"      <td>{_texte(e.commentaire)}</td>\n"
        "    </tr>\n"
        for e in evenements
    ]
    return Markup("".join(html))
