"""API : les erreurs de saisie sont en français, toutes.

Un logiciel partenaire affiche `details` à son usager : aucun message anglais de marshmallow ne doit en
sortir. On essaie chaque champ de chaque schéma d'entrée des opérations déclarées (paramètres d'URL et
corps) avec des valeurs invalides, puis les cas signalés par un testeur, par HTTP. Et les formes de
`details` (par champ, `{"champ": …}`, liste de problèmes) que promet la documentation."""

from __future__ import annotations

import re

import pytest
from marshmallow import Schema, ValidationError, fields, validate

from dauphin.api import messages, registre
from dauphin.services import engagements
from dauphin.services.workflow import aujourdhui
from tests.test_api import creer, entetes, erreur
from tests.test_engagements import ligne_de, votee

ANGLAIS = re.compile(
    r"Not a valid|Must be|Length must|Missing data|Unknown field|may not be null|Invalid|Shorter than|"
    r"Longer than|String does not|One or more|cannot be formatted|Special numeric|too large|greater than|"
    r"less than|required field|[Nn]ot permitted"
)

VALEURS_INVALIDES = (
    "abc",
    "",
    "0",
    "-1",
    "3000,00",
    "hier",
    "2026-13-45",
    "99999999999999999999999",
    "x" * 6000,
    "a\x00b",
    None,
    [],
    {},
    True,
    -5,
    1.5,
    10**20,
    "nan",
)


def _messages(erreurs) -> list[str]:
    """Tous les textes d'un `ValidationError.messages` (dictionnaires et listes imbriqués)."""
    if isinstance(erreurs, str):
        return [erreurs]
    if isinstance(erreurs, dict):
        return [m for valeur in erreurs.values() for m in _messages(valeur)]
    return [m for valeur in erreurs for m in _messages(valeur)]


def _schemas_d_entree() -> list[type[Schema]]:
    vus = []
    for operation in registre.operations:
        for schema in (operation.parametres, operation.corps):
            if schema is not None and schema not in vus:
                vus.append(schema)
    return vus


def _anglais(textes: list[str]) -> list[str]:
    return [t for t in textes if ANGLAIS.search(t)]


def test_chaque_champ_de_chaque_entree_repond_en_francais():
    schemas = _schemas_d_entree()
    noms = {s.__name__ for s in schemas}
    # Les entrées que le testeur a essayées sont bien dans le parcours.
    assert {"FiltresEvenements", "FiltresVersements", "Paiement", "Engagement", "Transition"} <= noms
    vus, anglais = 0, []
    for classe in schemas:
        schema = classe()
        # Le schéma entier : rien du tout, un type qui n'est pas un objet, un champ inconnu.
        for donnees in ({}, [], "texte", {"champ_inconnu": 1}):
            try:
                schema.load(donnees)
            except ValidationError as e:
                anglais += [f"{classe.__name__} {donnees!r}: {t}" for t in _anglais(_messages(e.messages))]
        for nom in schema.load_fields:
            for valeur in VALEURS_INVALIDES:
                try:
                    schema.load({nom: valeur}, partial=True)
                except ValidationError as e:
                    textes = _messages(e.messages)
                    vus += len(textes)
                    anglais += [f"{classe.__name__}.{nom}={valeur!r}: {t}" for t in _anglais(textes)]
    assert vus > 100  # le parcours a bien produit des erreurs à lire
    assert anglais == []


def _gabarits_du_champ(classe) -> dict[str, str]:
    """Les messages qu'aurait une instance (même fusion que `Field.__init__`)."""
    gabarits = {}
    for parent in reversed(classe.__mro__):
        gabarits.update(getattr(parent, "default_error_messages", {}))
    return gabarits


def _sous_classes(classe):
    for sous in classe.__subclasses__():
        yield sous
        yield from _sous_classes(sous)


def test_tous_les_gabarits_de_marshmallow_sont_traduits():
    """Un champ ou un validateur qu'on ajouterait demain à un schéma répond aussi en français."""
    des_marshmallow = (c for c in _sous_classes(fields.Field) if c.__module__ == "marshmallow.fields")
    classes = [fields.Field, *des_marshmallow]
    assert fields.Decimal in classes and fields.AwareDateTime in classes
    anglais = [
        f"{c.__name__}.{cle}: {texte}"
        for c in classes
        for cle, texte in _gabarits_du_champ(c).items()
        if ANGLAIS.search(texte)
    ]
    for classe in messages.MESSAGES_VALIDATEURS:
        for nom in dir(classe):
            if nom.startswith(("message", "default_message")):
                texte = getattr(classe, nom)
                if isinstance(texte, str) and ANGLAIS.search(texte):
                    anglais.append(f"{classe.__name__}.{nom}: {texte}")
    anglais += [f"Schema.{cle}: {t}" for cle, t in Schema().error_messages.items() if ANGLAIS.search(t)]
    assert anglais == []
    # Un validateur créé maintenant : ses bornes dans le message.
    with pytest.raises(ValidationError) as e:
        validate.Range(1, 500)(0)
    assert e.value.messages == ["Doit être supérieur ou égal à 1 et inférieur ou égal à 500."]


@pytest.fixture
def engagee(db, monde):
    demande = votee(db, monde)
    ligne = ligne_de(db, demande.id, monde.etat)
    engagements.etablir_acte(ligne.id, monde.instructeur_etat)
    return demande, ligne_de(db, demande.id, monde.etat)


def test_les_cas_du_testeur_par_http(client, db, monde, engagee):
    _, ligne = engagee
    clair = creer(monde.instructeur_etat, monde.etat, portees=("lecture", "paiement"))
    h = entetes(clair)

    def details(reponse, code=400) -> dict:
        corps = erreur(reponse, code)
        assert not _anglais(_messages(corps["details"] or {})), corps
        return corps["details"]

    assert details(client.get("/api/v1/evenements?limite=0", headers=h)) == {
        "limite": ["Doit être supérieur ou égal à 1 et inférieur ou égal à 500."]
    }
    assert details(client.get("/api/v1/evenements?limite=abc", headers=h)) == {
        "limite": ["Un nombre entier est attendu (par exemple « 42 »)."]
    }
    date = details(client.get("/api/v1/versements?modifie_depuis=hier", headers=h))["modifie_depuis"]
    assert date == [
        "Date et heure invalides : attendu au format ISO 8601, par exemple « 2026-03-01T10:00:00Z »."
    ]

    vide = details(client.put(f"/api/v1/lignes/{ligne.id}/engagement", json={"numero": ""}, headers=h))
    assert vide == {"numero": ["Doit compter de 1 à 30 caractères."]}

    # Le montant à la française : on dit d'écrire un point.
    engagements.enregistrer_engagement(ligne.id, monde.instructeur_etat, "2100")
    corps = {"nature": "avance", "date_prevue": aujourdhui().isoformat(), "montant": "3000,00"}
    montant = details(client.post(f"/api/v1/lignes/{ligne.id}/echeances", json=corps, headers=h))["montant"]
    assert len(montant) == 1 and "« 3000.00 »" in montant[0] and "point" in montant[0]
    # Champ manquant, champ inconnu, valeur null, choix inconnu.
    corps = {"nature": "acompte", "montant": None, "en_trop": 1}
    tout = details(client.post(f"/api/v1/lignes/{ligne.id}/echeances", json=corps, headers=h))
    assert tout == {
        "nature": ["Valeur inconnue : attendu l’une de avance, solde."],
        "date_prevue": ["Champ obligatoire."],
        "montant": ["Ce champ ne peut pas être vide (null)."],
        "en_trop": ["Champ inconnu : il ne fait pas partie de cette opération."],
    }


def test_payer_sans_numero_d_engagement_dit_le_champ(client, db, monde, engagee):
    """La documentation le promet : 422 et `details.champ`."""
    _, ligne = engagee
    clair = creer(monde.instructeur_etat, monde.etat, portees=("lecture", "paiement"))
    corps = {"nature": "avance", "date_prevue": aujourdhui().isoformat(), "montant": "3000.00"}
    cree = client.post(f"/api/v1/lignes/{ligne.id}/echeances", json=corps, headers=entetes(clair))
    assert cree.status_code == 201, cree.get_data(as_text=True)
    paiement = {"verse_le": aujourdhui().isoformat(), "montant": "3000.00", "reference": "DP-1"}
    reponse = client.post(
        f"/api/v1/versements/{cree.get_json()['id']}/paiement", json=paiement, headers=entetes(clair)
    )
    corps = erreur(reponse, 422)
    assert corps["details"] == {"champ": "numero_engagement"}
    assert "numéro d’engagement" in corps["erreur"]
    assert ligne_de(db, ligne.demande_id, monde.etat).montant_verse == 0


def test_la_documentation_decrit_les_trois_formes_de_details(client):
    document = client.get("/api/v1/openapi.json").get_json()
    description = document["components"]["schemas"]["Erreur"]["properties"]["details"]["description"]
    for forme in ("{champ: [messages]}", '{"champ": …}', "code", "message", "null"):
        assert forme in description, forme
    page = client.get("/api/v1/documentation").get_data(as_text=True)
    assert 'id="forme-details"' in page and "numero_engagement" in page
