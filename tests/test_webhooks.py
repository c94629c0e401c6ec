"""Webhooks : inscription par l'écran (secret montré une fois), envoi signé reçu par un vrai serveur HTTP
de la boucle locale qui vérifie la signature avec l'extrait de docs/api.md, nouvelles tentatives (500 puis
200), destinataire injoignable jusqu'à l'abandon, Redis en panne sans rien perdre, « Renvoyer », liste des
livraisons, portée de l'organisation, adresses refusées. Sur SQLite et sur PostgreSQL."""

from __future__ import annotations

import html
import json
import re
import socket
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import select, update

from dauphin import taches
from dauphin.extensions import db as _db
from dauphin.models import (
    AbonnementWebhook,
    LivraisonWebhook,
    Organisation,
    StatutLivraison,
    TypeOrganisation,
    maintenant,
)
from dauphin.services import evenements, webhooks
from dauphin.services.erreurs import Refus
from dauphin.services.workflow import declencher_ligne
from tests.connexions import se_connecter
from tests.fabriques_db import demande_complete
from tests.test_api import ligne_de, transmettre

DOC = Path(__file__).resolve().parents[1] / "docs" / "api.md"


def extrait_de_la_documentation():
    """Le bloc Python de la section « Webhooks » de docs/api.md, exécuté tel quel."""
    texte = DOC.read_text(encoding="utf-8")
    section = texte[texte.index("## Webhooks") :]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    espace: dict = {}
    exec(compile(code, str(DOC), "exec"), espace)  # noqa: S102 (le code de la documentation, testé)
    return espace["verifier_signature"]


verifier_signature = extrait_de_la_documentation()


class Recepteur:
    """Un vrai serveur HTTP sur 127.0.0.1, dans un fil : il note chaque requête, vérifie sa signature avec
    l'extrait documenté et répond, dans l'ordre, les codes de `reponses` (puis 200)."""

    def __init__(self, reponses=()):
        self.reponses = list(reponses)
        self.recus: list[dict] = []
        self.secret: str | None = None
        recepteur = self

        class Gestionnaire(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (nom imposé par http.server)
                corps = self.rfile.read(int(self.headers["Content-Length"]))
                recepteur.recus.append(
                    {
                        "chemin": self.path,
                        "entetes": dict(self.headers),
                        "corps": corps,
                        "signature_valide": verifier_signature(
                            recepteur.secret, self.headers.get("Dauphin-Signature", ""), corps
                        ),
                    }
                )
                code = recepteur.reponses.pop(0) if recepteur.reponses else 200
                message = b"Erreur du serveur de test" if code >= 400 else b"Bien recu"
                self.send_response(code)
                self.send_header("Content-Length", str(len(message)))
                self.end_headers()
                self.wfile.write(message)

            def log_message(self, *args):
                pass

        self.serveur = ThreadingHTTPServer(("127.0.0.1", 0), Gestionnaire)
        self.fil = threading.Thread(target=self.serveur.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.serveur.server_address[1]}/dauphin"

    def __enter__(self):
        self.fil.start()
        return self

    def __exit__(self, *exc):
        self.serveur.shutdown()
        self.serveur.server_close()


def port_ferme() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def inscrire_par_l_ecran(client, monde, url) -> tuple[AbonnementWebhook, str]:
    se_connecter(client, monde.instructeur_etat.email)
    reponse = client.post(f"/webhooks/organisations/{monde.etat.id}/nouveau", data={"url": url})
    assert reponse.status_code == 200, reponse.get_data(as_text=True)
    assert reponse.headers["Cache-Control"] == "no-store"
    secret = re.search(r'value="(whsec_[^"]+)" data-secret-clair', reponse.get_data(as_text=True)).group(1)
    abonnement = _db.session.scalar(select(AbonnementWebhook).order_by(AbonnementWebhook.id.desc()))
    # Le secret n'est plus jamais montré : ni dans la liste, ni dans les livraisons.
    assert secret not in client.get("/webhooks/").get_data(as_text=True)
    assert secret not in client.get(f"/webhooks/{abonnement.id}").get_data(as_text=True)
    return abonnement, secret


def livraisons(abonnement) -> list[LivraisonWebhook]:
    _db.session.expire_all()
    return list(
        _db.session.scalars(
            select(LivraisonWebhook)
            .where(LivraisonWebhook.abonnement_id == abonnement.id)
            .order_by(LivraisonWebhook.id)
        )
    )


def echeance_passee(livraison_id: int) -> None:
    """L'heure de la tentative suivante est venue (plutôt que d'attendre une minute ou douze heures)."""
    _db.session.execute(
        update(LivraisonWebhook)
        .where(LivraisonWebhook.id == livraison_id)
        .values(prochaine_tentative_le=maintenant() - timedelta(seconds=1))
    )
    _db.session.commit()


def test_chaque_evenement_visible_part_signe_et_arrive(client, db, monde):
    with Recepteur() as recepteur:
        abonnement, secret = inscrire_par_l_ecran(client, monde, recepteur.url)
        recepteur.secret = secret
        demande = transmettre(monde, demande_complete(monde))
        ligne = ligne_de(db, demande.id, monde.etat)
        declencher_ligne(ligne.id, "prendre_en_charge", monde.instructeur_etat)

    assert recepteur.recus, "aucun envoi reçu"
    assert all(r["signature_valide"] for r in recepteur.recus)
    corps = [json.loads(r["corps"]) for r in recepteur.recus]
    # Exactement les événements du flux que l'organisation voit, dans la même forme.
    flux, _, _ = evenements.lire(webhooks.acteur_de_l_abonnement(abonnement), 0, 500)
    assert sorted(c["id"] for c in corps) == sorted(e["id"] for e in flux if e["demande"]["id"] == demande.id)
    prise = next(c for c in corps if c["type"] == "ligne.prendre_en_charge")
    assert prise == next(e for e in flux if e["id"] == prise["id"])
    entetes = next(r["entetes"] for r in recepteur.recus if json.loads(r["corps"])["id"] == prise["id"])
    assert entetes["Dauphin-Evenement-Id"] == str(prise["id"])
    assert entetes["Content-Type"] == "application/json"
    assert {lv.statut for lv in livraisons(abonnement)} == {StatutLivraison.livree}
    # Un corps modifié ou un autre secret ne passent pas la vérification documentée.
    recu = recepteur.recus[0]
    assert not verifier_signature(secret, recu["entetes"]["Dauphin-Signature"], recu["corps"] + b" ")
    assert not verifier_signature("whsec_autre", recu["entetes"]["Dauphin-Signature"], recu["corps"])


def test_500_puis_200_une_nouvelle_tentative_livre(client, db, monde):
    with Recepteur(reponses=[500]) as recepteur:
        abonnement, recepteur.secret = inscrire_par_l_ecran(client, monde, recepteur.url)
        demande = transmettre(monde, demande_complete(monde))
        [livraison] = livraisons(abonnement)
        assert livraison.statut == StatutLivraison.en_attente
        assert (livraison.tentatives, livraison.dernier_statut_http) == (1, 500)
        assert "Erreur du serveur de test" in livraison.derniere_reponse
        ecart = livraison.prochaine_tentative_le - livraison.derniere_tentative_le
        assert ecart == webhooks.DELAIS[0]
        # La page des livraisons le montre, avec la prochaine tentative.
        page = client.get(f"/webhooks/{abonnement.id}").get_data(as_text=True)
        assert "HTTP 500" in page and 'data-statut="en_attente"' in page

        taches.webhooks()  # pas encore l'heure : rien ne part
        assert len(recepteur.recus) == 1
        echeance_passee(livraison.id)
        taches.webhooks()
    [livraison] = livraisons(abonnement)
    assert livraison.statut == StatutLivraison.livree and livraison.tentatives == 2
    assert livraison.dernier_statut_http == 200
    assert len(recepteur.recus) == 2 and all(r["signature_valide"] for r in recepteur.recus)
    # Même événement, même livraison : les deux envois portent les mêmes identifiants.
    assert (
        recepteur.recus[0]["entetes"]["Dauphin-Webhook-Id"]
        == recepteur.recus[1]["entetes"]["Dauphin-Webhook-Id"]
    )
    assert json.loads(recepteur.recus[1]["corps"])["demande"]["id"] == demande.id


def test_destinataire_injoignable_retente_puis_abandonne_et_renvoyer_relance(client, db, monde):
    abonnement, _ = inscrire_par_l_ecran(client, monde, f"http://127.0.0.1:{port_ferme()}/dauphin")
    transmettre(monde, demande_complete(monde))
    [livraison] = livraisons(abonnement)
    assert livraison.dernier_statut_http is None
    assert livraison.derniere_reponse == "Connexion refusée par le serveur destinataire."
    page = client.get(f"/webhooks/{abonnement.id}").get_data(as_text=True)
    assert "Connexion refusée par le serveur destinataire." in page
    assert "ConnectError" not in page and "Errno" not in page
    for _ in range(webhooks.TENTATIVES_MAX - 1):
        echeance_passee(livraison.id)
        taches.webhooks()
    [livraison] = livraisons(abonnement)
    assert livraison.statut == StatutLivraison.echec
    assert livraison.tentatives == webhooks.TENTATIVES_MAX and livraison.prochaine_tentative_le is None

    # Le destinataire réparé (à une nouvelle adresse ici) : « Renvoyer » repart tout de suite.
    with Recepteur() as recepteur:
        _db.session.execute(
            update(AbonnementWebhook).where(AbonnementWebhook.id == abonnement.id).values(url=recepteur.url)
        )
        _db.session.commit()
        recepteur.secret = abonnement.secret
        page = client.get(f"/webhooks/{abonnement.id}").get_data(as_text=True)
        assert 'data-statut="echec"' in page and "Renvoyer" in page
        reponse = client.post(f"/webhooks/livraisons/{livraison.id}/renvoyer")
        assert reponse.status_code == 302
        # Le message dit ce qui s'est passé (ici la tâche tourne sur place : livrée aussitôt).
        page = client.get(reponse.headers["Location"]).get_data(as_text=True)
        assert f"Événement n° {livraison.journal_id} renvoyé et livré (HTTP 200)." in page
    [livraison] = livraisons(abonnement)
    assert livraison.statut == StatutLivraison.livree and livraison.tentatives == 1
    assert len(recepteur.recus) == 1 and recepteur.recus[0]["signature_valide"]


def test_redis_en_panne_rien_n_est_perdu(app, client, db, monde):
    with Recepteur() as recepteur:
        abonnement, recepteur.secret = inscrire_par_l_ecran(client, monde, recepteur.url)
        app.config["REDIS_URL"] = f"redis://127.0.0.1:{port_ferme()}/0"
        try:
            demande = transmettre(monde, demande_complete(monde))  # la tâche ne part pas
        finally:
            app.config["REDIS_URL"] = None
        assert livraisons(abonnement) == [] and recepteur.recus == []
        bilan = taches.webhooks()  # la reprise (planificateur, ou `flask webhooks livrer`)
    assert bilan["distribuees"] >= 1 and bilan["livrees"] == bilan["distribuees"]
    assert [json.loads(r["corps"])["demande"]["id"] for r in recepteur.recus] == [demande.id] * len(
        recepteur.recus
    )
    assert taches.webhooks() == {"distribuees": 0, "livrees": 0, "echecs": 0}  # rien deux fois


def test_hors_perimetre_rien_n_est_envoye(db, monde):
    """Une organisation ni financeur sollicité ni partenaire du contrat ne reçoit rien de ce dossier ; le
    financeur sollicité, si (deux adresses, un même événement)."""
    region = Organisation(nom="Région hors contrat", type_organisation=TypeOrganisation.region)
    db.session.add(region)
    db.session.commit()
    with Recepteur() as recepteur:
        hors, _ = webhooks.creer(monde.admin_national, region.id, recepteur.url)
        etat, recepteur.secret = webhooks.creer(monde.admin_national, monde.etat.id, recepteur.url)
        transmettre(monde, demande_complete(monde))
    assert livraisons(hors) == []
    assert livraisons(etat) and len(recepteur.recus) == len(livraisons(etat))


@pytest.mark.parametrize(
    "url, message",
    [
        ("", "Indiquez l’adresse"),
        ("http://exemple.fr/dauphin", "https://"),
        ("ftp://exemple.fr/", "https://"),
        ("https://10.1.2.3/dauphin", "pas d’adresse locale ou privée"),
        ("https://moi:secret@exemple.fr/", "sans identifiant"),
        ("https://exemple.fr:99999/", "pas valide"),
    ],
)
def test_adresse_refusee_avec_son_message(client, db, monde, url, message):
    se_connecter(client, monde.instructeur_etat.email)
    reponse = client.post(f"/webhooks/organisations/{monde.etat.id}/nouveau", data={"url": url})
    assert reponse.status_code == 422
    assert message in reponse.get_data(as_text=True)
    assert db.session.scalar(select(AbonnementWebhook.id)) is None


def test_en_production_http_local_refuse(app, db, monde):
    app.config["WEBHOOKS_HTTP_LOCAL"] = False
    try:
        with pytest.raises(Refus):
            webhooks.verifier_url("http://127.0.0.1:8000/dauphin")
        with pytest.raises(Refus):
            webhooks.verifier_url("https://127.0.0.1/dauphin")
        assert webhooks.verifier_url("https://gestion.exemple.fr/dauphin")
    finally:
        app.config["WEBHOOKS_HTTP_LOCAL"] = True


def test_desactiver_arrete_les_envois(client, db, monde):
    with Recepteur() as recepteur:
        abonnement, recepteur.secret = inscrire_par_l_ecran(client, monde, recepteur.url)
        assert client.post(f"/webhooks/{abonnement.id}/desactiver").status_code == 302
        transmettre(monde, demande_complete(monde))
    assert recepteur.recus == [] and livraisons(abonnement) == []
    assert "Désactivée" in client.get("/webhooks/").get_data(as_text=True)


def test_la_liste_des_livraisons_est_paginee(app, client, db, monde):
    abonnement, _ = inscrire_par_l_ecran(client, monde, f"http://127.0.0.1:{port_ferme()}/x")
    app.config["PAGE_TAILLE"] = 2
    try:
        for _ in range(3):
            transmettre(monde, demande_complete(monde))
        assert len(livraisons(abonnement)) >= 3
        page = client.get(f"/webhooks/{abonnement.id}").get_data(as_text=True)
        assert page.count("data-livraison=") == 2 and "Page suivante" in page
    finally:
        app.config["PAGE_TAILLE"] = 25


def test_en_production_un_nom_qui_designe_une_adresse_locale_n_est_pas_appele(app, client, db, monde):
    """Un nom public accepté à l'inscription peut désigner plus tard le réseau interne : vérifié à chaque
    envoi, hors développement (ici « localhost », résolu par la machine)."""
    with Recepteur() as recepteur:
        abonnement, recepteur.secret = inscrire_par_l_ecran(client, monde, recepteur.url)
        port = recepteur.serveur.server_address[1]
        _db.session.execute(
            update(AbonnementWebhook)
            .where(AbonnementWebhook.id == abonnement.id)
            .values(url=f"http://localhost:{port}/dauphin")
        )
        _db.session.commit()
        app.config["WEBHOOKS_HTTP_LOCAL"] = False
        try:
            transmettre(monde, demande_complete(monde))
        finally:
            app.config["WEBHOOKS_HTTP_LOCAL"] = True
    assert recepteur.recus == []
    [livraison] = livraisons(abonnement)
    assert livraison.statut == StatutLivraison.en_attente and livraison.dernier_statut_http is None
    assert "adresse locale ou privée" in livraison.derniere_reponse


def test_la_page_de_documentation_montre_le_meme_code_de_verification(client):
    """Le partenaire qui n'a que la page de l'API y lit le bloc que ce module exécute (docs/api.md), et de
    quoi suivre le flux : une copie qui divergerait ferait échouer ce test."""
    texte = DOC.read_text(encoding="utf-8")
    code = re.search(r"```python\n(.*?)```", texte[texte.index("## Webhooks") :], re.S).group(1)
    page = client.get("/api/v1/documentation")
    assert page.status_code == 200
    affiche = html.unescape(page.get_data(as_text=True))
    assert code in affiche
    for attendu in (
        "/evenements?limite=100",
        "Dauphin-Signature",
        "Dauphin-Evenement-Id",
        'corps["curseur"]',
    ):
        assert attendu in affiche


def test_la_meme_adresse_deux_fois_pour_une_organisation_est_refusee(client, db, monde):
    """Deux abonnements à la même adresse : chaque événement arriverait deux fois, l'un mal signé."""
    url = f"http://127.0.0.1:{port_ferme()}/dauphin"
    premier, _ = inscrire_par_l_ecran(client, monde, url)
    reponse = client.post(f"/webhooks/organisations/{monde.etat.id}/nouveau", data={"url": f"  {url} "})
    assert reponse.status_code == 422
    texte = reponse.get_data(as_text=True)
    assert "Cette adresse est déjà inscrite pour cette organisation." in texte
    assert f'value="{url}"' in texte or f'value="  {url} "' in texte  # ce qui a été tapé est gardé
    assert db.session.scalars(select(AbonnementWebhook.id)).all() == [premier.id]
    # Le service refuse aussi, pas seulement l'écran.
    with pytest.raises(Refus) as refus:
        webhooks.creer(monde.admin_national, monde.etat.id, url)
    assert refus.value.args[0].startswith("Cette adresse est déjà inscrite")
    # Une autre organisation peut l'inscrire ; et une fois l'adresse désactivée, elle se réinscrit.
    region = Organisation(nom="Région", type_organisation=TypeOrganisation.region)
    db.session.add(region)
    db.session.commit()
    assert webhooks.creer(monde.admin_national, region.id, url)[0].id != premier.id
    webhooks.desactiver(premier.id, monde.admin_national)
    assert webhooks.creer(monde.admin_national, monde.etat.id, url)[0].actif


def test_renvoyer_en_file_efface_la_reponse_de_la_serie_precedente(app, client, db, monde):
    """Redis en panne : le renvoi reste en file. Le message et la ligne le disent, sans l'ancienne réponse."""
    with Recepteur() as recepteur:
        abonnement, recepteur.secret = inscrire_par_l_ecran(client, monde, recepteur.url)
        transmettre(monde, demande_complete(monde))
    [livraison] = livraisons(abonnement)
    assert livraison.statut == StatutLivraison.livree and livraison.dernier_statut_http == 200
    app.config["REDIS_URL"] = f"redis://127.0.0.1:{port_ferme()}/0"
    try:
        reponse = client.post(f"/webhooks/livraisons/{livraison.id}/renvoyer")
    finally:
        app.config["REDIS_URL"] = None
    page = client.get(reponse.headers["Location"]).get_data(as_text=True)
    assert f"Événement n° {livraison.journal_id} remis en file d’envoi : tentative prévue le" in page
    assert "il part maintenant" not in page
    [livraison] = livraisons(abonnement)
    assert livraison.statut == StatutLivraison.en_attente and livraison.tentatives == 0
    assert (livraison.dernier_statut_http, livraison.derniere_reponse, livraison.derniere_tentative_le) == (
        None,
        None,
        None,
    )
    ligne = re.search(rf'<tr data-livraison="{livraison.id}">.*?</tr>', page, re.S).group(0)
    assert "Pas encore tentée" in ligne and "HTTP 200" not in ligne and "Bien recu" not in ligne


def test_desactiver_suspend_les_livraisons_en_attente(client, db, monde):
    abonnement, _ = inscrire_par_l_ecran(client, monde, f"http://127.0.0.1:{port_ferme()}/dauphin")
    transmettre(monde, demande_complete(monde))
    [livraison] = livraisons(abonnement)
    assert livraison.statut == StatutLivraison.en_attente and livraison.prochaine_tentative_le
    assert client.post(f"/webhooks/{abonnement.id}/desactiver").status_code == 302
    [livraison] = livraisons(abonnement)
    assert livraison.statut == StatutLivraison.suspendue and livraison.prochaine_tentative_le is None
    page = client.get(f"/webhooks/{abonnement.id}").get_data(as_text=True)
    assert 'data-statut="suspendue"' in page and "Suspendue (adresse désactivée)" in page
    echeance_passee(livraison.id)
    taches.webhooks()
    [livraison] = livraisons(abonnement)
    assert livraison.statut == StatutLivraison.suspendue and livraison.tentatives == 1


class _SansReponse:
    """Un port qui accepte la connexion (file d'attente du noyau) et ne répond jamais."""

    def __enter__(self):
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(8)
        return f"http://127.0.0.1:{self.socket.getsockname()[1]}/"

    def __exit__(self, *exc):
        self.socket.close()


def test_les_erreurs_de_transport_sont_dites_en_francais(app):
    """De vraies erreurs de httpx (port fermé, serveur muet, TLS vers un serveur HTTP, nom inexistant)."""
    import httpx

    def erreur(url, **options) -> str:
        client = httpx.Client(timeout=httpx.Timeout(0.5, connect=2.0), **options)
        with client, pytest.raises(httpx.HTTPError) as leve:
            client.post(url, content=b"{}")
        return webhooks.erreur_en_francais(leve.value)

    assert erreur(f"http://127.0.0.1:{port_ferme()}/") == webhooks.ERREUR_CONNEXION
    with _SansReponse() as url:
        assert erreur(url) == webhooks.ERREUR_DELAI
    with Recepteur() as recepteur:  # il parle HTTP en clair : la poignée de main TLS échoue
        assert erreur(recepteur.url.replace("http://", "https://")) == webhooks.ERREUR_TLS
    assert erreur("http://nom-qui-n-existe-pas.invalid/") == webhooks.ERREUR_DNS


def test_apercu_d_une_reponse_coupee_au_milieu_d_une_balise():
    assert webhooks.apercu_reponse("<html><body><p>Refusé</p><b") == "Refusé"
    assert webhooks.apercu_reponse("  ok\n  merci ") == "ok merci"
    assert webhooks.apercu_reponse(None) == ""


def test_une_reponse_html_est_montree_en_texte_lisible(client, db, monde):
    abonnement, _ = inscrire_par_l_ecran(client, monde, f"http://127.0.0.1:{port_ferme()}/dauphin")
    transmettre(monde, demande_complete(monde))
    [livraison] = livraisons(abonnement)
    corps = (
        "<html><head><title>502 Bad Gateway</title></head><body><b>Passerelle</b> en panne &amp; "
        "<script>alert(1)</script>" + "x" * 600
    )
    db.session.execute(
        update(LivraisonWebhook)
        .where(LivraisonWebhook.id == livraison.id)
        .values(derniere_reponse=corps[: webhooks.EXTRAIT])
    )
    db.session.commit()
    page = client.get(f"/webhooks/{abonnement.id}").get_data(as_text=True)
    apercu = re.search(r"<span [^>]*data-reponse>(.*?)</span>", page, re.S).group(1)
    assert apercu.startswith("502 Bad Gateway Passerelle en panne &amp; xxx")  # échappé par le gabarit
    assert "<" not in apercu and "alert" not in apercu
    assert apercu.endswith("…") and len(html.unescape(apercu)) == webhooks.APERCU


def test_le_secret_n_est_plus_montre_en_entier_seul_son_debut(client, db, monde):
    se_connecter(client, monde.instructeur_etat.email)
    url = f"http://127.0.0.1:{port_ferme()}/dauphin"
    page = client.post(f"/webhooks/organisations/{monde.etat.id}/nouveau", data={"url": url})
    texte = page.get_data(as_text=True)
    secret = re.search(r'value="(whsec_[^"]+)" data-secret-clair', texte).group(1)
    assert "plus jamais affiché en entier" in texte and f"{secret[:12]}…" in texte
    liste = client.get("/webhooks/").get_data(as_text=True)
    assert f"{secret[:12]}…" in liste and secret not in liste


def test_une_methode_non_permise_montre_la_page_d_erreur_du_portail(client, db, monde):
    se_connecter(client, monde.instructeur_etat.email)
    reponse = client.post("/webhooks/nouveau", data={"url": "https://exemple.fr/"})
    assert reponse.status_code == 405
    assert set(reponse.headers["Allow"].replace(" ", "").split(",")) >= {"GET"}
    texte = reponse.get_data(as_text=True)
    assert "Action impossible sur cette page" in texte and "Erreur 405" in texte
    assert "Method Not Allowed" not in texte and 'class="fr-header' in texte
    # Sous /api/, l'erreur reste du JSON.
    assert client.delete("/api/v1/documentation").status_code == 405
    assert client.delete("/api/v1/documentation").is_json
