"""Le flux des changements (GET /api/v1/evenements) : ordre de validation, curseur opaque qui ne manque rien
et ne redonne rien (même quand deux transactions valident dans l'autre ordre que leurs identifiants, sur
PostgreSQL), portée de l'organisation du jeton (`VOIR_DEMANDE`), brouillon du porteur hors du flux, chaîne
du journal intacte. Sur SQLite et sur PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from dauphin.extensions import db as _db
from dauphin.models import EvenementJournal, PositionFlux
from dauphin.services import empreintes, evenements
from dauphin.services.workflow import declencher_ligne
from tests.fabriques_db import demande_complete
from tests.test_api import entetes, jetons, ligne_de, transmettre  # noqa: F401 (fixture jetons)


def lire(client, clair, apres=None, limite=None):
    parametres = {k: v for k, v in (("apres", apres), ("limite", limite)) if v is not None}
    reponse = client.get("/api/v1/evenements", query_string=parametres, headers=entetes(clair))
    assert reponse.status_code == 200, reponse.get_json()
    return reponse.get_json()


def tout_lire(client, clair, apres=None, limite=None):
    """Suit `suite` jusqu'au bout ; rend (événements, curseur final)."""
    lus = []
    while True:
        page = lire(client, clair, apres, limite)
        lus += page["evenements"]
        apres = page["curseur"]
        if not page["suite"]:
            return lus, apres


def test_le_flux_donne_chaque_changement_dans_l_ordre_une_fois(client, db, monde, jetons):  # noqa: F811
    _, depart = tout_lire(client, jetons["etat"])
    demande = transmettre(monde, demande_complete(monde))
    ligne = ligne_de(db, demande.id, monde.etat)
    declencher_ligne(ligne.id, "prendre_en_charge", monde.instructeur_etat)

    lus, curseur = tout_lire(client, jetons["etat"], depart)
    types = [e["type"] for e in lus]
    # Le brouillon du porteur (soumettre) n'y est pas ; l'attestation, le statut dérivé et la prise en
    # charge y sont, dans l'ordre du journal du dossier.
    assert "demande.soumettre" not in types
    assert types[0] == "demande.attester" and "ligne.prendre_en_charge" in types
    attendus = list(
        _db.session.scalars(
            select(EvenementJournal.id)
            .where(EvenementJournal.demande_id == demande.id, EvenementJournal.declencheur != "soumettre")
            .order_by(EvenementJournal.id)
        )
    )
    assert [e["id"] for e in lus] == attendus
    prise = next(e for e in lus if e["type"] == "ligne.prendre_en_charge")
    assert prise["demande"] == {"id": demande.id, "numero": demande.numero}
    assert prise["ligne"] == {"id": ligne.id, "financeur": {"id": monde.etat.id, "nom": monde.etat.nom}}
    assert prise["statut_avant"] == "sollicitee" and prise["statut_apres"] == "prise_en_charge"
    assert prise["acteur"]["role"] == "instructeur"
    assert prise["acteur"]["organisation"]["id"] == monde.etat.id
    assert prise["date"].endswith("Z")

    # Reprendre au curseur : rien de nouveau, rien de redonné ; puis seulement le nouveau.
    assert lire(client, jetons["etat"], curseur)["evenements"] == []
    declencher_ligne(ligne.id, "declarer_non_recevable", monde.instructeur_etat, commentaire="Hors champ.")
    suivants, _ = tout_lire(client, jetons["etat"], curseur)
    assert [e["type"] for e in suivants][0] == "ligne.declarer_non_recevable"
    assert suivants[0]["commentaire"] == "Hors champ."
    assert not {e["id"] for e in suivants} & {e["id"] for e in lus}
    # La chaîne d'empreintes du journal est intacte.
    assert list(empreintes.verifier())[:-1] == []


def test_pages_plus_petites_memes_evenements(client, db, monde, jetons):  # noqa: F811
    for _ in range(3):
        transmettre(monde, demande_complete(monde))
    tous, _ = tout_lire(client, jetons["etat"])
    par_deux, _ = tout_lire(client, jetons["etat"], limite=2)
    assert [e["id"] for e in par_deux] == [e["id"] for e in tous] and len(tous) >= 3
    premiere = lire(client, jetons["etat"], limite=2)
    assert premiere["suite"] is True and len(premiere["evenements"]) == 2


def test_hors_perimetre_rien_mais_le_curseur_avance(client, db, monde, jetons):  # noqa: F811
    _, depart = tout_lire(client, jetons["caf_autre"])
    transmettre(monde, demande_complete(monde))
    page = lire(client, jetons["caf_autre"], depart)
    assert page["evenements"] == []
    assert evenements.position_du_curseur(page["curseur"]) > evenements.position_du_curseur(depart)
    # Le partenaire du contrat (CAF) et le financeur sollicité le voient.
    assert lire(client, jetons["caf"], depart)["evenements"]
    assert lire(client, jetons["commune"], depart)["evenements"]


@pytest.mark.parametrize("valeur", ["n'importe quoi", "e30", "eyJ2IjogMSwgInAiOiAtMX0", "%%%"])
def test_un_curseur_illisible_donne_400_en_francais(client, db, monde, jetons, valeur):  # noqa: F811
    reponse = client.get(f"/api/v1/evenements?apres={valeur}", headers=entetes(jetons["etat"]))
    assert reponse.status_code == 400
    assert "Curseur illisible" in reponse.get_json()["details"]["apres"][0]


def test_sans_jeton_401(client, db):
    assert client.get("/api/v1/evenements").status_code == 401


def test_un_rang_par_ligne_du_journal_dans_l_ordre_du_dossier(db, monde):
    demande = transmettre(monde, demande_complete(monde))
    rangs = _db.session.execute(
        select(PositionFlux.position, EvenementJournal.id)
        .join(EvenementJournal, EvenementJournal.id == PositionFlux.journal_id)
        .where(EvenementJournal.demande_id == demande.id)
        .order_by(PositionFlux.position)
    ).all()
    nombre = _db.session.query(EvenementJournal).filter_by(demande_id=demande.id).count()
    assert len(rangs) == nombre
    assert [j for _, j in rangs] == sorted(j for _, j in rangs)


@pytest.mark.transactions_reelles  # deux connexions qui valident dans l'ordre inverse de leurs identifiants
def test_une_transaction_qui_valide_apres_une_plus_recente_n_est_pas_perdue(app, db, monde):
    """Sur PostgreSQL, A prend l'identifiant de journal le plus petit mais valide après B : un lecteur passé
    entre les deux commits reprend ensuite A. Sur SQLite, les écritures sont sérialisées (la seconde
    attendrait la première) : le cas ne peut pas se produire."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite sérialise les écritures : deux transactions n'écrivent jamais en même temps.")
    from sqlalchemy.orm import Session as SessionOrm

    from dauphin.extensions import Session

    a_id = transmettre(monde, demande_complete(monde)).id
    b_id = transmettre(monde, demande_complete(monde)).id
    acteur = monde.admin_national
    _, depart, _ = evenements.lire(acteur, 0, 10_000)

    def ligne_journal(demande_id, texte):
        return EvenementJournal(
            demande_id=demande_id,
            role="systeme",
            declencheur="note_test",
            statut_avant="transmise",
            statut_apres="transmise",
            commentaire=texte,
            empreinte="0" * 64,
        )

    session_a = Session(_db, bind=db.engine)
    session_b = Session(_db, bind=db.engine)
    assert isinstance(session_a, SessionOrm)
    try:
        evenement_a = ligne_journal(a_id, "A")
        session_a.add(evenement_a)
        session_a.flush()  # A a son identifiant, pas encore validé
        evenement_b = ligne_journal(b_id, "B")
        session_b.add(evenement_b)
        session_b.commit()  # B, identifiant plus grand, valide le premier
        assert evenement_a.id < evenement_b.id

        _db.session.remove()
        lus, curseur, _ = evenements.lire(acteur, depart, 10_000)
        assert [e["commentaire"] for e in lus] == ["B"]
        session_a.commit()
        _db.session.remove()
        suivants, _, _ = evenements.lire(acteur, curseur, 10_000)
        assert [e["commentaire"] for e in suivants] == ["A"]  # par identifiant, A aurait été sauté
    finally:
        session_a.close()
        session_b.close()


def test_les_lignes_ecrites_en_masse_prennent_leur_rang_par_la_commande(app, client, db, monde, jetons):  # noqa: F811
    """`flask seed scale` écrit le journal sans la session (COPY, executemany) : `flask webhooks ranger`
    leur donne un rang, après tous ceux déjà donnés ; le brouillon reste hors du flux des organisations."""
    demande = transmettre(monde, demande_complete(monde))
    _, depart = tout_lire(client, jetons["etat"])
    ligne = ligne_de(db, demande.id, monde.etat)
    champs = dict(role="systeme", statut_avant="sollicitee", statut_apres="sollicitee", empreinte="0" * 64)
    _db.session.execute(
        EvenementJournal.__table__.insert(),
        [
            dict(demande_id=demande.id, ligne_id=ligne.id, declencheur="en_masse_1", **champs),
            dict(demande_id=demande.id, ligne_id=ligne.id, declencheur="en_masse_2", **champs),
        ],
    )
    _db.session.commit()
    assert lire(client, jetons["etat"], depart)["evenements"] == []  # sans rang, pas encore dans le flux
    resultat = app.test_cli_runner().invoke(args=["webhooks", "ranger"])
    assert resultat.exit_code == 0 and "2 ligne(s)" in resultat.output
    assert [e["type"] for e in lire(client, jetons["etat"], depart)["evenements"]] == [
        "ligne.en_masse_1",
        "ligne.en_masse_2",
    ]
    assert "0 ligne(s)" in app.test_cli_runner().invoke(args=["webhooks", "ranger"]).output
    assert app.test_cli_runner().invoke(args=["webhooks", "livrer"]).exit_code == 0


def test_du_depot_au_versement_tout_passe_par_le_flux(client, db, monde, jetons):  # noqa: F811
    """Ce qu'un financeur suit de son système : dépôt, avis, vote, acte, engagement, échéance, paiement."""
    from decimal import Decimal

    from dauphin.models import NatureVersement
    from dauphin.services import engagements
    from dauphin.services.workflow import aujourdhui
    from tests.test_engagements import votee

    _, depart = tout_lire(client, jetons["etat"])
    demande = votee(db, monde)
    ligne = ligne_de(db, demande.id, monde.etat)
    engagements.etablir_acte(ligne.id, monde.instructeur_etat)
    engagements.enregistrer_engagement(ligne.id, monde.instructeur_etat, "EJ-2100000001")
    versement = engagements.prevoir_echeance(
        ligne.id, monde.instructeur_etat, NatureVersement.avance, aujourdhui(), Decimal("3000")
    )
    engagements.enregistrer_paiement(
        versement.id, monde.instructeur_etat, aujourdhui(), Decimal("3000"), "MANDAT-7"
    )
    lus, _ = tout_lire(client, jetons["etat"], depart, limite=3)
    de_l_etat = [
        e["type"] for e in lus if e["ligne"] is None or e["ligne"]["financeur"]["id"] == monde.etat.id
    ]
    attendus = [
        "demande.attester",
        "ligne.prendre_en_charge",
        "ligne.declarer_recevable",
        "demande.programmer",
        "ligne.voter",
        "ligne.notifier",
        "ligne.enregistrer_engagement",
        "ligne.prevoir_versement",
        "ligne.verser_avance",
    ]
    assert [t for t in de_l_etat if t in attendus] == attendus, de_l_etat
    engagement = next(e for e in lus if e["type"] == "ligne.enregistrer_engagement")
    assert engagement["statut_avant"] == engagement["statut_apres"]
    assert "EJ-2100000001" in engagement["commentaire"]
    # Les lignes de la commune y sont aussi (le dossier entier se voit), dans l'ordre du journal.
    assert any(e["ligne"] and e["ligne"]["financeur"]["id"] == monde.commune.id for e in lus)
    assert [e["id"] for e in lus] == sorted(e["id"] for e in lus)


@pytest.mark.transactions_reelles  # des fils d'exécution qui écrivent pendant qu'un autre lit le flux
def test_sous_ecritures_concurrentes_un_lecteur_voit_tout_une_fois(app, db, monde):
    """Quatre fils font des transitions sur des dossiers différents, certaines lentes (la transaction reste
    ouverte après avoir pris son identifiant de journal) ; un lecteur suit le flux par petites pages
    pendant ce temps. À la fin, il a lu chaque événement exactement une fois."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite sérialise les écritures : les commits ne peuvent pas s'y croiser.")
    import threading
    import time

    from dauphin.models import Utilisateur

    demandes = [transmettre(monde, demande_complete(monde)) for _ in range(8)]
    lignes = [ligne_de(db, d.id, monde.etat).id for d in demandes]
    instructeur_id = monde.instructeur_etat.id
    acteur = monde.admin_national.id
    with app.app_context():
        national = _db.session.get(Utilisateur, acteur)
        _, depart, _ = evenements.lire(national, 0, 10_000)
        _db.session.remove()
    fini = threading.Event()
    lus: list[int] = []
    erreurs: list[BaseException] = []

    def lecteur():
        curseur = depart
        try:
            while True:
                derniere = fini.is_set()
                with app.app_context():
                    qui = _db.session.get(Utilisateur, acteur)
                    while True:
                        page, curseur, suite = evenements.lire(qui, curseur, 3)
                        lus.extend(e["id"] for e in page)
                        if not suite:
                            break
                    _db.session.remove()
                if derniere:
                    return
                time.sleep(0.01)
        except BaseException as erreur:  # noqa: BLE001 (rapporté au fil principal)
            erreurs.append(erreur)

    def lent_apres_l_identifiant(*_):
        _db.session.flush()  # l'identifiant de journal est pris…
        time.sleep(0.5)  # …et la transaction reste ouverte : d'autres valident entre-temps

    def ecrivain(mes_lignes, lent):
        try:
            with app.app_context():
                compte = _db.session.get(Utilisateur, instructeur_id)
                for ligne_id in mes_lignes:
                    declencher_ligne(
                        ligne_id,
                        "prendre_en_charge",
                        compte,
                        apres=lent_apres_l_identifiant if lent else None,
                    )
                    declencher_ligne(ligne_id, "declarer_non_recevable", compte, commentaire="Hors champ.")
                _db.session.remove()
        except BaseException as erreur:  # noqa: BLE001
            erreurs.append(erreur)

    fil_lecteur = threading.Thread(target=lecteur)
    ecrivains = [threading.Thread(target=ecrivain, args=(lignes[i::4], i % 2 == 0)) for i in range(4)]
    fil_lecteur.start()
    for fil in ecrivains:
        fil.start()
    for fil in ecrivains:
        fil.join(timeout=120)
    fini.set()
    fil_lecteur.join(timeout=120)
    assert erreurs == []
    _db.session.remove()
    attendus = set(
        _db.session.scalars(
            select(PositionFlux.journal_id).where(
                PositionFlux.position > evenements.position_du_curseur(evenements.curseur(depart)),
                PositionFlux.transmise,
            )
        )
    )
    assert len(attendus) >= 8 * 3  # prise en charge, non-recevabilité, statuts dérivés
    assert len(lus) == len(set(lus)), "un événement lu deux fois"
    assert set(lus) == attendus, "un événement manqué"
    # Le cas s'est bien produit : des commits dans l'autre ordre que leurs identifiants de journal.
    par_rang = list(
        _db.session.scalars(
            select(PositionFlux.journal_id)
            .where(PositionFlux.journal_id.in_(attendus))
            .order_by(PositionFlux.position)
        )
    )
    assert par_rang != sorted(par_rang)
