"""Ce que coûte un dépôt, compté et non chronométré : les ordres SQL de chaque POST du dépôt (soumettre depuis
le récapitulatif, puis attester), pour qu'une relecture, un SELECT ou un UPDATE de plus se voie ici plutôt
qu'au banc (issue 22 : le dépôt était passé de 21,9 à 27,4 ordres par POST en trois jours).

Les tâches partent dans le fil de fond du processus, comme sans Redis en service (`jobs`) : seuls les ordres
du fil de la requête sont comptés, ceux du récépissé et de l'envoi des courriels, faits après la réponse, ne
le sont pas. Ce que chaque POST doit écrire est vérifié avec le compte : statut, numéro, journal, flux.
"""

from __future__ import annotations

import re
import threading

import pytest
from sqlalchemy import event, select

from dauphin import jobs
from dauphin.models import Courriel, Demande, EvenementJournal, LigneFinancement, PositionFlux
from tests.fabriques_db import demande_complete
from tests.formulaires_html import html
from tests.parcours import ATTESTATION, version

# Le nombre d'ordres SQL de chaque POST, par base. Le 7 décembre au matin : 22 et 33 sur PostgreSQL (comme au
# banc) ; SQLite écrit un ordre par courriel là où PostgreSQL les groupe. Il peut baisser ; s'il monte, dire
# pourquoi (docs/mesures.md) avant de changer le chiffre.
ORDRES = {
    "postgresql": {"soumettre": 20, "attester": 26},
    "sqlite": {"soumettre": 20, "attester": 31},
}


class OrdresDuFil:
    """Les ordres SQL envoyés par le fil qui l’ouvre (celui du client de test), pas par le fil de fond."""

    def __init__(self, moteur):
        self.moteur, self.fil, self.ordres = moteur, threading.get_ident(), []

    def __call__(self, _connexion, _curseur, ordre, *_):
        if threading.get_ident() == self.fil:
            self.ordres.append(" ".join(ordre.split())[:120])

    def __enter__(self):
        event.listen(self.moteur, "before_cursor_execute", self)
        return self

    def __exit__(self, *_):
        event.remove(self.moteur, "before_cursor_execute", self)


@pytest.mark.transactions_reelles  # le fil de fond lit par sa propre connexion ce que le dépôt valide
def test_chaque_post_du_depot_envoie_un_nombre_fixe_d_ordres_sql(
    app, client, connexion, db, monde, monkeypatch
):
    monkeypatch.setitem(app.config, "TACHES_APRES_LA_REPONSE", True)
    demande_id = demande_complete(monde).id
    db.session.commit()
    connexion.en_tant_que(monde.signataire)
    envois = {
        "soumettre": {},
        "attester": ATTESTATION,
    }
    comptes = {}
    for action, donnees in envois.items():
        # Chaque requête dans un contexte d'application neuf, comme chaque requête servie : une session
        # vide, qui ne garde rien de ce que le test ou la requête précédente a lu (ni version périmée).
        with app.app_context():
            donnees = {"version": version(client, demande_id), **donnees}
        with app.app_context():
            client.get(f"/demandes/{demande_id}/etape/recapitulatif")
        with app.app_context(), OrdresDuFil(db.engine) as espion:
            reponse = client.post(f"/demandes/{demande_id}/{action}", data=donnees)
        jobs.attendre_les_taches()
        assert reponse.status_code == 302, (action, re.findall(r"fr-alert.*?</div>", html(reponse), re.S))
        comptes[action] = espion.ordres

    attendus = ORDRES[db.engine.dialect.name]
    assert {action: len(ordres) for action, ordres in comptes.items()} == attendus, "\n".join(
        f"{action} : {len(ordres)}\n  " + "\n  ".join(ordres) for action, ordres in comptes.items()
    )
    # Et rien de ce qui est promis n'est perdu : le dossier transmis sous un numéro, ses lignes numérotées,
    # le journal et le flux des changements, les courriels écrits.
    db.session.expire_all()
    demande = db.session.get(Demande, demande_id)
    assert demande.statut == "transmise" and demande.numero and demande.atteste_par_id == monde.signataire.id
    lignes = db.session.scalars(
        select(LigneFinancement).where(LigneFinancement.demande_id == demande_id)
    ).all()
    assert lignes and {(ligne.numero, ligne.statut_dossier) for ligne in lignes} == {
        (demande.numero, "transmise")
    }
    journal = db.session.scalars(
        select(EvenementJournal)
        .where(EvenementJournal.demande_id == demande_id)
        .order_by(EvenementJournal.id)
    ).all()
    assert [e.declencheur for e in journal] == ["soumettre", "attester"]
    assert journal[1].empreinte_precedente == journal[0].empreinte
    rangs = db.session.scalars(
        select(PositionFlux.transmise).where(PositionFlux.journal_id.in_([e.id for e in journal]))
    ).all()
    assert sorted(rangs) == [False, True]
    assert db.session.scalars(select(Courriel.sujet).where(Courriel.demande_id == demande_id)).all()
