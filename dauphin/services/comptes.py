"""Comptes : création, confirmation de l'adresse électronique par un lien signé, invitations ; mot de passe
oublié (lien de réinitialisation) et changement du mot de passe.

Les liens des courriels sont signés (itsdangerous, clé SECRET_KEY, un sel par usage) et datés :
48 heures pour confirmer une adresse, 7 jours pour une invitation, REINITIALISATION_MINUTES (une heure
par défaut) pour choisir un nouveau mot de passe. Un lien de confirmation ou de réinitialisation est lié
au mot de passe du compte (une empreinte de son haché) : une nouvelle inscription sur une adresse jamais
confirmée invalide les liens de confirmation précédents, et un lien de réinitialisation ne sert qu'une
fois (le mot de passe qu'il remplace n'existe plus ensuite). Une invitation n'est utilisable qu'une fois
(`acceptee_le`) et peut être révoquée.

La connexion ne trahit pas les adresses inscrites : même message, et même calcul de haché (un haché factice
du même algorithme pour une adresse inconnue). Le titulaire d'un compte bloqué après trop d'essais
(Flask-Limiter, dauphin/auth) est prévenu par courriel, une fois par blocage (`signaler_verrouillage`).

Changer le mot de passe renouvelle l'identifiant de session (`Utilisateur.definir_mot_de_passe`) : toutes
les sessions ouvertes tombent. Demandes de réinitialisation, réinitialisations et changements sont
journalisés comme les connexions (`EvenementConnexion`, par leur `nature`).

Les courriels sont écrits dans la transaction (`courriels.ecrire_message`) et partent après son commit
(`dauphin.unite_de_travail`). Leurs liens partent de BASE_URL, jamais de l'en-tête Host de la requête.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app, url_for
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import generate_password_hash

from dauphin.extensions import db
from dauphin.models.comptes import (
    EvenementConnexion,
    MembreStructure,
    NatureEvenementCompte,
    Utilisateur,
    verifier_hache,
)
from dauphin.models.structures import Invitation
from dauphin.models.types import maintenant
from dauphin.services import courriels
from dauphin.services.erreurs import NonAutorise, Refus
from dauphin.unite_de_travail import charger_verrouille

SEL_CONFIRMATION = "dauphin.compte.confirmation-email"
SEL_INVITATION = "dauphin.structure.invitation"
SEL_REINITIALISATION = "dauphin.compte.reinitialisation-mot-de-passe"
DUREE_CONFIRMATION = timedelta(hours=48)
DUREE_INVITATION = timedelta(days=7)

MESSAGE_NON_CONFIRME = (
    "Confirmez d’abord votre adresse électronique : ouvrez le lien que nous vous avons envoyé par courriel "
    "lors de la création du compte. Vous ne le trouvez pas, ou il a expiré ? Demandez un nouveau lien."
)
MESSAGE_DESACTIVE = "Ce compte a été désactivé. Adressez-vous à l’administrateur de votre structure."


class LienInvalide(Exception):
    """Lien signé inutilisable. `motif` : altere, expire, utilise, revoque."""

    MESSAGES = {
        "altere": "Ce lien n’est pas valide : il a peut-être été mal copié. Vérifiez qu’il est complet.",
        "expire": "Ce lien a expiré.",
        "utilise": "Ce lien a déjà été utilisé.",
        "revoque": "Cette invitation a été annulée par l’administrateur de la structure.",
    }

    def __init__(self, motif: str, email: str | None = None):
        super().__init__(self.MESSAGES[motif])
        self.motif = motif
        self.email = email  # connu quand la signature est bonne (lien expiré) : pour proposer un nouvel envoi


class InvitationAutreCompte(NonAutorise):
    """L'invitation a été envoyée à une autre adresse que celle du compte connecté (403)."""

    def __init__(self, invitation: Invitation):
        super().__init__(
            "Cette invitation a été envoyée à une autre adresse électronique que celle du compte avec "
            "lequel vous êtes connecté. Déconnectez-vous, puis connectez-vous (ou créez un compte) avec "
            "l’adresse qui a reçu l’invitation."
        )
        self.invitation = invitation


def normaliser_email(email: str) -> str:
    return (email or "").strip().lower()


def lien_externe(endpoint: str, **valeurs) -> str:
    """Lien absolu pour un courriel : BASE_URL + chemin (l'en-tête Host d'une requête peut être forgé)."""
    return current_app.config["BASE_URL"].rstrip("/") + url_for(endpoint, **valeurs)


def _serialiseur(sel: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=sel)


def _lire(sel: str, jeton: str, duree: timedelta) -> dict:
    serialiseur = _serialiseur(sel)
    try:
        donnees = serialiseur.loads(jeton, max_age=int(duree.total_seconds()))
    except SignatureExpired as erreur:
        email = None
        try:
            contenu = serialiseur.load_payload(erreur.payload) if erreur.payload is not None else None
            email = contenu.get("e") if isinstance(contenu, dict) else None
        except BadSignature:
            pass
        raise LienInvalide("expire", email) from None
    except BadSignature:
        raise LienInvalide("altere") from None
    if not isinstance(donnees, dict):
        raise LienInvalide("altere")
    return donnees


# --- Connexion -----------------------------------------------------------------------------


def peut_se_connecter(utilisateur: Utilisateur) -> str | None:
    """À appeler une fois le mot de passe vérifié : la raison (en français) pour laquelle ce compte ne peut
    pas encore ouvrir de session, ou None s'il le peut."""
    if not utilisateur.actif:
        return MESSAGE_DESACTIVE
    if utilisateur.email_confirme_le is None:
        return MESSAGE_NON_CONFIRME
    return None


MESSAGE_IDENTIFIANTS = "Adresse électronique ou mot de passe incorrect."


class ConnexionRefusee(Refus):
    """La session ne s'ouvre pas. `motif` : « identifiants » (adresse inconnue ou mot de passe faux : le
    même message dans les deux cas), « non_confirmee » ou « desactive » (le mot de passe est juste : on peut
    dire pourquoi)."""

    def __init__(self, motif: str, message: str = MESSAGE_IDENTIFIANTS):
        super().__init__(message, "mot_de_passe" if motif == "identifiants" else "email")
        self.motif = motif


_HACHES_FACTICES: dict[str, str] = {}


def hache_factice() -> str:
    """Un haché du même algorithme et des mêmes paramètres que ceux des comptes (PASSWORD_HASH_METHOD),
    calculé une fois par processus : une adresse inconnue le vérifie comme un compte son mot de passe."""
    methode = current_app.config["PASSWORD_HASH_METHOD"]
    if methode not in _HACHES_FACTICES:
        _HACHES_FACTICES[methode] = generate_password_hash(secrets.token_urlsafe(16), method=methode)
    return _HACHES_FACTICES[methode]


def _mot_de_passe_juste(utilisateur: Utilisateur | None, mot_de_passe: str) -> bool:
    """Le même calcul (un haché) que le compte existe ou non : le temps de réponse ne trahit pas les
    adresses inscrites."""
    if utilisateur is None:
        verifier_hache(hache_factice(), mot_de_passe)
        return False
    return utilisateur.verifier_mot_de_passe(mot_de_passe)


def connecter(email: str, mot_de_passe: str, adresse_ip: str | None = None) -> Utilisateur:
    """Le compte dont le mot de passe est juste et qui peut ouvrir une session ; sinon ConnexionRefusee.
    La tentative est journalisée et validée dans les deux cas (la vue ouvre la session, ou demande d'abord
    le code de la double authentification)."""
    from dauphin.services import second_facteur

    email = normaliser_email(email)
    utilisateur = db.session.scalar(select(Utilisateur).where(Utilisateur.email == email))
    if not _mot_de_passe_juste(utilisateur, mot_de_passe):
        refus, motif = (
            ConnexionRefusee("identifiants"),
            "compte inconnu" if utilisateur is None else "mot de passe",
        )
    elif (raison := peut_se_connecter(utilisateur)) is not None:
        actif = utilisateur.actif
        refus = ConnexionRefusee("non_confirmee" if actif else "desactive", raison)
        motif = "adresse non confirmée" if actif else "compte désactivé"
    else:
        refus, motif = None, None
        if utilisateur.second_facteur_actif:
            motif = "mot de passe juste, code demandé"
        elif second_facteur.exige(utilisateur):
            motif = "mot de passe juste, double authentification à activer"
    journaliser(email, utilisateur, refus is None, motif, adresse_ip=adresse_ip)
    db.session.commit()
    if refus is not None:
        raise refus
    return utilisateur


# Durée du blocage après trop d'essais refusés (la limite par compte de la page de connexion, et celle du
# code de la double authentification) : un seul courriel au titulaire par période.
DUREE_VERROUILLAGE = timedelta(minutes=15)


def signaler_verrouillage(utilisateur_id_ou_email, adresse_ip: str | None, etape: str) -> bool:
    """Trop d'essais refusés sur ce compte : la connexion est bloquée un moment (Flask-Limiter). Le titulaire
    en est prévenu par courriel, une fois par période de blocage (`DUREE_VERROUILLAGE`), et le blocage est
    journalisé. `etape` : « mot_de_passe » ou « code » (le mot de passe était juste : il est connu d'un
    tiers). Rend True si le courriel est écrit ; rien pour une adresse inconnue ou un compte désactivé."""
    if isinstance(utilisateur_id_ou_email, int):
        utilisateur = db.session.get(Utilisateur, utilisateur_id_ou_email)
    else:
        email = normaliser_email(utilisateur_id_ou_email)
        utilisateur = db.session.scalar(select(Utilisateur).where(Utilisateur.email == email))
    if utilisateur is None or not utilisateur.actif:
        return False
    deja = db.session.scalar(
        select(EvenementConnexion.id)
        .where(
            EvenementConnexion.utilisateur_id == utilisateur.id,
            EvenementConnexion.nature == NatureEvenementCompte.verrouillage,
            EvenementConnexion.horodatage > maintenant() - DUREE_VERROUILLAGE,
        )
        .limit(1)
    )
    if deja is not None:
        return False
    journaliser(
        utilisateur.email,
        utilisateur,
        False,
        "code de double authentification" if etape == "code" else "mot de passe",
        NatureEvenementCompte.verrouillage,
        adresse_ip,
    )
    courriels.ecrire_au_compte(
        "verrouillage_connexion",
        utilisateur,
        etape=etape,
        minutes=int(DUREE_VERROUILLAGE.total_seconds() // 60),
        adresse_ip=adresse_ip or "inconnue",
        horodatage=maintenant(),
        lien=lien_externe("comptes.mot_de_passe_oublie"),
    )
    db.session.commit()
    return True


def email_confirme(utilisateur: Utilisateur) -> bool:
    return utilisateur.email_confirme_le is not None


def journaliser(
    email: str,
    utilisateur: Utilisateur | None,
    reussie: bool,
    motif: str | None = None,
    nature: NatureEvenementCompte = NatureEvenementCompte.connexion,
    adresse_ip: str | None = None,
) -> EvenementConnexion:
    """Une ligne du journal des comptes, dans la transaction en cours (la vue ou le service valide)."""
    evenement = EvenementConnexion(
        utilisateur_id=utilisateur.id if utilisateur is not None else None,
        email=email[:254],
        adresse_ip=adresse_ip,
        reussie=reussie,
        motif=motif,
        nature=nature,
    )
    db.session.add(evenement)
    return evenement


# --- Création de compte -------------------------------------------------------------------


@dataclass(frozen=True)
class ResultatInscription:
    """`utilisateur` n'est rendu que si le compte est créé déjà confirmé et rattaché (invitation) : la vue
    ouvre alors la session. Sinon la réponse est la même que l'adresse soit connue ou non."""

    utilisateur: Utilisateur | None = None
    membre: MembreStructure | None = None


def creer_compte(
    prenom: str, nom: str, email: str, mot_de_passe: str, jeton_invitation: str | None = None
) -> ResultatInscription:
    """Crée un compte à confirmer et envoie le lien. Adresse déjà confirmée : un courriel à son titulaire,
    rien d'autre (la page affichée est la même). Adresse inscrite mais jamais confirmée : personne n'en
    a prouvé la détention, la nouvelle inscription remplace l'ancienne (les anciens liens ne valent plus).

    Avec le jeton d'une invitation adressée à cette même adresse, le lien reçu prouve déjà la détention de
    l'adresse : le compte est créé confirmé et rattaché à la structure.
    """
    email = normaliser_email(email)
    invitation = None
    if jeton_invitation:
        try:
            invitation = lire_invitation(jeton_invitation)
        except LienInvalide:
            invitation = None
        if invitation is not None and invitation.email != email:
            invitation = None
    existant = db.session.scalar(select(Utilisateur).where(Utilisateur.email == email))
    if existant is not None and (existant.email_confirme_le is not None or not existant.actif):
        # Même durée de réponse que pour une création : le temps de calcul ne trahit pas l'adresse.
        generate_password_hash(mot_de_passe, method=current_app.config["PASSWORD_HASH_METHOD"])
        if existant.actif:
            _ecrire_compte_existant(existant)
        db.session.commit()
        return ResultatInscription()

    utilisateur = existant or Utilisateur(email=email)
    utilisateur.prenom = prenom.strip()
    utilisateur.nom = nom.strip()
    utilisateur.definir_mot_de_passe(mot_de_passe)
    db.session.add(utilisateur)
    membre = None
    if invitation is not None:
        utilisateur.email_confirme_le = maintenant()
        utilisateur.derniere_connexion_le = maintenant()  # la vue ouvre aussitôt la session
        db.session.flush()
        membre = _rattacher(utilisateur, invitation)
    else:
        db.session.flush()
        _ecrire_confirmation(utilisateur)
    try:
        db.session.commit()
    except IntegrityError:
        # La même adresse inscrite au même instant par une autre requête : on répond comme pour une adresse
        # déjà connue (et personne n'est rattaché deux fois).
        db.session.rollback()
        return ResultatInscription()
    if invitation is not None:
        return ResultatInscription(utilisateur, membre)
    return ResultatInscription()


def _ecrire_compte_existant(utilisateur: Utilisateur) -> None:
    courriels.ecrire_au_compte("compte_existant", utilisateur, lien=lien_externe("auth.connexion"))


def _sceau(utilisateur: Utilisateur) -> str:
    """Change avec le mot de passe ; ne révèle rien de lui (empreinte tronquée d'un haché salé)."""
    return hashlib.sha256(utilisateur.mot_de_passe_hash.encode()).hexdigest()[:16]


def lien_confirmation(utilisateur: Utilisateur) -> str:
    jeton = _serialiseur(SEL_CONFIRMATION).dumps(
        {"u": utilisateur.id, "e": utilisateur.email, "s": _sceau(utilisateur)}
    )
    return lien_externe("comptes.confirmer", jeton=jeton)


def _ecrire_confirmation(utilisateur: Utilisateur) -> None:
    courriels.ecrire_au_compte(
        "confirmation_adresse",
        utilisateur,
        heures=int(DUREE_CONFIRMATION.total_seconds() // 3600),
        lien=lien_confirmation(utilisateur),
    )


def confirmer_email(jeton: str) -> Utilisateur:
    """Confirme l'adresse du compte désigné par le lien. Déjà confirmée : rien ne change."""
    donnees = _lire(SEL_CONFIRMATION, jeton, DUREE_CONFIRMATION)
    utilisateur = db.session.get(Utilisateur, donnees.get("u")) if isinstance(donnees.get("u"), int) else None
    if (
        utilisateur is None
        or utilisateur.email != donnees.get("e")
        or _sceau(utilisateur) != donnees.get("s")
    ):
        if utilisateur is not None and utilisateur.email_confirme_le is not None:
            return utilisateur  # lien plus ancien d'un compte depuis confirmé : rien à faire
        raise LienInvalide("altere")
    if utilisateur.email_confirme_le is None:
        utilisateur.email_confirme_le = maintenant()
        db.session.commit()
    return utilisateur


def renvoyer_confirmation(email: str) -> None:
    """Nouveau lien pour un compte non confirmé. Même réponse que l'adresse soit inscrite ou non."""
    utilisateur = db.session.scalar(select(Utilisateur).where(Utilisateur.email == normaliser_email(email)))
    if utilisateur is None or not utilisateur.actif:
        return
    if utilisateur.email_confirme_le is None:
        _ecrire_confirmation(utilisateur)
    else:
        _ecrire_compte_existant(utilisateur)
    db.session.commit()


# --- Mot de passe oublié, changement du mot de passe ------------------------------------------


class MotDePasseActuelErrone(Refus):
    def __init__(self):
        super().__init__("Le mot de passe actuel est incorrect.", "actuel")


def duree_reinitialisation() -> timedelta:
    return timedelta(minutes=current_app.config["REINITIALISATION_MINUTES"])


def libelle_duree_reinitialisation() -> str:
    """« 1 heure », « 2 heures », « 30 minutes » : pour les pages et les courriels."""
    minutes = current_app.config["REINITIALISATION_MINUTES"]
    if minutes >= 60 and minutes % 60 == 0:
        heures = minutes // 60
        return f"{heures} heure{'s' if heures > 1 else ''}"
    return f"{minutes} minute{'s' if minutes > 1 else ''}"


def lien_reinitialisation(utilisateur: Utilisateur) -> str:
    # Ni l'adresse ni rien du mot de passe en clair dans le lien : l'identifiant et l'empreinte suffisent.
    jeton = _serialiseur(SEL_REINITIALISATION).dumps({"u": utilisateur.id, "s": _sceau(utilisateur)})
    return lien_externe("comptes.reinitialiser_mot_de_passe", jeton=jeton)


def demander_reinitialisation(email: str, adresse_ip: str | None = None) -> None:
    """Écrit le lien de réinitialisation si l'adresse est celle d'un compte actif. La vue répond de même
    dans tous les cas : on ne révèle pas les adresses inscrites. La demande est journalisée."""
    email = normaliser_email(email)
    utilisateur = db.session.scalar(select(Utilisateur).where(Utilisateur.email == email))
    if utilisateur is None:
        motif = "compte inconnu"
    elif not utilisateur.actif:
        motif = "compte désactivé"
    else:
        motif = None
        courriels.ecrire_au_compte(
            "reinitialisation_mot_de_passe",
            utilisateur,
            duree=libelle_duree_reinitialisation(),
            lien=lien_reinitialisation(utilisateur),
        )
    journaliser(
        email,
        utilisateur,
        motif is None,
        motif,
        NatureEvenementCompte.demande_reinitialisation,
        adresse_ip,
    )
    db.session.commit()


def lire_reinitialisation(jeton: str, verrouiller: bool = False) -> Utilisateur:
    """Le compte désigné par un lien de réinitialisation encore valable ; sinon LienInvalide : altere
    (signature fausse, compte inconnu ou désactivé), expire, utilise (le mot de passe a changé depuis)."""
    donnees = _lire(SEL_REINITIALISATION, jeton, duree_reinitialisation())
    utilisateur = _objet_du_lien(Utilisateur, donnees.get("u"), verrouiller)
    if utilisateur is None or not utilisateur.actif:
        raise LienInvalide("altere")
    if _sceau(utilisateur) != donnees.get("s"):
        raise LienInvalide("utilise")
    return utilisateur


def reinitialiser_mot_de_passe(jeton: str, mot_de_passe: str, adresse_ip: str | None = None) -> Utilisateur:
    """Nouveau mot de passe par le lien reçu : le lien ne sert plus, toutes les sessions tombent. Le lien
    prouve aussi la détention de l'adresse (confirmée si elle ne l'était pas)."""
    utilisateur = lire_reinitialisation(jeton, verrouiller=True)
    utilisateur.definir_mot_de_passe(mot_de_passe)
    if utilisateur.email_confirme_le is None:
        utilisateur.email_confirme_le = maintenant()
    journaliser(
        utilisateur.email, utilisateur, True, None, NatureEvenementCompte.reinitialisation, adresse_ip
    )
    _ecrire_mot_de_passe_modifie(utilisateur)
    db.session.commit()
    return utilisateur


def changer_mot_de_passe(
    utilisateur: Utilisateur, actuel: str, nouveau: str, adresse_ip: str | None = None
) -> Utilisateur:
    """Depuis une session ouverte, avec le mot de passe actuel. Les autres sessions tombent (identifiant de
    session renouvelé) : la vue rouvre celle en cours avec le nouvel identifiant. Un mot de passe actuel
    faux lève MotDePasseActuelErrone, journalisé comme une connexion refusée."""
    compte = charger_verrouille(Utilisateur, utilisateur.id)
    nature = NatureEvenementCompte.changement_mot_de_passe
    if not compte.verifier_mot_de_passe(actuel):
        journaliser(compte.email, compte, False, "mot de passe actuel erroné", nature, adresse_ip)
        db.session.commit()
        raise MotDePasseActuelErrone()
    compte.definir_mot_de_passe(nouveau)
    journaliser(compte.email, compte, True, None, nature, adresse_ip)
    _ecrire_mot_de_passe_modifie(compte)
    db.session.commit()
    return compte


def _ecrire_mot_de_passe_modifie(utilisateur: Utilisateur) -> None:
    courriels.ecrire_au_compte(
        "mot_de_passe_modifie", utilisateur, lien=lien_externe("comptes.mot_de_passe_oublie")
    )


def activite_recente(utilisateur: Utilisateur, nombre: int = 10) -> list[EvenementConnexion]:
    """Les derniers événements du compte (connexions, mot de passe), pour « Mon compte »."""
    return list(
        db.session.scalars(
            select(EvenementConnexion)
            .where(EvenementConnexion.utilisateur_id == utilisateur.id)
            .order_by(EvenementConnexion.id.desc())
            .limit(nombre)
        )
    )


# --- Invitations ----------------------------------------------------------------------------


def lien_invitation(invitation: Invitation) -> str:
    jeton = _serialiseur(SEL_INVITATION).dumps({"i": invitation.id, "e": invitation.email})
    return lien_externe("comptes.invitation", jeton=jeton)


def _objet_du_lien(modele, identifiant, verrouiller: bool):
    """L'objet que désigne l'identifiant signé d'un lien (None s'il n'existe plus), verrouillé au besoin."""
    if not isinstance(identifiant, int):
        raise LienInvalide("altere")
    requete = select(modele).where(modele.id == identifiant)
    if verrouiller:
        requete = requete.with_for_update().execution_options(populate_existing=True)
    return db.session.scalar(requete)


def lire_invitation(jeton: str, verrouiller: bool = False) -> Invitation:
    """L'invitation encore valable désignée par le lien ; sinon LienInvalide (altéré, expiré, utilisé,
    révoqué)."""
    donnees = _lire(SEL_INVITATION, jeton, DUREE_INVITATION)
    invitation = _objet_du_lien(Invitation, donnees.get("i"), verrouiller)
    if invitation is None or invitation.email != donnees.get("e"):
        raise LienInvalide("altere")
    if invitation.revoquee_le is not None:
        raise LienInvalide("revoque", invitation.email)
    if invitation.acceptee_le is not None:
        raise LienInvalide("utilise", invitation.email)
    if invitation.expire_le <= maintenant():
        raise LienInvalide("expire", invitation.email)
    return invitation


def accepter_invitation(utilisateur: Utilisateur, jeton: str) -> MembreStructure:
    """Le compte connecté rejoint la structure, s'il a bien l'adresse invitée. Le lien ne sert qu'une fois."""
    invitation = lire_invitation(jeton, verrouiller=True)
    if invitation.email != utilisateur.email:
        raise InvitationAutreCompte(invitation)
    if utilisateur.email_confirme_le is None:
        utilisateur.email_confirme_le = maintenant()  # le lien reçu prouve la détention de l'adresse
    membre = _rattacher(utilisateur, invitation)
    try:
        db.session.commit()
    except IntegrityError:
        # Deux clics simultanés : le premier a rattaché le compte, le second ne change rien.
        db.session.rollback()
        membre = db.session.scalar(
            select(MembreStructure).filter_by(
                utilisateur_id=utilisateur.id, structure_id=invitation.structure_id
            )
        )
        if membre is None:
            raise
        return membre
    return membre


def _rattacher(utilisateur: Utilisateur, invitation: Invitation) -> MembreStructure:
    invitation.acceptee_le = maintenant()
    membre = db.session.scalar(
        select(MembreStructure).filter_by(utilisateur_id=utilisateur.id, structure_id=invitation.structure_id)
    )
    if membre is None:
        membre = MembreStructure(
            utilisateur_id=utilisateur.id, structure_id=invitation.structure_id, role=invitation.role
        )
        db.session.add(membre)
        db.session.flush()
        if invitation.invite_par_id is not None:
            auteur = db.session.get(Utilisateur, invitation.invite_par_id)
            if auteur is not None and auteur.actif:
                courriels.ecrire_au_compte(
                    "invitation_acceptee",
                    auteur,
                    membre=utilisateur.nom_complet,
                    email=utilisateur.email,
                    structure=invitation.structure.nom,
                    role=invitation.role,
                    lien=lien_externe("structures.voir", structure_id=invitation.structure_id),
                )
    return membre
