"""Déclaration des opérations de l'API et document OpenAPI 3 produit à partir d'elles.

Chaque vue est déclarée une fois par `operation(...)` : sa route Flask, ses paramètres d'URL, son corps et
sa réponse (schémas marshmallow), ses erreurs. Le décorateur enregistre la route, valide les entrées avec
les mêmes schémas et met en forme la sortie ; `document()` en tire le document OpenAPI avec apispec.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, field
from functools import wraps

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint, Response, g, jsonify, request
from marshmallow import Schema, ValidationError, fields

from dauphin.api.schemas import EXEMPLES, ID_MAX, Erreur
from dauphin.policies.jetons import PERMIS_PAR_LE_JETON, Portee
from dauphin.services import idempotence
from dauphin.services.workflow import au_nom_du_jeton

ENTETE_IDEMPOTENCE = "Idempotency-Key"

MESSAGES_ERREURS = {
    400: "Requête invalide (paramètre, corps JSON ou champ en erreur : voir `details`).",
    401: "Jeton absent, inconnu, expiré ou révoqué.",
    403: "Le jeton n’a pas la portée qu’exige l’opération, ou l’objet est la ligne d’un autre financeur.",
    404: "Inexistant ou hors du périmètre de votre organisation.",
    405: "Méthode non permise sur cette adresse.",
    409: "Conflit : l’objet a changé depuis votre lecture (version) ou l’action n’est plus possible, ou une "
    "requête de même clé d’idempotence est en cours ; rien n’a été enregistré.",
    422: "Refusé par une règle (workflow : `details` liste ce qui manque ; saisie : `details.champ`), ou clé "
    "d’idempotence déjà servie pour une autre requête ; rien n’a été enregistré.",
    429: "Trop de requêtes pour ce jeton : réessayez plus tard.",
    500: "Erreur interne.",
}
ERREURS_COMMUNES = (400, 401, 403, 405, 429, 500)


@dataclass
class Operation:
    regle: str
    methode: str
    endpoint: str
    resume: str
    description: str
    etiquette: str
    parametres: type[Schema] | None = None
    corps: type[Schema] | None = None
    reponse: type[Schema] | None = None
    erreurs: tuple[int, ...] = ()
    publique: bool = False
    statut: int = 200  # le statut d'un succès (201 pour une création)
    fichier: bool = False  # la réponse est le contenu d'un fichier (son type : celui du document)
    action: str | None = None  # l'action fixe de l'opération (sa portée : dauphin.policies.jetons)
    actions: tuple[str, ...] = ()  # ou les actions possibles, choisies par le corps (`action_du_corps`)

    @property
    def portees(self):
        """Les portées qu'une des actions de l'opération exige (une seule pour une action fixe)."""
        noms = (self.action,) if self.action else self.actions
        requises = {PERMIS_PAR_LE_JETON.portee_requise(n) for n in noms}
        return [p for p in Portee if p in requises]

    @property
    def texte_portees(self) -> str:
        if self.action:
            return f"Portée requise : {PERMIS_PAR_LE_JETON.portee_requise(self.action).libelle}."
        return (
            "Portée requise selon l’action : "
            + " ; ".join(f"`{n}` : {PERMIS_PAR_LE_JETON.portee_requise(n).libelle}" for n in self.actions)
            + "."
        )

    @property
    def chemin(self) -> str:
        """La règle Flask en chemin OpenAPI : /demandes/<int(...):demande_id> → /demandes/{demande_id}."""
        return re.sub(r"<(?:[^:<>]+:)?(\w+)>", r"{\1}", self.regle)

    @property
    def parametres_chemin(self) -> list[str]:
        return re.findall(r"<(?:[^:<>]+:)?(\w+)>", self.regle)


@dataclass
class Registre:
    prefixe: str
    operations: list[Operation] = field(default_factory=list)


def charger(schema: Schema, donnees) -> dict:
    """Valide avec le schéma ; une erreur devient un 400 dont `details` dit quel champ et pourquoi."""
    return schema.load(donnees)


def exiger_portee(action: str) -> None:
    """403 si le jeton de la requête n'a pas la portée qu'exige l'action."""
    from dauphin.services.api import JetonRefuse

    if not PERMIS_PAR_LE_JETON.permet(g.jeton, action):
        raise JetonRefuse(PERMIS_PAR_LE_JETON.refus(action), 403)


def operation(
    bp: Blueprint,
    registre: Registre,
    regle: str,
    methode: str = "GET",
    *,
    resume: str,
    description: str = "",
    etiquette: str = "Demandes",
    parametres: type[Schema] | None = None,
    corps: type[Schema] | None = None,
    reponse: type[Schema] | None = None,
    erreurs: tuple[int, ...] = (),
    publique: bool = False,
    action: str | None = "lire",
    action_du_corps: str | None = None,
    actions: tuple[str, ...] = (),
    statut: int = 200,
    fichier: bool = False,
    portee: str | None = None,
):
    """`action` : ce que fait l'opération, dont la portée du jeton est vérifiée par la règle unique
    `PERMIS_PAR_LE_JETON` avant tout chargement ; `action_du_corps` : le champ du corps qui la choisit
    parmi `actions` (les transitions)."""
    if portee is not None:  # l'ancienne déclaration (`portee="lecture"`) : l'action de lecture
        if portee != "lecture":
            raise ValueError(f"Déclarez l'action de l'opération (`action=`), pas la portée « {portee} ».")
        action = "lire"
    if publique:
        action = None

    def decorateur(vue):
        @wraps(vue)
        def executer(**kwargs):
            if action is not None and action_du_corps is None:
                exiger_portee(action)
            if parametres is not None:
                kwargs["filtres"] = charger(parametres(), request.args.to_dict(flat=True))
            if corps is not None:
                donnees = request.get_json(silent=True)
                if not isinstance(donnees, dict):
                    raise ValidationError(
                        {"_corps": ["Envoyez un objet JSON (Content-Type: application/json)."]}
                    )
                kwargs["donnees"] = charger(corps(), donnees)
                if action_du_corps is not None:
                    exiger_portee(kwargs["donnees"][action_du_corps])
            if methode == "GET":
                return _repondre(vue(**kwargs))
            cle = request.headers.get(ENTETE_IDEMPOTENCE)
            if cle is None:
                with au_nom_du_jeton(g.jeton.id):
                    return _repondre(vue(**kwargs))
            reservation = idempotence.reserver(
                g.jeton,
                idempotence.verifier_cle(cle),
                idempotence.empreinte_requete(methode, request.path, request.get_json(silent=True)),
            )
            if isinstance(reservation, idempotence.ReponseGardee):
                rejouee = Response(reservation.corps, reservation.statut, mimetype="application/json")
                rejouee.headers["Idempotent-Replayed"] = "true"
                return rejouee
            with au_nom_du_jeton(g.jeton.id):
                sortie = _repondre(vue(**kwargs))
            idempotence.garder(reservation, sortie.status_code, sortie.get_data(as_text=True))
            return sortie

        def _repondre(resultat) -> Response:
            if isinstance(resultat, Response):
                return resultat
            sortie = jsonify(reponse().dump(resultat) if reponse is not None else resultat)
            sortie.status_code = statut
            return sortie

        executer.operation_publique = publique
        bp.add_url_rule(regle, vue.__name__, executer, methods=[methode])
        registre.operations.append(
            Operation(
                regle=registre.prefixe + regle,
                methode=methode.lower(),
                endpoint=f"{bp.name}.{vue.__name__}",
                resume=resume,
                description=description or inspect.cleandoc(vue.__doc__ or ""),
                etiquette=etiquette,
                parametres=parametres,
                corps=corps,
                reponse=reponse,
                erreurs=erreurs,
                publique=publique,
                action=action if action_du_corps is None else None,
                actions=actions,
                statut=statut,
                fichier=fichier,
            )
        )
        return executer

    return decorateur


def exemple(self, field, ret, **kwargs) -> dict:
    """Attribut OpenAPI : l'exemple d'un champ simple, de ses métadonnées ou de `schemas.EXEMPLES` par son
    nom (les champs imbriqués renvoient à un schéma qui a les siens)."""
    if "example" in field.metadata or isinstance(field, fields.Nested):
        return {}
    if isinstance(field, fields.List) and isinstance(field.inner, fields.Nested):
        return {}
    nom = field.data_key or field.name
    return {"example": EXEMPLES[nom]} if nom in EXEMPLES else {}


def document(registre: Registre, *, titre: str, version: str, description: str) -> dict:
    greffon = MarshmallowPlugin()
    spec = APISpec(
        title=titre,
        version=version,
        openapi_version="3.1.0",
        plugins=[greffon],
        info={"description": description},
    )
    greffon.converter.add_attribute_function(exemple)
    spec.components.security_scheme(
        "jeton",
        {
            "type": "http",
            "scheme": "bearer",
            "description": "Jeton d’organisation créé dans Dauphin (« Jetons d’API »).",
        },
    )
    spec.components.schema("Erreur", schema=Erreur)
    for code, message in MESSAGES_ERREURS.items():
        spec.components.response(
            f"Erreur{code}",
            {"description": message, "content": {"application/json": {"schema": "Erreur"}}},
        )
    for op in registre.operations:
        spec.path(path=op.chemin, operations={op.methode: _details(op)})
    return spec.to_dict()


def _details(op) -> dict:
    """L'opération décrite pour OpenAPI : paramètres, corps, réponses et sécurité."""
    parametres = [
        {
            "in": "path",
            "name": nom,
            "required": True,
            "schema": {"type": "integer", "minimum": 1, "maximum": ID_MAX},
            "example": EXEMPLES.get(nom, 42),
        }
        for nom in op.parametres_chemin
    ]
    if op.parametres is not None:
        parametres.append({"in": "query", "schema": op.parametres})
    details = {
        "tags": [op.etiquette],
        "summary": op.resume,
        "description": op.description,
        "operationId": op.endpoint.split(".")[-1],
        "parameters": parametres,
        "responses": {str(op.statut): {"description": "Créé." if op.statut == 201 else "Succès."}},
    }
    if op.reponse is not None:
        details["responses"][str(op.statut)]["content"] = {"application/json": {"schema": op.reponse}}
    if op.fichier:
        details["responses"][str(op.statut)]["content"] = {
            "*/*": {"schema": {"type": "string", "contentMediaType": "application/octet-stream"}}
        }
    if op.methode != "get":
        parametres.append(
            {
                "in": "header",
                "name": ENTETE_IDEMPOTENCE,
                "required": False,
                "description": "Facultatif, recommandé : une clé unique par écriture (un UUID). Renvoyée "
                "avec le même corps, la requête rend la réponse déjà donnée (en-tête "
                "`Idempotent-Replayed: true`) sans rien refaire ; avec un autre corps : 422.",
                "schema": {"type": "string", "minLength": 1, "maxLength": idempotence.LONGUEUR_MAX},
                "example": "3f1c2a9e-7d4b-4a51-9f0e-2b8c6d1e5a70",
            }
        )
    if op.corps is not None:
        details["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": op.corps}},
        }
    codes = sorted(set(ERREURS_COMMUNES) | set(op.erreurs) | ({409, 422} if op.methode != "get" else set()))
    if op.publique:
        codes = [c for c in codes if c not in (401, 403)]
        details["security"] = []
    else:
        details["security"] = [{"jeton": [p.value for p in op.portees]}]
        details["x-portees"] = [p.value for p in op.portees]
        details["description"] += "\n\n" + op.texte_portees
    for code in codes:
        details["responses"][str(code)] = {"$ref": f"#/components/responses/Erreur{code}"}
    return details


# --- Lecture du document pour la page de documentation --------------------------------------------


def type_lisible(propriete: dict) -> str:
    """« string (date-time) », « liste de Ligne », « Reference »… pour la page de documentation."""
    if "$ref" in propriete:
        return propriete["$ref"].rsplit("/", 1)[-1]
    if "allOf" in propriete and propriete["allOf"]:
        return type_lisible(propriete["allOf"][0])
    if propriete.get("type") == "array":
        return "liste de " + type_lisible(propriete.get("items", {}))
    texte = propriete.get("type", "valeur")
    if isinstance(texte, list):
        texte = " ou ".join(texte)
    if propriete.get("format"):
        texte += f" ({propriete['format']})"
    if propriete.get("enum"):
        texte += " : " + ", ".join(str(v) for v in propriete["enum"] if v is not None)
    return texte


def proprietes(schema: dict) -> list[dict]:
    requis = set(schema.get("required", []))
    return [
        {
            "nom": nom,
            "type": type_lisible(propriete),
            "requis": nom in requis,
            "nullable": bool(propriete.get("nullable")),
            "description": propriete.get("description", ""),
            "exemple": propriete.get("example"),
        }
        for nom, propriete in schema.get("properties", {}).items()
    ]
