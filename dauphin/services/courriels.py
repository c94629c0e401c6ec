"""Courriels : écrits dans la boîte d'envoi (table `courriel`) dans la transaction qui les motive,
puis envoyés par une tâche après le commit. Un serveur SMTP en panne ne bloque donc aucune
transition : le courriel reste « en attente » et part à la tentative suivante.

Les tentatives suivantes : `flask courriels envoyer` (cron) ou `rq cron dauphin.planification` (toutes
les minutes), et le bouton « Relancer l'envoi » de l'écran Administration → Courriels.
"""

from __future__ import annotations

import logging
import smtplib
import socket
from email.message import EmailMessage
from pathlib import Path

from flask import current_app
from sqlalchemy import and_, func, inspect, select

from dauphin import jobs
from dauphin.extensions import db
from dauphin.journaux import identifiant_de_requete
from dauphin.models import (
    Courriel,
    Demande,
    MembreOrganisation,
    MembreStructure,
    RoleOrganisation,
    RoleStructure,
    StatutCourriel,
    Utilisateur,
    maintenant,
)
from dauphin.services import gabarits_courriels
from dauphin.unite_de_travail import apres_commit

journal = logging.getLogger(__name__)
TENTATIVES_MAX = 5
LOT_REPRISE = 200  # courriels en attente repris par tâche, les plus anciens d'abord


def ecrire_message(nom: str, destinataire: str, demande: Demande | None = None, **contexte) -> Courriel:
    """Écrit le message `nom` du catalogue (templates/courriels/<nom>/) dans la boîte d'envoi, dans la
    transaction en cours. `demande` rattache le courriel à son dossier et le donne au gabarit, avec `lien`
    (l'adresse du dossier) ; `contexte` : les autres valeurs que le gabarit attend."""
    rendu = gabarits_courriels.rendre(nom, demande, **contexte)
    return ecrire(destinataire, rendu.sujet, rendu.texte, demande, corps_html=rendu.html)


def ecrire_au_compte(nom: str, compte: Utilisateur, **contexte) -> Courriel:
    """Le message `nom` à un compte : à son adresse, en l'appelant par son prénom (« Bonjour Inès, »)."""
    return ecrire_message(nom, compte.email, prenom=compte.prenom, **contexte)


def ecrire(
    destinataire: str, sujet: str, corps: str, demande: Demande | None = None, corps_html: str | None = None
) -> Courriel:
    """Écrit un courriel dans la boîte d'envoi, dans la transaction en cours ; il part après son commit."""
    courriel = Courriel(
        destinataire=destinataire,
        sujet=sujet,
        corps=corps,
        corps_html=corps_html,
        demande_id=demande.id if demande is not None else None,
    )
    db.session.add(courriel)
    apres_commit(envoyer_apres_commit, courriel)
    return courriel


def envoyer_apres_commit(ecrits: list[Courriel]) -> None:
    """Après le commit : confie à une tâche l'envoi des courriels que la transaction a écrits. Redis en
    panne ne change rien à ce qui est validé : ils restent en attente, la reprise les enverra."""
    # La clé de chaque courriel sans le relire (le commit a expiré ses attributs)
    jobs.lancer("dauphin.taches.envoyer_courriels", [inspect(c).identity[0] for c in ecrits])


def _emails_membres(demande: Demande, *conditions) -> list[str]:
    """Les adresses des comptes actifs membres de la structure de la demande, selon `conditions`."""
    return list(
        db.session.scalars(
            select(Utilisateur.email)
            .join(MembreStructure, MembreStructure.utilisateur_id == Utilisateur.id)
            .where(
                MembreStructure.structure_id == demande.structure_id, Utilisateur.actif.is_(True), *conditions
            )
            .order_by(Utilisateur.email)
        )
    )


def _emails_structure(demande: Demande) -> list[str]:
    """À qui le portail écrit quand il prévient la structure porteuse d'une demande : ses membres, la
    personne chargée de la demande (responsable_email) et l'adresse de la structure, chacun une fois."""
    adresses = [*_emails_membres(demande), demande.responsable_email, demande.structure.email]
    return list(dict.fromkeys(a.strip().lower() for a in adresses if a and a.strip()))


def _emails_signataires(demande: Demande) -> list[str]:
    """Les signataires de la structure : eux seuls attestent la demande sur l'honneur."""
    return _emails_membres(demande, MembreStructure.role == RoleStructure.signataire)


def _emails_instructeurs(demande: Demande) -> list[str]:
    organisations = [ligne.organisation_id for ligne in demande.lignes_financement]
    if not organisations:
        return []
    return list(
        db.session.scalars(
            select(Utilisateur.email)
            .join(MembreOrganisation, MembreOrganisation.utilisateur_id == Utilisateur.id)
            .where(
                MembreOrganisation.organisation_id.in_(organisations),
                MembreOrganisation.role == RoleOrganisation.instructeur,
                Utilisateur.actif.is_(True),
            )
            .distinct()
            .order_by(Utilisateur.email)
        )
    )


# déclencheur → (destinataires, message) : les courriels que chaque transition du dossier fait écrire
PAR_DECLENCHEUR = {
    "soumettre": [(_emails_signataires, "demande_a_attester")],
    "attester": [(_emails_structure, "demande_transmise"), (_emails_instructeurs, "demande_a_instruire")],
    "demander_complements": [(_emails_structure, "complements_demandes")],
    "classer_sans_suite": [(_emails_structure, "demande_classee_sans_suite")],
    "retirer": [(_emails_instructeurs, "demande_retiree")],
    "attribuer": [(_emails_structure, "subvention_attribuee")],
    "rejeter": [(_emails_structure, "demande_non_retenue")],
    "valider_justification": [(_emails_structure, "compte_rendu_valide")],
    "retourner_justification": [(_emails_structure, "compte_rendu_a_modifier")],
}


def notifier_transition(demande: Demande, declencheur: str, commentaire: str | None = None) -> None:
    for destinataires, message in PAR_DECLENCHEUR.get(declencheur, ()):
        for email in destinataires(demande):
            ecrire_message(message, email, demande, commentaire=(commentaire or "").strip())


def envoyer_tous(ids: list[int] | None = None, limite: int = LOT_REPRISE) -> dict[str, int]:
    """Envoie les courriels en attente (ceux de `ids`, ou les plus anciens). Chaque tentative est notée
    (nombre, dernière erreur). Un message refusé est retenté jusqu'à TENTATIVES_MAX puis passe « en
    échec » ; un serveur injoignable arrête la série et n'abandonne aucun courriel : tout reste en
    attente pour la reprise suivante."""
    bilan = {"envoyes": 0, "echecs": 0}
    if ids is None:
        ids = list(
            db.session.scalars(
                select(Courriel.id)
                .where(Courriel.statut == StatutCourriel.en_attente)
                .order_by(Courriel.id)
                .limit(limite)
            )
        )
    for courriel_id in ids:
        courriel = db.session.scalar(
            select(Courriel)
            .where(Courriel.id == courriel_id, Courriel.statut == StatutCourriel.en_attente)
            .with_for_update(skip_locked=True)
        )
        if courriel is None:
            continue  # pris par un autre processus
        courriel.tentatives += 1
        serveur_injoignable = False
        try:
            _transmettre(courriel)
        except Exception as erreur:  # SMTP injoignable, adresse refusée, en-tête invalide…
            courriel.derniere_erreur = f"{type(erreur).__name__}: {erreur}"[:1000]
            serveur_injoignable = _serveur_injoignable(erreur)
            if courriel.tentatives >= TENTATIVES_MAX and not serveur_injoignable:
                courriel.statut = StatutCourriel.echec
            bilan["echecs"] += 1
            journal.warning("Courriel %s non envoyé (%s)", courriel.id, courriel.derniere_erreur)
        else:
            courriel.statut = StatutCourriel.envoye
            courriel.envoye_le = maintenant()
            bilan["envoyes"] += 1
        db.session.commit()
        if serveur_injoignable:
            # Les suivants attendent la prochaine reprise plutôt que chacun le délai de connexion.
            break
    return bilan


ERREURS_SERVEUR = (
    ConnectionError,  # refus de connexion, connexion coupée
    TimeoutError,
    socket.gaierror,  # nom du serveur introuvable
    smtplib.SMTPConnectError,
    smtplib.SMTPServerDisconnected,
)


def _serveur_injoignable(erreur: Exception) -> bool:
    """Une panne du serveur SMTP (à reprendre sans limite) plutôt qu'un refus de ce message-là."""
    return isinstance(erreur, ERREURS_SERVEUR)


# Administration (écran « Courriels ») et vue du dossier
FILTRES = {
    StatutCourriel.en_attente.value: "En attente",
    StatutCourriel.echec.value: "En échec",
    StatutCourriel.envoye.value: "Envoyés",
}


def nombres_par_statut() -> dict[str, int]:
    lignes = db.session.execute(select(Courriel.statut, func.count()).group_by(Courriel.statut))
    nombres = {statut: 0 for statut in FILTRES}
    nombres.update({StatutCourriel(statut).value: nombre for statut, nombre in lignes})
    return nombres


def page_courriels(statut: StatutCourriel, page: int, par_page: int):
    """Une page de la boîte d'envoi pour un statut : les plus anciens d'abord pour ce qui attend encore
    (l'ordre de la reprise), les plus récents d'abord pour ce qui est parti."""
    ordre = Courriel.id.desc() if statut is StatutCourriel.envoye else Courriel.id
    requete = select(Courriel).where(Courriel.statut == statut).order_by(ordre)
    return db.paginate(requete, page=page, per_page=par_page, error_out=False, max_per_page=100)


def _non_envoyes(demande_id):
    """Les courriels d'une demande encore en attente (ou abandonnés) ; `demande_id` : un identifiant, ou la
    colonne d'une requête sur les demandes."""
    return and_(Courriel.demande_id == demande_id, Courriel.statut != StatutCourriel.envoye)


def non_envoyes_de_la_demande(demande_id: int) -> list[Courriel]:
    """Les courriels d'une demande encore en attente (ou abandonnés) : une requête, par l'index demande_id."""
    return list(db.session.scalars(select(Courriel).where(_non_envoyes(demande_id)).order_by(Courriel.id)))


def colonne_des_non_envoyes():
    """Pour une requête sur les demandes : vrai si la demande a des courriels non envoyés (sous-requête
    corrélée) ; leur liste n'est lue (`non_envoyes_de_la_demande`) que s'il y en a, c'est-à-dire rarement."""
    return select(Courriel.id).where(_non_envoyes(Demande.id)).exists().label("courriels_non_envoyes")


def relancer_envoi() -> tuple[int, bool]:
    """Confie à une tâche l'envoi des courriels en attente. Rend leur nombre et si la tâche est partie
    (False : Redis injoignable, ils restent en attente pour la prochaine reprise)."""
    nombre = db.session.scalar(
        select(func.count()).select_from(Courriel).where(Courriel.statut == StatutCourriel.en_attente)
    )
    if not nombre:
        return 0, True
    return nombre, jobs.lancer("dauphin.taches.envoyer_courriels")


def _transmettre(courriel: Courriel) -> None:
    config = current_app.config
    message = EmailMessage()
    message["From"] = config["MAIL_SENDER"]
    identifiant = identifiant_de_requete()
    if identifiant:  # la requête (ou la tâche qu'elle a lancée) d'où part l'envoi, pour suivre un courriel
        message["X-Request-ID"] = identifiant
    message["To"] = courriel.destinataire
    message["Subject"] = courriel.sujet
    message.set_content(courriel.corps)
    if courriel.corps_html:
        # multipart/alternative : la messagerie affiche le HTML, ou le texte si elle ne lit pas le HTML.
        message.add_alternative(courriel.corps_html, subtype="html")
    if not config.get("MAIL_SERVER"):
        # Mode embarqué : la version texte dans la console, le message entier (.eml) dans instance/outbox/
        dossier = Path(config["MAIL_OUTBOX_DIR"])
        dossier.mkdir(parents=True, exist_ok=True)
        (dossier / f"{courriel.id:08d}.eml").write_bytes(bytes(message))
        journal.info("Courriel à %s : %s\n\n%s", courriel.destinataire, courriel.sujet, courriel.corps)
        return
    with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=10) as smtp:
        if config.get("MAIL_USE_TLS"):
            smtp.starttls()
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        smtp.send_message(message)
