"""La vue d'un dossier lit avec la demande (sous-requêtes corrélées) son dernier récépissé et l'existence de
courriels non envoyés : le lien mène au dernier récépissé produit, le message « en cours de production » ne
paraît que tant qu'il n'y en a pas de récent, et les courriels non envoyés sont listés au financeur (à lui
seul) quand il y en a."""

from __future__ import annotations

import re

from sqlalchemy import select

from dauphin import jobs
from dauphin.models import Courriel, Demande, Document, StatutCourriel, TypePiece
from dauphin.pdf import dernier_recepisse
from dauphin.services import documents
from dauphin.services.courriels import non_envoyes_de_la_demande
from tests.test_documents import PDF
from tests.test_trace_lectures import transmise


def _recepisse(db, monde, demande_id: int):
    document = documents.stocker(
        monde.structure, TypePiece.recepisse, "recepisse.pdf", PDF, "application/pdf", demande_id=demande_id
    )
    db.session.commit()
    return document


def test_le_dossier_mene_au_dernier_recepisse(client, connexion, db, monde):
    demande = transmise(monde)
    jobs.attendre_les_taches()  # le récépissé de la transmission, produit par le fil de fond
    for recepisse in db.session.scalars(
        select(Document).where(Document.demande_id == demande.id, Document.type_piece == TypePiece.recepisse)
    ):
        db.session.delete(recepisse)  # comme si sa production était encore en file
    db.session.commit()
    assert dernier_recepisse(db.session.get(Demande, demande.id)) is None
    connexion.en_tant_que(monde.signataire)
    sans = client.get(f"/dossiers/{demande.id}").get_data(as_text=True)
    assert 'id="recepisse-en-cours"' in sans
    assert "Télécharger le récépissé (PDF)" not in sans
    premier = _recepisse(db, monde, demande.id)
    second = _recepisse(db, monde, demande.id)
    assert premier.id < second.id
    page = client.get(f"/dossiers/{demande.id}").get_data(as_text=True)
    assert f'href="/documents/{second.id}/telecharger">Télécharger le récépissé (PDF)' in page
    assert f"/documents/{premier.id}/telecharger" not in page
    assert 'id="recepisse-en-cours"' not in page  # le dernier est postérieur à l'attestation
    connexion.deconnexion()
    connexion.en_tant_que(monde.instructeur_commune)
    vu_du_financeur = client.get(f"/dossiers/{demande.id}").get_data(as_text=True)
    assert f'href="/documents/{second.id}/telecharger">Récépissé de dépôt (PDF)' in vu_du_financeur
    assert f"/documents/{premier.id}/telecharger" not in vu_du_financeur


def _courriels_listes(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'<li data-courriel="(\d+)"', page)]


def test_courriels_non_envoyes_listes_au_financeur_seul(client, connexion, db, monde):
    demande = transmise(monde)
    for courriel in non_envoyes_de_la_demande(demande.id):  # ceux de la transmission, partis
        courriel.statut = StatutCourriel.envoye
    db.session.commit()
    connexion.deconnexion()
    connexion.en_tant_que(monde.instructeur_commune)
    page = client.get(f"/dossiers/{demande.id}").get_data(as_text=True)
    assert 'id="courriels-non-envoyes"' not in page and _courriels_listes(page) == []
    courriels = [
        Courriel(destinataire="a@exemple.fr", sujet="En attente", corps="…", demande_id=demande.id),
        Courriel(destinataire="b@exemple.fr", sujet="Échec", corps="…", demande_id=demande.id),
        Courriel(destinataire="c@exemple.fr", sujet="Parti", corps="…", demande_id=demande.id),
    ]
    courriels[0].statut, courriels[1].statut, courriels[2].statut = (
        StatutCourriel.en_attente,
        StatutCourriel.echec,
        StatutCourriel.envoye,
    )
    db.session.add_all(courriels)
    db.session.commit()
    page = client.get(f"/dossiers/{demande.id}").get_data(as_text=True)
    assert 'id="courriels-non-envoyes"' in page
    assert _courriels_listes(page) == [courriels[0].id, courriels[1].id]
    connexion.deconnexion()
    connexion.en_tant_que(monde.signataire)
    vu_du_porteur = client.get(f"/dossiers/{demande.id}").get_data(as_text=True)
    assert 'id="courriels-non-envoyes"' not in vu_du_porteur
