"""Les lignes des tableaux de l'espace de travail (dauphin/instruction/tableau.py) et du tableau de bord des
porteurs (dauphin/usager/tableau.py) sont écrites en Python : le HTML doit rester, au caractère près, celui
des boucles des gabarits qu'elles remplacent (recopiées ici), dans chaque cas d'une ligne (financeur ou
contrats, retards de compte rendu, gestionnaire, sous-lignes, demande sans numéro ni action, textes à
échapper)."""

from datetime import datetime
from decimal import Decimal
from types import SimpleNamespace as Objet

import pytest
from flask import url_for
from jinja2 import Environment
from markupsafe import escape

from dauphin.badges import _bouton_en_modele, bouton_detail
from dauphin.instruction.tableau import entetes_de_tri
from dauphin.instruction.tableau import lignes_du_tableau as lignes_de_l_espace
from dauphin.services.demandes import ProchaineAction
from dauphin.urls import url_par_textes
from dauphin.usager.tableau import lignes_du_tableau as lignes_du_tableau_de_bord
from forms.champs import echapper
from workflows.statuts import STATUTS_LIGNE_DECIDEE, StatutDemande, StatutLigne

# La boucle de instruction/corbeille.html avant instruction/tableau.py
BOUCLE_DE_L_ESPACE = """{% import "macros/dsfr.html" as dsfr %}
  <tbody>
  {% set filtrer_sur_la_structure = url_par_identifiant('instruction.corbeille', 'structure', **parametres) %}
  {% for demande in page.items %}
    {% set lignes = demande.lignes_actives if espace.mode != 'financeur' else [] %}
    <tr data-demande="{{ demande.numero }}">
      <td class="dauphin-sans-coupure">{{ demande.numero }}</td>
      <th scope="row"><a href="{{ url_de_demande('dossiers.voir', demande.id) }}">{{ demande.titre }}</a><br><span class="fr-text--xs">{{ demande.campagne.contrat.libelle }} · exercice {{ demande.exercice }}</span>
        {%- set en_retard = (retards.get((demande.structure_id, espace.organisation_id)) or []) | reject('equalto', demande.numero) | list %}
        {%- if en_retard %}<br>{{ dsfr.badge('Compte rendu en retard (' ~ (en_retard | join(', ')) ~ ')', 'error', petit=true, classes='dauphin-retard-cr', attributs={'title': 'Comptes rendus financiers en retard : ' ~ (en_retard | join(', '))}) }}{% endif %}
        {%- if lignes %}<br>{{ dsfr.bouton_detail('Détail : ' ~ (lignes | length | quantite('financeur')), 'financeur-' ~ demande.id ~ '-', lignes | map(attribute='id'), 'de la demande ' ~ demande.numero) }}{% endif %}</th>
      <td><a class="fr-link fr-link--sm" href="{{ filtrer_sur_la_structure(demande.structure_id) }}" title="Filtrer sur les demandes de {{ demande.structure.nom }}">{{ demande.structure.nom }}</a></td>
      <td class="dauphin-sans-coupure">{{ demande.transmise_le | date_courte }}</td>
      <td>{{ badge_statut(demande.statut, petit=true) }}</td>
      {% if espace.mode == 'financeur' %}
      {% set ligne = page.lignes[demande.id] %}
      <td>{{ badge_statut(ligne.statut, petit=true) }}{% if ligne.gestionnaire %}<span class="fr-text--xs">Gestionnaire : {{ ligne.gestionnaire }}</span>{% endif %}</td>
      <td class="dauphin-numerique">{{ ligne.montant_demande | euros }}</td>
      {% else %}
      <td class="dauphin-numerique">{{ demande.montant_sollicite | euros }}</td>
      {% endif %}
    </tr>
    {% for ligne in lignes %}
    <tr id="financeur-{{ demande.id }}-{{ ligne.id }}" class="dauphin-sous-ligne" hidden>
      <th scope="row" colspan="4">{{ ligne.organisation.nom }}</th>
      <td>{{ badge_statut(ligne.statut, petit=true) }}</td>
      <td class="dauphin-numerique">{{ ligne.montant_demande | euros }}</td>
    </tr>
    {% endfor %}
  {% endfor %}
  </tbody>
"""  # noqa: E501
CORPS_DE_L_ESPACE = """  <tbody>
{{ lignes }}  </tbody>
"""

# L'appel du tableau de usager/tableau_de_bord.html avant usager/tableau.py
BOUCLE_DU_TABLEAU_DE_BORD = """{% import "macros/dsfr.html" as dsfr %}
{% call(demande) dsfr.tableau('Demandes de vos structures (' ~ page.total ~ ' au total, page ' ~ page.page ~ ' sur ' ~ page.pages ~ ')',
                              colonnes=(('Demande', 'fr-col--md'), 'Statut', ('Demandé', 'dauphin-numerique'), ('Voté', 'dauphin-numerique'), 'Prochaine étape'),
                              lignes=page.items) %}
  {% set action = actions[demande.id] %}
  {% set lignes = demande.lignes_actives %}
  <tr data-demande="{{ demande.id }}">
    <th scope="row"><a href="{{ url_de_demande('dossiers.voir', demande.id) }}">{{ demande.titre }}</a><br>
      <span class="fr-text--xs">{% if demande.numero %}<span class="dauphin-sans-coupure">{{ demande.numero }}</span> · {% endif %}{{ demande.structure.nom }} · {{ demande.campagne.contrat.libelle }} · exercice {{ demande.exercice }}</span>
      {%- if lignes %}<br>{{ dsfr.bouton_detail('Détail : ' ~ (lignes | length | quantite('financeur')), 'financeur-' ~ demande.id ~ '-', lignes | map(attribute='id'), 'de la demande ' ~ (demande.numero or demande.titre)) }}{% endif %}</th>
    <td>{{ badge_statut(demande.statut, petit=true) }}</td>
    <td class="dauphin-numerique">{{ demande.montant_sollicite | euros if lignes else '—' }}</td>
    <td class="dauphin-numerique">{{ demande.montant_vote | euros }}</td>
    <td>
      {% if action %}
        {% if action.endpoint %}<a class="fr-link" href="{{ url_de_demande(action.endpoint, demande.id, etape=action.etape) }}">{{ action.libelle }}</a>{% else %}{{ action.libelle }}{% endif %}
      {% else %}—{% endif %}
    </td>
  </tr>
  {% for ligne in lignes %}
  <tr id="financeur-{{ demande.id }}-{{ ligne.id }}" class="dauphin-sous-ligne" hidden>
    <th scope="row">{{ ligne.organisation.nom | sigles }}</th>
    <td>{{ badge_statut(statut_ligne_vu_du_porteur(ligne.statut), petit=true) }}</td>
    <td class="dauphin-numerique">{{ ligne.montant_demande | euros }}</td>
    <td class="dauphin-numerique">{{ ligne.montant_vote | euros if ligne.decidee else '—' }}</td>
    <td></td>
  </tr>
  {% endfor %}
{% endcall %}
"""  # noqa: E501
CORPS_DU_TABLEAU_DE_BORD = """{% import "macros/dsfr.html" as dsfr %}
{% call dsfr.tableau('Demandes de vos structures (' ~ page.total ~ ' au total, page ' ~ page.page ~ ' sur ' ~ page.pages ~ ')',
                     colonnes=(('Demande', 'fr-col--md'), 'Statut', ('Demandé', 'dauphin-numerique'), ('Voté', 'dauphin-numerique'), 'Prochaine étape')) %}
<tbody>{{ lignes }}          </tbody>
{%- endcall %}
"""  # noqa: E501


def _ligne(ident, nom, statut, demande=Decimal("1000.50"), vote=None):
    return Objet(
        id=ident,
        organisation=Objet(nom=nom),
        financeur=nom,
        statut=statut,
        montant_demande=demande,
        montant_vote=vote,
        decidee=statut in STATUTS_LIGNE_DECIDEE,
    )


CONTRAT = '93 – CA "Plaine" Commune'


def _demande(ident, numero, titre, statut, lignes, structure="Centre <social> & Cie"):
    actives = [ligne for ligne in lignes if ligne.statut != StatutLigne.abandonnee]
    votes = [ligne.montant_vote or Decimal("0") for ligne in actives if ligne.decidee]
    return Objet(
        id=ident,
        numero=numero,
        titre=titre,
        structure_id=ident + 1000,
        structure=Objet(nom=structure),
        campagne=Objet(contrat=Objet(libelle=CONTRAT)),
        exercice=2026,
        statut=statut,
        transmise_le=datetime(2026, 3, 31, 23, 30),  # UTC : le 1er avril à Paris
        lignes_actives=actives,
        montant_sollicite=sum((ligne.montant_demande for ligne in actives), Decimal("0")),
        montant_vote=sum(votes, Decimal("0")) if votes else None,
    )


def _demandes():
    return [
        _demande(1, "2026-000001", "L'atelier <b>vélo</b>", StatutDemande.en_instruction, []),
        _demande(
            2,
            "2026-000002",
            "Soutien scolaire",
            StatutDemande.instruite,
            [
                _ligne(21, "Préfecture (État – P147)", StatutLigne.votee, vote=Decimal("800")),
                _ligne(22, "Ville d’Aubervilliers", StatutLigne.abandonnee),
                _ligne(23, "CAF & QPV", StatutLigne.recevable),
            ],
        ),
        _demande(
            3,
            None,
            "Demande sans intitulé",
            StatutDemande.brouillon,
            [_ligne(31, "CAF", StatutLigne.refusee)],
        ),
    ]


@pytest.fixture
def requete(app):
    with app.test_request_context("/"):
        yield app.jinja_env


@pytest.mark.parametrize("mode", ["financeur", "contrats"])
def test_les_lignes_de_l_espace_sont_celles_du_gabarit(requete, mode):
    demandes = _demandes()
    espace = Objet(mode=mode, organisation_id=7)
    page = Objet(
        items=demandes,
        lignes={
            1: Objet(
                statut=StatutLigne.sollicitee,
                montant_demande=Decimal("14900"),
                gestionnaire=None,
                contrat=CONTRAT,
            ),
            2: Objet(
                statut=StatutLigne.votee,
                montant_demande=Decimal("0.5"),
                gestionnaire="Léa <O’Brien>",
                contrat=CONTRAT,
            ),
            3: Objet(statut=StatutLigne.refusee, montant_demande=None, gestionnaire="", contrat=CONTRAT),
        },
    )
    # Des retards envers ce financeur : la demande elle-même n'y figure pas, une liste vide non plus
    retards = {(1001, 7): ["2025-000009", "2026-000001"], (1002, 7): ["2026-000002"], (1003, 8): ["x"]}
    parametres = {"espace": f"{mode}-7", "q": "a&b", "onglet": "suivies"}
    attendu = requete.from_string(BOUCLE_DE_L_ESPACE).render(
        page=page, espace=espace, retards=retards, parametres=parametres
    )
    lignes = lignes_de_l_espace(page, espace, retards, parametres)
    obtenu = requete.from_string(CORPS_DE_L_ESPACE).render(lignes=lignes)
    assert "dauphin-retard-cr" in obtenu and "L&#39;atelier &lt;b&gt;vélo" in obtenu
    assert ("Gestionnaire : Léa &lt;O" in obtenu) is (mode == "financeur")
    assert ("dauphin-sous-ligne" in obtenu) is (mode == "contrats")
    assert obtenu == attendu


def _demandes_de_l_espace_hostiles():
    """Ce que la page de l'espace écrit une fois (montants, badges, contrats, gestionnaires, structures
    et leur filtre, badges de retard) éprouvé par des textes hostiles et des valeurs partagées entre lignes :
    deux demandes d'une même structure en retard (chacune hors de sa liste), une demande sans numéro avec
    des financeurs, des financeurs et montants répétés."""
    hostile = '<script>alert("x")</script> & l\'{controles}{{'
    demandes = [
        *_demandes(),
        _demande(
            4,
            "2026-000004",
            hostile,
            StatutDemande.en_instruction,
            [
                _ligne(41, hostile, StatutLigne.votee, demande=Decimal("1000.5"), vote=None),
                _ligne(42, "CAF & QPV", StatutLigne.refusee, demande=Decimal("-0.001")),
                _ligne(43, "CAF & QPV", StatutLigne.votee, Decimal("1234567.891"), Decimal("800.00")),
            ],
            structure='Asso "Les <Amis>" & Cie',
        ),
        _demande(
            5,
            "2026-000005",
            "Même structure, même retard",
            StatutDemande.en_instruction,
            [_ligne(51, "CAF & QPV", StatutLigne.sollicitee, demande=Decimal("1000.50"))],
            structure='Asso "Les <Amis>" & Cie',
        ),
        _demande(
            6, None, "Sans numéro", StatutDemande.transmise, [_ligne(61, "CAF", StatutLigne.sollicitee)]
        ),
    ]
    demandes[4].structure_id = demandes[3].structure_id  # 1004 : la même structure
    return demandes


@pytest.mark.parametrize("mode", ["financeur", "contrats"])
def test_les_lignes_de_l_espace_hostiles_sont_celles_du_gabarit(requete, mode):
    demandes = _demandes_de_l_espace_hostiles()
    hostile = "Contrat <b>\"Est\"</b> & 'Ouest' {x}"
    for demande in demandes[3:5]:
        demande.campagne = Objet(contrat=Objet(libelle=hostile))
    espace = Objet(mode=mode, organisation_id=7)
    lignes = {
        d.id: Objet(
            statut=StatutLigne.sollicitee if d.id % 2 else StatutLigne.votee,
            montant_demande=Decimal("1000.50") if d.id > 3 else Decimal("1000.5"),
            gestionnaire='Zoé "<L’Œuf>" & d\'Or' if d.id > 3 else None,
            contrat=d.campagne.contrat.libelle,
        )
        for d in demandes
    }
    page = Objet(items=demandes, lignes=lignes)
    retards = {
        (1004, 7): ["2025-000001", "2026-000004", "2026-000005", "<b>&</b>"],
        (1006, 7): ["None", "2026-000002"],
    }
    parametres = {"espace": f"{mode}-7", "q": "<script>\"&'", "onglet": "suivies", "tri": "montant"}
    attendu = requete.from_string(BOUCLE_DE_L_ESPACE).render(
        page=page, espace=espace, retards=retards, parametres=parametres
    )
    obtenu = requete.from_string(CORPS_DE_L_ESPACE).render(
        lignes=lignes_de_l_espace(page, espace, retards, parametres)
    )
    assert "<script>" not in obtenu and "&lt;script&gt;alert(&#34;x&#34;)" in obtenu
    assert obtenu.count("dauphin-retard-cr") == 3 and "&lt;b&gt;&amp;&lt;/b&gt;" in obtenu
    assert "&lt;b&gt;&#34;Est&#34;&lt;/b&gt; &amp; &#39;Ouest&#39;" in obtenu
    assert ("de la demande None" in obtenu) is (mode == "contrats")
    assert ("Zoé &#34;&lt;L’Œuf&gt;&#34; &amp; d&#39;Or" in obtenu) is (mode == "financeur")
    assert obtenu == attendu


def _demandes_du_tableau_de_bord():
    """Celles de l'espace, et de quoi éprouver ce que la page écrit une fois (montants égaux, actions et
    structures partagées, adresses propres à chaque demande) : textes hostiles, titre à la place du numéro,
    montants négatifs, très grands, de même valeur écrits autrement, voté inconnu d'une ligne décidée."""
    hostile = '<script>alert("x")</script> & l\'{controles}{{'
    return [
        *_demandes(),
        _demande(
            4,
            None,
            hostile,
            StatutDemande.brouillon,
            [
                _ligne(41, hostile, StatutLigne.votee, demande=Decimal("1000.5"), vote=None),
                _ligne(42, "CAF", StatutLigne.refusee, demande=Decimal("-0.001")),
                _ligne(
                    43,
                    "Préfecture (État – P147)",
                    StatutLigne.votee,
                    Decimal("1234567.891"),
                    Decimal("800.00"),
                ),
            ],
            structure='Asso "Les <Amis>" & Cie',
        ),
        _demande(
            5,
            "",
            "Même action, autre adresse",
            StatutDemande.transmise,
            [],
            structure="Centre <social> & Cie",
        ),
        _demande(
            6,
            "2026-000006",
            "Compte rendu",
            StatutDemande.a_justifier,
            [_ligne(61, "CAF & QPV", StatutLigne.votee, demande=Decimal("0"), vote=Decimal("0.00"))],
        ),
    ]


def test_les_lignes_du_tableau_de_bord_sont_celles_du_gabarit(requete):
    demandes = _demandes_du_tableau_de_bord()
    completer = ProchaineAction("Compléter puis soumettre", "demandes.etape", "recapitulatif")
    actions = {
        1: completer,
        2: ProchaineAction("Aucune : les financeurs <instruisent>", pour_moi=False),
        3: None,
        4: ProchaineAction('Attester "sur l’honneur" & <b>', "demandes.etape", "recapitulatif"),
        5: completer,  # la même action, l'adresse de sa demande
        6: ProchaineAction(
            "Compte rendu financier à déposer avant le 30/06/2027", "justification.formulaire"
        ),
    }
    page = Objet(items=demandes, total=6, page=1, pages=1)
    lignes_par_demande = {
        d.id: (
            [Objet(**vars(ligne)) for ligne in d.lignes_actives],
            d.montant_sollicite if d.lignes_actives else None,
            d.montant_vote,
        )
        for d in demandes
    }
    contrats = {d.id: CONTRAT for d in demandes} | {4: "Contrat <b>\"Est\"</b> & 'Ouest'", 5: "Autre contrat"}
    for demande in demandes:
        demande.campagne.contrat.libelle = contrats[demande.id]
    from workflows.statuts import statut_ligne_vu_du_porteur

    attendu = requete.from_string(BOUCLE_DU_TABLEAU_DE_BORD).render(
        page=page, actions=actions, statut_ligne_vu_du_porteur=statut_ligne_vu_du_porteur
    )
    lignes = lignes_du_tableau_de_bord(demandes, actions, lignes_par_demande, contrats)
    obtenu = requete.from_string(CORPS_DU_TABLEAU_DE_BORD).render(page=page, lignes=lignes)
    assert "<abbr" in obtenu and "dauphin-sous-ligne" in obtenu and "&lt;instruisent&gt;" in obtenu
    assert "<script>" not in obtenu and "&lt;script&gt;alert(&#34;x&#34;)" in obtenu
    assert "/demandes/1/etape/recapitulatif" in obtenu and "/demandes/5/etape/recapitulatif" in obtenu
    assert obtenu == attendu


@pytest.mark.parametrize(
    "texte",
    ["", "Soutien scolaire", "<script>alert('x')</script>", "a & b \"c\" <d> 'e'", "&amp; &lt;", "{x}{{"],
)
def test_echapper_comme_escape(texte):
    assert echapper(texte) == str(escape(texte))


@pytest.mark.parametrize(
    "libelle, prefixe, cles, precision",
    [
        ("Détail : 1 financeur", "financeur-1-", [11], "de la demande 2026-000001"),
        ("Détail : 3 financeurs", "financeur-2-", [21, 22, 23], "de la demande <b>\"x\"</b> & 'y'"),
        ("{libelle} & <i>", "a&b<", ['c"d', 7], "{precision}{{}}"),
        ("Détail", "p-", [], ""),
    ],
)
def test_le_bouton_de_detail_est_celui_de_la_macro(requete, libelle, prefixe, cles, precision):
    macro = requete.get_template("macros/dsfr.html").module.bouton_detail
    attendu = str(macro(libelle, prefixe, cles, precision))
    assert bouton_detail(requete)(libelle, prefixe, cles, precision) == attendu
    assert bouton_detail(requete) is bouton_detail(requete)  # le modèle est fait une fois


def test_le_bouton_de_detail_sans_modele_rend_la_macro_en_texte():
    """Une macro qui ne se prête plus au modèle (un texte répété) : chaque appel la rend, en str, que
    l'appelant peut mettre après « <br> » sans que celui-ci soit échappé."""
    macro = (
        Environment(autoescape=True)
        .from_string(
            "{% macro bouton_detail(libelle, prefixe, cles, precision) %}"
            '<button title="{{ libelle }}">{{ libelle }} {{ precision }}</button>{% endmacro %}'
        )
        .module.bouton_detail
    )
    bouton = _bouton_en_modele(macro)
    rendu = "<br>" + bouton("<b>", "p-", [1], "x & y")
    assert rendu == '<br><button title="&lt;b&gt;">&lt;b&gt; x &amp; y</button>'


# La macro des en-têtes de tri de instruction/corbeille.html avant instruction/tableau.py
MACRO_ENTETE_TRI = """{% macro entete_tri(cle, libelle) -%}
{%- set actif = tri == cle -%}
{%- set prochain = 'asc' if actif and ordre == 'desc' else ('desc' if actif else ('asc' if cle in ('structure', 'numero') else 'desc')) -%}
<th scope="col"{% if actif %} aria-sort="{{ 'ascending' if ordre == 'asc' else 'descending' }}"{% endif %}>
  <div class="fr-cell--sort">
    {{ libelle }}
    <a class="fr-btn fr-btn--sm fr-btn--tertiary-no-outline {{ ('fr-btn--sort-asc' if ordre == 'asc' else 'fr-btn--sort-desc') if actif else 'fr-btn--sort' }}" href="{{ url_for('instruction.corbeille', **dict(parametres, onglet=onglet, tri=cle, ordre=prochain)) }}" title="Trier par {{ libelle | lower }}, ordre {{ 'croissant' if prochain == 'asc' else 'décroissant' }}">Trier par {{ libelle | lower }}, ordre {{ 'croissant' if prochain == 'asc' else 'décroissant' }}</a>
  </div>
</th>
{%- endmacro %}
{{ entete_tri('numero', 'Numéro') }}
{{ entete_tri('structure', 'Structure') }}
{{ entete_tri('transmise', 'Transmise le') }}
{{ entete_tri('montant', 'Montant demandé') }}
"""  # noqa: E501
ENTETES = """{{ entetes.numero }}
{{ entetes.structure }}
{{ entetes.transmise }}
{{ entetes.montant }}
"""

PARAMETRES_DE_LIENS = [
    {"espace": "financeur-7"},
    # des paramètres hostiles ou répétés, le tri et l'ordre déjà dans l'adresse (à leur place)
    {"tri": "numero", "q": "<script>\"&'", "ordre": "asc", "espace": "partenaire-3"},
    {"q": "Z9182736450Z", "espace": "financeur-7"},  # le témoin dans l'adresse : url_for
    {"statut": ["votee", "a&b"], "structure": "12", "q": "été 2027 + 50 %", "espace": "pilote"},
]


@pytest.mark.parametrize("parametres", PARAMETRES_DE_LIENS)
@pytest.mark.parametrize("tri", ["numero", "structure", "transmise", "montant", "pertinence"])
@pytest.mark.parametrize("ordre", ["asc", "desc"])
def test_les_entetes_de_tri_sont_ceux_de_la_macro(requete, parametres, tri, ordre):
    contexte = {"parametres": parametres, "onglet": "suivies", "tri": tri, "ordre": ordre}
    attendu = requete.from_string(MACRO_ENTETE_TRI).render(**contexte)
    obtenu = requete.from_string(ENTETES).render(entetes=entetes_de_tri(parametres, "suivies", tri, ordre))
    assert "aria-sort" in obtenu or tri == "pertinence"
    assert obtenu == attendu


@pytest.mark.parametrize("parametres", PARAMETRES_DE_LIENS)
@pytest.mark.parametrize(
    "textes",
    [("a_traiter", "desc"), ("terminees", "asc"), ("été", "x y"), ("a&b", "<c>"), ("", "Z9182736451Z")],
)
def test_url_par_textes_est_url_for(requete, parametres, textes):
    adresse = url_par_textes("instruction.corbeille", ("onglet", "tri"), **parametres)
    attendu = url_for("instruction.corbeille", **dict(parametres, onglet=textes[0], tri=textes[1]))
    assert adresse(*textes) == attendu
    seul = url_par_textes("instruction.corbeille", ("onglet",), **parametres)
    assert seul(textes[0]) == url_for("instruction.corbeille", **dict(parametres, onglet=textes[0]))
