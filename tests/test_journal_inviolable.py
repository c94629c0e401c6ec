"""Le journal est chaîné par empreintes : toute ligne modifiée ou supprimée est détectée."""

from __future__ import annotations

from sqlalchemy import delete, select, update

from dauphin.models import EvenementJournal
from dauphin.services.empreintes import Anomalie, verifier
from dauphin.services.workflow import declencher_demande, declencher_ligne
from tests.fabriques_db import demande_complete


def anomalies():
    return [r for r in verifier() if isinstance(r, Anomalie)]


def dossier_instruit(monde):
    demande = demande_complete(monde)
    declencher_demande(demande.id, "soumettre", monde.contributeur)
    declencher_demande(demande.id, "attester", monde.signataire, attestation=True)
    ligne = demande.lignes_financement[0]
    declencher_ligne(ligne.id, "prendre_en_charge", monde.instructeur_etat)
    declencher_demande(demande.id, "demander_complements", monde.instructeur_etat, commentaire="Le devis")
    return demande


def test_chaque_ligne_est_scellee_a_la_suivante(db, monde):
    demande = dossier_instruit(monde)
    autre = dossier_instruit(monde)
    lignes = db.session.scalars(
        select(EvenementJournal)
        .where(EvenementJournal.demande_id == demande.id)
        .order_by(EvenementJournal.id)
    ).all()
    assert len(lignes) == 5 and lignes[0].empreinte_precedente is None
    assert all(b.empreinte_precedente == a.empreinte for a, b in zip(lignes, lignes[1:], strict=False))
    assert len({ligne.empreinte for ligne in lignes}) == 5
    # Deux dossiers, deux chaînes indépendantes
    premiere_autre = db.session.scalar(
        select(EvenementJournal).where(EvenementJournal.demande_id == autre.id).order_by(EvenementJournal.id)
    )
    assert premiere_autre.empreinte_precedente is None
    assert anomalies() == []


def test_ligne_modifiee_ou_supprimee_detectee(app, db, monde):
    demande = dossier_instruit(monde)
    ids = db.session.scalars(
        select(EvenementJournal.id)
        .where(EvenementJournal.demande_id == demande.id)
        .order_by(EvenementJournal.id)
    ).all()
    runner = app.test_cli_runner()
    resultat = runner.invoke(args=["journal", "verify"])
    assert resultat.exit_code == 0 and "Journal intègre : 5 lignes vérifiées" in resultat.output

    # Quelqu'un réécrit un commentaire en base, puis efface une ligne gênante
    db.session.execute(
        update(EvenementJournal).where(EvenementJournal.id == ids[4]).values(commentaire="Rien")
    )
    db.session.execute(delete(EvenementJournal).where(EvenementJournal.id == ids[2]))
    db.session.commit()
    trouvees = {(a.journal_id, a.nature) for a in anomalies()}
    assert trouvees == {(ids[3], "chaîne rompue"), (ids[4], "modifiée")}
    resultat = runner.invoke(args=["journal", "verify"])
    assert resultat.exit_code == 1
    assert f"la ligne de journal {ids[4]} a été modifiée" in resultat.output
    assert f"la chaîne est rompue avant la ligne {ids[3]}" in resultat.output
