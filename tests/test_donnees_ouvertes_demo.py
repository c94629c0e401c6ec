"""Données ouvertes de la démonstration (`flask seed demo`) : chaque fichier que `flask donnees-ouvertes
publier` en tire valide contre le schéma SCDL Subventions 2.1.1 (frictionless, 0 erreur). À part de
tests/test_donnees_ouvertes.py, dont l'exercice bâti une fois pour le module occupe la base : la démonstration
se charge ici sur une base vierge."""

from __future__ import annotations

from dauphin.services import donnees_ouvertes as service
from dauphin.services.workflow import aujourdhui
from tests.test_donnees_ouvertes import valider


def test_demonstration_chaque_fichier_valide(app, db, tmp_path):
    from dauphin.seeds.demo import charger_demo

    charger_demo()
    annee = aujourdhui().year
    produits = []
    for exercice in (annee - 1, annee):
        bilan = service.publier(exercice, sortie=tmp_path)
        assert bilan.sans_siret == [] and bilan.publications
        produits += [p.nom_fichier for p in bilan.publications]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(produits)
    lignes = [ligne for nom in produits for ligne in valider(tmp_path / nom)]
    # Les quatre dossiers financés l'an dernier (deux financeurs chacun) et celui versé cette année ; le
    # dossier attribué cette année attend ses actes, le rejeté n'a rien.
    assert len(lignes) == 4 * 2 + 2
    assert all(ligne["ej"] and ligne["cofinancement"] == "oui" for ligne in lignes)
    assert {ligne["conditionsVersement"] for ligne in lignes} == {"échelonné"}
