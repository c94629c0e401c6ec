"""Sans Redis (mode embarqué, `make run`), une attestation répond sans attendre son récépissé PDF : la tâche
part dans le fil de fond du processus, qui le produit ensuite dans son propre contexte."""

from __future__ import annotations

import threading

import pytest

from dauphin import jobs
from dauphin.models import Document, TypePiece
from tests.parcours import ATTESTATION, creer_brouillon, deposer_statuts, remplir, version

FIL_OCCUPE = threading.Event()
FIL_LIBRE = threading.Event()


def occuper_le_fil() -> None:
    """Une tâche qui tient le fil de fond jusqu'à ce que le test le libère."""
    FIL_OCCUPE.set()
    assert FIL_LIBRE.wait(30), "le test n'a pas libéré le fil de fond"


@pytest.mark.transactions_reelles  # le fil de fond lit par sa propre connexion ce que l'attestation valide
@pytest.mark.recepisse
def test_l_attestation_repond_avant_que_le_recepisse_soit_produit(
    app, client, connexion, db, monde, monkeypatch
):
    monkeypatch.setitem(app.config, "TACHES_APRES_LA_REPONSE", True)
    FIL_OCCUPE.clear()
    FIL_LIBRE.clear()
    document = deposer_statuts(monde)
    connexion.en_tant_que(monde.signataire)
    demande_id = creer_brouillon(client, monde)
    remplir(client, monde, demande_id, document)
    client.post(f"/demandes/{demande_id}/soumettre", data={"version": version(client, demande_id)})
    with app.test_request_context():
        jobs.lancer(f"{__name__}.occuper_le_fil")
    assert FIL_OCCUPE.wait(10)
    try:
        reponse = client.post(
            f"/demandes/{demande_id}/attester", data={"version": version(client, demande_id), **ATTESTATION}
        )
        # Le fil de fond est tenu : si l'attestation attendait sa tâche, elle n'aurait pas encore répondu.
        assert reponse.status_code == 302, reponse.get_data(as_text=True)[:2000]
        db.session.expire_all()
        assert db.session.query(Document).filter_by(type_piece=TypePiece.recepisse).count() == 0
    finally:
        FIL_LIBRE.set()
    jobs.attendre_les_taches()
    db.session.expire_all()
    recepisse = db.session.query(Document).filter_by(type_piece=TypePiece.recepisse).one()
    assert recepisse.demande_id == demande_id
    page = client.get(f"/documents/{recepisse.id}/telecharger")
    assert page.status_code == 200 and page.data.startswith(b"%PDF")


def test_hors_requete_une_tache_s_execute_sur_place(app, monkeypatch):
    """Les commandes (flask seed, rattrapages) n'ont pas de fil qui survive au processus : sur place."""
    monkeypatch.setitem(app.config, "TACHES_APRES_LA_REPONSE", True)
    FIL_LIBRE.set()
    FIL_OCCUPE.clear()
    jobs.lancer(f"{__name__}.occuper_le_fil")
    assert FIL_OCCUPE.is_set()  # déjà exécutée quand lancer() rend la main
