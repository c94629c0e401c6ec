"""Exports de la programmation en XLSX (XlsxWriter, `constant_memory`) et en CSV (Excel français).

Les lignes arrivent d'un itérateur (`services.programmation.iterer_lignes…`, curseur côté serveur) et
partent aussitôt dans le fichier : en XLSX, `constant_memory` écrit chaque rangée terminée sur disque ; en
CSV, chaque rangée est un morceau de la réponse. La mémoire reste bornée quel que soit le nombre de lignes.

Injection de formules : en CSV, une cellule de texte qui commence par = + - @ (ou tabulation, retour
chariot) serait interprétée par un tableur ; elle est préfixée d'une apostrophe. En XLSX, chaque texte est
écrit comme une cellule de texte (`write_string`, jamais évaluée) : il reste tel quel, sans apostrophe
visible (« =Jardins » et non « '=Jardins »). Les montants
sont des nombres (format monétaire en XLSX ; virgule décimale en CSV, que l'Excel français lit comme un
nombre), jamais du texte.
"""

from __future__ import annotations

import csv
import io
import re
import secrets
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import IO, Any

import xlsxwriter

from dauphin.jobs import lancer
from dauphin.services.programmation import (
    CHAMPS,
    LIBELLES_CHAMPS,
    Financeur,
    LigneProgrammation,
    Montants,
    Programmation,
    financeurs_nationaux,
    iterer_lignes_nationales,
)
from dauphin.stockage import stockage

DEBUTS_DANGEREUX = ("=", "+", "-", "@", "\t", "\r")
FORMAT_EUROS = '#,##0.00 "€"'
BOM = "\ufeff"


def echapper(texte: Any) -> str:
    """Un texte sûr pour un tableur : jamais lu comme une formule."""
    texte = "" if texte is None else str(texte)
    return "'" + texte if texte.startswith(DEBUTS_DANGEREUX) else texte


def entetes(financeurs: list[Financeur], national: bool = False) -> list[str]:
    colonnes = ["Numéro"]
    if national:
        colonnes += ["Contrat de ville", "Code du contrat", "Département"]
    colonnes += ["Structure", "SIRET", "Intitulé de l’action", "Thématique", "Pilier", "QPV", "Statut"]
    for financeur in financeurs:
        colonnes += [f"{financeur.nom} — {LIBELLES_CHAMPS[c]}" for c in CHAMPS]
    colonnes += [f"Total {LIBELLES_CHAMPS[c]}" for c in CHAMPS]
    return colonnes


def _textes(ligne: LigneProgrammation, national: bool) -> list[str]:
    """Les textes de la ligne, tels quels (`echapper` les protège pour le CSV)."""
    valeurs = [ligne.numero]
    if national:
        valeurs += [ligne.contrat_libelle, ligne.contrat_code, ligne.departement]
    thematique = (
        f"{ligne.thematique_code} — {ligne.thematique_libelle}" if ligne.thematique_code else "Non renseignée"
    )
    valeurs += [
        ligne.structure,
        ligne.siret,
        ligne.intitule,
        thematique,
        ligne.pilier_code or "",
        ", ".join(ligne.qpvs),
        ligne.statut.libelle,
    ]
    return ["" if v is None else str(v) for v in valeurs]


def _montants(ligne: LigneProgrammation, financeurs: list[Financeur]) -> list[Decimal]:
    valeurs: list[Decimal] = []
    for financeur in financeurs:
        m = ligne.montants.get(financeur.cle, Montants())
        valeurs += [getattr(m, c) for c in CHAMPS]
    return valeurs + [getattr(ligne.total, c) for c in CHAMPS]


# --- XLSX -----------------------------------------------------------------------------------------


def ecrire_xlsx(
    destination: str | IO[bytes],
    financeurs: list[Financeur],
    lignes: Iterable[LigneProgrammation],
    *,
    titre: str,
    national: bool = False,
    synthese: Programmation | None = None,
) -> int:
    """Écrit le classeur ; rend le nombre de demandes écrites."""
    classeur = xlsxwriter.Workbook(destination, {"constant_memory": True, "strings_to_formulas": False})
    try:
        gras = classeur.add_format({"bold": True, "text_wrap": True, "valign": "top"})
        euros = classeur.add_format({"num_format": FORMAT_EUROS})
        euros_gras = classeur.add_format({"num_format": FORMAT_EUROS, "bold": True})
        feuille = classeur.add_worksheet("Programmation")
        colonnes = entetes(financeurs, national)
        nb_textes = len(colonnes) - 4 * (len(financeurs) + 1)
        feuille.write_string(0, 0, titre, gras)
        for c, libelle in enumerate(colonnes):
            feuille.write_string(1, c, libelle, gras)
            feuille.set_column(c, c, 14 if c >= nb_textes else (36 if "Intitulé" in libelle else 18))
        feuille.freeze_panes(2, 1)
        totaux = [Decimal("0")] * (len(colonnes) - nb_textes)
        rang = 1
        for ligne in lignes:
            rang += 1
            for c, texte in enumerate(_textes(ligne, national)):
                feuille.write_string(rang, c, texte)
            for i, montant in enumerate(_montants(ligne, financeurs)):
                feuille.write_number(rang, nb_textes + i, float(montant), euros)
                totaux[i] += montant
        nombre = rang - 1
        feuille.autofilter(1, 0, max(rang, 1), len(colonnes) - 1)
        rang += 1
        feuille.write_string(rang, 0, f"Total ({nombre} demande{'s' if nombre > 1 else ''})", gras)
        for i, montant in enumerate(totaux):
            feuille.write_number(rang, nb_textes + i, float(montant), euros_gras)
        if synthese is not None:
            _feuille_synthese(classeur, synthese, gras, euros, euros_gras)
    finally:
        classeur.close()
    return nombre


def _feuille_synthese(classeur, programmation: Programmation, gras, euros, euros_gras) -> None:
    feuille = classeur.add_worksheet("Synthèse")
    feuille.set_column(0, 0, 40)
    feuille.set_column(1, 6, 16)

    def tableau(rang: int, titre: str, colonnes: list[str]) -> int:
        """Écrit le titre (à `rang`) et la ligne d'en-tête d'un tableau ; rend le rang de l'en-tête."""
        feuille.write_string(rang, 0, titre, gras)
        for c, libelle in enumerate(colonnes):
            feuille.write_string(rang + 1, c, libelle, gras)
        return rang + 1

    rang = tableau(0, "Totaux par financeur", ["Financeur", "Demandé", "Proposé", "Voté", "Versé"])
    for financeur in programmation.financeurs:
        rang += 1
        m = programmation.totaux_financeurs.get(financeur.cle, Montants())
        feuille.write_string(rang, 0, financeur.nom)
        for c, champ in enumerate(CHAMPS, start=1):
            feuille.write_number(rang, c, float(getattr(m, champ)), euros)
    rang = tableau(
        rang + 2,
        "Totaux par pilier thématique",
        ["Pilier", "Demandes", "Demandé", "Proposé", "Voté", "Versé"],
    )
    for pilier in programmation.piliers:
        rang += 1
        feuille.write_string(rang, 0, f"{pilier.code or '—'} {pilier.libelle}")
        feuille.write_number(rang, 1, pilier.nombre)
        for c, champ in enumerate(CHAMPS, start=2):
            feuille.write_number(rang, c, float(getattr(pilier.montants, champ)), euros)
    rang = tableau(
        rang + 2,
        "Consommation des enveloppes (toute la campagne)",
        ["Financeur", "Enveloppe", "Engagé (voté)", "Versé", "Reste à voter"],
    )
    for enveloppe in programmation.enveloppes:
        rang += 1
        feuille.write_string(rang, 0, enveloppe.organisation)
        for c, valeur in enumerate(
            (enveloppe.total, enveloppe.engage, enveloppe.verse, enveloppe.reste), start=1
        ):
            feuille.write_number(rang, c, float(valeur), euros_gras if c == 4 else euros)


# --- CSV ------------------------------------------------------------------------------------------


def _nombre_fr(montant: Decimal) -> str:
    return f"{montant:.2f}".replace(".", ",")


class _Tampon:
    """Ce que `csv.writer` écrit, rendu morceau par morceau."""

    def __init__(self):
        self.morceau = ""

    def write(self, texte: str) -> None:
        self.morceau += texte

    def vider(self) -> str:
        morceau, self.morceau = self.morceau, ""
        return morceau


def iterer_csv(
    financeurs: list[Financeur], lignes: Iterable[LigneProgrammation], *, national: bool = False
) -> Iterator[str]:
    """Le CSV morceau par morceau : BOM UTF-8 (Excel reconnaît l'encodage), séparateur « ; »."""
    tampon = _Tampon()
    ecrivain = csv.writer(tampon, delimiter=";", lineterminator="\r\n")
    ecrivain.writerow([echapper(e) for e in entetes(financeurs, national)])
    yield BOM + tampon.vider()
    lot = 0
    for ligne in lignes:
        textes = [echapper(t) for t in _textes(ligne, national)]
        ecrivain.writerow(textes + [_nombre_fr(m) for m in _montants(ligne, financeurs)])
        lot += 1
        if lot == 200:  # des morceaux de taille raisonnable pour le réseau
            yield tampon.vider()
            lot = 0
    if tampon.morceau:
        yield tampon.vider()


def ecrire_csv(
    destination: IO[bytes],
    financeurs: list[Financeur],
    lignes: Iterable[LigneProgrammation],
    *,
    national: bool = False,
) -> None:
    texte = io.TextIOWrapper(destination, encoding="utf-8", newline="")
    try:
        for morceau in iterer_csv(financeurs, lignes, national=national):
            texte.write(morceau)
    finally:
        texte.flush()
        texte.detach()


# --- Export national : une tâche écrit le fichier, puis un lien de téléchargement --------------------

FORMATS = ("xlsx", "csv")
NOM_EXPORT = re.compile(r"programmation-(\d{4})-(\d{8}T\d{6})-([0-9a-f]{8})\.(xlsx|csv)")
PARTIEL, ERREUR = ".partiel", ".erreur"
CONSERVATION = timedelta(days=7)


@dataclass(frozen=True)
class FichierExport:
    nom: str
    exercice: int
    format: str
    cree_le: datetime
    etat: str  # pret | en_cours | erreur
    taille: int = 0
    message: str = ""


DOSSIER = "exports/"


def demander_export_national(exercice: int, format_: str) -> str:
    """Réserve le nom du fichier et lance la tâche (RQ, ou sur place sans Redis). Rend le nom."""
    if format_ not in FORMATS:
        raise ValueError(f"Format inconnu : {format_}")
    horodatage = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    nom = f"programmation-{exercice}-{horodatage}-{secrets.token_hex(4)}.{format_}"
    stockage().ecrire(DOSSIER + nom + PARTIEL, b"")  # « en préparation » dès maintenant
    lancer("dauphin.taches.exporter_programmation_nationale", exercice, format_, nom)
    return nom


def produire_export_national(exercice: int, format_: str, nom: str) -> int:
    """Écrit l'export dans un fichier temporaire local, puis le range sous son nom (le `.partiel` qui
    annonçait sa préparation disparaît ensuite) : un fichier visible est complet."""
    if not NOM_EXPORT.fullmatch(nom):
        raise ValueError(f"Nom d'export invalide : {nom}")
    try:
        financeurs = financeurs_nationaux(exercice)
        lignes = iterer_lignes_nationales(exercice, financeurs)
        with tempfile.TemporaryFile() as fichier:
            if format_ == "xlsx":
                nombre = ecrire_xlsx(
                    fichier,
                    financeurs,
                    lignes,
                    titre=f"Programmation nationale — exercice {exercice} (montants par type de financeur)",
                    national=True,
                )
            else:
                compteur = _Compteur(lignes)
                ecrire_csv(fichier, financeurs, compteur, national=True)
                nombre = compteur.n
            fichier.seek(0)
            stockage().ecrire(DOSSIER + nom, fichier)
        stockage().supprimer(DOSSIER + nom + PARTIEL)
        return nombre
    except Exception as erreur:
        stockage().ecrire(DOSSIER + nom + ERREUR, f"{type(erreur).__name__} : {erreur}".encode())
        stockage().supprimer(DOSSIER + nom + PARTIEL)
        raise


class _Compteur:
    def __init__(self, lignes):
        self.lignes, self.n = lignes, 0

    def __iter__(self):
        for ligne in self.lignes:
            self.n += 1
            yield ligne


def exports_nationaux() -> list[FichierExport]:
    """Les exports rangés, du plus récent au plus ancien ; ceux de plus de 7 jours sont effacés."""
    limite = datetime.now(UTC) - CONSERVATION
    objets = {objet.cle.removeprefix(DOSSIER): objet for objet in stockage().lister(DOSSIER)}
    resultat = []
    for fichier, objet in objets.items():
        nom, suffixe = fichier, ""
        for s in (PARTIEL, ERREUR):
            if nom.endswith(s):
                nom, suffixe = nom[: -len(s)], s
        trouve = NOM_EXPORT.fullmatch(nom)
        if not trouve:
            continue
        cree_le = datetime.strptime(trouve.group(2), "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
        if cree_le < limite:
            stockage().supprimer(objet.cle)
            continue
        if suffixe == ERREUR:
            etat, message = "erreur", stockage().lire(objet.cle).decode("utf-8", "replace")[:500]
        elif suffixe == PARTIEL:
            if nom + ERREUR in objets or nom in objets:
                continue
            etat, message = "en_cours", ""
        else:
            etat, message = "pret", ""
        resultat.append(
            FichierExport(nom, int(trouve.group(1)), trouve.group(4), cree_le, etat, objet.taille, message)
        )
    return sorted(resultat, key=lambda f: (f.cree_le, f.nom), reverse=True)


def cle_export(nom: str) -> str | None:
    """La clé de l'export prêt de ce nom dans le stockage, ou None (nom invalide, absent, pas terminé)."""
    if not NOM_EXPORT.fullmatch(nom):
        return None
    cle = DOSSIER + nom
    return cle if stockage().existe(cle) else None
