"""Import des contrats de ville et des QPV depuis les fichiers CSV publics (data.gouv.fr, ANCT).

Le fichier est lu en entier, chaque ligne contrôlée ; les lignes valides sont ajoutées ou mises à jour
dans une seule transaction, avec une trace de l'import ; les lignes rejetées sont rendues avec leur
numéro (celui du tableur : l'en-tête est la ligne 1) et la raison. Un second import du même fichier
n'ajoute ni ne change rien. `simulation` : le rapport sans rien enregistrer.

Formats acceptés : séparateur virgule, point-virgule ou tabulation ; UTF-8 (avec ou sans BOM) ou
Windows-1252 ; noms de colonnes du fichier de l'ANCT (code_cv, libelle, siren_porteur, departement,
population_qpv — les autres colonnes, comme les coordonnées, sont ignorées) et de la liste des QPV
(code_qp, lib_qp, insee_dep, insee_com, siren_epci, et code_cv s'il est connu), ou leurs variantes
usuelles (voir COLONNES_*).
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from dataclasses import dataclass, field

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
    sans_contrat: int = 0  # QPV sans contrat de ville déterminé (ni code_cv, ni EPCI porteur unique)

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


def decoder(contenu: bytes) -> str:
    try:
        return contenu.decode("utf-8-sig")
    except UnicodeDecodeError:
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


def _controler_contrat(valeurs: dict, presentes: set) -> tuple[str, dict | str]:
    """(code, valeurs à enregistrer) ou (code, motif du rejet)."""
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
        vus: dict[str, int] = {}
        for numero, code, resultat in _lignes_controlees(lignes, _controler_contrat, presentes, rapport, vus):
            vus[code] = numero
            resultat["generation"] = generation
            _ajouter_ou_modifier(rapport, existants, code, resultat, ContratDeVille)
        _terminer(rapport, acteur, "contrats_de_ville")
        return rapport

    return _executer(operation, simulation)


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
    if rapport.simulation or not (rapport.ajoutes or rapport.modifies):
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


def _executer(operation, simulation: bool) -> Rapport:
    if not simulation:
        return en_une_transaction(operation)
    try:
        return operation()
    finally:
        db.session.rollback()
