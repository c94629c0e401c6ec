"""Les lignes du tableau de l'espace de travail (instruction/corbeille.html), écrites en Python.

Écrites par le gabarit, chaque valeur d'une ligne passait par `getattr`, `escape` et `context.call` de Jinja :
6 700 des 30 000 appels de fonctions d'une page de 25 demandes. Même HTML, au caractère près, que la boucle
qu'elles remplacent (tests/unit/test_tableaux_en_python.py) ; badges, montants, dates, le badge de retard
et le bouton de détail viennent des mêmes filtres, globales et macros que le gabarit."""

from __future__ import annotations

from flask import current_app
from markupsafe import Markup, escape

from dauphin.urls import url_de_demande, url_par_identifiant
from forms.champs import ENTITES


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
    macros = env.get_template("macros/dsfr.html").module
    filtrer_sur_la_structure = url_par_identifiant("instruction.corbeille", "structure", **parametres)
    financeur = espace.mode == "financeur"
    html = []
    for demande in page.items:
        ident, numero, nom = demande.id, escape(demande.numero), demande.structure.nom.translate(ENTITES)
        lignes = [] if financeur else demande.lignes_actives
        suite = ""
        en_retard = [
            n
            for n in retards.get((demande.structure_id, espace.organisation_id)) or []
            if n != demande.numero
        ]
        if en_retard:
            liste = ", ".join(en_retard)
            badge = macros.badge(
                f"Compte rendu en retard ({liste})",
                "error",
                petit=True,
                classes="dauphin-retard-cr",
                attributs={"title": f"Comptes rendus financiers en retard : {liste}"},
            )
            suite += f"<br>{badge}"
        if lignes:
            bouton = macros.bouton_detail(
                "Détail : " + env.filters["quantite"](len(lignes), "financeur"),
                f"financeur-{ident}-",
                [ligne.id for ligne in lignes],
                f"de la demande {demande.numero}",
            )
            suite += f"<br>{bouton}"
        if financeur:
            ligne = page.lignes[ident]
            gestionnaire = (
                f'<span class="fr-text--xs">Gestionnaire : {ligne.gestionnaire.translate(ENTITES)}</span>'
                if ligne.gestionnaire
                else ""
            )
            montant = euros(ligne.montant_demande).translate(ENTITES)
            montants = (
                f"      <td>{badge_statut(ligne.statut, petit=True)}{gestionnaire}</td>\n"
                f'      <td class="dauphin-numerique">{montant}</td>\n'
            )
        else:
            montant = euros(demande.montant_sollicite).translate(ENTITES)
            montants = f'      <td class="dauphin-numerique">{montant}</td>\n'
        dossier = url_de_demande("dossiers.voir", ident).translate(ENTITES)
        # Pour un financeur, le libellé du contrat est lu avec sa ligne (`page_demandes`)
        contrat = (page.lignes[ident].contrat if financeur else demande.campagne.contrat.libelle).translate(
            ENTITES
        )
        filtre = filtrer_sur_la_structure(demande.structure_id).translate(ENTITES)
        transmise_le = date_courte(demande.transmise_le).translate(ENTITES)
        html.append(
            f'    <tr data-demande="{numero}">\n'
            f'      <td class="dauphin-sans-coupure">{numero}</td>\n'
            f'      <th scope="row"><a href="{dossier}">'
            f'{demande.titre.translate(ENTITES)}</a><br><span class="fr-text--xs">{contrat}'
            f" · exercice {demande.exercice}</span>{suite}</th>\n"
            f'      <td><a class="fr-link fr-link--sm" href="{filtre}"'
            f' title="Filtrer sur les demandes de {nom}">{nom}</a></td>\n'
            f'      <td class="dauphin-sans-coupure">{transmise_le}</td>\n'
            f"      <td>{badge_statut(demande.statut, petit=True)}</td>\n"
            f"{montants}"
            "    </tr>\n"
        )
        for ligne in lignes:
            montant = euros(ligne.montant_demande).translate(ENTITES)
            html.append(
                f'    <tr id="financeur-{ident}-{ligne.id}" class="dauphin-sous-ligne" hidden>\n'
                f'      <th scope="row" colspan="4">{ligne.organisation.nom.translate(ENTITES)}</th>\n'
                f"      <td>{badge_statut(ligne.statut, petit=True)}</td>\n"
                f'      <td class="dauphin-numerique">{montant}</td>\n'
                "    </tr>\n"
            )
    return Markup("".join(html))
