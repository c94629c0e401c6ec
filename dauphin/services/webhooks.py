"""Les webhooks : une organisation inscrit une adresse HTTPS et reçoit, signé, chaque événement du flux
qu'elle voit (`dauphin.services.evenements`, la même description et la même portée que l'API).

- **Distribuer** : chaque abonnement garde un curseur dans le flux ; la tâche `webhooks` (lancée après
  chaque commit qui journalise, et chaque minute par le planificateur) lit le flux depuis ce curseur avec
  la portée de l'organisation, écrit une livraison par événement (la boîte d'envoi) et avance le curseur,
  dans une même transaction. Redis ou le destinataire en panne, rien n'est perdu : le flux est en base, le
  curseur n'avance qu'avec les livraisons écrites.
- **Livrer** : POST du corps JSON de l'événement, signé HMAC-SHA256 sur « horodatage.corps » (à la façon
  de Stripe) ; 2xx : livrée ; sinon nouvelle tentative plus tard (1 min, 5 min, 15 min, 1 h, 3 h, 6 h,
  12 h), abandon après la 8e (environ une journée). Une livraison est prise par un seul travailleur à la
  fois (bail en base) ; aucun verrou n'est tenu pendant l'appel HTTP.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import ipaddress
import json
import logging
import re
import secrets
import socket
import time
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import httpx
from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import NotFound

from dauphin import jobs
from dauphin.extensions import db
from dauphin.models import (
    AbonnementWebhook,
    Demande,
    EvenementJournal,
    LivraisonWebhook,
    Organisation,
    RoleOrganisation,
    StatutLivraison,
    Utilisateur,
    maintenant,
)
from dauphin.policies import GERER_JETONS, Acteur
from dauphin.services import evenements
from dauphin.services.erreurs import Conflit, NonAutorise, Refus
from dauphin.unite_de_travail import lire_verrouille

journal = logging.getLogger(__name__)

PREFIXE_SECRET = "whsec_"
ENTETE_ID = "Dauphin-Webhook-Id"
ENTETE_EVENEMENT = "Dauphin-Evenement-Id"
ENTETE_SIGNATURE = "Dauphin-Signature"
# Délai avant la tentative n+1 après l'échec de la n-ième : 8 tentatives sur environ 22 heures.
DELAIS = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(hours=1),
    timedelta(hours=3),
    timedelta(hours=6),
    timedelta(hours=12),
)
TENTATIVES_MAX = len(DELAIS) + 1
DELAI_CONNEXION = 5.0  # secondes
DELAI_REPONSE = 10.0
BAIL = timedelta(minutes=2)  # une livraison prise par un travailleur n'est reprise par un autre qu'après
EXTRAIT = 500  # caractères de la réponse gardés
APERCU = 200  # caractères de la réponse montrés à l'écran (texte, balises retirées)
LOT_DISTRIBUTION = 500
HOTES_LOCAUX = {"127.0.0.1", "localhost", "::1"}


# --- Abonnements ---------------------------------------------------------------------------------


def acteur_de_l_abonnement(abonnement: AbonnementWebhook) -> Acteur:
    """Ce que l'abonnement voit : le périmètre de son organisation, comme un jeton d'un instructeur (seuls
    les instructeurs — et l'administration nationale — inscrivent une adresse)."""
    return Acteur(organisations={abonnement.organisation_id: RoleOrganisation.instructeur})


def verifier_url(url: str | None) -> str:
    """L'adresse acceptée, ou `Refus` (champ « url ») avec la raison."""
    url = (url or "").strip()
    if not url:
        raise Refus("Indiquez l’adresse qui recevra les événements.", "url")
    if len(url) > 2000:
        raise Refus("L’adresse tient en 2 000 caractères au plus.", "url")
    try:
        morceaux = urlsplit(url)
        hote = morceaux.hostname or ""
        morceaux.port  # noqa: B018 (un port impossible lève ValueError)
    except ValueError:
        raise Refus("Cette adresse n’est pas valide (exemple : https://exemple.fr/dauphin).", "url") from None
    locale = hote in HOTES_LOCAUX and current_app.config["WEBHOOKS_HTTP_LOCAL"]
    if morceaux.scheme != "https" and not (morceaux.scheme == "http" and locale):
        raise Refus("L’adresse doit commencer par https:// (exemple : https://exemple.fr/dauphin).", "url")
    if not hote or morceaux.username or morceaux.password or morceaux.fragment:
        raise Refus(
            "Indiquez une adresse sans identifiant ni fragment (exemple : https://exemple.fr/dauphin).", "url"
        )
    if not locale:
        try:
            adresse = ipaddress.ip_address(hote)
        except ValueError:
            adresse = None
        if hote == "localhost" or (adresse is not None and _interne(adresse)):
            raise Refus("L’adresse doit être joignable sur Internet (pas d’adresse locale ou privée).", "url")
    return url


def _interne(adresse: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return adresse.is_private or adresse.is_loopback or adresse.is_link_local or adresse.is_reserved


def adresse_interne(url: str) -> str | None:
    """Hors développement : la raison de ne pas appeler `url` si son nom se résout vers une adresse locale
    ou privée (un nom public qui pointerait vers le réseau interne du portail), sinon None."""
    if current_app.config["WEBHOOKS_HTTP_LOCAL"]:
        return None
    morceaux = urlsplit(url)
    try:
        resolues = {info[4][0] for info in socket.getaddrinfo(morceaux.hostname, morceaux.port or 443)}
    except OSError as erreur:
        journal.info("Webhook vers %s : nom introuvable (%s)", morceaux.hostname, erreur)
        return ERREUR_DNS
    for resolue in resolues:
        if _interne(ipaddress.ip_address(resolue.split("%")[0])):
            return f"Refusé : {morceaux.hostname} désigne une adresse locale ou privée ({resolue})."
    return None


def creer(createur: Utilisateur, organisation_id: int, url: str) -> tuple[AbonnementWebhook, str]:
    """Inscrit l'adresse ; rend (abonnement, secret). Le secret n'est montré qu'une fois. Les événements
    validés à partir de maintenant lui seront livrés (pas l'historique : le flux de l'API le donne)."""
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound()
    if not GERER_JETONS.permet(createur, organisation):
        raise NonAutorise("creer_webhook")
    url = verifier_url(url)
    # L'organisation verrouillée (PostgreSQL) : deux inscriptions simultanées de la même adresse ne passent
    # pas toutes les deux la vérification qui suit.
    lire_verrouille(Organisation, organisation.id)
    if db.session.scalar(
        select(AbonnementWebhook.id).where(
            AbonnementWebhook.organisation_id == organisation.id,
            AbonnementWebhook.url == url,
            AbonnementWebhook.actif,
        )
    ):
        db.session.rollback()
        # Deux abonnements à la même adresse : chaque événement arriverait deux fois, l'un mal signé.
        raise Refus(
            "Cette adresse est déjà inscrite pour cette organisation. Pour changer de secret, désactivez "
            "l’adresse existante puis inscrivez-la de nouveau.",
            "url",
        )
    abonnement = AbonnementWebhook(
        organisation_id=organisation.id,
        url=url,
        secret=PREFIXE_SECRET + secrets.token_urlsafe(32),
        cree_par_id=createur.id,
        cree_le=maintenant(),
        curseur=evenements.dernier_rang(),
    )
    db.session.add(abonnement)
    db.session.commit()
    return abonnement, abonnement.secret


def desactiver(abonnement_id: int, utilisateur: Utilisateur) -> AbonnementWebhook:
    """Plus rien n'est distribué ni livré à cette adresse (les livraisons restent lisibles) ; celles qui
    attendaient un envoi sont suspendues, pour ne pas rester « en attente » d'une tentative qui ne vient
    pas."""
    abonnement = db.session.get(AbonnementWebhook, abonnement_id, with_for_update=True)
    if abonnement is None or not GERER_JETONS.permet(utilisateur, abonnement.organisation):
        raise NotFound()
    if abonnement.actif:
        abonnement.actif = False
        abonnement.desactive_le = maintenant()
        abonnement.desactive_par_id = utilisateur.id
        db.session.execute(
            update(LivraisonWebhook)
            .where(
                LivraisonWebhook.abonnement_id == abonnement.id,
                LivraisonWebhook.statut == StatutLivraison.en_attente,
            )
            .values(statut=StatutLivraison.suspendue, prochaine_tentative_le=None)
            .execution_options(synchronize_session=False)
        )
    db.session.commit()
    return abonnement


def abonnements_visibles(utilisateur: Utilisateur) -> list[AbonnementWebhook]:
    return list(
        db.session.scalars(
            select(AbonnementWebhook)
            .where(
                AbonnementWebhook.organisation_id.in_(
                    select(Organisation.id).where(GERER_JETONS.portee(utilisateur))
                )
            )
            .order_by(AbonnementWebhook.id.desc())
            .options(selectinload(AbonnementWebhook.organisation), selectinload(AbonnementWebhook.cree_par))
        )
    )


def abonnement_gere(utilisateur: Utilisateur, abonnement_id: int) -> AbonnementWebhook:
    abonnement = db.session.get(AbonnementWebhook, abonnement_id)
    if abonnement is None or not GERER_JETONS.permet(utilisateur, abonnement.organisation):
        raise NotFound()  # l'abonnement d'une autre organisation n'existe pas pour lui
    return abonnement


def livraisons(abonnement: AbonnementWebhook, *, page: int, par_page: int):
    """Les livraisons de l'abonnement, de la plus récente à la plus ancienne, paginées en SQL ; et le
    numéro du dossier de chacune (une requête pour la page)."""
    requete = (
        select(LivraisonWebhook)
        .where(LivraisonWebhook.abonnement_id == abonnement.id)
        .order_by(LivraisonWebhook.id.desc())
        .options(selectinload(LivraisonWebhook.evenement))
    )
    resultat = db.paginate(requete, page=page, per_page=par_page, error_out=False)
    numeros = dict(
        db.session.execute(
            select(EvenementJournal.id, Demande.numero)
            .join(Demande, Demande.id == EvenementJournal.demande_id)
            .where(EvenementJournal.id.in_([livraison.journal_id for livraison in resultat.items]))
        ).all()
    )
    return resultat, numeros


def renvoyer(livraison_id: int, utilisateur: Utilisateur) -> LivraisonWebhook:
    """Remet la livraison dans la boîte d'envoi, pour tout de suite, avec une nouvelle série de tentatives
    (livrée ou abandonnée : le destinataire l'a peut-être perdue, ou il est réparé)."""
    livraison = db.session.get(LivraisonWebhook, livraison_id, with_for_update=True)
    if livraison is None or not GERER_JETONS.permet(utilisateur, livraison.abonnement.organisation):
        raise NotFound()
    if not livraison.abonnement.actif:
        raise Conflit("Cette adresse est désactivée : rien ne lui est plus envoyé.")
    # Une nouvelle série : la réponse de la précédente ne doit pas passer pour celle de ce renvoi.
    livraison.statut = StatutLivraison.en_attente
    livraison.tentatives = 0
    livraison.prochaine_tentative_le = maintenant()
    livraison.derniere_tentative_le = None
    livraison.dernier_statut_http = None
    livraison.derniere_reponse = None
    livraison.livree_le = None
    jobs.planifier("dauphin.taches.livrer_webhook", livraison.id)
    db.session.commit()
    return livraison


# --- Distribuer : du flux à la boîte d'envoi ----------------------------------------------------


def distribuer() -> int:
    """Pour chaque abonnement actif, les événements du flux qu'il voit depuis son curseur deviennent des
    livraisons en attente. Rend le nombre de livraisons écrites."""
    actifs = list(db.session.scalars(select(AbonnementWebhook.id).where(AbonnementWebhook.actif)))
    return sum(_distribuer(abonnement_id) for abonnement_id in actifs)  # chacun valide à son tour


def _distribuer(abonnement_id: int) -> int:
    ecrites = 0
    while True:
        # Verrouillé : deux travailleurs ne distribuent pas le même abonnement en même temps.
        abonnement = db.session.get(
            AbonnementWebhook, abonnement_id, with_for_update=True, populate_existing=True
        )
        if abonnement is None or not abonnement.actif:
            db.session.rollback()
            return ecrites
        lus, reprise, suite = evenements.lire(
            acteur_de_l_abonnement(abonnement), abonnement.curseur, LOT_DISTRIBUTION
        )
        instant = maintenant()
        db.session.add_all(
            LivraisonWebhook(
                abonnement_id=abonnement.id,
                journal_id=lu["id"],
                statut=StatutLivraison.en_attente,
                prochaine_tentative_le=instant,
                cree_le=instant,
            )
            for lu in lus
        )
        abonnement.curseur = reprise
        db.session.commit()
        ecrites += len(lus)
        if not suite:
            return ecrites


# --- Livrer ------------------------------------------------------------------------------------


def signature(secret: str, horodatage: int, corps: bytes) -> str:
    """HMAC-SHA256, en hexadécimal, de « horodatage.corps » avec le secret de l'abonnement."""
    message = str(horodatage).encode() + b"." + corps
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def corps_de(livraison: LivraisonWebhook) -> bytes:
    contenu = evenements.evenement(livraison.journal_id)
    return json.dumps(contenu, ensure_ascii=False, separators=(",", ":")).encode()


def livrer_dues(limite: int = 200) -> dict[str, int]:
    """Livre les livraisons en attente dont l'heure est venue ; rend le compte par issue."""
    bilan = {"livrees": 0, "echecs": 0}
    dues = list(
        db.session.scalars(
            select(LivraisonWebhook.id)
            .join(AbonnementWebhook, AbonnementWebhook.id == LivraisonWebhook.abonnement_id)
            .where(
                LivraisonWebhook.statut == StatutLivraison.en_attente,
                LivraisonWebhook.prochaine_tentative_le <= maintenant(),
                AbonnementWebhook.actif,
            )
            .order_by(LivraisonWebhook.prochaine_tentative_le, LivraisonWebhook.id)
            .limit(limite)
        )
    )
    db.session.rollback()  # rien n'est tenu pendant les appels HTTP
    if not dues:
        return bilan
    with _client() as client:
        for livraison_id in dues:
            issue = livrer(livraison_id, client)
            if issue is True:
                bilan["livrees"] += 1
            elif issue is False:
                bilan["echecs"] += 1
    return bilan


def _client() -> httpx.Client:
    return httpx.Client(
        timeout=httpx.Timeout(DELAI_REPONSE, connect=DELAI_CONNEXION),
        follow_redirects=False,  # une redirection est un échec : l'adresse inscrite doit répondre
        headers={"User-Agent": "Dauphin-Webhooks/1.0", "Content-Type": "application/json"},
    )


def _prendre(livraison_id: int) -> bool:
    """Prend la livraison pour ce travailleur (bail) si elle est toujours due ; une seule fois."""
    instant = maintenant()
    pris = db.session.execute(
        update(LivraisonWebhook)
        .where(
            LivraisonWebhook.id == livraison_id,
            LivraisonWebhook.statut == StatutLivraison.en_attente,
            LivraisonWebhook.prochaine_tentative_le <= instant,
        )
        .values(prochaine_tentative_le=instant + BAIL)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return pris == 1


def livrer(livraison_id: int, client: httpx.Client | None = None) -> bool | None:
    """Une tentative de livraison. True : livrée ; False : échec (replanifiée ou abandonnée) ; None : pas
    due (déjà livrée, ou prise par un autre travailleur)."""
    if not _prendre(livraison_id):
        return None
    livraison = db.session.get(LivraisonWebhook, livraison_id, populate_existing=True)
    abonnement = livraison.abonnement
    if not abonnement.actif:  # désactivée entre-temps : la livraison reste en attente, rien ne part
        db.session.rollback()
        return None
    corps = corps_de(livraison)
    horodatage = int(time.time())
    entetes = {
        ENTETE_ID: str(livraison.id),
        ENTETE_EVENEMENT: str(livraison.journal_id),
        ENTETE_SIGNATURE: f"t={horodatage},v1={signature(abonnement.secret, horodatage, corps)}",
    }
    url = abonnement.url
    db.session.rollback()  # aucune transaction ouverte pendant l'appel
    statut_http, reponse = None, adresse_interne(url)
    if reponse is not None:
        return _noter(livraison_id, None, reponse)
    propre = client is None
    client = client or _client()
    try:
        resultat = client.post(url, content=corps, headers=entetes)
        statut_http, reponse = resultat.status_code, resultat.text[:EXTRAIT]
    except httpx.HTTPError as erreur:
        journal.info("Webhook %s vers %s : %s : %s", livraison_id, url, type(erreur).__name__, erreur)
        reponse = erreur_en_francais(erreur)
    finally:
        if propre:
            client.close()
    return _noter(livraison_id, statut_http, reponse)


ERREUR_CONNEXION = "Connexion refusée par le serveur destinataire."
ERREUR_DELAI = "Le serveur destinataire n’a pas répondu à temps."
ERREUR_DNS = "Nom de domaine introuvable."
ERREUR_TLS = "Échec de la connexion sécurisée (certificat ou TLS)."
ERREUR_AUTRE = "Échec de la communication avec le serveur destinataire."


def erreur_en_francais(erreur: httpx.HTTPError) -> str:
    """Une phrase courte pour l'écran des livraisons ; le détail technique va au journal."""
    if isinstance(erreur, httpx.TimeoutException):
        return ERREUR_DELAI
    # Le texte de l'erreur d'origine (ssl, socket) : httpx ne distingue pas ces cas par ses classes.
    causes = []
    cause: BaseException | None = erreur
    while cause is not None and len(causes) < 10:
        causes.append(cause)
        cause = cause.__cause__ or cause.__context__
    texte = " ".join(f"{type(c).__name__} {c}" for c in causes).lower()
    if "ssl" in texte or "certificate" in texte or "tls" in texte:
        return ERREUR_TLS
    if (
        "gaierror" in texte
        or "name or service not known" in texte
        or "nodename nor servname" in texte
        or ("name resolution" in texte)
    ):
        return ERREUR_DNS
    if isinstance(erreur, httpx.ConnectError) and ("refused" in texte or "errno 111" in texte):
        return ERREUR_CONNEXION
    return ERREUR_AUTRE


_SCRIPTS = re.compile(r"<(script|style)\b.*?(</\1\s*>|$)", re.I | re.S)
_BALISES = re.compile(r"<[^>]*(>|$)", re.S)


def apercu_reponse(texte: str | None) -> str:
    """Le début de la réponse, lisible : balises HTML retirées, blancs resserrés, 200 caractères au plus
    (échappé par le gabarit)."""
    if not texte:
        return ""
    if "<" in texte:
        texte = _SCRIPTS.sub(" ", texte)
        texte = html.unescape(_BALISES.sub(" ", texte))  # une balise coupée par l'extrait aussi
    lisible = " ".join(texte.split())
    return lisible if len(lisible) <= APERCU else lisible[: APERCU - 1].rstrip() + "…"


def _noter(livraison_id: int, statut_http: int | None, reponse: str | None) -> bool:
    livraison = db.session.get(LivraisonWebhook, livraison_id, with_for_update=True, populate_existing=True)
    instant = maintenant()
    livraison.tentatives += 1
    livraison.derniere_tentative_le = instant
    livraison.dernier_statut_http = statut_http
    livraison.derniere_reponse = reponse
    reussie = statut_http is not None and 200 <= statut_http < 300
    if reussie:
        livraison.statut = StatutLivraison.livree
        livraison.livree_le = instant
        livraison.prochaine_tentative_le = None
    elif livraison.tentatives >= TENTATIVES_MAX:
        livraison.statut = StatutLivraison.echec
        livraison.prochaine_tentative_le = None
    elif not livraison.abonnement.actif:  # désactivée pendant l'appel : pas de tentative suivante
        livraison.statut = StatutLivraison.suspendue
        livraison.prochaine_tentative_le = None
    else:
        livraison.prochaine_tentative_le = instant + DELAIS[livraison.tentatives - 1]
    db.session.commit()
    if not reussie:
        journal.info(
            "Webhook %s : tentative %s en échec (%s)", livraison_id, livraison.tentatives, statut_http
        )
    return reussie


def prochaine(livraison: LivraisonWebhook) -> datetime | None:
    return livraison.prochaine_tentative_le if livraison.statut == StatutLivraison.en_attente else None
