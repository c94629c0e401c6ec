"""Import des contrats de ville et des QPV depuis les fichiers CSV publics (data.gouv.fr, ANCT).

Le fichier est lu en entier, chaque ligne contrôlée ; tout ou rien : si aucune ligne n'est rejetée, les
lignes sont ajoutées ou mises à jour dans une seule transaction, avec une trace de l'import ; sinon rien
n'est enregistré et les lignes rejetées sont rendues avec leur numéro (celui du tableur : l'en-tête est
la ligne 1) et la raison. Un second import du même fichier n'ajoute ni ne change rien. `simulation` : le
rapport (l'aperçu des changements) sans rien enregistrer.

Un contrat présent sur plusieurs lignes avec le même porteur et des départements différents (la CA du Pays
d'Aix, 13 et 84) est un seul contrat sur plusieurs départements : le premier est le principal, la
population est la somme. Un contrat de Corse sans département (libellé « NA - … » dans la liste de l'ANCT)
prend celui de son point (2A ou 2B, colonnes longitude et latitude).

Formats acceptés : séparateur virgule, point-virgule ou tabulation ; UTF-8 (avec ou sans BOM) ou
Windows-1252, pas les deux mélangés (le fichier est refusé avec les lignes en cause) ; noms de colonnes du
fichier de l'ANCT (code_cv, libelle, siren_porteur, departement,
population_qpv — les autres colonnes, comme les coordonnées, sont ignorées) et de la liste des QPV
(code_qp, lib_qp, insee_dep, insee_com, siren_epci, et code_cv s'il est connu), ou leurs variantes
usuelles (voir COLONNES_*).
"""

from __future__ import annotations

import base64
import csv
import io
import re
from collections import defaultdict
from dataclasses import dataclass, field

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from stdnum.fr import siren as stdnum_siren

from dauphin.extensions import db
from dauphin.models import ContratDeVille, Qpv, Utilisateur
from dauphin.services import audit
from dauphin.services.erreurs import Refus
from dauphin.unite_de_travail import en_une_transaction

# Départements : 01 à 95 (la Corse en 2A et 2B), puis outre-mer et collectivités d'outre-mer.
DEPARTEMENTS = frozenset(
    {f"{n:02d}" for n in range(1, 96) if n != 20}
    | {"2A", "2B"}
    | {"971", "972", "973", "974", "975", "976", "977", "978", "984", "986", "987", "988"}
)
CODE_CONTRAT = re.compile(r"[A-Z]{2,4}-?\d{1,6}[A-Z]?")
CODE_QPV = {
    2024: re.compile(r"QN(\d{3}|02A|02B)\d{2}[A-Z]"),  # QN07501M
    2015: re.compile(r"QP(\d{3}|02A|02B)\d{3}"),  # QP046001
}
CODE_COMMUNE = re.compile(r"(\d{5}|2[AB]\d{3})")
LIBELLE_MAX = 200
COMMUNES_MAX = 200

COLONNES_CONTRATS = {
    "code": ("code_cv", "code_contrat", "code"),
    "libelle": ("libelle", "lib_cv", "libelle_contrat", "nom"),
    "porteur": ("siren_porteur", "siren_epci", "siren", "code_porteur"),
    "departement": ("departement", "insee_dep", "code_departement", "dep"),
    "population": ("population_qpv", "population"),
    "longitude": ("longitude", "lon", "x"),
    "latitude": ("latitude", "lat", "y"),
}
COLONNES_QPV = {
    "code": ("code_qp", "code_qpv", "code_quartier", "code"),
    "libelle": ("lib_qp", "nom_qp", "libelle", "nom"),
    "departement": ("insee_dep", "departement", "code_departement", "dep"),
    "communes": ("insee_com", "code_insee", "communes_insee", "code_commune", "insee_commune"),
    "epci": ("siren_epci", "epci"),
    "contrat": ("code_cv", "code_contrat", "contrat"),
}
OBLIGATOIRES = ("code", "libelle", "departement")


def _illisible(message: str) -> Refus:
    """Le fichier entier est refusé (encodage, en-tête, colonnes obligatoires absentes)."""
    return Refus(message, "fichier")


RIEN_ENREGISTRE = (
    "Rien n’a été enregistré : corrigez les lignes rejetées dans le fichier, puis importez-le de nouveau."
)


@dataclass
class Rejet:
    ligne: int
    code: str
    motif: str


@dataclass
class Changement:
    code: str
    champs: dict  # {champ: [avant, après]}


@dataclass
class Rapport:
    nature: str  # « contrats » ou « qpv »
    fichier: str
    simulation: bool = False
    lignes: int = 0
    ajoutes: list[str] = field(default_factory=list)
    modifies: list[Changement] = field(default_factory=list)
    inchanges: int = 0
    rejets: list[Rejet] = field(default_factory=list)
    rien_enregistre = RIEN_ENREGISTRE  # la conclusion d'un import avec des lignes rejetées
    sans_contrat: int = 0  # QPV sans contrat de ville déterminé (ni code_cv, ni EPCI porteur unique)

    @property
    def enregistre(self) -> bool:
        """Tout ou rien : le fichier n'est enregistré que sans aucune ligne rejetée."""
        return not self.simulation and not self.rejets

    @property
    def changements(self) -> bool:
        return bool(self.ajoutes or self.modifies)

    @property
    def objet(self) -> str:
        return "contrats de ville" if self.nature == "contrats" else "quartiers prioritaires"

    def resume(self) -> str:
        return (
            f"{self.lignes} ligne(s) lue(s) : {len(self.ajoutes)} ajoutée(s), "
            f"{len(self.modifies)} modifiée(s), "
            f"{self.inchanges} inchangée(s), {len(self.rejets)} rejetée(s)."
        )

    def texte(self) -> str:
        """Le rapport pour la ligne de commande."""
        lignes = [
            f"Import des {self.objet} depuis {self.fichier}"
            + (" (simulation : rien n'est enregistré)" if self.simulation else ""),
            self.resume(),
        ]
        if self.rejets and not self.simulation:
            lignes.append(RIEN_ENREGISTRE)
        if self.ajoutes:
            lignes.append("Ajoutés : " + ", ".join(self.ajoutes))
        for changement in self.modifies:
            details = " ; ".join(f"{c} : {a!r} → {b!r}" for c, (a, b) in changement.champs.items())
            lignes.append(f"Modifié {changement.code} : {details}")
        if self.sans_contrat:
            lignes.append(f"{self.sans_contrat} quartier(s) sans contrat de ville déterminé.")
        for rejet in self.rejets:
            lignes.append(
                f"Ligne {rejet.ligne} rejetée{f' ({rejet.code})' if rejet.code else ''} : {rejet.motif}"
            )
        return "\n".join(lignes)


# --- Lecture du fichier --------------------------------------------------------------------------


def _numeros(numeros: list[int], limite: int = 10) -> str:
    texte = ", ".join(map(str, numeros[:limite]))
    return texte + (f" et {len(numeros) - limite} autre(s)" if len(numeros) > limite else "")


def decoder(contenu: bytes) -> str:
    """Le texte du fichier, en UTF-8 ou en Windows-1252. Un fichier où des lignes UTF-8 accentuées côtoient
    des lignes dans un autre encodage est refusé avec ces lignes : le lire d'un seul encodage brouillerait
    les libellés des autres (« AgglomÃ©ration »)."""
    try:
        return contenu.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    en_utf8, autres = [], []
    for numero, ligne in enumerate(contenu.removeprefix(b"\xef\xbb\xbf").split(b"\n"), start=1):
        if ligne.isascii():
            continue
        try:
            ligne.decode("utf-8")
            en_utf8.append(numero)
        except UnicodeDecodeError:
            autres.append(numero)
    if en_utf8:
        raise _illisible(
            f"Le fichier mélange deux encodages : la ou les lignes {_numeros(autres)} ne sont pas en UTF-8 "
            f"comme les lignes {_numeros(en_utf8)}. Enregistrez tout le fichier en CSV UTF-8, "
            "puis importez-le de nouveau."
        )
    try:
        return contenu.decode("cp1252")
    except UnicodeDecodeError:
        raise _illisible(
            "Le fichier n’est pas un texte lisible : enregistrez-le au format CSV (UTF-8)."
        ) from None


def lire_lignes(texte: str, colonnes: dict[str, tuple[str, ...]]):
    """(présentes, lignes) : les colonnes reconnues, puis (numéro, {colonne: valeur} | None si la ligne
    n'a pas le bon nombre de cellules, nombre de cellules)."""
    if "\x00" in texte:
        raise _illisible("Le fichier contient des caractères nuls : ce n’est pas un CSV texte.")
    premiere = texte.split("\n", 1)[0]
    separateur = max((";", ",", "\t"), key=premiere.count)
    lecteur = csv.reader(io.StringIO(texte, newline=""), delimiter=separateur)
    try:
        entete = next(lecteur)
    except StopIteration:
        raise _illisible("Le fichier est vide.") from None
    except csv.Error as erreur:
        raise _illisible(f"La première ligne du fichier est illisible : {erreur}.") from None
    noms = [nom.strip().lower().replace(" ", "_") for nom in entete]
    positions = {}
    for cle, alias in colonnes.items():
        position = next((noms.index(a) for a in alias if a in noms), None)
        if position is not None:
            positions[cle] = position
    absentes = [colonnes[cle][0] for cle in OBLIGATOIRES if cle not in positions]
    if absentes:
        raise _illisible(
            "Colonnes obligatoires absentes de la première ligne : "
            + ", ".join(absentes)
            + f". Colonnes trouvées : {', '.join(n for n in noms if n) or 'aucune'}."
        )

    def lignes():
        precedente = lecteur.line_num
        while True:
            try:
                cellules = next(lecteur)
            except StopIteration:
                return
            except csv.Error as erreur:
                yield precedente + 1, None, f"ligne illisible ({erreur})"
                precedente = lecteur.line_num
                continue
            numero, precedente = precedente + 1, lecteur.line_num
            if not any(c.strip() for c in cellules):
                continue
            if len(cellules) != len(entete):
                yield (
                    numero,
                    None,
                    f"{len(cellules)} cellule(s) au lieu de {len(entete)} : "
                    "vérifiez les séparateurs et les guillemets",
                )
                continue
            yield numero, {cle: cellules[i].strip() for cle, i in positions.items()}, None

    return set(positions), lignes()


def normaliser_departement(valeur: str) -> str:
    valeur = valeur.strip().upper()
    return valeur.zfill(2) if valeur.isdigit() and len(valeur) == 1 else valeur


def _commune_du_departement(code: str, departement: str) -> bool:
    return code.startswith(departement) if len(departement) == 3 else code[:2] == departement


# --- Contrats de ville ----------------------------------------------------------------------------


def _libelle_et_departement(valeurs: dict) -> tuple[str, str] | str:
    """(libellé, département) normalisés, communs aux contrats et aux quartiers, ou le motif du rejet."""
    libelle = " ".join(valeurs["libelle"].split())
    if not libelle:
        return "libellé manquant"
    if len(libelle) > LIBELLE_MAX:
        return f"libellé trop long ({len(libelle)} caractères, {LIBELLE_MAX} au plus)"
    departement = normaliser_departement(valeurs["departement"])
    if not departement:
        return "département manquant"
    if departement not in DEPARTEMENTS:
        return f"département « {valeurs['departement']} » inconnu"
    return libelle, departement


def _departement_corse(valeurs: dict) -> str | None:
    """2A ou 2B pour un point de Corse (la limite entre les deux départements suivie, à quelques
    kilomètres près, par la droite du golfe de Porto à Solenzara), sinon None."""
    try:
        longitude, latitude = float(valeurs.get("longitude", "")), float(valeurs.get("latitude", ""))
    except ValueError:
        return None
    if not (8.4 <= longitude <= 9.7 and 41.3 <= latitude <= 43.1):
        return None
    limite = 42.38 - (longitude - 8.6) * 0.45 / 0.8
    return "2A" if latitude < limite else "2B"


def _controler_contrat(valeurs: dict, presentes: set) -> tuple[str, dict | str]:
    """(code, valeurs à enregistrer) ou (code, motif du rejet)."""
    if not valeurs["departement"].strip() and (corse := _departement_corse(valeurs)):
        # La liste de l'ANCT laisse vides les départements de Corse et préfixe leurs libellés de « NA - ».
        valeurs = {
            **valeurs,
            "departement": corse,
            "libelle": re.sub(r"^NA\s*-", f"{corse} -", valeurs["libelle"]),
        }
    code = valeurs["code"].upper().replace(" ", "")
    if not code:
        return "", "code du contrat manquant"
    if not CODE_CONTRAT.fullmatch(code):
        return (
            code,
            f"code « {valeurs['code']} » mal formé : attendu des lettres puis un numéro, par exemple CV001",
        )
    controle = _libelle_et_departement(valeurs)
    if isinstance(controle, str):
        return code, controle
    libelle, departement = controle
    resultat = {"libelle": libelle, "departement": departement}
    if "porteur" in presentes:
        porteur = valeurs["porteur"].replace(" ", "").upper()
        if porteur and len(porteur) == 9:
            if not stdnum_siren.is_valid(porteur):
                return code, f"SIREN du porteur « {valeurs['porteur']} » invalide (clé de contrôle)"
        elif porteur and not (
            CODE_COMMUNE.fullmatch(porteur) and _commune_du_departement(porteur, departement)
        ):
            return code, (
                f"porteur « {valeurs['porteur']} » invalide : attendu le SIREN de l’EPCI (9 chiffres) "
                "ou le code "
                f"INSEE d’une commune du département {departement}"
            )
        resultat["siren_porteur"] = porteur or None
    if "population" in presentes:
        population = valeurs["population"].replace(" ", "").replace("\u202f", "").replace("\xa0", "")
        if population and not (population.isascii() and population.isdigit()):
            return code, f"population « {valeurs['population']} » invalide : attendu un nombre entier"
        resultat["population_qpv"] = int(population) if population else None
    return code, resultat


def importer_contrats(
    contenu: bytes,
    fichier: str,
    acteur: Utilisateur | None,
    *,
    generation: int = 2024,
    simulation: bool = False,
) -> Rapport:
    presentes, lignes = lire_lignes(decoder(contenu), COLONNES_CONTRATS)
    rapport = Rapport("contrats", fichier, simulation)

    def operation():
        existants = {c.code: c for c in db.session.scalars(select(ContratDeVille))}
        retenus: dict[str, tuple[int, dict]] = {}
        for numero, code, resultat in _lignes_controlees(lignes, _controler_contrat, presentes, rapport, {}):
            if code in retenus:
                motif = _autre_departement(code, *retenus[code], resultat)
                if motif:
                    rapport.rejets.append(Rejet(numero, code, motif))
                continue
            retenus[code] = numero, {**resultat, "autres_departements": None, "generation": generation}
        for code, (_, resultat) in retenus.items():
            _ajouter_ou_modifier(rapport, existants, code, resultat, ContratDeVille)
        _terminer(rapport, acteur, "contrats_de_ville")
        return rapport

    return _executer(operation, simulation)


def _autre_departement(code: str, premiere: int, contrat: dict, ligne: dict) -> str | None:
    """Ajoute au contrat lu ligne `premiere` le département d'une autre ligne du même code et du même
    porteur (un contrat sur plusieurs départements) ; sinon le motif du rejet de cette ligne."""
    porteur = contrat.get("siren_porteur")
    autres = [d for d in (contrat["autres_departements"] or "").split(",") if d]
    if (
        not porteur
        or ligne.get("siren_porteur") != porteur
        or ligne["departement"] in (contrat["departement"], *autres)
    ):
        return f"code {code} en double : déjà présent ligne {premiere}"
    contrat["autres_departements"] = ",".join([*autres, ligne["departement"]])
    if contrat.get("population_qpv") is not None and ligne.get("population_qpv") is not None:
        contrat["population_qpv"] += ligne["population_qpv"]
    return None


# --- Quartiers prioritaires -----------------------------------------------------------------------


def _controler_qpv(valeurs: dict, presentes: set) -> tuple[str, dict | str]:
    code = valeurs["code"].upper().replace(" ", "")
    if not code:
        return "", "code du quartier manquant"
    generation = next((g for g, motif in CODE_QPV.items() if motif.fullmatch(code)), None)
    if generation is None:
        return code, (
            f"code « {valeurs['code']} » mal formé : attendu QN, le département sur trois caractères, "
            "deux chiffres "
            "et une lettre (QN07501M), ou l’ancien format QP046001"
        )
    controle = _libelle_et_departement(valeurs)
    if isinstance(controle, str):
        return code, controle
    libelle, departement = controle
    attendu = departement.zfill(3) if len(departement) == 2 and departement.isdigit() else departement
    attendu = "0" + attendu if attendu in ("2A", "2B") else attendu
    if code[2:5] != attendu:
        return code, f"le code {code} désigne le département {code[2:5].lstrip('0')}, pas le {departement}"
    resultat = {"libelle": libelle, "departement": departement, "_generation": generation}
    if "communes" in presentes:
        communes = [c for c in re.split(r"[\s,;|/]+", valeurs["communes"].upper()) if c]
        for commune in communes:
            if not CODE_COMMUNE.fullmatch(commune) or not _commune_du_departement(commune, departement):
                return code, f"code commune « {commune} » invalide pour le département {departement}"
        texte = ",".join(dict.fromkeys(communes))
        if len(texte) > COMMUNES_MAX:
            return code, "trop de communes pour un seul quartier"
        resultat["communes_insee"] = texte or None
    resultat["_epci"] = valeurs.get("epci", "").replace(" ", "")
    resultat["_contrat"] = valeurs.get("contrat", "").upper().replace(" ", "")
    return code, resultat


def importer_qpv(
    contenu: bytes, fichier: str, acteur: Utilisateur | None, *, simulation: bool = False
) -> Rapport:
    """Le contrat de ville d'un quartier : la colonne code_cv si elle est remplie (contrat inconnu : ligne
    rejetée), sinon le contrat dont l'EPCI porteur (siren_epci) est celui du quartier, s'il est unique
    pour la génération du code (QN : 2024–2030, QP : 2015–2023). Sinon le rattachement existant reste."""
    presentes, lignes = lire_lignes(decoder(contenu), COLONNES_QPV)
    rapport = Rapport("qpv", fichier, simulation)

    def operation():
        contrats = {c.code: c for c in db.session.scalars(select(ContratDeVille))}
        par_porteur: dict[tuple[str, int], list[ContratDeVille]] = defaultdict(list)
        for contrat in contrats.values():
            if contrat.siren_porteur:
                par_porteur[(contrat.siren_porteur, contrat.generation)].append(contrat)
        existants = {q.code: q for q in db.session.scalars(select(Qpv))}
        vus: dict[str, int] = {}
        for numero, code, resultat in _lignes_controlees(lignes, _controler_qpv, presentes, rapport, vus):
            generation, epci, code_contrat = (resultat.pop(k) for k in ("_generation", "_epci", "_contrat"))
            if code_contrat:
                if code_contrat not in contrats:
                    rapport.rejets.append(
                        Rejet(
                            numero,
                            code,
                            f"contrat de ville {code_contrat} inconnu : importez d’abord les contrats",
                        )
                    )
                    continue
                resultat["contrat_id"] = contrats[code_contrat].id
            elif epci and len(par_porteur.get((epci, generation), [])) == 1:
                resultat["contrat_id"] = par_porteur[(epci, generation)][0].id
            elif code not in existants or existants[code].contrat_id is None:
                rapport.sans_contrat += 1
            vus[code] = numero
            _ajouter_ou_modifier(rapport, existants, code, resultat, Qpv)
        codes = {c.id: c.code for c in contrats.values()}
        for changement in rapport.modifies:  # le rapport nomme les contrats par leur code
            if "contrat_id" in changement.champs:
                changement.champs["contrat"] = [codes.get(i) for i in changement.champs.pop("contrat_id")]
        _terminer(rapport, acteur, "qpv")
        return rapport

    return _executer(operation, simulation)


# --- Commun ---------------------------------------------------------------------------------------


def _lignes_controlees(lignes, controler, presentes: set, rapport: Rapport, vus: dict[str, int]):
    """(numéro, code, valeurs) de chaque ligne lisible, valide et dont le code n'est pas déjà vu plus haut
    (`vus` : code → ligne, tenu par l'appelant) ; chaque autre ligne va au rapport comme rejet motivé."""
    for numero, valeurs, probleme in lignes:
        rapport.lignes += 1
        if valeurs is None:
            rapport.rejets.append(Rejet(numero, "", probleme))
            continue
        code, resultat = controler(valeurs, presentes)
        if isinstance(resultat, str):
            rapport.rejets.append(Rejet(numero, code, resultat))
        elif code in vus:
            rapport.rejets.append(
                Rejet(numero, code, f"code {code} en double : déjà présent ligne {vus[code]}")
            )
        else:
            yield numero, code, resultat


def _ajouter_ou_modifier(rapport: Rapport, existants: dict, code: str, valeurs: dict, modele) -> None:
    objet = existants.get(code)
    if objet is None:
        objet = modele(code=code)
        for nom, valeur in valeurs.items():
            setattr(objet, nom, valeur)
        db.session.add(objet)
        existants[code] = objet
        rapport.ajoutes.append(code)
        return
    changes = audit.ecarts({nom: getattr(objet, nom) for nom in valeurs}, valeurs)
    if not changes:
        rapport.inchanges += 1
        return
    for nom in changes:
        setattr(objet, nom, valeurs[nom])
    rapport.modifies.append(Changement(code, changes))


def _terminer(rapport: Rapport, acteur, objet_type: str) -> None:
    if not rapport.enregistre or not rapport.changements:
        return
    audit.tracer(
        acteur,
        objet_type,
        "import",
        "importer",
        f"Import des {rapport.objet} ({rapport.fichier}) : {rapport.resume()}",
        {
            "fichier": rapport.fichier,
            "ajoutes": rapport.ajoutes,
            "modifies": {c.code: c.champs for c in rapport.modifies},
            "rejets": len(rapport.rejets),
        },
    )


class _Rejete(Exception):
    """Interrompt la transaction d'un import dont des lignes sont rejetées : tout ou rien."""

    def __init__(self, rapport: Rapport):
        self.rapport = rapport


def _executer(operation, simulation: bool) -> Rapport:
    if simulation:
        try:
            return operation()
        finally:
            db.session.rollback()

    def tout_ou_rien():
        rapport = operation()
        if rapport.rejets:
            raise _Rejete(rapport)
        return rapport

    try:
        return en_une_transaction(tout_ou_rien)
    except _Rejete as rejet:
        return rejet.rapport


# --- Aperçu puis confirmation (écran d'administration) --------------------------------------------

# Entre l'aperçu et la confirmation, le fichier voyage dans la page, compressé et signé avec la clé secrète de
# l'application : aucun serveur n'a à le garder (plusieurs serveurs d'application se partagent la base), et un
# contenu modifié dans la page, ou un aperçu de plus d'une heure, est refusé.
APERCU_DUREE = 3600
APERCU_PERIME = "L’aperçu a expiré ou a été modifié : choisissez de nouveau le fichier."


def _sceau() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="import-referentiel")


def sceller(nature: str, contenu: bytes, fichier: str, options: dict) -> str:
    """Le fichier aperçu, signé, à renvoyer avec « Confirmer l'import »."""
    paquet = {"nature": nature, "contenu": base64.b64encode(contenu).decode(), "fichier": fichier, **options}
    return _sceau().dumps(paquet)


def desceller(nature: str, sceau: str) -> tuple[bytes, str, dict]:
    """(contenu, nom du fichier, options) d'un aperçu scellé par `sceller` ; Refus : périmé ou altéré."""
    try:
        paquet = _sceau().loads(sceau, max_age=APERCU_DUREE)
    except (BadSignature, SignatureExpired):
        raise _illisible(APERCU_PERIME) from None
    if paquet.pop("nature") != nature:
        raise _illisible(APERCU_PERIME)
    return base64.b64decode(paquet.pop("contenu")), paquet.pop("fichier"), paquet
