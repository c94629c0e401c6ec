"""Comptes et structures : création de compte et confirmation de l'adresse, inscription d'une structure
par SIRET, demandes d'accès, invitations, membres, comptes bancaires, droits et modification concurrente.

Les validateurs (SIRET, SIREN, RNA, IBAN, BIC, codes INSEE et postal) sont d'abord testés seuls, y compris
par hypothesis ; le reste passe par le client de test, comme un usager.
"""

from __future__ import annotations

import email
import re
from datetime import timedelta
from decimal import Decimal
from email import policy
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict
from wtforms import Form
from wtforms.validators import ValidationError

from dauphin.models import Courriel, MembreStructure, RoleStructure, Structure, Utilisateur, maintenant
from dauphin.models.structures import CompteBancaire, DemandeAcces, Invitation
from dauphin.seeds.demo import siret_depuis
from dauphin.services import comptes as service_comptes
from dauphin.services.workflow import aujourdhui
from forms.structures import EntierField, EtpField
from forms.validators import Bic, CodeInsee, CodePostal, Iban, Rna, Siren, Siret, Telephone
from tests.formulaires_html import html, titre

MOT_DE_PASSE = "une phrase de passe solide"
SIRET_NOUVEAU = siret_depuis("33333333")
IBAN_VALIDE = "FR7630006000011234567890189"


# --- Outils ---------------------------------------------------------------------------------


class Champ:
    """Un champ WTForms minimal pour appeler un validateur seul."""

    def __init__(self, data):
        self.data = data


def erreur(validateur, valeur) -> str | None:
    try:
        validateur(None, Champ(valeur))
    except ValidationError as exc:
        return str(exc)
    return None


def courriels_a(db, adresse: str) -> list[Courriel]:
    return list(
        db.session.scalars(select(Courriel).where(Courriel.destinataire == adresse).order_by(Courriel.id))
    )


def chemin_du_lien(corps: str, debut: str) -> str:
    """Le chemin (sans BASE_URL) du premier lien du courriel qui commence par `debut`."""
    liens = re.findall(r"https?://[^/\s]+(/\S+)", corps)
    return next(lien for lien in liens if lien.startswith(debut))


def confirme(db, compte: Utilisateur) -> Utilisateur:
    compte.email_confirme_le = maintenant()
    db.session.commit()
    return compte


def donnees_inscription(**surcharges) -> dict:
    donnees = {
        "siret": f"{SIRET_NOUVEAU[:3]} {SIRET_NOUVEAU[3:6]} {SIRET_NOUVEAU[6:9]} {SIRET_NOUVEAU[9:]}",
        "forme_juridique": "association",
        "rna": "w591234567",
        "raison_sociale": "Les Ateliers du Faubourg",
        "sigle": "ADF",
        "adresse": "4 rue des Postes",
        "code_postal": "59000",
        "commune": "Lille",
        "code_insee": "59350",
        "email": "Contact@Ateliers-Faubourg.fr",
        "telephone": "03 20 00 00 00",
        "representant_civilite": "Mme",
        "representant_nom": "Martin",
        "representant_prenom": "Inès",
        "representant_qualite": "Présidente",
        "agrements": "Jeunesse et éducation populaire",
        "reconnue_utilite_publique": "y",
        "nb_benevoles": "1 200",
        "nb_salaries": "3",
        "etp_salaries": "2,5",
        "nb_volontaires": "",
        "nb_adherents": "340",
        "titulaire": "Les Ateliers du Faubourg",
        "iban": "fr76 3000 6000 0112 3456 7890 189",
        "bic": "agrifrpp882",
        "domiciliation": "Crédit Agricole Lille",
        "role_declarant": "signataire",
    }
    donnees.update(surcharges)
    return donnees


def donnees_fiche(structure: Structure, **surcharges) -> dict:
    """Le formulaire de modification tel qu'il arrive rempli avec la fiche actuelle."""
    donnees = {
        "siret": structure.siret,
        "forme_juridique": structure.forme_juridique.value,
        "rna": structure.rna or "W591000001",
        "raison_sociale": structure.raison_sociale,
        "sigle": structure.sigle or "",
        "adresse": structure.adresse,
        "code_postal": structure.code_postal,
        "commune": structure.commune,
        "code_insee": structure.code_insee,
        "email": structure.email or "",
        "telephone": structure.telephone or "",
        "representant_nom": structure.representant_nom,
        "representant_prenom": structure.representant_prenom,
        "representant_qualite": structure.representant_qualite,
    }
    donnees.update(surcharges)
    return donnees


def empreinte_affichee(reponse) -> str:
    return re.search(r'name="empreinte" type="hidden" value="([0-9a-f]*)"', html(reponse)).group(1)


def membre_de(db, compte: Utilisateur, structure: Structure) -> MembreStructure | None:
    return db.session.scalar(
        select(MembreStructure)
        .filter_by(utilisateur_id=compte.id, structure_id=structure.id)
        .execution_options(populate_existing=True)
    )


# --- Validateurs ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "valeur",
    [SIRET_NOUVEAU, "732 829 320 00074", "73282932000074", "35600000000048", "356\u00a0000\u00a0000 00048"],
)
def test_siret_valides(valeur):
    assert erreur(Siret(), valeur) is None


@pytest.mark.parametrize(
    ("valeur", "message"),
    [
        (
            "123 456 789 00012",
            "Le numéro SIRET 123 456 789 00012 n’est pas valide : vérifiez les 14 chiffres "
            "(la clé de contrôle ne correspond pas).",
        ),
        (
            "732 829 320 00075",
            "Le numéro SIRET 732 829 320 00075 n’est pas valide : vérifiez les 14 chiffres "
            "(la clé de contrôle ne correspond pas).",
        ),
        ("7328293200007", "Le numéro SIRET compte 14 chiffres (9 pour le SIREN, 5 pour l’établissement) : "),
        ("7328293200007A", "Le numéro SIRET ne doit contenir que des chiffres"),
    ],
)
def test_siret_invalides_et_leurs_messages(valeur, message):
    assert erreur(Siret(), valeur).startswith(message)


def test_siret_dont_le_siren_est_faux_le_dit():
    message = erreur(Siret(), "123 456 789 00012")
    assert "Son SIREN 123 456 789 (les 9 premiers chiffres) n’est lui-même pas valide" in message


def test_siren():
    assert erreur(Siren(), "732 829 320") is None
    assert erreur(Siren(), "732829321") == (
        "Le numéro SIREN 732 829 321 n’est pas valide : vérifiez les 9 chiffres "
        "(la clé de contrôle ne correspond pas)."
    )
    assert erreur(Siren(), "7328") == "Le numéro SIREN compte 9 chiffres : vous en avez saisi 4."


@pytest.mark.parametrize("valeur", ["W751234567", "w75 123 4567", "W2A1234567", "W9R2001234", ""])
def test_rna_valides(valeur):
    assert erreur(Rna(), valeur) is None


@pytest.mark.parametrize(
    ("valeur", "debut"),
    [
        ("751234567", "Le numéro RNA commence par la lettre W, suivie de 9 chiffres"),
        (
            "W12345",
            "Le numéro RNA compte 10 caractères (W suivi de 9 chiffres, par exemple W751234567) : "
            "vous en avez saisi 6.",
        ),
        ("W75123456A", "Le numéro RNA W75123456A n’est pas valide : après le W viennent 9 chiffres"),
    ],
)
def test_rna_invalides(valeur, debut):
    assert erreur(Rna(), valeur).startswith(debut)


@pytest.mark.parametrize(
    "valeur",
    [
        IBAN_VALIDE,
        "fr76 3000 6000 0112 3456 7890 189",
        "DE89 3704 0044 0532 0130 00",
        "MC58 1122 2000 0101 2345 6789 030",
    ],
)
def test_iban_valides(valeur):
    assert erreur(Iban(), valeur) is None


@pytest.mark.parametrize(
    ("valeur", "message"),
    [
        (
            "FR76 3000 6000 0112 3456 7890 188",
            "L’IBAN FR76 3000 6000 0112 3456 7890 188 n’est pas valide : vérifiez chaque caractère "
            "(la clé de contrôle ne correspond pas).",
        ),
        (
            "SA03 8000 0000 6080 1016 7519",
            "L’IBAN SA03 8000 0000 6080 1016 7519 est celui d’un compte hors de la zone SEPA (pays « SA ») : "
            "la subvention ne peut être versée que sur un compte en France ou dans la zone SEPA.",
        ),
        (
            "FR76 3000 6000 0112 3456 7890",
            "Un IBAN français compte 27 caractères : vous en avez saisi 24. "
            "Recopiez-le depuis le relevé d’identité bancaire (RIB).",
        ),
        ("3000 6000 0112", "Un IBAN commence par deux lettres (le pays) et deux chiffres de contrôle"),
    ],
)
def test_iban_invalides_et_leurs_messages(valeur, message):
    assert erreur(Iban(), valeur).startswith(message)


@pytest.mark.parametrize("valeur", ["CRLYFRPP", "crlyfrppxxx", "AGRI FR PP 882"])
def test_bic_valides(valeur):
    assert erreur(Bic(), valeur) is None


@pytest.mark.parametrize(
    ("valeur", "message"),
    [
        (
            "CRLYFRP",
            "Le BIC compte 8 ou 11 caractères, par exemple CRLYFRPP ou CRLYFRPPXXX : vous en avez saisi 7.",
        ),
        (
            "CRLY1RPP",
            "Le BIC CRLY1RPP n’a pas le bon format : 4 lettres pour la banque, 2 lettres pour le pays",
        ),
        (
            "CRLYZZPP",
            "Le BIC CRLYZZPP n’est pas valide : le code pays « ZZ » (5e et 6e caractères) n’existe pas.",
        ),
    ],
)
def test_bic_invalides(valeur, message):
    assert erreur(Bic(), valeur).startswith(message)


def test_codes_insee_postal_et_telephone():
    for code in ("59350", "2A004", "2b033", "97411"):
        assert erreur(CodeInsee(), code) is None, code
    assert erreur(CodeInsee(), "20004").startswith("En Corse, le code INSEE commence par 2A (Corse-du-Sud)")
    assert erreur(CodeInsee(), "5935").startswith("Le code INSEE de la commune compte 5 caractères")
    assert erreur(CodeInsee(), "00123").startswith("Le code INSEE de la commune compte 5 caractères")
    assert erreur(CodePostal(), "59 000") is None
    assert erreur(CodePostal(), "5900") == "Le code postal compte 5 chiffres, par exemple 59000."
    assert erreur(Telephone(), "03 20 00 00 00") is None
    assert erreur(Telephone(), "+33 3 20 00 00 00") is None
    assert (
        erreur(Telephone(), "03 20 00")
        == "Un numéro français compte 10 chiffres et commence par 0 : 03 20 00 00 00."
    )


VALIDATEURS = [Siret(), Siren(), Rna(), Iban(), Bic(), CodeInsee(), CodePostal(), Telephone()]
PROCHE = st.text(alphabet="0123456789 ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefrw2-.\u00a0", max_size=40)


@settings(max_examples=300, deadline=None)
@given(valeur=st.one_of(st.text(max_size=60), PROCHE, st.none()))
def test_validateurs_ne_levent_que_des_validation_error(valeur):
    for validateur in VALIDATEURS:
        try:
            validateur(None, Champ(valeur))
        except ValidationError as exc:
            assert str(exc)  # toujours un message


@settings(max_examples=200, deadline=None)
@given(valeur=st.text(max_size=30))
def test_nombres_saisis_ne_levent_que_des_value_error(valeur):
    class Formulaire(Form):
        nombre = EntierField("n")
        etp = EtpField("e")

    form = Formulaire(formdata=MultiDict({"nombre": valeur, "etp": valeur}))
    form.validate()
    # La saisie est toujours réaffichée telle quelle, erreur ou non
    assert form.nombre._value() == valeur and form.etp._value() == valeur


# --- Création de compte, confirmation, connexion --------------------------------------------


def test_creation_de_compte_confirmation_puis_connexion(app, client, db, connexion, monde):
    reponse = client.get("/compte/inscription")
    assert reponse.status_code == 200 and titre(reponse) == "Créer un compte — Dauphin"
    reponse = client.post(
        "/compte/inscription",
        data={
            "prenom": "Awa",
            "nom": "Diallo",
            "email": "  Awa.Diallo@Exemple.FR ",
            "mot_de_passe": MOT_DE_PASSE,
            "confirmation": MOT_DE_PASSE,
        },
    )
    assert reponse.status_code == 302 and reponse.headers["Location"] == "/compte/inscription/courriel-envoye"
    page = client.get(reponse.headers["Location"])
    assert "Un courriel vous a été envoyé" in html(page) and "awa.diallo@exemple.fr" in html(page)

    compte = db.session.scalar(select(Utilisateur).where(Utilisateur.email == "awa.diallo@exemple.fr"))
    assert compte is not None and compte.email_confirme_le is None
    assert service_comptes.peut_se_connecter(compte) == service_comptes.MESSAGE_NON_CONFIRME
    assert service_comptes.peut_se_connecter(compte).startswith(
        "Confirmez d’abord votre adresse électronique"
    )

    # Le lien, lu dans la boîte d'envoi (table courriel) et dans le fichier .eml réellement écrit
    (courriel,) = courriels_a(db, "awa.diallo@exemple.fr")
    assert courriel.sujet == "Dauphin : confirmez votre adresse électronique"
    chemin = chemin_du_lien(courriel.corps, "/compte/confirmation/")
    fichier = Path(app.config["MAIL_OUTBOX_DIR"]) / f"{courriel.id:08d}.eml"
    message = email.message_from_bytes(fichier.read_bytes(), policy=policy.default)
    # Le même lien dans les deux versions : texte et HTML (lien cliquable)
    assert message.get_content_type() == "multipart/alternative"
    assert chemin in message.get_body(("plain",)).get_content()
    assert f'href="{app.config["BASE_URL"]}{chemin}"' in message.get_body(("html",)).get_content()

    reponse = client.get(chemin)
    assert reponse.status_code == 200 and titre(reponse) == "Adresse électronique confirmée — Dauphin"
    db.session.refresh(compte)
    assert compte.email_confirme_le is not None
    assert service_comptes.peut_se_connecter(compte) is None
    assert client.get(chemin).status_code == 200  # rouvrir le lien ne change rien

    connexion.en_tant_que(compte, MOT_DE_PASSE)
    reponse = client.get("/structures/")
    assert reponse.status_code == 200 and "Inscrire une structure" in html(reponse)


def test_adresse_deja_inscrite_message_neutre_et_courriel_au_titulaire(client, db, monde):
    confirme(db, monde.signataire)
    hache = monde.signataire.mot_de_passe_hash
    nombre = db.session.scalar(select(func.count(Utilisateur.id)))
    reponse = client.post(
        "/compte/inscription",
        data={
            "prenom": "Intrus",
            "nom": "Curieux",
            "email": "SIGNATAIRE@test.fr",
            "mot_de_passe": MOT_DE_PASSE,
            "confirmation": MOT_DE_PASSE,
        },
    )
    # Même réponse qu'une création : on ne révèle pas que l'adresse est inscrite
    assert reponse.headers["Location"] == "/compte/inscription/courriel-envoye"
    assert "Un courriel vous a été envoyé" in html(client.get(reponse.headers["Location"]))
    assert db.session.scalar(select(func.count(Utilisateur.id))) == nombre
    db.session.refresh(monde.signataire)
    assert monde.signataire.mot_de_passe_hash == hache and monde.signataire.prenom == "Prénom"
    (courriel,) = courriels_a(db, "signataire@test.fr")
    assert courriel.sujet == "Dauphin : vous avez déjà un compte"
    assert "aucun nouveau compte n’a été créé" in courriel.corps


def test_inscription_erreurs_en_francais_saisie_conservee(client, db, monde):
    reponse = client.post(
        "/compte/inscription",
        data={
            "prenom": "Awa",
            "nom": "",
            "email": "pas-une-adresse",
            "mot_de_passe": "court",
            "confirmation": "autre",
        },
    )
    page = html(reponse)
    assert reponse.status_code == 422 and titre(reponse) == "Erreur : Créer un compte — Dauphin"
    assert "Saisissez votre nom." in page
    assert "Saisissez une adresse électronique valide, par exemple nom@exemple.fr." in page
    assert "Le mot de passe doit compter au moins 12 caractères" in page
    assert "Les deux mots de passe ne sont pas identiques." in page
    assert 'value="Awa"' in page and 'value="pas-une-adresse"' in page
    assert (
        'aria-describedby="mot_de_passe-indication mot_de_passe-erreur"' in page
        or "mot_de_passe-erreur" in page
    )
    assert db.session.scalar(select(Utilisateur).where(Utilisateur.prenom == "Awa")) is None


def _jeton_perime(app, compte: Utilisateur, heures: int) -> str:
    class SignataireDuPasse(TimestampSigner):
        def get_timestamp(self):
            return int((maintenant() - timedelta(hours=heures)).timestamp())

    serialiseur = URLSafeTimedSerializer(
        app.config["SECRET_KEY"], salt=service_comptes.SEL_CONFIRMATION, signer=SignataireDuPasse
    )
    return serialiseur.dumps({"u": compte.id, "e": compte.email, "s": service_comptes._sceau(compte)})


def test_lien_de_confirmation_expire_ou_altere_puis_nouvel_envoi(app, client, db, monde):
    compte = monde.sans_role
    compte.email_confirme_le = None
    db.session.commit()
    assert client.get(f"/compte/confirmation/{_jeton_perime(app, compte, 47)}").status_code == 200
    db.session.refresh(compte)
    assert compte.email_confirme_le is not None  # 47 heures : encore valable
    compte.email_confirme_le = None
    db.session.commit()

    reponse = client.get(f"/compte/confirmation/{_jeton_perime(app, compte, 49)}")
    page = html(reponse)
    assert reponse.status_code == 410 and titre(reponse) == "Lien de confirmation expiré — Dauphin"
    assert "Ce lien de confirmation a expiré" in page and "Recevoir un nouveau lien" in page
    assert 'value="personne@test.fr"' in page  # l'adresse est reprise du lien expiré

    reponse = client.get(f"/compte/confirmation/{_jeton_perime(app, compte, 1)[:-3]}abc")
    assert reponse.status_code == 404 and "Ce lien de confirmation n’est pas valide" in html(reponse)
    db.session.refresh(compte)
    assert compte.email_confirme_le is None

    reponse = client.post("/compte/confirmation/renvoyer", data={"email": "Personne@test.fr"})
    assert reponse.headers["Location"] == "/compte/inscription/courriel-envoye"
    (courriel,) = courriels_a(db, "personne@test.fr")
    assert client.get(chemin_du_lien(courriel.corps, "/compte/confirmation/")).status_code == 200
    db.session.refresh(compte)
    assert compte.email_confirme_le is not None
    # Adresse inconnue : même réponse, aucun courriel
    reponse = client.post("/compte/confirmation/renvoyer", data={"email": "inconnu@test.fr"})
    assert reponse.headers["Location"] == "/compte/inscription/courriel-envoye"
    assert courriels_a(db, "inconnu@test.fr") == []


def test_nouvelle_inscription_sur_une_adresse_non_confirmee_remplace_l_ancienne(client, db):
    for prenom in ("Premier", "Second"):
        client.post(
            "/compte/inscription",
            data={
                "prenom": prenom,
                "nom": "Essai",
                "email": "double@test.fr",
                "mot_de_passe": f"{prenom} mot de passe",
                "confirmation": f"{prenom} mot de passe",
            },
        )
    ancien, nouveau = courriels_a(db, "double@test.fr")
    assert client.get(chemin_du_lien(ancien.corps, "/compte/confirmation/")).status_code == 404
    assert client.get(chemin_du_lien(nouveau.corps, "/compte/confirmation/")).status_code == 200
    compte = db.session.scalar(select(Utilisateur).where(Utilisateur.email == "double@test.fr"))
    assert compte.prenom == "Second" and compte.verifier_mot_de_passe("Second mot de passe")


def test_envois_de_courriels_limites_par_destinataire(client, db):
    for _ in range(5):
        reponse = client.post("/compte/confirmation/renvoyer", data={"email": "cible@test.fr"})
        assert reponse.status_code == 302
    reponse = client.post("/compte/confirmation/renvoyer", data={"email": "Cible@test.fr"})
    assert reponse.status_code == 429
    donnees = {"prenom": "A", "nom": "B", "email": "cible@test.fr", "mot_de_passe": MOT_DE_PASSE}
    assert (
        client.post("/compte/inscription", data={**donnees, "confirmation": MOT_DE_PASSE}).status_code == 302
    )
    # Une autre adresse n'est pas concernée
    assert client.post("/compte/confirmation/renvoyer", data={"email": "autre@test.fr"}).status_code == 302


def test_peut_se_connecter_compte_desactive(db, monde):
    confirme(db, monde.sans_role)
    assert service_comptes.peut_se_connecter(monde.sans_role) is None
    monde.sans_role.actif = False
    assert service_comptes.peut_se_connecter(monde.sans_role) == service_comptes.MESSAGE_DESACTIVE


# --- Inscription d'une structure ------------------------------------------------------------


@pytest.mark.parametrize(
    ("declare", "role"), [("signataire", "signataire"), ("contributeur", "contributeur")]
)
def test_inscrire_une_structure(client, db, connexion, monde, declare, role):
    confirme(db, monde.sans_role)
    connexion.en_tant_que(monde.sans_role)
    reponse = client.get("/structures/inscrire")
    assert reponse.status_code == 200 and titre(reponse) == "Inscrire une structure — Dauphin"
    reponse = client.post("/structures/inscrire", data=donnees_inscription(role_declarant=declare))
    assert reponse.status_code == 302, html(reponse)
    structure = db.session.scalar(select(Structure).where(Structure.siret == SIRET_NOUVEAU))
    assert reponse.headers["Location"] == f"/structures/{structure.id}"
    assert structure.siren == SIRET_NOUVEAU[:9] and structure.rna == "W591234567"
    assert structure.email == "contact@ateliers-faubourg.fr" and structure.nb_benevoles == 1200
    assert str(structure.etp_salaries) in ("2.5", "2.50") and structure.reconnue_utilite_publique
    (compte,) = structure.comptes_bancaires
    assert compte.iban == IBAN_VALIDE and compte.bic == "AGRIFRPP882" and compte.actif
    (membre,) = structure.membres
    assert membre.utilisateur_id == monde.sans_role.id and membre.administrateur
    assert membre.role == RoleStructure(role)
    page = client.get(reponse.headers["Location"])
    assert page.status_code == 200 and "Les Ateliers du Faubourg (ADF)" in html(page)
    assert "FR76 •••• •••• 0189" in html(page)


def test_inscrire_une_structure_exige_une_adresse_confirmee(client, db, connexion, monde):
    connexion.en_tant_que(monde.sans_role)
    monde.sans_role.email_confirme_le = None  # (la connexion, elle, exigera bientôt l'adresse confirmée)
    db.session.commit()
    reponse = client.get("/structures/inscrire")
    assert reponse.status_code == 302 and reponse.headers["Location"] == "/compte/confirmation/renvoyer"
    assert client.post("/structures/inscrire", data=donnees_inscription()).status_code == 302
    assert client.get("/structures/inscrire").status_code == 302
    assert client.get("/structures/").status_code == 200


def test_inscription_structure_erreurs_sans_perte_de_saisie(client, db, connexion, monde):
    confirme(db, monde.sans_role)
    connexion.en_tant_que(monde.sans_role)
    reponse = client.post(
        "/structures/inscrire",
        data=donnees_inscription(
            siret="123 456 789 00012",
            rna="",
            iban="FR76 3000 6000 0112 3456 7890 188",
            bic="CRLY1RPP",
            code_insee="20004",
            nb_salaries="trois",
            role_declarant="",
        ),
    )
    page = html(reponse)
    assert reponse.status_code == 422 and titre(reponse) == "Erreur : Inscrire une structure — Dauphin"
    assert "Le numéro SIRET 123 456 789 00012 n’est pas valide : vérifiez les 14 chiffres" in page
    assert "Le numéro RNA est obligatoire pour une association" in page
    assert "L’IBAN FR76 3000 6000 0112 3456 7890 188 n’est pas valide" in page
    assert "Le BIC CRLY1RPP n’a pas le bon format" in page
    assert "En Corse, le code INSEE commence par 2A" in page
    assert "Saisissez un nombre entier positif" in page
    assert "Indiquez si vous êtes habilité à signer pour la structure." in page
    # Rien n'est perdu : chaque valeur tapée est réaffichée telle quelle
    for valeur in ("123 456 789 00012", "FR76 3000 6000 0112 3456 7890 188", "trois", "1 200", "2,5", "Inès"):
        assert f'value="{valeur}"' in page, valeur
    assert (
        'aria-describedby="siret-indication siret-erreur"' in page
        or 'aria-describedby="siret-erreur"' in page
    )
    assert db.session.scalar(select(func.count(Structure.id))) == 2


# --- SIRET déjà inscrit → demande d'accès → réponse de l'administrateur ---------------------


def test_siret_deja_inscrit_demande_d_acces_acceptee(client, db, connexion, monde):
    demandeur = confirme(db, monde.sans_role)
    structure = monde.structure
    connexion.en_tant_que(demandeur)
    reponse = client.post(
        "/structures/inscrire", data=donnees_inscription(siret=structure.siret, raison_sociale="Doublon")
    )
    page = html(reponse)
    assert reponse.status_code == 422
    assert "Cette structure est déjà inscrite" in page and "Association des Jardins" in page
    assert "Ce numéro SIRET est déjà inscrit sur Dauphin." in page  # à côté du champ
    assert 'value="Doublon"' in page  # la saisie est conservée
    lien = f"/structures/acces/{structure.siret}"
    assert f'href="{lien}"' in page

    reponse = client.get(lien)
    assert (
        reponse.status_code == 200
        and titre(reponse) == "Demander l’accès à Association des Jardins — Dauphin"
    )
    reponse = client.post(lien, data={"message": "Je suis la nouvelle trésorière."})
    assert reponse.headers["Location"] == "/structures/"
    demande = db.session.scalar(select(DemandeAcces).where(DemandeAcces.utilisateur_id == demandeur.id))
    assert demande.structure_id == structure.id and demande.message == "Je suis la nouvelle trésorière."
    assert "Association des Jardins" in html(client.get("/structures/"))  # demande en attente affichée
    # Une seconde demande n'envoie rien de plus
    client.post(lien, data={"message": "Relance"})
    assert db.session.scalar(select(func.count(DemandeAcces.id))) == 1

    (courriel,) = courriels_a(db, monde.administrateur.email)
    assert "Je suis la nouvelle trésorière." in courriel.corps
    chemin = chemin_du_lien(courriel.corps, "/structures/")
    assert chemin == f"/structures/{structure.id}/acces/{demande.id}"
    connexion.deconnexion()

    # Un membre non administrateur ne répond pas à la demande
    connexion.en_tant_que(monde.signataire)
    assert client.get(chemin).status_code == 403
    assert client.post(chemin, data={"decision": "accepter", "role": "signataire"}).status_code == 403
    connexion.deconnexion()

    connexion.en_tant_que(monde.administrateur)
    assert "Demandes d’accès" in html(client.get(f"/structures/{structure.id}"))
    reponse = client.get(chemin)
    assert reponse.status_code == 200 and "Je suis la nouvelle trésorière." in html(reponse)
    reponse = client.post(chemin, data={"decision": "accepter", "role": "signataire"})
    assert reponse.status_code == 302
    membre = membre_de(db, demandeur, structure)
    assert membre is not None and membre.role == RoleStructure.signataire and not membre.administrateur
    db.session.refresh(demande)
    assert demande.acceptee is True and demande.traitee_le is not None
    (reponse_courriel,) = courriels_a(db, demandeur.email)
    assert "a accepté votre demande" in reponse_courriel.corps
    # Répondre deux fois ne crée rien de plus
    client.post(chemin, data={"decision": "refuser", "role": "contributeur"})
    assert membre_de(db, demandeur, structure).role == RoleStructure.signataire
    connexion.deconnexion()

    connexion.en_tant_que(demandeur)
    assert client.get(f"/structures/{structure.id}").status_code == 200


def test_demande_d_acces_refusee(client, db, connexion, monde):
    demandeur = confirme(db, monde.sans_role)
    connexion.en_tant_que(demandeur)
    client.post(f"/structures/acces/{monde.structure.siret}", data={"message": ""})
    demande = db.session.scalar(select(DemandeAcces))
    assert demande.message is None
    connexion.deconnexion()
    connexion.en_tant_que(monde.administrateur)
    client.post(
        f"/structures/{monde.structure.id}/acces/{demande.id}",
        data={"decision": "refuser", "role": "contributeur"},
    )
    assert membre_de(db, demandeur, monde.structure) is None
    db.session.refresh(demande)
    assert demande.acceptee is False
    assert "n’a pas accepté votre demande" in courriels_a(db, demandeur.email)[0].corps


def test_demande_d_acces_siret_inconnu_ou_deja_membre(client, db, connexion, monde):
    confirme(db, monde.signataire)
    connexion.en_tant_que(monde.signataire)
    assert client.get(f"/structures/acces/{SIRET_NOUVEAU}").status_code == 404
    reponse = client.get(f"/structures/acces/{monde.structure.siret}")
    assert reponse.headers["Location"] == f"/structures/{monde.structure.id}"


# --- Invitations ----------------------------------------------------------------------------


def _inviter(client, structure, adresse, role="contributeur"):
    return client.post(f"/structures/{structure.id}/inviter", data={"email": adresse, "role": role})


def _lien_invitation(db, adresse) -> str:
    return chemin_du_lien(courriels_a(db, adresse)[-1].corps, "/compte/invitation/")


def test_invitation_nouveau_compte_cree_depuis_le_lien(client, db, connexion, monde):
    connexion.en_tant_que(monde.administrateur)
    reponse = client.get(f"/structures/{monde.structure.id}/inviter")
    assert reponse.status_code == 200
    assert titre(reponse) == "Inviter une personne — Association des Jardins — Dauphin"
    reponse = _inviter(client, monde.structure, "Nouvelle.Recrue@Test.fr", "signataire")
    assert reponse.headers["Location"] == f"/structures/{monde.structure.id}#membres"
    invitation = db.session.scalar(select(Invitation))
    assert invitation.email == "nouvelle.recrue@test.fr" and invitation.role == RoleStructure.signataire
    assert timedelta(days=6, hours=23) < invitation.expire_le - invitation.cree_le <= timedelta(days=7)
    assert "nouvelle.recrue@test.fr" in html(client.get(f"/structures/{monde.structure.id}"))
    lien = _lien_invitation(db, "nouvelle.recrue@test.fr")
    connexion.deconnexion()

    reponse = client.get(lien)
    page = html(reponse)
    assert reponse.status_code == 200 and "Invitation à rejoindre Association des Jardins" in page
    assert "Créer un compte" in page and "Se connecter" in page
    formulaire = client.get("/compte/inscription")
    assert 'value="nouvelle.recrue@test.fr"' in html(formulaire)  # le jeton est gardé en session
    reponse = client.post(
        "/compte/inscription",
        data={
            "prenom": "Nora",
            "nom": "Recrue",
            "email": "nouvelle.recrue@test.fr",
            "mot_de_passe": MOT_DE_PASSE,
            "confirmation": MOT_DE_PASSE,
        },
    )
    assert reponse.headers["Location"] == f"/structures/{monde.structure.id}"
    assert client.get(reponse.headers["Location"]).status_code == 200  # connectée, et membre
    compte = db.session.scalar(select(Utilisateur).where(Utilisateur.email == "nouvelle.recrue@test.fr"))
    assert compte.email_confirme_le is not None  # le lien d'invitation a prouvé l'adresse
    assert membre_de(db, compte, monde.structure).role == RoleStructure.signataire
    db.session.refresh(invitation)
    assert invitation.acceptee_le is not None
    assert any("a accepté" in c.corps for c in courriels_a(db, monde.administrateur.email))
    # Le lien ne sert qu'une fois
    reponse = client.get(lien)
    assert reponse.status_code == 410 and "Ce lien a déjà été utilisé." in html(reponse)


def test_invitation_anonyme_se_connecte_puis_rejoint(client, db, connexion, monde):
    invite = monde.sans_role
    connexion.en_tant_que(monde.administrateur)
    _inviter(client, monde.structure, invite.email)
    connexion.deconnexion()
    lien = _lien_invitation(db, invite.email)

    page = html(client.get(lien))
    assert f'href="/compte/connexion?next={lien}"' in page
    reponse = client.post(
        f"/compte/connexion?next={lien}", data={"email": invite.email, "mot_de_passe": "mot-de-passe-de-test"}
    )
    assert reponse.headers["Location"] == lien
    reponse = client.get(lien)
    assert reponse.status_code == 200 and "Rejoindre Association des Jardins" in html(reponse)
    assert membre_de(db, invite, monde.structure) is None  # rien sans le POST
    reponse = client.post(lien)
    assert reponse.headers["Location"] == f"/structures/{monde.structure.id}"
    membre = membre_de(db, invite, monde.structure)
    assert membre.role == RoleStructure.contributeur and not membre.administrateur


def test_invitation_refusee_au_mauvais_compte(client, db, connexion, monde):
    connexion.en_tant_que(monde.administrateur)
    _inviter(client, monde.structure, "destinataire@test.fr")
    connexion.deconnexion()
    lien = _lien_invitation(db, "destinataire@test.fr")

    connexion.en_tant_que(monde.signataire_autre)
    reponse = client.get(lien)
    assert reponse.status_code == 403
    assert "Cette invitation est destinée à une autre adresse" in html(reponse)
    assert client.post(lien).status_code == 403
    assert membre_de(db, monde.signataire_autre, monde.structure) is None
    assert db.session.scalar(select(Invitation)).acceptee_le is None


def test_invitation_expiree_revoquee_alteree(client, db, connexion, monde):
    connexion.en_tant_que(monde.administrateur)
    _inviter(client, monde.structure, "expiree@test.fr")
    _inviter(client, monde.structure, "revoquee@test.fr", "signataire")
    expiree, revoquee = db.session.scalars(select(Invitation).order_by(Invitation.id)).all()
    reponse = client.post(f"/structures/{monde.structure.id}/invitations/{revoquee.id}/revoquer")
    assert reponse.status_code == 302
    db.session.refresh(revoquee)
    assert revoquee.revoquee_le is not None
    page = html(client.get(f"/structures/{monde.structure.id}"))
    assert (
        f"/invitations/{revoquee.id}/revoquer" not in page and f"/invitations/{expiree.id}/revoquer" in page
    )
    expiree.expire_le = maintenant() - timedelta(seconds=1)
    db.session.commit()
    connexion.deconnexion()

    reponse = client.get(_lien_invitation(db, "expiree@test.fr"))
    assert reponse.status_code == 410 and "Ce lien a expiré." in html(reponse)
    assert titre(reponse) == "Invitation inutilisable — Dauphin"
    reponse = client.get(_lien_invitation(db, "revoquee@test.fr"))
    assert reponse.status_code == 410
    assert "Cette invitation a été annulée par l’administrateur de la structure." in html(reponse)
    lien = _lien_invitation(db, "expiree@test.fr")
    assert client.get(lien[:-4] + "AAAA").status_code == 404


def test_inviter_un_membre_ou_reinviter(client, db, connexion, monde):
    connexion.en_tant_que(monde.administrateur)
    reponse = _inviter(client, monde.structure, monde.signataire.email)
    assert reponse.status_code == 422 and "est déjà membre de la structure (signataire)" in html(reponse)
    _inviter(client, monde.structure, "deux.fois@test.fr")
    _inviter(client, monde.structure, "deux.fois@test.fr", "signataire")
    premiere, seconde = db.session.scalars(select(Invitation).order_by(Invitation.id)).all()
    assert premiere.revoquee_le is not None and seconde.revoquee_le is None
    reponse = _inviter(client, monde.structure, "pas une adresse")
    assert reponse.status_code == 422 and 'value="pas une adresse"' in html(reponse)


# --- Membres --------------------------------------------------------------------------------


def test_retirer_un_membre_apres_confirmation(client, db, connexion, monde):
    structure = monde.structure
    membre = membre_de(db, monde.contributeur, structure)
    connexion.en_tant_que(monde.administrateur)
    url = f"/structures/{structure.id}/membres/{membre.id}/retirer"
    reponse = client.get(url)
    assert reponse.status_code == 200 and "Retirer ce membre" in html(reponse)
    assert membre_de(db, monde.contributeur, structure) is not None  # un GET ne retire rien
    assert client.post(url).status_code == 302
    assert membre_de(db, monde.contributeur, structure) is None
    assert "ne faites plus partie" in courriels_a(db, monde.contributeur.email)[0].sujet

    # L'administrateur, seul à l'être, ne se retire pas lui-même
    moi = membre_de(db, monde.administrateur, structure)
    reponse = client.get(f"/structures/{structure.id}/membres/{moi.id}/retirer")
    assert "Transmettez d’abord l’administration" in html(reponse)
    reponse = client.post(f"/structures/{structure.id}/membres/{moi.id}/retirer")
    assert reponse.status_code == 422 and "transmettez d’abord l’administration" in html(reponse)
    assert membre_de(db, monde.administrateur, structure) is not None
    connexion.deconnexion()

    connexion.en_tant_que(monde.contributeur)
    assert client.get(f"/structures/{structure.id}").status_code == 404


def test_transmettre_l_administration_puis_quitter(client, db, connexion, monde):
    structure = monde.structure
    ancien = membre_de(db, monde.administrateur, structure)
    nouveau = membre_de(db, monde.signataire, structure)
    connexion.en_tant_que(monde.administrateur)
    assert client.get(f"/structures/{structure.id}/membres/{nouveau.id}/administration").status_code == 200
    # Une page par membre, chacune son titre : il nomme le membre
    contributeur = membre_de(db, monde.contributeur, structure)
    titres = [
        re.search(
            r"<title>(.*?)</title>",
            html(client.get(f"/structures/{structure.id}/membres/{m.id}/administration")),
            re.S,
        ).group(1)
        for m in (nouveau, contributeur)
    ]
    assert titres[0] != titres[1] and monde.signataire.nom_complet in titres[0]
    client.post(f"/structures/{structure.id}/membres/{nouveau.id}/administration")
    assert membre_de(db, monde.signataire, structure).administrateur
    assert not membre_de(db, monde.administrateur, structure).administrateur
    # Devenu simple membre, il peut quitter la structure
    assert (
        client.post(f"/structures/{structure.id}/membres/{ancien.id}/retirer").headers["Location"]
        == "/structures/"
    )
    assert membre_de(db, monde.administrateur, structure) is None


def test_changer_le_role_d_un_membre(client, db, connexion, monde):
    membre = membre_de(db, monde.contributeur, monde.structure)
    connexion.en_tant_que(monde.administrateur)
    client.post(f"/structures/{monde.structure.id}/membres/{membre.id}/role", data={"role": "signataire"})
    assert membre_de(db, monde.contributeur, monde.structure).role == RoleStructure.signataire
    reponse = client.post(
        f"/structures/{monde.structure.id}/membres/{membre.id}/role",
        data={"role": "chef"},
        follow_redirects=True,
    )
    assert "Choisissez un rôle : signataire ou contributeur." in html(reponse)  # en français
    assert membre_de(db, monde.contributeur, monde.structure).role == RoleStructure.signataire


# --- Droits ---------------------------------------------------------------------------------


def _urls_admin(monde, db):
    s = monde.structure
    membre = membre_de(db, monde.signataire, s)
    compte = s.comptes_bancaires[0]
    return [
        ("get", f"/structures/{s.id}/modifier"),
        ("post", f"/structures/{s.id}/modifier"),
        ("get", f"/structures/{s.id}/inviter"),
        ("post", f"/structures/{s.id}/inviter"),
        ("get", f"/structures/{s.id}/comptes-bancaires/ajouter"),
        ("post", f"/structures/{s.id}/comptes-bancaires/{compte.id}/desactiver"),
        ("post", f"/structures/{s.id}/invitations/1/revoquer"),
        ("post", f"/structures/{s.id}/membres/{membre.id}/role"),
        ("get", f"/structures/{s.id}/membres/{membre.id}/retirer"),
        ("post", f"/structures/{s.id}/membres/{membre.id}/retirer"),
        ("get", f"/structures/{s.id}/membres/{membre.id}/administration"),
        ("post", f"/structures/{s.id}/membres/{membre.id}/administration"),
        ("get", f"/structures/{s.id}/acces/1"),
    ]


def test_non_membre_recoit_404_contributeur_403(client, db, connexion, monde):
    s = monde.structure
    urls = _urls_admin(monde, db)
    connexion.en_tant_que(monde.signataire_autre)  # administrateur d'une autre structure
    assert client.get(f"/structures/{s.id}").status_code == 404
    for methode, url in urls:
        assert getattr(client, methode)(url, data={"role": "signataire"}).status_code == 404, url
    assert client.get("/structures/999999").status_code == 404
    connexion.deconnexion()

    connexion.en_tant_que(monde.contributeur)
    assert client.get(f"/structures/{s.id}").status_code == 200
    assert "Modifier la fiche" not in html(client.get(f"/structures/{s.id}"))
    for methode, url in urls:
        reponse = getattr(client, methode)(url, data={"role": "signataire", "email": "x@test.fr"})
        assert reponse.status_code == 403, url
    assert membre_de(db, monde.signataire, s).role == RoleStructure.signataire
    assert db.session.scalar(select(func.count(Invitation.id))) == 0
    assert s.comptes_bancaires[0].actif
    connexion.deconnexion()

    for methode, url in [("get", f"/structures/{s.id}"), *urls]:
        reponse = getattr(client, methode)(url)
        assert reponse.status_code == 302 and reponse.headers["Location"].startswith("/compte/connexion"), url


# --- Fiche et modification concurrente ------------------------------------------------------


def test_modifier_la_fiche(client, db, connexion, monde):
    s = monde.structure
    s.etp_salaries, s.nb_benevoles, s.reconnue_utilite_publique = Decimal("2.5"), 12, True
    db.session.commit()
    connexion.en_tant_que(monde.administrateur)
    reponse = client.get(f"/structures/{s.id}/modifier")
    assert (
        reponse.status_code == 200
        and titre(reponse) == "Modifier la fiche de Association des Jardins — Dauphin"
    )
    page = html(reponse)
    assert 'value="2,5"' in page and 'value="12"' in page  # la fiche actuelle, au format français
    donnees = donnees_fiche(
        s,
        empreinte=empreinte_affichee(reponse),
        raison_sociale="Jardins partagés",
        code_insee="2a004",
        nb_salaries="4",
        nb_benevoles="12",
        etp_salaries="2,50",
        reconnue_utilite_publique="y",
    )
    reponse = client.post(f"/structures/{s.id}/modifier", data=donnees)
    assert reponse.status_code == 302, html(reponse)
    db.session.refresh(s)
    assert s.raison_sociale == "Jardins partagés" and s.code_insee == "2A004" and s.nb_salaries == 4
    assert s.etp_salaries == Decimal("2.5") and s.nb_benevoles == 12 and s.reconnue_utilite_publique


def test_modification_concurrente_signalee_sans_rien_ecraser(client, db, connexion, monde):
    s = monde.structure
    connexion.en_tant_que(monde.administrateur)
    empreinte = empreinte_affichee(client.get(f"/structures/{s.id}/modifier"))

    # Pendant ce temps, quelqu'un d'autre enregistre la fiche
    s.telephone = "03 20 11 22 33"
    db.session.commit()

    reponse = client.post(
        f"/structures/{s.id}/modifier",
        data=donnees_fiche(s, telephone="", raison_sociale="Ma version", empreinte=empreinte),
    )
    page = html(reponse)
    assert reponse.status_code == 409
    assert "La fiche a changé entre-temps : rien n’a été enregistré" in page
    assert 'value="Ma version"' in page  # la saisie est conservée
    assert "03 20 11 22 33" in page  # la version enregistrée est montrée, champ par champ
    db.session.refresh(s)
    assert s.raison_sociale == "Association des Jardins" and s.telephone == "03 20 11 22 33"

    # En connaissance de cause, on enregistre de nouveau depuis le formulaire réaffiché
    nouvelle = empreinte_affichee(reponse)
    assert nouvelle != empreinte
    reponse = client.post(
        f"/structures/{s.id}/modifier",
        data=donnees_fiche(s, raison_sociale="Ma version", empreinte=nouvelle),
    )
    assert reponse.status_code == 302
    db.session.refresh(s)
    assert s.raison_sociale == "Ma version" and s.telephone == "03 20 11 22 33"


def test_modifier_vers_un_siret_deja_pris(client, db, connexion, monde):
    s = monde.structure
    connexion.en_tant_que(monde.administrateur)
    empreinte = empreinte_affichee(client.get(f"/structures/{s.id}/modifier"))
    reponse = client.post(
        f"/structures/{s.id}/modifier",
        data=donnees_fiche(s, siret=monde.autre_structure.siret, empreinte=empreinte),
    )
    assert reponse.status_code == 422 and "est déjà celui d’une autre structure" in html(reponse)
    db.session.refresh(s)
    assert s.siret != monde.autre_structure.siret


# --- Comptes bancaires ----------------------------------------------------------------------


def test_ajouter_puis_desactiver_un_compte_bancaire(client, db, connexion, monde):
    s = monde.structure
    premier = s.comptes_bancaires[0]
    connexion.en_tant_que(monde.administrateur)
    url = f"/structures/{s.id}/comptes-bancaires/ajouter"
    reponse = client.post(
        url, data={"titulaire": "Jardins", "iban": "FR76 3000 6000 0112", "bic": "CRLYFRPP"}
    )
    assert reponse.status_code == 422 and 'value="FR76 3000 6000 0112"' in html(reponse)
    reponse = client.post(
        url, data={"titulaire": "Jardins", "iban": "fr76 3000 6000 0112 3456 7890 189", "bic": "crlyfrpp"}
    )
    assert reponse.headers["Location"] == f"/structures/{s.id}#comptes-bancaires"
    nouveau = db.session.scalar(select(CompteBancaire).where(CompteBancaire.iban == IBAN_VALIDE))
    assert nouveau.structure_id == s.id and nouveau.bic == "CRLYFRPP" and nouveau.actif

    client.post(f"/structures/{s.id}/comptes-bancaires/{premier.id}/desactiver")
    db.session.refresh(premier)
    assert not premier.actif
    # Le dernier compte actif ne se désactive pas
    reponse = client.post(
        f"/structures/{s.id}/comptes-bancaires/{nouveau.id}/desactiver", follow_redirects=True
    )
    assert "C’est le seul compte bancaire actif de la structure" in html(reponse)
    db.session.refresh(nouveau)
    assert nouveau.actif


def test_la_fiche_de_la_structure_mene_au_porte_documents_et_au_depot(client, connexion, db, monde):
    connexion.en_tant_que(monde.contributeur)
    fiche = f"/structures/{monde.structure.id}"
    page = html(client.get(fiche))
    porte_documents = f'href="/documents/structure/{monde.structure.id}"'
    assert porte_documents in page and "Porte-documents de la structure" in page
    assert 'href="/demandes/campagnes">Déposer une demande</a>' in page  # la campagne du monde est ouverte
    assert client.get(f"/documents/structure/{monde.structure.id}").status_code == 200

    # Aucune campagne ouverte : pas d'invitation à déposer une demande qui ne pourrait pas l'être
    monde.campagne.date_cloture = aujourdhui() - timedelta(days=1)
    db.session.commit()
    page = html(client.get(fiche))
    assert "Déposer une demande" not in page and porte_documents in page
