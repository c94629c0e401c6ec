"""Les courriels en gabarits (templates/courriels/<message>/) : le catalogue et les dossiers se
correspondent, chaque message se rend avec ses données d'exemple (rendu strict) en texte et en HTML, les
deux versions disent la même chose, le HTML est échappé et le texte ne l'est pas, le sujet tient sur une
ligne ; la page d'aperçu est réservée à l'administration nationale et isole la version HTML.

Ce que les vrais appels écrivent (sujet, corps) est vérifié avec eux : tests/test_comptes_structures.py,
test_mot_de_passe.py, test_instruction.py, test_compte_rendu.py, test_engagements.py, test_comites.py,
test_workflow_service.py ; l'envoi en multipart/alternative par un vrai serveur SMTP : test_pannes.py."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import pytest
from jinja2 import UndefinedError

from dauphin.models import RoleStructure
from dauphin.services import gabarits_courriels as gabarits
from tests.formulaires_html import html, titre

SIGNATURE = "\n-- \n"
SANS_LIEN = {"membre_retire", "acces_refuse"}  # plus rien à ouvrir sur le portail pour le destinataire


@pytest.fixture
def contexte(_application):
    """Le contexte de l'application (BASE_URL des liens), sans la base : le rendu n'en lit rien."""
    with _application.app_context():
        yield _application


class _TexteVisible(HTMLParser):
    """Le texte qu'une messagerie affiche d'un courriel HTML (hors <title>), espaces normalisés."""

    def __init__(self):
        super().__init__()
        self.morceaux: list[str] = []
        self._dans_le_titre = False

    def handle_starttag(self, balise, attributs):
        self._dans_le_titre = balise == "title"
        self.morceaux.append(" ")

    def handle_endtag(self, balise):
        self._dans_le_titre = False
        self.morceaux.append(" ")

    def handle_data(self, donnees):
        if not self._dans_le_titre:
            self.morceaux.append(donnees)


def texte_visible(document: str) -> str:
    lecteur = _TexteVisible()
    lecteur.feed(document)
    return normaliser("".join(lecteur.morceaux))


def normaliser(texte: str) -> str:
    return " ".join(texte.split())


def test_chaque_message_du_catalogue_a_son_dossier_et_chaque_dossier_son_message():
    assert gabarits.dossiers_de_gabarits() == set(gabarits.CATALOGUE)
    racine = Path(gabarits._environnement.loader.searchpath[0]) / gabarits.DOSSIER
    for nom in gabarits.CATALOGUE:
        assert {f.name for f in (racine / nom).iterdir()} == {"sujet.txt", "corps.txt", "corps.html"}, nom
    for famille, messages in gabarits.FAMILLES:
        assert messages, famille
        for message in messages:
            assert message.destinataires and message.quand.endswith("."), message.nom


@pytest.mark.parametrize("nom", sorted(gabarits.CATALOGUE))
def test_chaque_message_se_rend_avec_ses_donnees_d_exemple_et_dit_la_meme_chose_en_texte_et_en_html(
    contexte, nom
):
    rendu = gabarits.apercu(nom)  # StrictUndefined : une variable sans valeur d'exemple lève UndefinedError

    assert rendu.sujet and "\n" not in rendu.sujet and len(rendu.sujet) <= gabarits.LONGUEUR_SUJET
    assert "None" not in rendu.sujet + rendu.texte + rendu.html

    contenu, signature = rendu.texte.split(SIGNATURE)
    assert contenu.strip() and "Dauphin" in signature
    assert rendu.html.startswith("<!DOCTYPE html>") and '<html lang="fr">' in rendu.html
    assert f"<title>{_echappe(rendu.sujet)}</title>" in rendu.html
    # Le HTML dit la même chose que le texte (phrases, valeurs, liens et signature) ; seul son en-tête
    # « République française — Dauphin » s'y ajoute.
    visible = texte_visible(rendu.html)
    assert normaliser(contenu) in visible
    assert normaliser(signature) in visible
    liens = re.findall(r"https?://\S+", contenu)
    assert liens or nom in SANS_LIEN, "le message mène à la page du portail dont il parle"
    for lien in liens:
        assert lien.startswith(contexte.config["BASE_URL"])
        assert f'<a href="{_echappe(lien)}"' in rendu.html
    # Aucune ressource extérieure ni script dans un courriel
    assert not re.search(r"<(script|img|link|iframe)\b", rendu.html)


def _echappe(texte: str) -> str:
    return texte.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&#34;")


def test_une_variable_absente_fait_echouer_le_rendu(contexte):
    with pytest.raises(UndefinedError):
        gabarits.rendre("demande_transmise")  # sans demande
    with pytest.raises(UndefinedError):
        gabarits.rendre("complements_demandes", SimpleNamespace(id=1, numero="2026-000001"), commentaire="…")
    with pytest.raises(KeyError):
        gabarits.rendre("message_inconnu")


def test_le_html_est_echappe_le_texte_ne_l_est_pas_et_le_sujet_tient_sur_une_ligne(contexte):
    demande = SimpleNamespace(id=7, numero="2026-000007", titre='<b>Sport & "santé"</b>')
    rendu = gabarits.rendre(
        "complements_demandes", demande, commentaire="Ligne 1 <script>alert(1)</script>\nLigne 2"
    )
    assert '« <b>Sport & "santé"</b> »' in rendu.texte
    assert "Ligne 1 <script>alert(1)</script>\nLigne 2" in rendu.texte
    assert "&lt;b&gt;Sport &amp; &#34;santé&#34;&lt;/b&gt;" in rendu.html and "<b>Sport" not in rendu.html
    assert "Ligne 1 &lt;script&gt;alert(1)&lt;/script&gt;<br>\nLigne 2" in rendu.html
    assert rendu.texte.count(f"{contexte.config['BASE_URL']}/dossiers/7") == 1

    # Un nom de structure saisi (retours à la ligne forgés, 300 caractères) : une ligne, à la longueur de
    # la colonne courriel.sujet.
    rendu = gabarits.rendre(
        "invitation_structure",
        auteur="Paul Durand",
        structure="Bcc: pirate@exemple.fr\r\nAssociation " + "x" * 300,
        siret="73282932000074",
        role=RoleStructure.signataire,
        expire_le=gabarits.CATALOGUE["invitation_structure"].exemple["expire_le"],
        lien="http://127.0.0.1:5000/compte/invitation/jeton",
    )
    assert rendu.sujet.startswith("Dauphin : invitation à rejoindre Bcc: pirate@exemple.fr Association xxx")
    assert len(rendu.sujet) == gabarits.LONGUEUR_SUJET == 250 and rendu.sujet.endswith("…")
    assert "12/12/2026 à 18h30" in rendu.texte  # l'échéance à l'heure de Paris (17 h 30 UTC)


def test_apercu_des_modeles_reserve_a_l_administration_nationale(client, connexion, monde):
    adresses = [
        "/administration/courriels/modeles",
        "/administration/courriels/modeles/complements_demandes",
        "/administration/courriels/modeles/complements_demandes/html",
    ]
    for compte in (monde.signataire, monde.instructeur_etat, monde.pilote):
        connexion.en_tant_que(compte)
        assert [client.get(adresse).status_code for adresse in adresses] == [403] * 3
        connexion.deconnexion()

    connexion.en_tant_que(monde.admin_national)
    liste = client.get(adresses[0])
    assert liste.status_code == 200 and titre(liste) == "Modèles de courriels — Dauphin"
    page = html(liste)
    assert set(re.findall(r'data-message="([a-z_]+)"', page)) == set(gabarits.CATALOGUE)
    assert "Demande 2026-000042 : compléments demandés" in page
    assert "Quand un instructeur demande des compléments ; son message est repris dans le courriel." in page

    apercu = client.get(adresses[1])
    assert apercu.status_code == 200
    page = html(apercu)
    assert "Le budget ne détaille pas les frais de personnel." in page  # la version texte, dans la page
    assert f'src="{adresses[2]}"' in page and 'sandbox=""' in page  # la version HTML, dans un cadre isolé

    seule = client.get(adresses[2])
    assert seule.status_code == 200 and seule.mimetype == "text/html"
    assert html(seule) == gabarits.apercu("complements_demandes").html
    politique = seule.headers["Content-Security-Policy"]
    assert "default-src 'none'" in politique and politique.endswith("sandbox")
    assert "script-src" not in politique and "frame-ancestors 'self'" in politique
    assert seule.headers["X-Frame-Options"] == "SAMEORIGIN"
    # Les autres pages gardent leur politique : aucun cadre, aucun style en ligne
    assert "frame-ancestors 'none'" in apercu.headers["Content-Security-Policy"]
    assert apercu.headers["X-Frame-Options"] == "DENY"

    assert client.get("/administration/courriels/modeles/inconnu").status_code == 404
    assert client.get("/administration/courriels/modeles/inconnu/html").status_code == 404
    assert client.get("/administration/courriels/modeles/_base").status_code == 404
