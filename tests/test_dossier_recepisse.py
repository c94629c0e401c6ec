"""La vue d'un dossier lit son dernier récépissé avec la demande (sous-requêtes corrélées) : le lien mène au
dernier produit, et le message « en cours de production » ne paraît que tant qu'il n'y en a pas de récent."""

from __future__ import annotations

from dauphin.models import Demande, TypePiece
from dauphin.pdf import dernier_recepisse
from dauphin.services import documents
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
    connexion.en_tant_que(monde.signataire)
    sans = client.get(f"/dossiers/{demande.id}").get_data(as_text=True)
    if dernier_recepisse(db.session.get(Demande, demande.id)) is None:  # production en file, pas encore faite
        assert 'id="recepisse-en-cours"' in sans
        assert "Télécharger le récépissé (PDF)" not in sans
    premier = _recepisse(db, monde, demande.id)
    second = _recepisse(db, monde, demande.id)
    assert premier.id < second.id
    page = client.get(f"/dossiers/{demande.id}").get_data(as_text=True)
    assert f'href="/documents/{second.id}/telecharger">Télécharger le récépissé (PDF)' in page
    assert f"/documents/{premier.id}/telecharger" not in page
    assert 'id="recepisse-en-cours"' not in page  # le dernier est postérieur à l'attestation
    connexion.en_tant_que(monde.instructeur_commune)
    vu_du_financeur = client.get(f"/dossiers/{demande.id}").get_data(as_text=True)
    assert f'href="/documents/{second.id}/telecharger"' in vu_du_financeur
    assert f"/documents/{premier.id}/telecharger" not in vu_du_financeur
