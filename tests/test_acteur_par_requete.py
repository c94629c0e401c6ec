"""L'acteur d'un compte est lu une fois par requête (`policies.acteur`), mais jamais périmé : un rattachement
ajouté, modifié ou retiré dans la requête compte aussitôt, écrit ou pas encore."""

from __future__ import annotations

import pytest
from sqlalchemy import delete

from dauphin.models import MembreStructure, RoleStructure
from dauphin.policies import acteur_de, est_membre_structure


@pytest.fixture(autouse=True)
def dans_une_requete(app):
    """L'acteur n'est gardé que le temps d'une requête : chaque test en est une."""
    with app.test_request_context("/"):
        yield


def test_un_retrait_en_masse_puis_relu_compte_aussitot(db, monde):
    """Un DELETE en masse (ordre Core passé par la session), puis le compte relu : plus membre."""
    compte = monde.contributeur
    assert monde.structure.id in acteur_de(compte).structures
    db.session.execute(delete(MembreStructure).where(MembreStructure.utilisateur_id == compte.id))
    db.session.expire(compte)
    assert monde.structure.id not in acteur_de(compte).structures


def test_l_acteur_est_lu_une_fois_tant_que_rien_ne_change(db, monde):
    compte = monde.signataire
    assert acteur_de(compte) is acteur_de(compte)
    assert monde.structure.id in acteur_de(compte).structures


def test_un_rattachement_compte_aussitot_ecrit_ou_non(db, monde):
    compte = monde.sans_role
    assert not acteur_de(compte).structures
    assert not est_membre_structure(compte, monde.structure.id)

    # Pas encore écrit (la session a un objet nouveau) : l'acteur est relu
    adhesion = MembreStructure(
        utilisateur=compte, structure_id=monde.structure.id, role=RoleStructure.contributeur
    )
    db.session.add(adhesion)
    assert acteur_de(compte).structures == {monde.structure.id: ("contributeur",)}

    # Écrit (flush), puis modifié sans être écrit, puis validé
    db.session.flush()
    assert acteur_de(compte).structures == {monde.structure.id: ("contributeur",)}
    adhesion.role = RoleStructure.signataire
    assert acteur_de(compte).structures == {monde.structure.id: ("signataire",)}
    db.session.commit()
    assert acteur_de(compte).structures == {monde.structure.id: ("signataire",)}
    assert est_membre_structure(compte, monde.structure.id)

    # Retiré et validé : plus membre
    db.session.delete(adhesion)
    db.session.commit()
    assert not acteur_de(compte).structures
    assert not est_membre_structure(compte, monde.structure.id)


def test_un_retrait_annule_revient_a_l_acteur_d_avant(db, monde):
    compte = monde.contributeur
    avant = dict(acteur_de(compte).structures)
    adhesion = next(a for a in compte.adhesions_structures if a.structure_id == monde.structure.id)
    compte.adhesions_structures.remove(adhesion)
    db.session.flush()
    assert monde.structure.id not in acteur_de(compte).structures
    db.session.rollback()
    assert acteur_de(compte).structures == avant
