"""Le document OpenAPI 3.1 de l'API, tel qu'un développeur partenaire le lit : chaque opération dit sa
portée et décrit ses erreurs, chaque champ simple a un exemple, aucun dictionnaire libre ; puis
schemathesis, avec un jeton de chaque portée, sur toute l'API : aucune 5xx, aucune réponse hors du
document, aucune écriture acceptée hors de la portée du jeton. Sur SQLite et sur PostgreSQL."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest

from dauphin.models import LigneFinancement
from dauphin.policies.jetons import Portee
from dauphin.services import engagements
from dauphin.services.workflow import aujourdhui
from tests.fabriques_db import demande_complete
from tests.test_api import creer, entetes, transmettre
from tests.test_engagements import ligne_de, votee


@pytest.fixture
def document(client) -> dict:
    from openapi_spec_validator import validate

    corps = client.get("/api/v1/openapi.json").get_json()
    validate(corps)
    return corps


def _operations(document):
    for chemin, operations in document["paths"].items():
        for methode, operation in operations.items():
            yield chemin, methode, operation


def _simple(propriete: dict) -> bool:
    """Un champ qui porte sa valeur (pas un renvoi à un autre schéma, ni une liste de renvois)."""
    if "$ref" in propriete or "allOf" in propriete:
        return False
    if any("$ref" in p for p in propriete.get("anyOf", ())):
        return False
    return not (propriete.get("type") == "array" and "$ref" in propriete.get("items", {}))


def test_chaque_operation_dit_sa_portee_et_ses_erreurs(document):
    assert document["openapi"] == "3.1.0"
    for chemin, methode, operation in _operations(document):
        reponses = operation["responses"]
        assert {"400", "405", "429", "500"} <= set(reponses), (methode, chemin)
        if chemin.endswith("/openapi.json"):
            assert operation["security"] == []
            continue
        portees = operation["x-portees"]
        assert portees and set(portees) <= {p.value for p in Portee}, (methode, chemin)
        assert operation["security"] == [{"jeton": portees}]
        assert "Portée requise" in operation["description"]
        assert {"401", "403"} <= set(reponses)
        if methode != "get":
            assert {"409", "422"} <= set(reponses)
            entete = [p for p in operation["parameters"] if p["in"] == "header"]
            assert [p["name"] for p in entete] == ["Idempotency-Key"]
        for code, reponse in reponses.items():
            if code.startswith(("4", "5")):
                assert reponse["$ref"].startswith("#/components/responses/Erreur")
    # Les erreurs communes sont décrites une fois, en français.
    for reponse in document["components"]["responses"].values():
        assert reponse["description"] and reponse["content"]["application/json"]["schema"]


def test_chaque_champ_a_un_exemple_et_aucun_dictionnaire_libre(document):
    manquants, libres = [], []
    for nom, schema in document["components"]["schemas"].items():
        for champ, propriete in schema.get("properties", {}).items():
            if _simple(propriete) and "example" not in propriete:
                manquants.append(f"{nom}.{champ}")
            types = propriete.get("type")
            if (types == "object" or (isinstance(types, list) and "object" in types)) and not (
                nom == "Erreur" and champ == "details"
            ):
                libres.append(f"{nom}.{champ}")
    assert manquants == [] and libres == []
    for chemin, _, operation in _operations(document):
        for parametre in operation["parameters"]:
            assert "example" in parametre or "example" in parametre.get("schema", {}), (chemin, parametre)
    # La programmation n'est plus faite de dictionnaires libres.
    programmation = document["components"]["schemas"]["Programmation"]["properties"]
    assert programmation["totaux"]["$ref"].endswith("/TotauxProgrammation")
    assert programmation["demandes"]["items"]["$ref"].endswith("/DemandeProgrammation")


# --- schemathesis, un jeton par portée --------------------------------------------------------------


@pytest.fixture
def monde_engage(db, monde):
    """De quoi répondre autrement que 404 : un dossier voté, sa ligne de l'État engagée avec son numéro et
    une échéance à payer."""
    demande = votee(db, monde)
    ligne = ligne_de(db, demande.id, monde.etat)
    engagements.etablir_acte(ligne.id, monde.instructeur_etat)
    engagements.enregistrer_engagement(ligne.id, monde.instructeur_etat, "2100")
    engagements.prevoir_echeance(ligne.id, monde.instructeur_etat, "avance", aujourdhui(), Decimal("1000"))
    return demande


def _explorer(
    operation, mode, clair: str, portees: set[str], reels: dict, version_de, chiffres: Counter, echecs: list
) -> None:
    """hypothesis sur une opération ; chaque cas est envoyé à l'application et vérifié : pas de 5xx, statut,
    type et corps conformes au document, et aucune écriture acceptée hors des portées du jeton."""
    from hypothesis import HealthCheck, given, settings
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    checks = [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
    ]
    requises = set(operation.definition.raw.get("x-portees", ()))
    ecriture = operation.method.upper() != "GET"

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=15, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    def un_cas(case):
        chiffres["cas"] += 1
        if mode.is_positive and case.path_parameters:
            # Des objets qui existent : l'écriture valide atteint le service (sinon, presque toujours 404) ;
            # une transition vise la ligne où la portée du jeton a quelque chose à faire, à sa version.
            transition = operation.path.endswith("/transitions")
            case.path_parameters = {
                nom: reels["ligne_transition"] if transition and nom == "ligne_id" else reels.get(nom, v)
                for nom, v in case.path_parameters.items()
            }
            if transition and isinstance(case.body, dict) and "version" in case.body:
                case.body["version"] = version_de(reels["ligne_transition"])
        reponse = case.call(headers=entetes(clair))
        if 200 <= reponse.status_code < 300:
            chiffres["ecritures acceptees" if ecriture else "lectures 2xx"] += 1
        try:
            case.validate_response(reponse, checks=checks, headers=entetes(clair))
        except Exception as erreur:  # noqa: BLE001 — chaque échec est compté puis montré à la fin
            echecs.append(f"{operation.label} {mode.name}: {str(erreur)[:300]}")
        if ecriture and 200 <= reponse.status_code < 300 and not (requises & portees):
            echecs.append(f"{operation.label}: écriture acceptée sans la portée {requises}")

    un_cas()


@pytest.mark.proprietes
@pytest.mark.parametrize("portee", [p.value for p in Portee])
def test_schemathesis_par_portee(app, db, monde, monde_engage, portee, capsys):
    import schemathesis
    from schemathesis import GenerationMode

    clair = creer(monde.instructeur_etat, monde.etat, portees=(portee,))
    # La ligne des transitions : à instruire (portée instruction), votée (comité), engagée (les autres).
    a_instruire = transmettre(monde, demande_complete(monde, intitule="À instruire"))
    votee_seulement = votee(db, monde, intitule="Vote à corriger")
    ligne_transition = {
        "instruction": ligne_de(db, a_instruire.id, monde.etat).id,
        "comite": ligne_de(db, votee_seulement.id, monde.etat).id,
    }
    ligne = ligne_de(db, monde_engage.id, monde.etat)
    reels = {
        "demande_id": monde_engage.id,
        "ligne_id": ligne.id,
        "versement_id": engagements.echeanciers([ligne.id])[ligne.id][0].id,
        "campagne_id": monde.campagne.id,
        "document_id": monde_engage.pieces_jointes[0].document_id,
        "ligne_transition": ligne_transition.get(portee, ligne.id),
    }

    def version_de(ligne_id: int) -> int:
        db.session.expire_all()
        return db.session.get(LigneFinancement, ligne_id).version

    from dauphin.models import Document
    from dauphin.services import documents
    from dauphin.stockage import stockage

    cle = documents.cle_du_fichier(db.session.get(Document, reels["document_id"]).cle_stockage)
    stockage().ecrire(cle, b"%PDF-1.4 statuts")
    app.config["API_LIMITE"] = "100000/minute"
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    chiffres, echecs = Counter(), []
    try:
        for resultat in schema.get_all_operations():
            operation = resultat.ok()
            chiffres["operations"] += 1
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                _explorer(operation, mode, clair, {portee}, reels, version_de, chiffres, echecs)
    finally:
        app.config["API_LIMITE"] = "300/minute"
    with capsys.disabled():
        print(
            f"\nschemathesis portée {portee} : {chiffres['operations']} opérations, {chiffres['cas']} cas "
            f"({chiffres['lectures 2xx']} lectures 2xx, {chiffres['ecritures acceptees']} écritures "
            f"acceptées), {len(echecs)} échecs"
        )
    assert echecs == [], "\n".join(echecs[:20])
    assert chiffres["cas"] >= 100
