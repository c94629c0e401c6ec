"""Les messages de validation de marshmallow, en français, en un seul endroit.

L'API promet des erreurs françaises (`{"erreur": "…", "details": {champ: [messages]}}`) : les messages par
défaut des champs et des validateurs de marshmallow sont anglais. On remplace ici leurs gabarits, au niveau
des classes, avant la déclaration des schémas (les champs et les validateurs lisent leurs gabarits à leur
création) : `dauphin.api.schemas` importe ce module en premier. Un champ qui donne son propre message
(`error_messages=…`, `ValidationError("…")`) le garde.

Les noms des attributs sont ceux de marshmallow 4 (fields.py, validate.py, schema.py) ; un test
(tests/test_api_messages.py) essaie chaque champ des schémas de l'API avec des valeurs invalides et
refuse tout message anglais.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

EXEMPLE_DATE = "« 2026-04-15 »"
EXEMPLE_INSTANT = "« 2026-03-01T10:00:00Z »"

MESSAGES_CHAMPS: dict[type[fields.Field], dict[str, str]] = {
    fields.Field: {
        "required": "Champ obligatoire.",
        "null": "Ce champ ne peut pas être vide (null).",
        "validator_failed": "Valeur invalide.",
    },
    fields.Nested: {"type": "Type invalide : un objet JSON est attendu."},
    fields.List: {"invalid": "Une liste est attendue."},
    fields.Tuple: {"invalid": "Une liste de longueur fixe est attendue."},
    fields.String: {
        "invalid": "Un texte est attendu.",
        "invalid_utf8": "Texte invalide : il n’est pas en UTF-8.",
    },
    fields.UUID: {"invalid_uuid": "Identifiant UUID invalide."},
    fields.Number: {
        "invalid": "Un nombre est attendu.",
        "too_large": "Nombre trop grand.",
    },
    fields.Integer: {"invalid": "Un nombre entier est attendu (par exemple « 42 »)."},
    fields.Float: {
        "invalid": "Un nombre est attendu, avec un point pour les décimales (par exemple « 3000.50 »).",
        "special": "Les valeurs spéciales (nan, infinity) ne sont pas permises.",
    },
    fields.Decimal: {
        "invalid": "Un montant est attendu, avec un point pour les décimales (« 3000.00 », pas « 3000,00 ») "
        "et sans espace ni symbole €.",
        "special": "Les valeurs spéciales (nan, infinity) ne sont pas permises.",
    },
    fields.Boolean: {"invalid": "Une valeur booléenne est attendue : true ou false."},
    # La base commune (privée) des dates et des heures, puis le gabarit de chaque type.
    fields.Date.__base__: {
        "invalid": "Date ou heure invalide : attendu au format ISO 8601.",
        "invalid_awareness": "Date ou heure invalide : fuseau horaire à préciser, ou à retirer.",
        "format": "Cette valeur ne peut pas être écrite comme date ou heure.",
    },
    fields.DateTime: {
        "invalid": f"Date et heure invalides : attendu au format ISO 8601, par exemple {EXEMPLE_INSTANT}.",
        "invalid_awareness": "Date et heure invalides : précisez le fuseau horaire, par exemple "
        f"{EXEMPLE_INSTANT}.",
        "format": "Cette valeur ne peut pas être écrite comme date et heure.",
    },
    fields.NaiveDateTime: {
        "invalid_awareness": "Date et heure invalides : sans fuseau horaire, par exemple "
        "« 2026-03-01T10:00:00 ».",
    },
    fields.Time: {
        "invalid": "Heure invalide : attendu au format ISO 8601, par exemple « 10:00:00 ».",
        "format": "Cette valeur ne peut pas être écrite comme heure.",
    },
    fields.Date: {
        "invalid": f"Date invalide : attendu au format AAAA-MM-JJ, par exemple {EXEMPLE_DATE}.",
        "format": "Cette valeur ne peut pas être écrite comme date.",
    },
    fields.TimeDelta: {
        "invalid": "Durée invalide.",
        "format": "Cette valeur ne peut pas être écrite comme durée.",
    },
    fields.Mapping: {"invalid": "Un objet JSON est attendu."},
    fields.Url: {"invalid": "Adresse web invalide."},
    fields.Email: {"invalid": "Adresse électronique invalide."},
    fields.IP: {"invalid_ip": "Adresse IP invalide."},
    fields.IPv4: {"invalid_ip": "Adresse IPv4 invalide."},
    fields.IPv6: {"invalid_ip": "Adresse IPv6 invalide."},
    fields.IPInterface: {"invalid_ip_interface": "Interface IP invalide."},
    fields.IPv4Interface: {"invalid_ip_interface": "Interface IPv4 invalide."},
    fields.IPv6Interface: {"invalid_ip_interface": "Interface IPv6 invalide."},
    fields.Enum: {"unknown": "Valeur inconnue : attendu l’une de {choices}."},
}

# Les gabarits des validateurs (attributs de classe lus à la création de chaque validateur).
MESSAGES_VALIDATEURS: dict[type[validate.Validator], dict[str, str]] = {
    validate.Range: {
        "message_min": "Doit être {min_op} {{min}}.",
        "message_max": "Doit être {max_op} {{max}}.",
        "message_all": "Doit être {min_op} {{min}} et {max_op} {{max}}.",
        "message_gte": "supérieur ou égal à",
        "message_gt": "supérieur à",
        "message_lte": "inférieur ou égal à",
        "message_lt": "inférieur à",
    },
    validate.Length: {
        "message_min": "Trop court : {min} caractère(s) au moins.",
        "message_max": "Trop long : {max} caractères au plus.",
        "message_all": "Doit compter de {min} à {max} caractères.",
        "message_equal": "Doit compter exactement {equal} caractères.",
    },
    validate.OneOf: {"default_message": "Valeur inconnue : attendu l’une de {choices}."},
    validate.ContainsOnly: {
        "default_message": "Un choix au moins n’est pas permis : attendu parmi {choices}."
    },
    validate.ContainsNoneOf: {"default_message": "Un choix au moins est interdit : {values}."},
    validate.NoneOf: {"default_message": "Valeur interdite."},
    validate.Equal: {"default_message": "Doit valoir {other}."},
    validate.Regexp: {"default_message": "Format invalide."},
    validate.Predicate: {"default_message": "Valeur invalide."},
    validate.URL: {"default_message": "Adresse web invalide."},
    validate.Email: {"default_message": "Adresse électronique invalide."},
}

# Les erreurs d'un schéma entier : champ inconnu (Meta.unknown = RAISE), donnée qui n'est pas un objet.
MESSAGES_SCHEMA = {
    "type": "Type invalide : un objet JSON est attendu.",
    "unknown": "Champ inconnu : il ne fait pas partie de cette opération.",
}


def appliquer() -> None:
    """Remplace les gabarits anglais (idempotent)."""
    for classe, messages in MESSAGES_CHAMPS.items():
        # Chaque classe garde les clés qu'on ne traduit pas et reçoit un dictionnaire neuf (on ne
        # modifie pas en place celui, partagé, d'une classe parente).
        classe.default_error_messages = {**classe.__dict__.get("default_error_messages", {}), **messages}
    for classe, gabarits in MESSAGES_VALIDATEURS.items():
        for nom, texte in gabarits.items():
            setattr(classe, nom, texte)
    Schema.error_messages = {**Schema.error_messages, **MESSAGES_SCHEMA}


appliquer()
