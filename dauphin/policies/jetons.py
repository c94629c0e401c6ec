"""Ce qu'un jeton d'API peut faire : ses portées, choisies à sa création, et la portée qu'exige chaque
action. Une seule règle (`PERMIS_PAR_LE_JETON`) que toute opération de l'API applique avant d'agir ; un
compte connecté à l'écran n'est pas limité par des portées (ses droits sont ceux de ses rôles).

La portée s'ajoute aux autres règles, elle ne les remplace pas : un jeton « paiement » n'agit toujours que
sur les lignes de son organisation (`INSTRUIRE_LIGNE`), dans le périmètre qu'elle voit (`VOIR_DEMANDE`…).
"""

from __future__ import annotations

from enum import StrEnum


class Portee(StrEnum):
    lecture = "lecture"
    instruction = "instruction"
    comite = "comite"
    paiement = "paiement"

    @property
    def libelle(self) -> str:
        return LIBELLES_PORTEES[self]


LIBELLES_PORTEES = {
    Portee.lecture: "Lecture",
    Portee.instruction: "Instruction",
    Portee.comite: "Comité",
    Portee.paiement: "Paiement",
}

DESCRIPTIONS_PORTEES = {
    Portee.lecture: "lire les campagnes, demandes, structures, comités, enveloppes, actes, engagements, "
    "versements et comptes rendus du périmètre de l’organisation",
    Portee.instruction: "prise en charge et avis de recevabilité sur la ligne de l’organisation, validation "
    "ou retour des comptes rendus financiers",
    Portee.comite: "correction et annulation motivées d’un vote du comité sur la ligne de l’organisation",
    Portee.paiement: "numéro d’engagement juridique, échéancier et paiements de la ligne de l’organisation",
}

# Chaque action de l'API, et la portée qu'elle exige. Une action absente d'ici est refusée à tout jeton :
# une opération nouvelle doit déclarer la sienne (tests/test_api_portees.py le vérifie sur le registre).
PORTEE_DES_ACTIONS: dict[str, Portee] = {
    "lire": Portee.lecture,
    # Instruction de la ligne (les avis) et du compte rendu financier
    "prendre_en_charge": Portee.instruction,
    "declarer_recevable": Portee.instruction,
    "declarer_non_recevable": Portee.instruction,
    "reviser_avis": Portee.instruction,
    "valider_compte_rendu": Portee.instruction,
    "retourner_justification": Portee.instruction,
    # Décisions du comité
    "corriger_vote": Portee.comite,
    "annuler_vote": Portee.comite,
    # Engagement et paiements
    "enregistrer_engagement": Portee.paiement,
    "prevoir_echeance": Portee.paiement,
    "enregistrer_paiement": Portee.paiement,
}

# Les portées qui agissent sur la ligne de l'organisation : le titulaire doit en être instructeur.
PORTEES_D_ECRITURE = frozenset({Portee.instruction, Portee.comite, Portee.paiement})


def lire_portees(texte: str | None) -> frozenset[Portee]:
    """Les portées stockées (« lecture instruction »), inconnues ignorées."""
    connues = {p.value for p in Portee}
    return frozenset(Portee(mot) for mot in (texte or "").split() if mot in connues)


def ecrire_portees(portees) -> str:
    """Dans l'ordre de `Portee`, séparées par une espace (comme le `scope` d'OAuth 2)."""
    choisies = {Portee(p) for p in portees}
    return " ".join(p.value for p in Portee if p in choisies)


class PermisParLeJeton:
    """La règle des portées : `permet(qui, action)` dit si l'acteur peut faire l'action au regard des
    portées de son jeton (un compte n'a pas de portées : toujours vrai) ; `refus(action)` donne le message
    français rendu avec le 403."""

    def portee_requise(self, action: str) -> Portee | None:
        return PORTEE_DES_ACTIONS.get(action)

    def permet(self, qui, action: str) -> bool:
        from dauphin.models import JetonApi

        if not isinstance(qui, JetonApi):
            return True
        requise = self.portee_requise(action)
        return requise is not None and requise in qui.ensemble_portees

    def refus(self, action: str) -> str:
        requise = self.portee_requise(action)
        if requise is None:
            return f"L’action « {action} » n’est ouverte à aucun jeton d’API."
        return (
            f"Ce jeton n’a pas la portée « {requise.libelle} » qu’exige cette action : créez un jeton "
            "avec cette portée."
        )


PERMIS_PAR_LE_JETON = PermisParLeJeton()
