"""Double authentification : un code à usage unique calculé par une application du titulaire (TOTP, RFC
6238 : six chiffres, pas de 30 secondes, SHA-1 — ce que lisent toutes les applications d'authentification),
ou l'un de ses dix codes de secours.

- **Qui** (`exige`, la règle écrite une fois) : obligatoire pour l'administration nationale et pour les
  membres d'une organisation où l'administration nationale l'a rendue obligatoire ; facultative pour tous
  les autres comptes, qui l'activent depuis « Mon compte ».
- **Activer** : un secret tiré au hasard, montré en code QR et en texte ; il n'est enregistré que confirmé
  par un premier code juste. Dix codes de secours sont alors montrés une fois ; seules leurs empreintes
  SHA-256 sont gardées (près de 60 bits d'aléa chacun : l'empreinte ne se renverse pas).
- **Vérifier** : le pas courant, le précédent ou le suivant (une horloge de téléphone décalée de 30 s passe),
  jamais un pas déjà accepté (`totp_dernier_pas` : un code intercepté ne resert pas) ; un code de secours
  ne sert qu'une fois. Le compte est verrouillé pendant la vérification (deux envois simultanés d'un même
  code : un seul passe).
- **Désactiver** (si elle n'est pas obligatoire) : avec un code, ou le mot de passe. L'administration
  nationale peut la réinitialiser pour un compte qui a perdu son téléphone et ses codes (`flask comptes
  reinitialiser-second-facteur` pour le dernier administrateur national).

Chaque changement est journalisé avec les connexions et annoncé au titulaire par courriel.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from io import BytesIO

import pyotp
import segno
from markupsafe import Markup
from sqlalchemy import delete, update

from dauphin.extensions import db
from dauphin.models import CodeSecours, NatureEvenementCompte, Utilisateur, maintenant
from dauphin.services import audit, courriels
from dauphin.services.erreurs import Refus
from dauphin.unite_de_travail import charger_verrouille, en_une_transaction

EMETTEUR = "Dauphin"
NOMBRE_CODES_SECOURS = 10
# Sans 0/o, 1/l/i : un code recopié d'une feuille ne se trompe pas de caractère. Douze signes parmi 31 :
# près de 60 bits d'aléa par code.
ALPHABET_SECOURS = "abcdefghjkmnpqrstuvwxyz23456789"
PAS = 30


def exige(utilisateur: Utilisateur) -> bool:
    """La double authentification est obligatoire pour ce compte : administration nationale, ou membre d'une
    organisation qui l'impose (les adhésions sont chargées avec le compte à chaque requête)."""
    if utilisateur.administrateur_national:
        return True
    return any(a.organisation.second_facteur_obligatoire for a in utilisateur.adhesions_organisations)


# --- Secret, code QR -------------------------------------------------------------------------------


def nouveau_secret() -> str:
    return pyotp.random_base32(32)  # 160 bits, la taille de la clé de HMAC-SHA-1


def lien_otpauth(utilisateur: Utilisateur, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=utilisateur.email, issuer_name=EMETTEUR)


def code_qr_svg(utilisateur: Utilisateur, secret: str) -> Markup:
    """Le code QR du lien otpauth:// en SVG, à insérer dans la page (fond blanc, même en thème sombre)."""
    qr = segno.make(lien_otpauth(utilisateur, secret), error="m")
    tampon = BytesIO()
    qr.save(
        tampon,
        kind="svg",
        scale=5,
        border=4,
        dark="#000",
        light="#fff",
        xmldecl=False,
        svgns=True,
        svgclass="dauphin-code-qr",
        lineclass=None,
        omitsize=True,  # viewBox seul : le code se réduit avec la largeur de l'écran
    )
    svg = tampon.getvalue().decode()
    return Markup(svg.replace("<svg ", '<svg role="img" aria-labelledby="code-qr-description" ', 1))


def secret_lisible(secret: str) -> str:
    """Le secret par groupes de quatre, pour la saisie à la main : « ABCD EFGH … »."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


# --- Vérifier un code ------------------------------------------------------------------------------


def _normaliser(code: str) -> str:
    return "".join((code or "").split()).replace("-", "").lower()


def _pas_du_code(secret: str, code: str, dernier_pas: int | None, instant: float | None = None) -> int | None:
    """Le pas (précédent, courant ou suivant) dont `code` est le TOTP, s'il n'a pas déjà servi."""
    if not (len(code) == 6 and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret)
    courant = int((time.time() if instant is None else instant) // PAS)
    for pas in (courant - 1, courant, courant + 1):
        if hmac.compare_digest(totp.generate_otp(pas), code) and (dernier_pas is None or pas > dernier_pas):
            return pas
    return None


def empreinte_secours(code: str) -> str:
    return hashlib.sha256(_normaliser(code).encode()).hexdigest()


def _code_de_secours_valable(utilisateur: Utilisateur, code: str) -> bool:
    """Consomme le code de secours s'il est à ce compte et pas encore utilisé (une seule fois, même avec deux
    envois simultanés : la mise à jour n'aboutit qu'une fois)."""
    normalise = _normaliser(code)
    if len(normalise) != 12:
        return False
    resultat = db.session.execute(
        update(CodeSecours)
        .where(
            CodeSecours.utilisateur_id == utilisateur.id,
            CodeSecours.empreinte == empreinte_secours(normalise),
            CodeSecours.utilise_le.is_(None),
        )
        .values(utilise_le=maintenant())
        .execution_options(synchronize_session=False)
    )
    return resultat.rowcount == 1


def verifier(utilisateur: Utilisateur, code: str) -> str | None:
    """Dans la transaction en cours, le compte verrouillé : « application » ou « secours » si `code` est
    juste (et le consomme), None sinon."""
    if not utilisateur.second_facteur_actif:
        return None
    normalise = _normaliser(code)
    pas = _pas_du_code(utilisateur.totp_secret, normalise, utilisateur.totp_dernier_pas)
    if pas is not None:
        utilisateur.totp_dernier_pas = pas
        return "application"
    if _code_de_secours_valable(utilisateur, normalise):
        return "secours"
    return None


class CodeErrone(Refus):
    def __init__(self, champ: str = "code", message: str | None = None):
        super().__init__(
            message
            or "Ce code n’est pas valable. Saisissez le code à 6 chiffres affiché maintenant par votre "
            "application (ou un code de secours qui n’a pas encore servi).",
            champ,
        )


def codes_restants(utilisateur: Utilisateur) -> int:
    return sum(1 for code in utilisateur.codes_secours if code.utilise_le is None)


# --- Second temps de la connexion --------------------------------------------------------------------


def verifier_connexion(utilisateur_id: int, code: str, adresse_ip: str | None) -> Utilisateur:
    """Le second temps de la connexion : le compte si le code est juste ; sinon CodeErrone. Journalisé dans
    les deux cas (validé même en cas de refus)."""
    from dauphin.services.comptes import journaliser

    compte = charger_verrouille(Utilisateur, utilisateur_id)
    maniere = verifier(compte, code)
    nature = NatureEvenementCompte.second_facteur
    if maniere is None:
        journaliser(compte.email, compte, False, "code erroné", nature, adresse_ip)
        db.session.commit()
        raise CodeErrone()
    motif = "code de secours utilisé" if maniere == "secours" else None
    journaliser(compte.email, compte, True, motif, nature, adresse_ip)
    if maniere == "secours":
        courriels.ecrire_au_compte(
            "second_facteur_modifie",
            compte,
            evenement="code_secours",
            restants=codes_restants(compte),
            lien=_lien_mon_compte(),
        )
    db.session.commit()
    return compte


# --- Activer, désactiver, renouveler les codes -------------------------------------------------------


def _nouveaux_codes(utilisateur: Utilisateur) -> list[str]:
    """Remplace les codes de secours du compte par dix nouveaux (rendus en clair, une fois)."""
    db.session.execute(
        delete(CodeSecours)
        .where(CodeSecours.utilisateur_id == utilisateur.id)
        .execution_options(synchronize_session=False)
    )
    codes = []
    for _ in range(NOMBRE_CODES_SECOURS):
        brut = "".join(secrets.choice(ALPHABET_SECOURS) for _ in range(12))
        codes.append(f"{brut[:4]}-{brut[4:8]}-{brut[8:]}")
        db.session.add(CodeSecours(utilisateur_id=utilisateur.id, empreinte=empreinte_secours(brut)))
    db.session.expire(utilisateur, ["codes_secours"])
    return codes


def _lien_mon_compte() -> str:
    from dauphin.services.comptes import lien_externe

    return lien_externe("comptes.double_authentification")


def activer(utilisateur_id: int, secret: str, code: str, adresse_ip: str | None) -> list[str]:
    """Enregistre le secret confirmé par un premier code juste ; rend les dix codes de secours, en clair."""
    from dauphin.services.comptes import journaliser

    def operation():
        compte = charger_verrouille(Utilisateur, utilisateur_id)
        if compte.second_facteur_actif:
            raise Refus("La double authentification est déjà activée pour votre compte.", "code")
        pas = _pas_du_code(secret, _normaliser(code), None)
        if pas is None:
            raise CodeErrone(
                message="Ce code n’est pas le bon. Vérifiez que l’application affiche bien le compte "
                "« Dauphin » que vous venez d’ajouter, puis saisissez le code à 6 chiffres qu’elle "
                "affiche maintenant."
            )
        compte.totp_secret = secret
        compte.totp_active_le = maintenant()
        compte.totp_dernier_pas = pas
        codes = _nouveaux_codes(compte)
        journaliser(compte.email, compte, True, None, NatureEvenementCompte.second_facteur_active, adresse_ip)
        courriels.ecrire_au_compte(
            "second_facteur_modifie", compte, evenement="active", restants=0, lien=_lien_mon_compte()
        )
        return codes

    return en_une_transaction(operation)


def _confirmer_identite(compte: Utilisateur, code: str | None, mot_de_passe: str | None) -> None:
    """Un code juste (de l'application ou de secours), ou le mot de passe ; sinon CodeErrone."""
    if code and verifier(compte, code) is not None:
        return
    if mot_de_passe and compte.verifier_mot_de_passe(mot_de_passe):
        return
    raise CodeErrone(
        message="Saisissez un code valable de votre application (ou un code de secours), ou votre mot de "
        "passe actuel."
    )


def desactiver(utilisateur_id: int, code: str | None, mot_de_passe: str | None, adresse_ip) -> Utilisateur:
    from dauphin.services.comptes import journaliser

    def operation():
        compte = charger_verrouille(Utilisateur, utilisateur_id)
        if not compte.second_facteur_actif:
            return compte
        if exige(compte):
            raise Refus(
                "La double authentification est obligatoire pour votre compte : elle ne peut pas être "
                "désactivée. Vous avez changé de téléphone ? Renouvelez-la plutôt.",
                "code",
            )
        _confirmer_identite(compte, code, mot_de_passe)
        _effacer(compte)
        journaliser(
            compte.email, compte, True, None, NatureEvenementCompte.second_facteur_desactive, adresse_ip
        )
        courriels.ecrire_au_compte(
            "second_facteur_modifie", compte, evenement="desactive", restants=0, lien=_lien_mon_compte()
        )
        return compte

    return en_une_transaction(operation)


def regenerer_codes(utilisateur_id: int, code: str | None, mot_de_passe: str | None, adresse_ip) -> list[str]:
    """Dix nouveaux codes de secours (les anciens ne valent plus), avec un code ou le mot de passe."""
    from dauphin.services.comptes import journaliser

    def operation():
        compte = charger_verrouille(Utilisateur, utilisateur_id)
        if not compte.second_facteur_actif:
            raise Refus("La double authentification n’est pas activée pour votre compte.", "code")
        _confirmer_identite(compte, code, mot_de_passe)
        codes = _nouveaux_codes(compte)
        journaliser(compte.email, compte, True, None, NatureEvenementCompte.codes_secours, adresse_ip)
        courriels.ecrire_au_compte(
            "second_facteur_modifie",
            compte,
            evenement="codes_secours",
            restants=NOMBRE_CODES_SECOURS,
            lien=_lien_mon_compte(),
        )
        return codes

    return en_une_transaction(operation)


def _effacer(compte: Utilisateur) -> None:
    compte.totp_secret = None
    compte.totp_active_le = None
    compte.totp_dernier_pas = None
    db.session.execute(
        delete(CodeSecours)
        .where(CodeSecours.utilisateur_id == compte.id)
        .execution_options(synchronize_session=False)
    )
    db.session.expire(compte, ["codes_secours"])


def reinitialiser(acteur: Utilisateur | None, utilisateur_id: int) -> Utilisateur:
    """Par l'administration nationale (ou `flask comptes reinitialiser-second-facteur`, `acteur` None) : le
    compte perd son second facteur et ses sessions ; s'il lui est obligatoire, il l'active de nouveau à sa
    prochaine connexion. Tracé à l'historique du compte, annoncé au titulaire."""
    from dauphin.models.comptes import nouveau_jeton

    def operation():
        compte = charger_verrouille(Utilisateur, utilisateur_id)
        if not compte.second_facteur_actif:
            raise Refus("La double authentification n’est pas activée pour ce compte.")
        _effacer(compte)
        compte.jeton_session = nouveau_jeton()  # ses sessions ouvertes tombent
        audit.tracer(
            acteur, "utilisateur", compte.id, "second_facteur", "Double authentification réinitialisée"
        )
        courriels.ecrire_au_compte(
            "second_facteur_modifie", compte, evenement="reinitialise", restants=0, lien=_lien_mon_compte()
        )
        return compte

    return en_une_transaction(operation)
