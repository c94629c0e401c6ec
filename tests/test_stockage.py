"""Stockage des fichiers (dauphin/stockage.py) : la même interface sur disque et dans un seau S3 réel
(moto en mode serveur sur la boucle locale), le portail qui dépose et rend les pièces depuis le seau après
ses contrôles de droits, la configuration refusée en une phrase, et `flask stockage migrer` qui copie un
stockage local dans un seau en vérifiant chaque fichier par son empreinte."""

from __future__ import annotations

import hashlib
import io

import pytest

import config as configuration
from dauphin.models import Document, TypePiece
from dauphin.services import documents as service
from dauphin.services import exports
from dauphin.stockage import CLE_EXTENSION, FichierAbsent, FichiersLocaux, SeauS3, depuis_url
from tests.fabriques_db import demande_complete
from tests.s3 import nouveau_seau

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(params=["file", "s3"])
def un_stockage(request, tmp_path):
    if request.param == "file":
        return FichiersLocaux(tmp_path / "racine", {"documents": tmp_path / "pieces"})
    return nouveau_seau(request.getfixturevalue("serveur_s3"))


@pytest.fixture
def seau(app, serveur_s3, monkeypatch):
    """Le portail range et lit ses fichiers dans un seau neuf le temps du test."""
    stockage = nouveau_seau(serveur_s3)
    monkeypatch.setitem(app.extensions, CLE_EXTENSION, stockage)
    return stockage


def test_interface_commune_ecrire_lire_lister_renommer_supprimer(un_stockage):
    gros = bytes(range(256)) * 20_000  # 5 Mo : envoyé en plusieurs morceaux (flux)
    assert un_stockage.ecrire("documents/ab/abcdef", PDF) == len(PDF)
    assert un_stockage.ecrire("exports/gros.csv", io.BytesIO(gros)) == len(gros)
    assert un_stockage.lire("documents/ab/abcdef") == PDF
    assert un_stockage.taille("exports/gros.csv") == len(gros)
    assert un_stockage.empreinte("exports/gros.csv") == hashlib.sha256(gros).hexdigest()
    flux, taille = un_stockage.ouvrir("exports/gros.csv")
    with flux:
        assert taille == len(gros) and flux.read(10) == gros[:10]
    assert [(o.cle, o.taille) for o in un_stockage.lister("documents/")] == [
        ("documents/ab/abcdef", len(PDF))
    ]
    un_stockage.renommer("exports/gros.csv", "exports/final.csv")
    assert not un_stockage.existe("exports/gros.csv") and un_stockage.lire("exports/final.csv") == gros
    un_stockage.supprimer("exports/final.csv")
    un_stockage.supprimer("exports/final.csv")  # deux fois : sans erreur
    assert un_stockage.taille("exports/final.csv") is None
    with pytest.raises(FichierAbsent):
        un_stockage.ouvrir("exports/final.csv")
    for cle in ("../secret_key", "documents/../x", "/etc/passwd", "documents/.cache", ""):
        with pytest.raises(ValueError):
            un_stockage.ecrire(cle, b"x")
    un_stockage.verifier_acces()


def test_seau_s3_range_sous_son_prefixe(serveur_s3):
    stockage = nouveau_seau(serveur_s3, prefixe="production/dauphin")
    stockage.ecrire("documents/ab/abcdef", PDF)
    cles = [o["Key"] for o in stockage.client.list_objects_v2(Bucket=stockage.seau)["Contents"]]
    assert cles == ["production/dauphin/documents/ab/abcdef"]


def test_depot_et_telechargement_par_le_portail_depuis_le_seau(client, connexion, db, monde, seau):
    connexion.en_tant_que(monde.contributeur)
    donnees = {"type_piece": "statuts", "fichier": (io.BytesIO(PDF), "statuts.pdf", "application/pdf")}
    reponse = client.post(
        f"/documents/structure/{monde.structure.id}", data=donnees, content_type="multipart/form-data"
    )
    assert reponse.status_code == 302, reponse.get_data(as_text=True)
    document = db.session.query(Document).order_by(Document.id.desc()).first()
    assert document.sha256 == hashlib.sha256(PDF).hexdigest()
    objet = seau.client.get_object(
        Bucket=seau.seau, Key=f"dauphin/{service.cle_du_fichier(document.cle_stockage)}"
    )
    assert objet["Body"].read() == PDF

    telechargement = client.get(f"/documents/{document.id}/telecharger")
    assert telechargement.status_code == 200 and telechargement.data == PDF
    assert telechargement.headers["Content-Length"] == str(len(PDF))
    assert telechargement.headers["Cache-Control"] == "private, no-store"
    # Les droits d'abord : un membre d'une autre structure n'obtient rien, même si le fichier est là.
    connexion.deconnexion()
    connexion.en_tant_que(monde.signataire_autre)
    assert client.get(f"/documents/{document.id}/telecharger").status_code == 404
    connexion.deconnexion()

    # Un fichier disparu du seau : page introuvable, pas d'erreur 500.
    connexion.en_tant_que(monde.contributeur)
    seau.supprimer(service.cle_du_fichier(document.cle_stockage))
    assert client.get(f"/documents/{document.id}/telecharger").status_code == 404


def test_export_national_produit_et_servi_depuis_le_seau(client, connexion, monde, seau):
    demande_complete(monde)
    connexion.en_tant_que(monde.admin_national)
    nom = exports.demander_export_national(monde.campagne.exercice, "csv")
    assert [e.etat for e in exports.exports_nationaux() if e.nom == nom] == ["pret"]
    assert not seau.existe(f"exports/{nom}.partiel")
    reponse = client.get(f"/administration/exports/{nom}")
    assert reponse.status_code == 200 and reponse.data == seau.lire(f"exports/{nom}")
    assert b"Contrat de ville;Code du contrat" in reponse.data  # l’en-tête du CSV


@pytest.mark.parametrize(
    ("variables", "phrase"),
    [
        ({"STORAGE_URL": "ftp://serveur/x"}, "seuls file:///chemin et s3://seau/prefixe sont acceptés"),
        ({"STORAGE_URL": "s3:///sans-seau"}, "le nom du seau manque"),
        ({"STORAGE_URL": "file://relatif/x"}, "un dossier local s’écrit file:///chemin/absolu"),
        (
            {"S3_ACCESS_KEY_ID": "AKIA"},
            "DAUPHIN_S3_ACCESS_KEY_ID et DAUPHIN_S3_SECRET_ACCESS_KEY vont ensemble",
        ),
    ],
)
def test_configuration_du_stockage_refusee_en_une_phrase(monkeypatch, variables, phrase):
    for nom, valeur in variables.items():
        monkeypatch.setenv(f"DAUPHIN_{nom}", valeur)
    with pytest.raises(configuration.ConfigurationInvalide, match=phrase):
        configuration.charger("test")


def test_l_url_choisit_le_stockage(monkeypatch, serveur_s3, tmp_path):
    from dauphin import create_app

    monkeypatch.setenv("DAUPHIN_STORAGE_URL", "s3://mon-seau/dauphin")
    monkeypatch.setenv("DAUPHIN_S3_ENDPOINT_URL", serveur_s3)
    stockage = create_app("test").extensions[CLE_EXTENSION]
    assert isinstance(stockage, SeauS3) and (stockage.seau, stockage.prefixe) == ("mon-seau", "dauphin")
    monkeypatch.setenv("DAUPHIN_STORAGE_URL", tmp_path.as_uri())
    stockage = create_app("test").extensions[CLE_EXTENSION]
    assert isinstance(stockage, FichiersLocaux) and stockage.racine == tmp_path
    assert isinstance(depuis_url("file:///srv/dauphin"), FichiersLocaux)


def test_migrer_un_stockage_local_vers_un_seau(app, db, monde, serveur_s3, tmp_path, monkeypatch):
    """Des pièces (dont une altérée sur le disque), un export : tout est copié, chaque copie relue et
    comparée ; l'altération est signalée (code 1) au lieu d'être recopiée en silence."""
    from tests.s3 import ACCES

    local = FichiersLocaux(tmp_path / "instance", {"documents": tmp_path / "pieces"})
    monkeypatch.setitem(app.extensions, CLE_EXTENSION, local)
    for i in range(5):
        service.stocker(
            monde.structure, TypePiece.statuts, f"statuts-{i}.pdf", PDF + bytes([i]), "application/pdf"
        )
    local.ecrire("exports/programmation-2026-20260101T000000-0000abcd.csv", b"a;b\n1;2\n")
    db.session.commit()
    destination = nouveau_seau(serveur_s3, prefixe="copie")
    app.config.update(
        S3_ENDPOINT_URL=serveur_s3, S3_REGION=ACCES["region"], S3_ACCESS_KEY_ID=ACCES["cle_acces"],
        S3_SECRET_ACCESS_KEY=ACCES["secret"],
    )  # fmt: skip
    vers = f"s3://{destination.seau}/copie"

    resultat = app.test_cli_runner().invoke(args=["stockage", "migrer", "--vers", vers])
    assert resultat.exit_code == 0, resultat.output
    octets = 5 * (len(PDF) + 1) + len(b"a;b\n1;2\n")
    assert (
        f"6 fichier(s) copié(s), 6 vérifié(s) par leur empreinte SHA-256, {octets} octets." in resultat.output
    )
    assert f"DAUPHIN_STORAGE_URL={vers}" in resultat.output
    for document in db.session.query(Document).filter(Document.structure_id == monde.structure.id):
        assert destination.empreinte(service.cle_du_fichier(document.cle_stockage)) == document.sha256

    altere = db.session.query(Document).filter(Document.structure_id == monde.structure.id).first()
    local.ecrire(service.cle_du_fichier(altere.cle_stockage), b"%PDF-1.4 remplace")
    resultat = app.test_cli_runner().invoke(args=["stockage", "migrer", "--vers", vers])
    assert resultat.exit_code == 1
    assert f"document {altere.id} : l'original n'a déjà plus l'empreinte de la base" in resultat.output

    refus = app.test_cli_runner().invoke(args=["stockage", "migrer", "--vers", "ftp://ailleurs"])
    assert refus.exit_code == 1 and "--vers « ftp://ailleurs » : seuls file:///chemin" in refus.output
