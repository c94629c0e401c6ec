"""Ce que coûte la vue d'un dossier, compté et non chronométré : les ordres SQL d'un GET /dossiers/<id> pour
l'instructeur d'un financeur sollicité (panneaux d'action, notes, autres demandes, trace de la lecture) et
pour le signataire de la structure, pour qu'une requête de plus se voie ici plutôt qu'au banc.

Le dossier a des pièces jointes (la demande complète du dépôt) ; sans note, puis avec une note : les notes ne
sont lues que s'il y en a (leur existence vient avec la demande), de même que les pièces jointes et les
courriels non envoyés.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import date

from sqlalchemy import select

from dauphin import jobs, libelles
from dauphin.dossiers import _historique
from dauphin.instruction.actions import ACTIONS_DEMANDE, ACTIONS_LIGNE, autorisee, autorisees_sur_le_dossier
from dauphin.instruction.panneaux import ACTIONS_DE_L_INSTRUCTEUR
from dauphin.models import EvenementJournal, Utilisateur
from dauphin.policies import (
    DECLENCHEURS_FINANCEURS_DU_VOTE,
    INSTRUIRE_LIGNE,
    ROLES_DEMANDE,
    ROLES_LIGNE,
    qualite_pour,
    qualites,
)
from dauphin.services.instruction import _CHARGEMENT_FINANCEUR, ajouter_note, noms_des_instructeurs
from dauphin.services.workflow import declencher_demande, declencher_ligne
from tests.test_cout_du_depot import OrdresDuFil
from tests.test_trace_lectures import transmise
from workflows.budget import COMPTES

# Le nombre d'ordres SQL de la vue, le 7 décembre au soir (les mêmes sur PostgreSQL et SQLite). Il peut
# baisser ; s'il monte, dire pourquoi (docs/mesures.md) avant de changer le chiffre.
ORDRES = {"instructeur": 10, "instructeur, une note": 11, "signataire": 7}


def test_la_vue_d_un_dossier_envoie_un_nombre_fixe_d_ordres_sql(app, client, connexion, db, monde):
    demande = transmise(monde)
    jobs.attendre_les_taches()  # le récépissé, produit par le fil de fond
    db.session.commit()
    adresse, comptes = f"/dossiers/{demande.id}", {}

    def compter(cle, compte):
        connexion.en_tant_que(compte)
        client.get(adresse)  # la première vue du compte (session, caches de requêtes)
        # Comme chaque requête servie : un contexte d'application neuf, une session vide.
        with app.app_context(), OrdresDuFil(db.engine) as espion:
            reponse = client.get(adresse)
        assert reponse.status_code == 200
        # Sans les points de reprise que pose l'isolation des tests (SAVEPOINT, RELEASE).
        comptes[cle] = [o for o in espion.ordres if "SAVEPOINT" not in o]
        connexion.deconnexion()

    compter("instructeur", monde.instructeur_commune)
    compter("signataire", monde.signataire)
    ajouter_note(
        demande.id,
        monde.instructeur_commune,
        monde.instructeur_commune.adhesions_organisations[0].organisation_id,
        "Une note partagée.",
        True,
    )
    compter("instructeur, une note", monde.instructeur_commune)
    assert {cle: len(ordres) for cle, ordres in comptes.items()} == ORDRES, "\n".join(
        f"{cle} : {len(ordres)}\n  " + "\n  ".join(ordres) for cle, ordres in comptes.items()
    )


# Les libellés propres à l'instruction que lisait le gabarit d'avant (services.instruction.ACTIONS_JOURNAL,
# retiré : `libelles.ACTIONS` a la même entrée, lue par `libelles.action`).
ACTIONS_JOURNAL_D_AVANT = {"assigner_gestionnaire": "Gestionnaire désigné"}

# Les cellules d'une rangée de l'historique, telles que les écrivait le gabarit quand il lisait les objets du
# journal (acteur, organisation, jeton chargés par l'ORM) et ses filtres : l'historique est lu en rangées et
# ses cellules écrites par la vue, la page doit rester la même, valeurs hostiles échappées.
ANCIENNE_RANGEE = """      <td>{{ evenement.horodatage | horodatage }}</td>
      <td>{% if evenement.acteur %}{{ evenement.acteur.nom_complet }}{% else %}Dauphin{% endif %}\
{% if evenement.organisation %} ({{ evenement.organisation.nom }}){% endif %}<br><span class="fr-text--xs">\
{{ evenement.role | libelle_role }}{% if evenement.jeton %}, par l’API \
(jeton « {{ evenement.jeton.libelle }} »){% endif %}</span></td>
      <td>{% if evenement.ligne_id %}Ligne {{ lignes_financement[evenement.ligne_id].organisation.nom \
if evenement.ligne_id in lignes_financement else '' }}{% else %}Dossier{% endif %}</td>
      <td>{{ actions_journal.get(evenement.declencheur) or (evenement.declencheur | libelle_action) }}<br>\
<span class="fr-text--xs">{{ evenement.statut_avant | libelle_statut }} → \
{{ evenement.statut_apres | libelle_statut }}</span></td>
      <td>{{ evenement.commentaire or '' }}</td>"""


def test_l_historique_lu_en_rangees_s_ecrit_comme_les_objets_du_journal(app, client, connexion, db, monde):
    demande = transmise(monde)
    hostile = '<script>alert("x")</script> & Cie'
    ligne = next(ligne for ligne in demande.lignes_financement if ligne.organisation_id == monde.etat.id)
    declencher_ligne(ligne.id, "prendre_en_charge", monde.instructeur_etat)
    declencher_demande(demande.id, "demander_complements", monde.instructeur_etat, commentaire=hostile)
    monde.signataire.prenom = "<b>Zoé</b>"
    db.session.commit()
    evenements = db.session.scalars(
        select(EvenementJournal).filter_by(demande_id=demande.id).order_by(EvenementJournal.id)
    ).all()
    assert any(e.acteur for e in evenements) and any(e.organisation for e in evenements)
    assert any(e.ligne_id for e in evenements) and any(e.commentaire for e in evenements)
    gabarit = app.jinja_env.from_string(ANCIENNE_RANGEE)
    lignes = {ligne.id: ligne for ligne in demande.lignes_financement}
    with app.test_request_context():
        attendues = [
            gabarit.render(evenement=e, lignes_financement=lignes, actions_journal=ACTIONS_JOURNAL_D_AVANT)
            for e in evenements
        ]
    for compte in (monde.instructeur_etat, monde.signataire):
        connexion.en_tant_que(compte)
        page = client.get(f"/dossiers/{demande.id}").get_data(as_text=True)
        historique = page[page.index('id="titre-historique"') :]
        # Le porteur ne voit pas l'organisation interne des financeurs, mais les mêmes rangées sinon.
        for attendue in attendues:
            assert attendue in historique
        assert "&lt;b&gt;Zoé&lt;/b&gt;" in historique and "<b>Zoé" not in page
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Cie" in historique
        assert "<script>alert" not in page
        connexion.deconnexion()


def autorisee_d_avant(action, utilisateur, demande, ligne) -> bool:
    """L'oracle : `actions.autorisee` telle qu'elle était avant les actions lues sans revérifier chaque droit
    (32ff2ca), recopiée ici pour ne pas comparer la fonction nouvelle à elle-même."""
    if ligne is not None:  # un financeur n'agit que sur sa propre ligne
        instructeur = INSTRUIRE_LIGNE.permet(utilisateur, ligne)
        return instructeur and (
            action.declencheur == "assigner_gestionnaire" or "instructeur" in ROLES_LIGNE[action.declencheur]
        )
    if action.declencheur in DECLENCHEURS_FINANCEURS_DU_VOTE:
        return qualite_pour(utilisateur, action.declencheur, demande) is not None
    roles = ROLES_DEMANDE.get(action.declencheur, frozenset())
    return any(q.role in roles for q in qualites(utilisateur, demande))


def test_les_actions_proposees_sans_reverifier_chaque_droit_sont_celles_qu_autorisee_permet(db, monde):
    # Le panneau ne revérifie pas le droit action par action (qualités lues une fois, lignes de son
    # financeur) : les mêmes actions que l'`autorisee` d'avant (recopiée, `autorisee_d_avant`) pour chaque
    # compte, à plusieurs statuts ; et `autorisee` elle-même n'a pas changé.
    demande = transmise(monde)
    comptes = [v for v in (getattr(monde, c.name) for c in fields(monde)) if isinstance(v, Utilisateur)]
    statuts, vues, sur_le_dossier = [], set(), set()
    for etape in (None, ("demander_complements", monde.instructeur_etat)):
        if etape:
            declencher_demande(demande.id, etape[0], etape[1], commentaire="Le devis.")
            db.session.expire_all()
        statuts.append(demande.statut)
        for compte in comptes:
            attendues = [a for a in ACTIONS_DEMANDE.values() if autorisee_d_avant(a, compte, demande, None)]
            assert autorisees_sur_le_dossier(compte, demande) == attendues
            assert [a for a in ACTIONS_DEMANDE.values() if autorisee(a, compte, demande, None)] == attendues
            sur_le_dossier.add(bool(attendues))
            for ligne in demande.lignes_financement:
                sur_la_ligne = ACTIONS_LIGNE.values()
                attendues = [a for a in sur_la_ligne if autorisee_d_avant(a, compte, demande, ligne)]
                assert [a for a in sur_la_ligne if autorisee(a, compte, demande, ligne)] == attendues
                instruit = INSTRUIRE_LIGNE.permet(compte, ligne)
                assert attendues == (list(ACTIONS_DE_L_INSTRUCTEUR) if instruit else [])
                vues.add(instruit)
    assert len(set(statuts)) == 2 and vues == {True, False} and sur_le_dossier == {True, False}
    assert ACTIONS_DE_L_INSTRUCTEUR  # des actions à comparer, pas deux listes vides


# Une rangée du budget telle que l'écrivait le gabarit à partir des objets des lignes du budget.
ANCIENNE_RANGEE_DU_BUDGET = """          <tr>
            <th scope="row">{{ ligne.compte }} — {{ comptes[ligne.compte].libelle }}{% if ligne.financeur %}\
 : {{ ligne.financeur.nom }}{% elif ligne.financeur_libelle %} : {{ ligne.financeur_libelle }}{% endif %}\
{% if ligne.libelle %} ({{ ligne.libelle }}){% endif %}</th>
            <td class="dauphin-numerique">{{ ligne.montant | euros }}</td>
          </tr>"""


def test_les_rangees_du_budget_s_ecrivent_comme_les_objets_des_lignes(app, client, connexion, db, monde):
    demande = transmise(monde)
    hostile = '<i>x</i> & "y"'
    lignes = demande.lignes_budget
    lignes[0].libelle = hostile
    libre = next((lb for lb in lignes if lb.financeur_id is None and lb.compte in COMPTES), None)
    if libre is not None:
        libre.financeur_libelle = hostile
    db.session.commit()
    lignes = [lb for lb in demande.lignes_budget if lb.compte in COMPTES]
    assert any(lb.financeur for lb in lignes)
    gabarit = app.jinja_env.from_string(ANCIENNE_RANGEE_DU_BUDGET)
    with app.test_request_context():
        attendues = [gabarit.render(ligne=lb, comptes=COMPTES) for lb in lignes]
    for compte in (monde.instructeur_etat, monde.signataire):
        connexion.en_tant_que(compte)
        page = client.get(f"/dossiers/{demande.id}").get_data(as_text=True)
        for attendue in attendues:
            assert attendue in page
        assert "&lt;i&gt;x&lt;/i&gt; &amp; &#34;y&#34;" in page and "<i>x</i>" not in page
        connexion.deconnexion()


# Des noms que SQL et Python pourraient écrire autrement : vides, espaces autour, apostrophe typographique.
NOMS_DELICATS = [
    ("Anne-Marie", "de La Tour"),
    ("", "Seul"),
    ("Seule", ""),
    ("", ""),
    (" Jean ", "  Dupont "),
    ("Zoé", "L’Œuf d'Or"),
]


def test_le_nom_complet_s_ecrit_de_meme_en_sql_et_en_python(app, db, monde):
    # `Utilisateur.nom_complet` : une définition, lue en Python et en SQL (historique de la vue d'un dossier,
    # liste du gestionnaire, gestionnaire d'une ligne dans l'espace d'instruction).
    demande = transmise(monde)
    instructeur, signataire = monde.instructeur_etat, monde.signataire
    ligne = next(lf for lf in demande.lignes_financement if INSTRUIRE_LIGNE.permet(instructeur, lf))
    ligne.gestionnaire_id = instructeur.id
    for prenom, nom in NOMS_DELICATS:
        for compte in (instructeur, signataire):
            compte.prenom, compte.nom = prenom, nom
        db.session.flush()
        attendu = f"{prenom} {nom}"
        assert instructeur.nom_complet == attendu
        par_sql = select(Utilisateur.nom_complet).where(Utilisateur.id == instructeur.id)
        assert db.session.scalar(par_sql) == attendu
        noms = noms_des_instructeurs({ligne.organisation_id})[ligne.organisation_id]
        assert [r.nom_complet for r in noms if r.id == instructeur.id] == [attendu]
        rangee = db.session.execute(
            _CHARGEMENT_FINANCEUR,
            {"ids": [demande.id], "organisation_id": ligne.organisation_id, "jour": date.today()},
        ).one()
        assert rangee.gestionnaire == attendu
        with app.test_request_context():
            historique = _historique(demande, True)
        qui = {e.qui for e in historique}
        assert attendu in qui or any(q.startswith(f"{attendu} (") for q in qui), qui


def test_les_libelles_des_roles_et_des_actions_ont_une_seule_regle(app):
    # Les filtres des gabarits sont les fonctions de libelles, que l'historique de la vue lit aussi.
    assert app.jinja_env.filters["libelle_role"] is libelles.role
    assert app.jinja_env.filters["libelle_action"] is libelles.action
    assert libelles.role("instructeur") == "Instructeur" and libelles.role("inconnu") == "inconnu"
    assert libelles.action("assigner_gestionnaire") == ACTIONS_JOURNAL_D_AVANT["assigner_gestionnaire"]
    assert libelles.action("inconnue") == "inconnue"
