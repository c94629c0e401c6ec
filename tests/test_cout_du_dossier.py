"""Ce que coûte la vue d'un dossier, compté et non chronométré : les ordres SQL d'un GET /dossiers/<id> pour
l'instructeur d'un financeur sollicité (panneaux d'action, notes, autres demandes, trace de la lecture) et
pour le signataire de la structure, pour qu'une requête de plus se voie ici plutôt qu'au banc.

Le dossier a des pièces jointes (la demande complète du dépôt) ; sans note, puis avec une note : les notes ne
sont lues que s'il y en a (leur existence vient avec la demande), de même que les pièces jointes et les
courriels non envoyés.
"""

from __future__ import annotations

from sqlalchemy import select

from dauphin import jobs
from dauphin.models import EvenementJournal
from dauphin.services.instruction import ajouter_note
from dauphin.services.workflow import declencher_demande
from tests.test_cout_du_depot import OrdresDuFil
from tests.test_trace_lectures import transmise

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


# La cellule « Qui » et le commentaire d'une ligne de l'historique, tels que les écrivait le gabarit quand il
# lisait les objets du journal (acteur, organisation, jeton chargés par l'ORM) : l'historique est lu en
# rangées, la page doit rester la même, valeurs hostiles échappées.
ANCIENNE_RANGEE = (
    "<td>{% if evenement.acteur %}{{ evenement.acteur.nom_complet }}{% else %}Dauphin{% endif %}"
    "{% if evenement.organisation %} ({{ evenement.organisation.nom }}){% endif %}"
    '<br><span class="fr-text--xs">{{ evenement.role | libelle_role }}'
    "{% if evenement.jeton %}, par l’API (jeton « {{ evenement.jeton.libelle }} »){% endif %}</span></td>"
)


def test_l_historique_lu_en_rangees_s_ecrit_comme_les_objets_du_journal(app, client, connexion, db, monde):
    demande = transmise(monde)
    hostile = '<script>alert("x")</script> & Cie'
    declencher_demande(demande.id, "demander_complements", monde.instructeur_etat, commentaire=hostile)
    monde.signataire.prenom = "<b>Zoé</b>"
    db.session.commit()
    evenements = db.session.scalars(
        select(EvenementJournal).filter_by(demande_id=demande.id).order_by(EvenementJournal.id)
    ).all()
    assert any(e.acteur for e in evenements) and any(e.organisation for e in evenements)
    gabarit = app.jinja_env.from_string(ANCIENNE_RANGEE)
    with app.test_request_context():
        attendues = [gabarit.render(evenement=e) for e in evenements]
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
