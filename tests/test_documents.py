"""Porte-documents par le client de test, sur SQLite et PostgreSQL : dépôt contrôlé par le contenu et par
la taille, nom affiché nettoyé, téléchargement réservé (membres, puis qui peut voir la demande), archivage,
et l'API qui joint des pièces du porte-documents à une demande."""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from datetime import timedelta

import pytest
from sqlalchemy import select

from dauphin.models import Demande, Document, PieceJointe, TypePiece
from dauphin.services import documents as service
from dauphin.services.workflow import aujourdhui, declencher_demande
from tests.fabriques_db import demande_complete

# --- De petits fichiers valides, fabriqués ici -------------------------------------------------------

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\x0bIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
OLE = bytes.fromhex("D0CF11E0A1B11AE1") + b"\x00" * 504


def ole(*flux: str) -> bytes:
    """Un fichier composé OLE réduit à sa signature et aux noms de ses flux (UTF-16LE, terminés par 0)."""
    return OLE + b"".join((nom + "\0").encode("utf-16-le").ljust(64, b"\0") for nom in flux)


def archive(entrees: dict[str, bytes | str]) -> bytes:
    tampon = io.BytesIO()
    with zipfile.ZipFile(tampon, "w", zipfile.ZIP_DEFLATED) as z:
        for nom, contenu in entrees.items():
            z.writestr(nom, contenu)
    return tampon.getvalue()


def ooxml(partie: str, type_de_contenu: str) -> bytes:
    return archive(
        {
            "[Content_Types].xml": (
                '<?xml version="1.0" encoding="UTF-8"?>'
                '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                '<Default Extension="xml" ContentType="application/xml"/>'
                f'<Override PartName="/{partie}" ContentType="application/vnd.openxmlformats-officedocument.'
                f'{type_de_contenu}"/></Types>'
            ),
            partie: "<document/>",
        }
    )


DOCX = ooxml("word/document.xml", "wordprocessingml.document.main+xml")
XLSX = ooxml("xl/workbook.xml", "spreadsheetml.sheet.main+xml")
ODT = archive({"mimetype": "application/vnd.oasis.opendocument.text", "content.xml": "<office/>"})
ODS = archive({"mimetype": "application/vnd.oasis.opendocument.spreadsheet", "content.xml": "<office/>"})

ACCEPTES = [
    ("statuts.pdf", PDF, "application/pdf"),
    ("rib.png", PNG, "image/png"),
    ("rib scanné.jpg", JPEG, "image/jpeg"),
    ("statuts.docx", DOCX, service.MIME_DOCX),
    ("comptes.xlsx", XLSX, service.MIME_XLSX),
    ("rapport.odt", ODT, "application/vnd.oasis.opendocument.text"),
    ("budget.ods", ODS, "application/vnd.oasis.opendocument.spreadsheet"),
    ("ancien.doc", ole("Root Entry", "WordDocument"), "application/msword"),
    ("ancien.xls", ole("Root Entry", "Workbook"), "application/vnd.ms-excel"),
]

REFUSES = [
    ("page HTML renommée en .pdf", "statuts.pdf", b"<!DOCTYPE html><html><script>alert(1)</script></html>"),
    ("exécutable Windows", "statuts.exe", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\0" * 64),
    (
        "image SVG (peut porter du script)",
        "logo.svg",
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
    ),
    ("archive ZIP quelconque", "statuts.docx", archive({"lisez-moi.txt": "bonjour", "programme.exe": "MZ"})),
    ("ZIP corrompu", "statuts.docx", b"PK\x03\x04" + b"\x00" * 40),
    ("OLE qui n'est pas un document (installateur)", "setup.doc", ole("Root Entry", "SummaryInformation")),
    ("texte brut", "statuts.pdf", b"Ceci n'est pas un PDF"),
]


def texte(reponse) -> str:
    return reponse.get_data(as_text=True)


def titre(reponse) -> str:
    return re.search(r"<title>(.*?)</title>", texte(reponse), re.S).group(1).strip()


def deposer(client, structure_id, contenu, nom="statuts.pdf", type_piece="statuts", **champs):
    donnees = {"type_piece": type_piece, **champs, "fichier": (io.BytesIO(contenu), nom, "application/pdf")}
    return client.post(
        f"/documents/structure/{structure_id}", data=donnees, content_type="multipart/form-data"
    )


def dernier_document(db) -> Document:
    return db.session.scalars(select(Document).order_by(Document.id.desc()).limit(1)).one()


def document_depose(client, connexion, db, monde, contenu=PDF, nom="Statuts été 2024.pdf") -> Document:
    connexion.en_tant_que(monde.contributeur)
    assert deposer(client, monde.structure.id, contenu, nom).status_code == 302
    connexion.deconnexion()
    return dernier_document(db)


# --- Le porte-documents -------------------------------------------------------------------------------


def test_page_du_porte_documents_par_type_pour_les_membres(client, connexion, db, monde):
    service.stocker(
        monde.structure, TypePiece.rib, "RIB Crédit Agricole.pdf", PDF + b"\0" * 1_258_000, "application/pdf"
    )
    db.session.commit()
    connexion.en_tant_que(monde.contributeur)  # un simple contributeur y a accès
    reponse = client.get(f"/documents/structure/{monde.structure.id}")
    html = texte(reponse)
    assert reponse.status_code == 200
    assert titre(reponse) == "Porte-documents — Association des Jardins — Dauphin"
    for libelle in (
        "Statuts",
        "Liste des dirigeants",
        "Relevé d’identité bancaire",
        "Derniers comptes approuvés",
        "Dernier rapport d’activité",
        "Budget prévisionnel de la structure",
        "Autre pièce",
    ):
        assert f">{libelle}</h3>" in html
    assert "RIB Crédit Agricole.pdf" in html and "1,2 Mo" in html
    assert 'enctype="multipart/form-data" novalidate' in html and 'class="fr-upload-group' in html
    assert "Aucun document archivé." in html


@pytest.mark.parametrize("qui", ["signataire_autre", "instructeur_etat", "pilote", "admin_national"])
def test_porte_documents_d_une_autre_structure_introuvable(client, connexion, monde, qui):
    connexion.en_tant_que(getattr(monde, qui))
    assert client.get(f"/documents/structure/{monde.structure.id}").status_code == 404
    assert deposer(client, monde.structure.id, PDF).status_code == 404
    assert client.get("/documents/structure/999999").status_code == 404


def test_porte_documents_anonyme_renvoye_a_la_connexion(client, monde):
    reponse = client.get(f"/documents/structure/{monde.structure.id}")
    assert reponse.status_code == 302 and "/compte/connexion" in reponse.headers["Location"]


@pytest.mark.parametrize(("nom", "contenu", "type_mime"), ACCEPTES, ids=[a[0] for a in ACCEPTES])
def test_depot_accepte_chaque_format_reconnu_par_son_contenu(
    client, connexion, db, monde, nom, contenu, type_mime
):
    connexion.en_tant_que(monde.signataire)
    reponse = deposer(client, monde.structure.id, contenu, nom, type_piece="autre")
    assert reponse.status_code == 302, texte(reponse)
    document = dernier_document(db)
    # Le type enregistré est celui du contenu, pas le Content-Type « application/pdf » annoncé à l'envoi
    assert document.type_mime == type_mime
    assert document.nom_fichier == nom and document.type_piece == TypePiece.autre
    assert document.taille == len(contenu) and document.sha256 == hashlib.sha256(contenu).hexdigest()
    assert document.depose_par_id == monde.signataire.id and document.structure_id == monde.structure.id
    assert service.lire(document.cle_stockage) == contenu
    cle = service.cle_du_fichier(document.cle_stockage)
    assert nom not in cle and re.fullmatch(r"documents/[0-9a-f]{2}/[0-9a-f]{48}", cle)
    page = texte(client.get(reponse.headers["Location"]))
    assert f"Le document « {nom} » est déposé" in page


@pytest.mark.parametrize(("cas", "nom", "contenu"), REFUSES, ids=[r[0] for r in REFUSES])
def test_depot_refuse_par_le_contenu_avec_message_a_cote_du_champ(
    client, connexion, db, monde, cas, nom, contenu
):
    connexion.en_tant_que(monde.contributeur)
    reponse = deposer(client, monde.structure.id, contenu, nom, valable_jusqu_au="2099-12-31")
    html = texte(reponse)
    assert reponse.status_code == 422
    assert titre(reponse).startswith("Erreur : ")
    erreur = re.search(r'id="fichier-erreur" class="fr-error-text">(.*?)</p>', html, re.S).group(1)
    assert erreur.startswith(f"« {nom} » n’est pas ")  # le fichier, nommé, et pourquoi
    assert "Formats acceptés : PDF, image PNG ou JPEG" in erreur
    assert 'aria-describedby="fichier-erreur"' in html and "fr-upload-group--error" in html
    assert '<option selected value="statuts">' in html and 'value="2099-12-31"' in html  # saisie gardée
    assert db.session.scalar(select(Document.id)) is None


@pytest.mark.parametrize(
    ("nom", "contenu", "raison"),
    [
        (
            "statuts.pdf",
            b"Ceci n'est pas un PDF",
            "« statuts.pdf » n’est pas un PDF : son contenu n’en est pas un",
        ),
        ("statuts.docx", b"PK\x03\x04" + b"\x00" * 40, "« statuts.docx » n’est pas un document Word"),
        ("logo.svg", b"<svg/>", "« logo.svg » n’est pas d’un format reconnu"),
    ],
)
def test_depot_refuse_dit_quel_fichier_et_pourquoi(client, connexion, monde, nom, contenu, raison):
    connexion.en_tant_que(monde.contributeur)
    assert raison in texte(deposer(client, monde.structure.id, contenu, nom))


def test_depot_refuse_fichier_vide_ou_absent_et_type_manquant(client, connexion, db, monde):
    connexion.en_tant_que(monde.contributeur)
    html = texte(deposer(client, monde.structure.id, b"", "vide.pdf"))
    assert "« vide.pdf » est vide (0 octet). Formats acceptés : PDF" in html
    reponse = client.post(
        f"/documents/structure/{monde.structure.id}",
        data={"type_piece": "", "valable_jusqu_au": "31/12/2099"},
        content_type="multipart/form-data",
    )
    html = texte(reponse)
    assert reponse.status_code == 422
    assert "Choisissez le type du document." in html and "Choisissez le fichier à déposer." in html
    # Un type réservé au portail (récépissé) ne se dépose pas
    html = texte(deposer(client, monde.structure.id, PDF, type_piece="recepisse"))
    assert "Choisissez le type du document." in html
    assert db.session.scalar(select(Document.id)) is None


def test_depot_refuse_documents_a_macros(client, connexion, db, monde):
    connexion.en_tant_que(monde.contributeur)
    docm = archive(
        {
            "[Content_Types].xml": '<Types><Override PartName="/word/document.xml" '
            'ContentType="application/vnd.ms-word.document.macroEnabled.main+xml"/></Types>',
            "word/document.xml": "<document/>",
            "word/vbaProject.bin": "x",
        }
    )
    odt = archive(
        {
            "mimetype": "application/vnd.oasis.opendocument.text",
            "Basic/script-lc.xml": "<library/>",
            "Basic/Standard/Module1.xml": "<module/>",
        }
    )
    macros = (("m.docm", docm), ("m.odt", odt), ("m.doc", ole("WordDocument", "Macros", "_VBA_PROJECT")))
    for nom, contenu in macros:
        html = texte(deposer(client, monde.structure.id, contenu, nom))
        assert "Ce document contient des macros" in html
    assert db.session.scalar(select(Document.id)) is None


def docx_qui_se_decompresse_en(mega_octets: int) -> bytes:
    """Un .docx d'un Mo et demi dont `word/document.xml` se décompresse en `mega_octets` Mo."""
    tampon = io.BytesIO()
    with zipfile.ZipFile(tampon, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:  # niveau 1 : test rapide
        z.writestr("[Content_Types].xml", zipfile.ZipFile(io.BytesIO(DOCX)).read("[Content_Types].xml"))
        with z.open("word/document.xml", "w", force_zip64=True) as partie:
            for _ in range(mega_octets):
                partie.write(b" " * 1024 * 1024)
    return tampon.getvalue()


def docx_a_taille_declaree_fausse() -> bytes:
    """Un .docx dont l'en-tête déclare 100 octets décompressés pour une partie qui en fait 200 000."""
    contenu = bytearray(
        archive(
            {
                "[Content_Types].xml": zipfile.ZipFile(io.BytesIO(DOCX)).read("[Content_Types].xml"),
                "word/document.xml": "x" * 200_000,
            }
        )
    )
    vraie, fausse = (200_000).to_bytes(4, "little"), (100).to_bytes(4, "little")
    # Taille décompressée : en-tête local (octet 22) et répertoire central (octet 24) de l'entrée
    for signature, decalage in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        debut = 0
        while (debut := contenu.find(signature, debut)) >= 0:
            if contenu[debut + decalage : debut + decalage + 4] == vraie:
                contenu[debut + decalage : debut + decalage + 4] = fausse
            debut += 4
    return bytes(contenu)


def test_depot_refuse_les_bombes_de_decompression(client, connexion, db, monde, monkeypatch):
    """Un document bureautique est une archive : une partie qui se décompresse démesurément, une taille
    déclarée qui ment ou un total trop grand sont refusés, avec le nom du fichier et la raison."""
    connexion.en_tant_que(monde.contributeur)
    bombe = docx_qui_se_decompresse_en(300)
    assert len(bombe) < 2 * 1024 * 1024  # moins de 2 Mo déposés, 300 Mo décompressés
    reponse = deposer(client, monde.structure.id, bombe, "rapport.docx")
    assert reponse.status_code == 422
    assert (
        "« rapport.docx » contient un fichier interne compressé plus de 100 fois (word/document.xml) : "
        "ce n’est pas un document bureautique ordinaire." in texte(reponse)
    )
    menteur = texte(deposer(client, monde.structure.id, docx_a_taille_declaree_fausse(), "menteur.docx"))
    assert "« menteur.docx » n’est pas un document Word : son contenu n’en est pas un" in menteur
    # Le total décompressé est borné aussi (ici abaissé pour ne pas fabriquer 100 Mo de données variées)
    monkeypatch.setattr(service, "TAILLE_MAX_DECOMPRESSEE", 2 * 1024 * 1024)
    gros = archive(
        {
            "[Content_Types].xml": zipfile.ZipFile(io.BytesIO(DOCX)).read("[Content_Types].xml"),
            **{f"word/media/image{i}.png": bytes(range(256)) * 4096 for i in range(3)},
        }
    )
    total = texte(deposer(client, monde.structure.id, gros, "images.docx"))
    assert (
        "« images.docx » se décompresse en plus de 2,0 Mo" in total or "se décompresse en plus de 2" in total
    )
    assert db.session.scalar(select(Document.id)) is None
    # Un document ordinaire passe toujours
    monkeypatch.undo()
    assert deposer(client, monde.structure.id, DOCX, "ordinaire.docx").status_code == 302


def test_date_de_validite_passee_refusee(client, connexion, db, monde):
    connexion.en_tant_que(monde.contributeur)
    hier = (aujourdhui() - timedelta(days=1)).isoformat()
    reponse = deposer(client, monde.structure.id, PDF, valable_jusqu_au=hier)
    assert reponse.status_code == 422
    assert (
        'id="valable_jusqu_au-erreur" class="fr-error-text">La date de fin de validité est déjà passée'
        in texte(reponse)
    )
    demain = aujourdhui() + timedelta(days=1)
    assert deposer(client, monde.structure.id, PDF, valable_jusqu_au=demain.isoformat()).status_code == 302
    assert dernier_document(db).valable_jusqu_au == demain
    assert demain.strftime("%d/%m/%Y") in texte(client.get(f"/documents/structure/{monde.structure.id}"))


def test_envoi_trop_volumineux_message_francais_et_saisie_gardee(
    app, client, connexion, db, monde, monkeypatch
):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 2048)
    connexion.en_tant_que(monde.contributeur)
    reponse = deposer(
        client,
        monde.structure.id,
        PDF + b"\0" * 5000,
        "Comptes 2024.pdf",
        "comptes_approuves",
        valable_jusqu_au="2099-06-30",
    )
    html = texte(reponse)
    assert reponse.status_code == 413
    assert titre(reponse) == "Erreur : Porte-documents — Association des Jardins — Dauphin"
    assert (
        'id="fichier-erreur" class="fr-error-text">Le fichier « Comptes 2024.pdf » dépasse la taille '
        "maximale autorisée (2 ko)." in html
    )
    assert 'id="resume-erreurs"' in html
    assert '<option selected value="comptes_approuves">' in html and 'value="2099-06-30"' in html
    assert db.session.scalar(select(Document.id)) is None
    # Juste sous la limite, le même formulaire passe
    assert deposer(client, monde.structure.id, PDF + b"\0" * 1000).status_code == 302


def test_envoi_trop_volumineux_avec_protection_csrf_active(app, client, connexion, monde, monkeypatch):
    """En production, CSRFProtect lit le corps avant la vue : la limite saute là, le message reste le même."""
    connexion.en_tant_que(monde.contributeur)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 2048)
    reponse = deposer(client, monde.structure.id, PDF + b"\0" * 5000, "gros.pdf", "rib")
    assert reponse.status_code == 413
    assert "Le fichier « gros.pdf » dépasse la taille maximale autorisée (2 ko)." in texte(reponse)
    assert '<option selected value="rib">' in texte(reponse) and 'name="csrf_token"' in texte(reponse)


def test_taille_controlee_aussi_par_le_service(app, db, monde, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024)
    with pytest.raises(service.DepotRefuse, match=r"dépasse la taille maximale autorisée \(1 ko\)"):
        service.deposer(
            monde.structure.id, monde.contributeur, "statuts", io.BytesIO(PDF + b"\0" * 1024), "s.pdf"
        )
    with pytest.raises(service.NonAutorise):
        service.deposer(monde.structure.id, monde.signataire_autre, "statuts", PDF, "s.pdf")
    assert db.session.scalar(select(Document.id)) is None


def test_envoi_trop_volumineux_hors_structure_reste_introuvable(app, client, connexion, monde, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024)
    connexion.en_tant_que(monde.signataire_autre)
    assert deposer(client, monde.structure.id, PDF + b"\0" * 4096).status_code == 404
    connexion.deconnexion()
    reponse = deposer(client, monde.structure.id, PDF + b"\0" * 4096)
    assert reponse.status_code == 302 and "/compte/connexion" in reponse.headers["Location"]


@pytest.mark.parametrize(
    ("donne", "attendu"),
    [
        ("Statuts été 2024.pdf", "Statuts été 2024.pdf"),
        ("../../etc/passwd", "passwd.pdf"),
        ("C:\\Users\\Anaïs\\Relevé d’identité.PDF", "Relevé d’identité.PDF"),
        ("\u202efdp.exe", "fdp.exe.pdf"),  # inversion du sens d'écriture retirée, extension du vrai type
        ("comptes\x00\x1b[31m.pdf", "comptes[31m.pdf"),
        ('rapport<script>"?.pdf', "rapport_script___.pdf"),
        ("  ..cachée.pdf  ", "cachée.pdf"),
        ("", "document.pdf"),
        ("statuts", "statuts.pdf"),
        ("é" * 300 + ".pdf", "é" * 146 + ".pdf"),
    ],
)
def test_nom_affiche_nettoye_sans_perdre_les_accents(donne, attendu):
    assert service.nom_affichable(donne, "application/pdf") == attendu


def test_tailles_a_la_francaise():
    assert service.taille_lisible(1) == "1 octet"
    assert service.taille_lisible(512) == "512 octets"
    assert service.taille_lisible(12_595) == "12,3 ko"
    assert service.taille_lisible(1_258_291) == "1,2 Mo"
    assert service.taille_lisible(10 * 1024 * 1024) == "10 Mo"


# --- Téléchargement -------------------------------------------------------------------------------------


def test_telechargement_par_un_membre_octets_et_entetes(client, connexion, db, monde):
    document = document_depose(client, connexion, db, monde)
    connexion.en_tant_que(monde.administrateur)
    reponse = client.get(f"/documents/{document.id}/telecharger")
    assert reponse.status_code == 200
    assert reponse.data == PDF
    assert reponse.mimetype == "application/pdf"
    disposition = reponse.headers["Content-Disposition"]
    assert (
        disposition.startswith("attachment;")
        and "filename*=UTF-8''Statuts%20%C3%A9t%C3%A9%202024.pdf" in disposition
    )
    assert reponse.headers["X-Content-Type-Options"] == "nosniff"
    politique = reponse.headers["Content-Security-Policy"]
    assert "sandbox" in politique and "default-src 'none'" in politique
    assert "no-store" in reponse.headers["Cache-Control"]


def test_telechargement_refuse_hors_structure_et_aux_anonymes(client, connexion, db, monde):
    document = document_depose(client, connexion, db, monde)
    url = f"/documents/{document.id}/telecharger"
    reponse = client.get(url)
    assert reponse.status_code == 302 and "/compte/connexion" in reponse.headers["Location"]
    for qui in (
        "signataire_autre",
        "instructeur_etat",
        "partenaire_caf",
        "pilote",
        "admin_national",
        "sans_role",
    ):
        connexion.en_tant_que(getattr(monde, qui))
        assert client.get(url).status_code == 404, qui  # document hors de toute demande : membres seulement
        connexion.deconnexion()
    connexion.en_tant_que(monde.signataire)
    assert client.get("/documents/999999/telecharger").status_code == 404


def joindre_et_transmettre(db, monde, document: Document, transmettre=True) -> Demande:
    demande = demande_complete(monde)
    service.joindre(demande, document.id)  # remplace les statuts posés par la fabrique
    db.session.commit()
    assert [p.document_id for p in demande.pieces_jointes] == [document.id]
    if transmettre:
        declencher_demande(demande.id, "soumettre", monde.contributeur)
        declencher_demande(demande.id, "attester", monde.signataire, attestation=True)
    return demande


def test_piece_jointe_visible_des_financeurs_une_fois_la_demande_transmise(client, connexion, db, monde):
    document = document_depose(client, connexion, db, monde)
    demande = joindre_et_transmettre(db, monde, document, transmettre=False)
    url = f"/documents/{document.id}/telecharger"
    for qui in ("instructeur_etat", "partenaire_caf", "pilote", "admin_national"):
        connexion.en_tant_que(getattr(monde, qui))
        assert client.get(url).status_code == 404, qui  # un brouillon reste privé
        connexion.deconnexion()

    declencher_demande(demande.id, "soumettre", monde.contributeur)
    declencher_demande(demande.id, "attester", monde.signataire, attestation=True)
    for qui in ("instructeur_etat", "instructeur_commune", "partenaire_caf", "pilote", "admin_national"):
        connexion.en_tant_que(getattr(monde, qui))
        reponse = client.get(url)
        assert reponse.status_code == 200 and reponse.data == PDF, qui
        assert "sandbox" in reponse.headers["Content-Security-Policy"]
        connexion.deconnexion()
    for qui in ("partenaire_autre_contrat", "signataire_autre", "sans_role"):
        connexion.en_tant_que(getattr(monde, qui))
        assert client.get(url).status_code == 404, qui
        connexion.deconnexion()


def test_document_propre_a_une_demande_suit_la_visibilite_de_la_demande(client, connexion, db, monde):
    demande = demande_complete(monde)
    convention = service.stocker(
        monde.structure,
        TypePiece.convention_signee,
        "convention.pdf",
        PDF,
        "application/pdf",
        demande_id=demande.id,
    )
    db.session.commit()
    url = f"/documents/{convention.id}/telecharger"
    connexion.en_tant_que(monde.instructeur_etat)
    assert client.get(url).status_code == 404
    connexion.deconnexion()
    declencher_demande(demande.id, "soumettre", monde.contributeur)
    declencher_demande(demande.id, "attester", monde.signataire, attestation=True)
    connexion.en_tant_que(monde.instructeur_etat)
    assert client.get(url).status_code == 200
    connexion.deconnexion()
    connexion.en_tant_que(monde.partenaire_autre_contrat)
    assert client.get(url).status_code == 404
    connexion.deconnexion()
    # Une pièce propre à une demande n'est pas dans le porte-documents : ni listée, ni archivable
    connexion.en_tant_que(monde.signataire)
    assert "convention.pdf" not in texte(client.get(f"/documents/structure/{monde.structure.id}"))
    assert client.get(f"/documents/{convention.id}/archiver").status_code == 404
    assert client.get(url).status_code == 200


def test_fichier_absent_du_stockage_introuvable_sans_erreur_serveur(client, connexion, db, monde):
    demande = demande_complete(monde)  # la fabrique crée un Document sans fichier
    connexion.en_tant_que(monde.signataire)
    assert client.get(f"/documents/{demande.pieces_jointes[0].document_id}/telecharger").status_code == 404


# --- Archivage ---------------------------------------------------------------------------------------------


def test_archiver_garde_le_document_pour_les_demandes_qui_l_utilisent(client, connexion, db, monde):
    document = document_depose(client, connexion, db, monde)
    demande = joindre_et_transmettre(db, monde, document)
    connexion.en_tant_que(monde.contributeur)
    confirmation = client.get(f"/documents/{document.id}/archiver")
    html = texte(confirmation)
    assert confirmation.status_code == 200
    assert (
        titre(confirmation)
        == "Archiver « Statuts été 2024.pdf » — Porte-documents — Association des Jardins — Dauphin"
    )
    assert demande.numero in html and "les demandes qui l’utilisent déjà le gardent" in html
    assert db.session.get(Document, document.id).archive_le is None  # GET ne change rien

    reponse = client.post(f"/documents/{document.id}/archiver")
    assert reponse.status_code == 302
    db.session.expire_all()
    archive_le = db.session.get(Document, document.id).archive_le
    assert archive_le is not None
    # Envoyé une seconde fois (double clic, onglet resté ouvert) : il reste archivé depuis la même date.
    assert client.post(f"/documents/{document.id}/archiver").status_code == 302
    db.session.expire_all()
    assert db.session.get(Document, document.id).archive_le == archive_le
    page = texte(client.get(reponse.headers["Location"]))
    assert "est archivé" in page
    liste = page.split('id="titre-documents"')[1]
    assert "Statuts été 2024.pdf" not in liste and "Voir les documents archivés (1)" in liste
    avec_archives = texte(client.get(f"/documents/structure/{monde.structure.id}?archives=1"))
    assert "Statuts été 2024.pdf" in avec_archives and "Archivé le" in avec_archives
    assert "Masquer les documents archivés" in avec_archives
    # Toujours joint à la demande, toujours téléchargeable par le membre et par le financeur
    assert db.session.scalar(select(PieceJointe.id).where(PieceJointe.document_id == document.id))
    assert client.get(f"/documents/{document.id}/telecharger").status_code == 200
    connexion.deconnexion()
    connexion.en_tant_que(monde.instructeur_etat)
    assert client.get(f"/documents/{document.id}/telecharger").status_code == 200
    connexion.deconnexion()
    # … mais il ne se joint plus à une nouvelle demande, jusqu'à ce qu'on le remette
    nouvelle = demande_complete(monde, intitule="Autre action")
    with pytest.raises(service.DocumentIndisponible, match="a été archivé"):
        service.joindre(nouvelle, document.id)
    db.session.rollback()
    connexion.en_tant_que(monde.signataire)
    assert client.post(f"/documents/{document.id}/restaurer").status_code == 302
    db.session.expire_all()
    assert db.session.get(Document, document.id).archive_le is None
    assert service.joindre(db.session.get(Demande, nouvelle.id), document.id).document_id == document.id


def test_archiver_reserve_aux_membres_de_la_structure(client, connexion, db, monde):
    document = document_depose(client, connexion, db, monde)
    for qui in ("signataire_autre", "instructeur_etat", "admin_national"):
        connexion.en_tant_que(getattr(monde, qui))
        assert client.get(f"/documents/{document.id}/archiver").status_code == 404
        assert client.post(f"/documents/{document.id}/archiver").status_code == 404
        assert client.post(f"/documents/{document.id}/restaurer").status_code == 404
        connexion.deconnexion()
    db.session.expire_all()
    assert db.session.get(Document, document.id).archive_le is None
    assert client.post(f"/documents/{document.id}/archiver").status_code == 302  # anonyme : connexion


# --- API des pièces jointes (utilisée par le formulaire de demande) --------------------------------------


def test_joindre_et_detacher_des_pieces(db, monde):
    demande = demande_complete(monde)
    rib = service.stocker(monde.structure, TypePiece.rib, "rib.pdf", PDF, "application/pdf")
    ailleurs = service.stocker(monde.autre_structure, TypePiece.rib, "rib.pdf", PDF, "application/pdf")
    expire = service.stocker(
        monde.structure,
        TypePiece.autre,
        "attestation.pdf",
        PDF,
        "application/pdf",
        valable_jusqu_au=aujourdhui() - timedelta(days=1),
    )
    db.session.commit()
    assert service.documents_joignables(monde.structure.id, TypePiece.rib) == [rib]
    assert expire not in service.documents_joignables(monde.structure.id)
    piece = service.joindre(demande, rib.id)
    assert service.joindre(demande, rib.id) is piece  # deux fois : une seule pièce
    db.session.commit()
    assert {p.type_piece for p in demande.pieces_jointes} == {TypePiece.statuts, TypePiece.rib}
    with pytest.raises(service.DocumentIndisponible, match="pas dans le porte-documents"):
        service.joindre(demande, ailleurs.id)
    with pytest.raises(service.DocumentIndisponible, match="n’est plus valable"):
        service.joindre(demande, expire.id)
    assert service.detacher(demande, rib.id) is True
    db.session.commit()
    assert [p.type_piece for p in db.session.get(Demande, demande.id).pieces_jointes] == [TypePiece.statuts]
