"""Pages allégées (lectures en rangées, requêtes gardées, lignes écrites en Python) : visibilité des notes
par compte (cache `_par_portee`), échappement des lignes écrites en Python, vue d'un dossier lue par
set_committed_value, tri des collections identique à celui des relations."""

from __future__ import annotations

import pytest

from dauphin import jobs
from dauphin.models import LigneFinancement
from dauphin.services.instruction import ajouter_note
from tests.test_trace_lectures import transmise

HOSTILE = '<script>alert("x")</script>'


def _notes(monde, demande):
    commune = monde.commune.id
    etat = monde.etat.id
    ajouter_note(demande.id, monde.instructeur_commune, commune, "NOTE-PRIVEE-COMMUNE", False)
    ajouter_note(demande.id, monde.instructeur_etat, etat, "NOTE-PRIVEE-ETAT", False)
    ajouter_note(demande.id, monde.instructeur_commune, commune, "NOTE-PARTAGEE", True)


ATTENDU = {
    "instructeur_etat": {"NOTE-PRIVEE-ETAT", "NOTE-PARTAGEE"},
    "instructeur_commune": {"NOTE-PRIVEE-COMMUNE", "NOTE-PARTAGEE"},
    "pilote": {"NOTE-PRIVEE-ETAT", "NOTE-PARTAGEE"},  # pilote au nom de l'État
    "partenaire_caf": {"NOTE-PARTAGEE"},
    "admin_national": {"NOTE-PARTAGEE"},
    "signataire": set(),
}
TOUTES = {"NOTE-PRIVEE-ETAT", "NOTE-PRIVEE-COMMUNE", "NOTE-PARTAGEE"}


@pytest.mark.parametrize("ordre", [list(ATTENDU), list(reversed(ATTENDU))])
def test_notes_vues_par_chaque_compte_quel_que_soit_l_ordre(app, client, connexion, db, monde, ordre):
    demande = transmise(monde)
    jobs.attendre_les_taches()
    _notes(monde, demande)
    db.session.commit()
    for _tour in range(2):  # deux tours : le second sert les requêtes gardées par portée
        for nom in ordre:
            connexion.en_tant_que(getattr(monde, nom))
            with app.app_context():
                page = client.get(f"/dossiers/{demande.id}").get_data(as_text=True)
            vues = {n for n in TOUTES if n in page}
            assert vues == ATTENDU[nom], (nom, vues)
            connexion.deconnexion()


def test_pages_echappent_les_textes(app, client, connexion, db, monde):
    monde.structure.raison_sociale = HOSTILE
    monde.structure.sigle = HOSTILE
    monde.commune.nom = HOSTILE
    monde.instructeur_commune.prenom = HOSTILE
    db.session.commit()
    demande = transmise(monde, intitule=HOSTILE)
    jobs.attendre_les_taches()
    for ligne in db.session.query(LigneFinancement).filter_by(demande_id=demande.id):
        if ligne.organisation_id == monde.commune.id:
            ligne.gestionnaire_id = monde.instructeur_commune.id
    db.session.commit()
    for compte, adresses in (
        ("signataire", ["/mes-demandes/", f"/dossiers/{demande.id}"]),
        ("instructeur_commune", ["/instruction/", f"/dossiers/{demande.id}"]),
        ("pilote", ["/instruction/", f"/dossiers/{demande.id}"]),
    ):
        connexion.en_tant_que(getattr(monde, compte))
        for adresse in adresses:
            with app.app_context():
                reponse = client.get(adresse)
            page = reponse.get_data(as_text=True)
            assert reponse.status_code == 200, (compte, adresse)
            assert "<script>alert" not in page, (compte, adresse)
            assert "&lt;script&gt;alert" in page, (compte, adresse)
        connexion.deconnexion()


def _corps(page: str) -> str:
    debut = page.index("<tbody>")
    return page[debut : page.index("</tbody>", debut)]


def test_tableau_de_bord_meme_lignes_porteur_seul_ou_aussi_financeur(app, client, connexion, db, monde):
    from dauphin.models import MembreOrganisation, RoleOrganisation

    transmise(monde)
    transmise(monde, intitule="Deuxième")
    jobs.attendre_les_taches()
    db.session.commit()
    connexion.en_tant_que(monde.signataire)
    with app.app_context():
        seul = client.get("/mes-demandes/").get_data(as_text=True)
    connexion.deconnexion()
    db.session.add(
        MembreOrganisation(
            utilisateur_id=monde.signataire.id,
            organisation_id=monde.commune.id,
            role=RoleOrganisation.instructeur,
        )
    )
    db.session.commit()
    connexion.en_tant_que(monde.signataire)
    with app.app_context():
        aussi = client.get("/mes-demandes/").get_data(as_text=True)
    assert _corps(seul) == _corps(aussi)


def test_tableau_de_bord_meme_page_et_memes_requetes_porteur_seul_ou_aussi_financeur(
    app, client, connexion, db, monde
):
    """Lu en rangées pour tout porteur : un porteur aussi instructeur voit le même tableau et les mêmes
    alertes (demande à attester, textes à échapper compris), pour le même nombre de requêtes, les lignes de
    financement lues avec la page (pas de requête à elles)."""
    from dauphin.models import MembreOrganisation, RoleOrganisation
    from dauphin.services.workflow import declencher_demande
    from tests.fabriques_db import demande_complete
    from tests.requetes import Compteur
    from tests.test_mes_demandes_requetes import ClientSessionNeuve

    transmise(monde, intitule=HOSTILE)
    transmise(monde, intitule="Deuxième")
    soumise = demande_complete(monde, intitule="À signer <b>")
    declencher_demande(soumise.id, "soumettre", monde.contributeur)
    jobs.attendre_les_taches()
    db.session.commit()
    compteur = Compteur(db.engine)
    ordres: list[str] = []

    def lire() -> tuple[str, int]:
        from sqlalchemy import event

        with app.app_context():
            nouvelle = ClientSessionNeuve(client, db)
            n = compteur.mesurer(nouvelle, "/mes-demandes/")
            ecouter = lambda _c, _cu, ordre, *_: ordres.append(ordre)  # noqa: E731
            event.listen(db.engine, "before_cursor_execute", ecouter)
            try:
                page = nouvelle.get("/mes-demandes/").get_data(as_text=True)
            finally:
                event.remove(db.engine, "before_cursor_execute", ecouter)
        return page[page.index("<h1") : page.index("</tbody>")], n

    connexion.en_tant_que(monde.signataire)
    seul, n_seul = lire()
    connexion.deconnexion()
    db.session.add(
        MembreOrganisation(
            utilisateur_id=monde.signataire.id,
            organisation_id=monde.commune.id,
            role=RoleOrganisation.instructeur,
        )
    )
    db.session.commit()
    connexion.en_tant_que(monde.signataire)
    aussi, n_aussi = lire()
    assert 'id="demandes-a-attester"' in seul and "Attester « À signer &lt;b&gt; »" in seul
    assert "&lt;script&gt;alert" in seul and "<script>alert" not in seul
    assert seul.count("dauphin-sous-ligne") >= 2
    assert aussi == seul
    assert n_aussi == n_seul
    assert not [o for o in ordres if o.lstrip().startswith("SELECT ligne_financement")]


@pytest.mark.parametrize("compte", ["partenaire_autre_contrat", "sans_role", "signataire_autre"])
def test_dossier_invisible_404(app, client, connexion, db, monde, compte):
    demande = transmise(monde)
    jobs.attendre_les_taches()
    db.session.commit()
    connexion.en_tant_que(getattr(monde, compte))
    with app.app_context():
        assert client.get(f"/dossiers/{demande.id}").status_code == 404
        assert client.get("/dossiers/999999").status_code == 404


def test_notes_privees_plus_lues_apres_retrait_du_pilotage(app, client, connexion, db, monde):
    from dauphin.models import Pilotage

    demande = transmise(monde)
    jobs.attendre_les_taches()
    _notes(monde, demande)
    pilotage = Pilotage(
        utilisateur_id=monde.instructeur_commune.id,
        contrat_id=monde.contrat.id,
        organisation_id=monde.etat.id,
    )
    db.session.add(pilotage)
    db.session.commit()
    connexion.en_tant_que(monde.instructeur_commune)
    with app.app_context():
        page = client.get(f"/dossiers/{demande.id}").get_data(as_text=True)
    assert "NOTE-PRIVEE-ETAT" in page
    db.session.delete(pilotage)
    db.session.commit()
    with app.app_context():
        page = client.get(f"/dossiers/{demande.id}").get_data(as_text=True)
    assert "NOTE-PRIVEE-ETAT" not in page and "NOTE-PRIVEE-COMMUNE" in page


def test_garde_la_cle_de_portee_couvre_chaque_champ_de_l_acteur():
    """Garde (passe aujourd'hui) : la clé de `_par_portee` est écrite champ par champ ; un champ ajouté à
    `Acteur` sans elle servirait au même compte une clause d'avant le changement de ses droits."""
    import dataclasses

    from dauphin.models import RoleOrganisation
    from dauphin.policies.acteur import Acteur
    from dauphin.services import instruction

    variantes = {
        "structures": {1: ("signataire",)},
        "organisations": {2: RoleOrganisation.instructeur},
        "pilotages": ((3, 2),),
        "national": True,
        "utilisateur_id": 9,
    }
    assert {f.name for f in dataclasses.fields(Acteur)} == set(variantes), "champ d'Acteur hors de la clé ?"
    construites = []
    instruction._LISTES.clear()
    instruction._par_portee("garde", Acteur(), lambda a: construites.append(a) or a)
    for nom, valeur in variantes.items():
        instruction._par_portee("garde", Acteur(**{nom: valeur}), lambda a: construites.append(a) or a)
    assert len(construites) == 1 + len(variantes)


def test_garde_meme_tri_que_les_relations():
    """Garde (passe aujourd'hui) : `_COLLECTIONS` recopie le tri des relations de `Demande`."""
    from dauphin.dossiers import _COLLECTIONS
    from dauphin.models import Demande

    for relation, requete in _COLLECTIONS:
        attendu = [str(c) for c in (getattr(Demande, relation).property.order_by or [])]
        assert [str(c) for c in requete._order_by_clauses] == attendu, relation
