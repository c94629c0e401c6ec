"""Les rangées des tableaux de la vue d'un dossier (dauphin/dossiers/tableaux.py) sont écrites en Python : le
HTML doit rester, au caractère près, celui des appels `{% call(…) dsfr.tableau(…, lignes=…) %}` qu'elles
remplacent (recopiés ici), tableau compris, pour le porteur et pour l'instruction, montants inconnus, demande
sans numéro et textes à échapper."""

from decimal import Decimal
from types import SimpleNamespace as Objet

import pytest

from dauphin.dossiers import LigneDHistorique
from dauphin.dossiers.tableaux import (
    rangees_de_l_historique,
    rangees_des_autres_demandes,
    rangees_des_financeurs,
)
from workflows.statuts import StatutDemande, StatutLigne, statut_ligne_vu_du_porteur

# Le tableau des financeurs sollicités de dossiers/voir.html avant dossiers/tableaux.py
ANCIEN_TABLEAU_DES_FINANCEURS = """{% import "macros/dsfr.html" as dsfr %}
  {% set colonnes = ['Financeur', 'Statut', 'Demandé'] + (['Proposé'] if instruction_visible else []) + ['Voté', 'Versé'] %}
  {% call(ligne) dsfr.tableau('Lignes de financement de la demande', titre_cache=true, colonnes=colonnes, lignes=lignes) %}
    <tr>
      <th scope="row">{{ ligne.organisation.nom }}</th>
      <td>{{ badge_statut(ligne.statut if instruction_visible else statut_ligne_vu_du_porteur(ligne.statut), petit=true) }}</td>
      <td class="dauphin-numerique">{{ ligne.montant_demande | euros }}</td>
      {% if instruction_visible %}<td class="dauphin-numerique">{{ ligne.montant_propose | euros }}</td>{% endif %}
      <td class="dauphin-numerique">{{ ligne.montant_vote | euros }}</td>
      <td class="dauphin-numerique">{{ ligne.montant_verse | euros }}</td>
    </tr>
  {% endcall %}
"""  # noqa: E501
TABLEAU_DES_FINANCEURS = """{% import "macros/dsfr.html" as dsfr %}
  {% set colonnes = ['Financeur', 'Statut', 'Demandé'] + (['Proposé'] if instruction_visible else []) + ['Voté', 'Versé'] %}
  {#- Les rangées (statut, montants), écrites en Python : dossiers/tableaux.py. -#}
  {% call dsfr.tableau('Lignes de financement de la demande', titre_cache=true, colonnes=colonnes) %}
<tbody>{{ rangees_des_financeurs }}          </tbody>
  {%- endcall %}
"""  # noqa: E501

# Un tableau des autres demandes de la structure de instruction/_dossier_autres_demandes.html avant
ANCIEN_TABLEAU_DES_AUTRES_DEMANDES = """{% import "macros/dsfr.html" as dsfr %}
  {% if liste %}
  {% call(autre) dsfr.tableau(titre ~ ' (' ~ (liste | length) ~ ')',
                              colonnes=('Numéro', 'Action', 'Contrat de ville', 'Exercice', 'Statut',
                                        ('Demandé', 'dauphin-numerique'), ('Voté', 'dauphin-numerique')),
                              lignes=liste) %}
    <tr>
      <td class="dauphin-sans-coupure">{{ autre.numero }}</td>
      <th scope="row"><a href="{{ url_de_demande('dossiers.voir', autre.id) }}">{{ autre.titre }}</a></th>
      <td>{{ autre.contrat }}</td>
      <td>{{ autre.exercice }}</td>
      <td>{{ badge_statut(autre.statut, petit=true) }}</td>
      <td class="dauphin-numerique">{{ autre.montant_demande | euros }}</td>
      <td class="dauphin-numerique">{{ autre.montant_vote | euros }}</td>
    </tr>
  {% endcall %}
  {% endif %}
"""
TABLEAU_DES_AUTRES_DEMANDES = """{% import "macros/dsfr.html" as dsfr %}
  {% if liste %}
  {#- Les rangées, écrites en Python : dossiers/tableaux.py. -#}
  {% call dsfr.tableau(titre ~ ' (' ~ (liste | length) ~ ')',
                       colonnes=('Numéro', 'Action', 'Contrat de ville', 'Exercice', 'Statut',
                                 ('Demandé', 'dauphin-numerique'), ('Voté', 'dauphin-numerique'))) %}
<tbody>{{ rangees_des_autres_demandes(liste) }}          </tbody>
  {%- endcall %}
  {% endif %}
"""

# Le tableau de l'historique de dossiers/voir.html avant dossiers/tableaux.py
ANCIEN_TABLEAU_DE_L_HISTORIQUE = """{% import "macros/dsfr.html" as dsfr %}
  {% call(evenement) dsfr.tableau('Historique des changements de statut', titre_cache=true,
                                  colonnes=('Date', 'Qui', 'Objet', 'Changement', 'Commentaire'),
                                  lignes=evenements) %}
    <tr>
      <td>{{ evenement.date }}</td>
      <td>{{ evenement.qui }}<br><span class="fr-text--xs">{{ evenement.role }}</span></td>
      <td>{{ evenement.objet }}</td>
      <td>{{ evenement.action }}<br><span class="fr-text--xs">{{ evenement.statuts }}</span></td>
      <td>{{ evenement.commentaire }}</td>
    </tr>
  {% endcall %}
"""
TABLEAU_DE_L_HISTORIQUE = """{% import "macros/dsfr.html" as dsfr %}
  {#- Les rangées, écrites en Python : dossiers/tableaux.py. -#}
  {% call dsfr.tableau('Historique des changements de statut', titre_cache=true,
                       colonnes=('Date', 'Qui', 'Objet', 'Changement', 'Commentaire')) %}
<tbody>{{ rangees_de_l_historique(evenements) }}          </tbody>
  {%- endcall %}
"""

HOSTILE = '<b>Cité "Soleil"</b> & l\'île'


def _ligne(nom, statut, demande, propose=None, vote=None, verse=Decimal("0")):
    return Objet(
        organisation=Objet(nom=nom),
        statut=statut,
        montant_demande=demande,
        montant_propose=propose,
        montant_vote=vote,
        montant_verse=verse,
    )


LIGNES = [
    _ligne("Préfecture (État – P147)", StatutLigne.prise_en_charge, Decimal("13300")),
    _ligne(HOSTILE, StatutLigne.votee, Decimal("1234.5"), Decimal("1000"), Decimal("999.99"), None),
    _ligne("Région", StatutLigne.refusee, Decimal("0.5"), Decimal("0"), Decimal("0")),
]


def _autre(ident, numero, titre, statut, demande, vote, contrat="93 – CA de Clichy", exercice=2026):
    return Objet(
        id=ident,
        numero=numero,
        titre=titre,
        contrat=contrat,
        exercice=exercice,
        statut=statut,
        montant_demande=demande,
        montant_vote=vote,
    )


AUTRES = [
    _autre(12, "2026-004225", "Accompagnement – La Duchère", StatutDemande.attribuee, Decimal("12400"), None),
    _autre(13, None, HOSTILE, StatutDemande.retiree, Decimal("57400"), Decimal("0"), contrat=HOSTILE),
    _autre(14, "2023-000980", "Sport", StatutDemande.justifiee, Decimal("2150.5"), Decimal("1"), exercice=2),
]


@pytest.fixture
def requete(app):
    with app.test_request_context("/"):
        yield app.jinja_env


@pytest.mark.parametrize("instruction_visible", [True, False])
def test_les_rangees_des_financeurs_sont_celles_du_gabarit(requete, instruction_visible):
    attendu = requete.from_string(ANCIEN_TABLEAU_DES_FINANCEURS).render(
        lignes=LIGNES,
        instruction_visible=instruction_visible,
        statut_ligne_vu_du_porteur=statut_ligne_vu_du_porteur,
    )
    obtenu = requete.from_string(TABLEAU_DES_FINANCEURS).render(
        instruction_visible=instruction_visible,
        rangees_des_financeurs=rangees_des_financeurs(LIGNES, instruction_visible),
    )
    assert "&lt;b&gt;Cité &#34;Soleil&#34;&lt;/b&gt; &amp; l&#39;île" in obtenu and "<b>Cité" not in obtenu
    assert obtenu.count("<tr>") == len(LIGNES) + 1
    assert obtenu == attendu


@pytest.mark.parametrize("autres", [AUTRES, AUTRES[:1], []])
def test_les_rangees_des_autres_demandes_sont_celles_du_gabarit(requete, autres):
    ancien = requete.from_string(ANCIEN_TABLEAU_DES_AUTRES_DEMANDES)
    attendu = ancien.render(titre="Exercice 2026", liste=autres)
    obtenu = requete.from_string(TABLEAU_DES_AUTRES_DEMANDES).render(
        titre="Exercice 2026", liste=autres, rangees_des_autres_demandes=rangees_des_autres_demandes
    )
    if autres is AUTRES:
        assert ">None</td>" in obtenu  # un numéro inconnu s'écrit comme l'écrivait le gabarit
        assert "&lt;b&gt;Cité &#34;Soleil&#34;&lt;/b&gt;" in obtenu and "<b>Cité" not in obtenu
    assert obtenu == attendu


def test_les_rangees_de_l_historique_sont_celles_du_gabarit(requete):
    evenements = [
        LigneDHistorique("21 novembre 2025", "Dauphin", "Contributeur", "Dossier", "Soumise", "a → b", ""),
        LigneDHistorique(
            "5 décembre 2026 à 04h03",
            f"Zoé ({HOSTILE})",
            f"Instructeur, par l’API (jeton « {HOSTILE} »)",
            f"Ligne {HOSTILE}",
            "Compléments demandés",
            "En instruction → À compléter",
            HOSTILE,
        ),
    ]
    attendu = requete.from_string(ANCIEN_TABLEAU_DE_L_HISTORIQUE).render(evenements=evenements)
    obtenu = requete.from_string(TABLEAU_DE_L_HISTORIQUE).render(
        evenements=evenements, rangees_de_l_historique=rangees_de_l_historique
    )
    assert obtenu.count("&lt;b&gt;Cité &#34;Soleil&#34;&lt;/b&gt;") == 4 and "<b>Cité" not in obtenu
    assert obtenu == attendu
