"""Données de démonstration : deux contrats de ville, leurs partenaires, des structures, un compte par
rôle et des demandes dans chaque statut — amenées là par les vraies transitions (journal compris).

Idempotent : si les contrats de démonstration existent déjà, rien n'est ajouté.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from stdnum import iban, luhn

from dauphin.extensions import db
from dauphin.models import (
    Campagne,
    CompteBancaire,
    ContratDeVille,
    Demande,
    Enveloppe,
    FormeJuridique,
    LigneBudget,
    MembreOrganisation,
    MembreStructure,
    Organisation,
    PartenaireContrat,
    PieceJointe,
    PieceRequise,
    Pilotage,
    Qpv,
    QuestionEligibilite,
    ReponseEligibilite,
    RoleOrganisation,
    RoleStructure,
    Structure,
    TypeOrganisation,
    TypePiece,
    Utilisateur,
    maintenant,
)
from dauphin.seeds.referentiel import charger_nomenclature
from dauphin.services import comites, comptes_rendus, documents, engagements
from dauphin.services.workflow import aujourdhui, declencher_demande, declencher_ligne
from workflows import StatutDemande, StatutLigne

MOT_DE_PASSE = "Dauphin-demo-2026"
# La double authentification est obligatoire pour l'administration nationale : le compte de démonstration
# l'a déjà, avec ce secret publié dans le README (`make code-demo` affiche le code du moment). Uniquement pour
# la démonstration : un vrai compte tire son secret au hasard en l'activant.
SECRET_TOTP_DEMO = "DAUPHINDEMONATIONALADMINSECRET23"
DOMAINE = "demo.dauphin.fr"
PIECES_REQUISES = (TypePiece.statuts, TypePiece.rib, TypePiece.comptes_approuves)
# Un PDF minimal mais valide, pour que les pièces de démonstration s'ouvrent.
PDF_DEMO = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj "
    b"3 0 obj<</Type/Page/MediaBox[0 0 595 842]/Parent 2 0 R>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


def siret_depuis(base8: str, etablissement: str = "0001") -> str:
    siren = base8 + luhn.calc_check_digit(base8)
    corps = siren + etablissement
    return corps + luhn.calc_check_digit(corps)


def iban_depuis(bban: str) -> str:
    return "FR" + iban.calc_check_digits("FR00" + bban) + bban


@dataclass(frozen=True)
class ContratDemo:
    code: str
    libelle: str
    siren: str
    departement: str
    population: int
    prefecture: str
    commune: str
    epci: str
    conseil: str
    caf: str
    qpvs: tuple[tuple[str, str, str], ...]  # code, libellé, code INSEE


CONTRATS = (
    ContratDemo(
        "CV2024-059-01",
        "59 - Métropole Européenne de Lille",
        "245900410",
        "59",
        207382,
        "Préfecture du Nord (État – P147)",
        "Ville de Lille",
        "Métropole Européenne de Lille",
        "Département du Nord",
        "Caisse d’allocations familiales du Nord",
        (
            ("QN05901M", "Lille-Sud", "59350"),
            ("QN05902M", "Moulins", "59350"),
            ("QN05903M", "Faubourg de Béthune", "59350"),
        ),
    ),
    ContratDemo(
        "CV2024-030-01",
        "30 - CA de Nîmes Métropole",
        "243000643",
        "30",
        42093,
        "Préfecture du Gard (État – P147)",
        "Ville de Nîmes",
        "Nîmes Métropole",
        "Département du Gard",
        "Caisse d’allocations familiales du Gard",
        (
            ("QN03001M", "Pissevin – Valdegour", "30189"),
            ("QN03002M", "Chemin-Bas d’Avignon – Clos d’Orville", "30189"),
            ("QN03003M", "Mas de Mingue", "30189"),
        ),
    ),
)


def _calendrier() -> list[tuple[int, date, date]]:
    """Trois campagnes autour d'aujourd'hui : deux exercices passés et celle de l'an prochain, ouverte."""
    annee = aujourdhui().year
    return [
        (annee - 1, date(annee - 2, 11, 4), date(annee - 1, 1, 31)),
        (annee, date(annee - 1, 11, 3), date(annee, 1, 30)),
        (annee + 1, aujourdhui() - timedelta(days=20), aujourdhui() + timedelta(days=70)),
    ]


def _utilisateur(email: str, prenom: str, nom: str, **champs) -> Utilisateur:
    utilisateur = Utilisateur(
        email=f"{email}@{DOMAINE}", prenom=prenom, nom=nom, email_confirme_le=maintenant(), **champs
    )
    utilisateur.definir_mot_de_passe(MOT_DE_PASSE)
    db.session.add(utilisateur)
    return utilisateur


# SIRET (fictifs, clé de Luhn valide) des financeurs : l'identifiant de l'attribuant de leurs données ouvertes
SIRETS_FINANCEURS = {
    "Préfecture du Nord (État – P147)": siret_depuis("17590001"),
    "Ville de Lille": siret_depuis("21590350"),
    "Métropole Européenne de Lille": siret_depuis("24590041"),
    "Département du Nord": siret_depuis("22590001"),
    "Caisse d’allocations familiales du Nord": siret_depuis("78359001"),
    "Préfecture du Gard (État – P147)": siret_depuis("17300001"),
    "Ville de Nîmes": siret_depuis("21300189"),
    "Nîmes Métropole": siret_depuis("24300064"),
    "Département du Gard": siret_depuis("22300001"),
    "Caisse d’allocations familiales du Gard": siret_depuis("78330001"),
}


def _organisation(nom: str, type_organisation: TypeOrganisation, departement: str) -> Organisation:
    organisation = db.session.scalar(select(Organisation).where(Organisation.nom == nom))
    if organisation is None:
        siret = SIRETS_FINANCEURS.get(nom)
        organisation = Organisation(
            nom=nom,
            type_organisation=type_organisation,
            departement=departement,
            siret=siret,
            siren=siret[:9] if siret else None,
        )
        db.session.add(organisation)
    return organisation


def charger_demo() -> str:
    if db.session.scalar(select(ContratDeVille).where(ContratDeVille.code == CONTRATS[0].code)):
        return "Données de démonstration déjà présentes : rien n’a été ajouté."
    charger_nomenclature()
    contrats, financeurs = [], []
    for modele in CONTRATS:
        contrat = ContratDeVille(
            code=modele.code,
            libelle=modele.libelle,
            siren_porteur=modele.siren,
            departement=modele.departement,
            population_qpv=modele.population,
            generation=2024,
        )
        organisations = {
            "etat": _organisation(modele.prefecture, TypeOrganisation.etat, modele.departement),
            "commune": _organisation(modele.commune, TypeOrganisation.commune, modele.departement),
            "epci": _organisation(modele.epci, TypeOrganisation.epci, modele.departement),
            "departement": _organisation(modele.conseil, TypeOrganisation.departement, modele.departement),
            "caf": _organisation(modele.caf, TypeOrganisation.caf, modele.departement),
        }
        db.session.add(contrat)
        db.session.flush()
        for organisation in organisations.values():
            db.session.add(PartenaireContrat(contrat_id=contrat.id, organisation_id=organisation.id))
        for code, libelle, insee in modele.qpvs:
            db.session.add(
                Qpv(
                    code=code,
                    libelle=libelle,
                    departement=modele.departement,
                    communes_insee=insee,
                    contrat_id=contrat.id,
                )
            )
        for exercice, ouverture, cloture in _calendrier():
            campagne = Campagne(
                contrat_id=contrat.id,
                exercice=exercice,
                date_ouverture=ouverture,
                date_cloture=cloture,
                libelle=f"Appel à projets {exercice} — {modele.libelle.split(' - ', 1)[1]}",
                description="Actions en faveur des habitants des quartiers prioritaires du contrat.",
            )
            campagne.questions_eligibilite = [
                QuestionEligibilite(
                    ordre=1,
                    reponse_attendue=True,
                    libelle="L’action bénéficie-t-elle principalement aux habitants des "
                    "quartiers prioritaires ?",
                ),
                QuestionEligibilite(
                    ordre=2,
                    reponse_attendue=False,
                    libelle="L’action relève-t-elle du fonctionnement courant de la structure ?",
                ),
            ]
            campagne.pieces_requises = [PieceRequise(type_piece=t) for t in PIECES_REQUISES]
            campagne.enveloppes = [
                Enveloppe(organisation_id=organisations["etat"].id, montant=Decimal("450000")),
                Enveloppe(organisation_id=organisations["commune"].id, montant=Decimal("180000")),
                Enveloppe(organisation_id=organisations["epci"].id, montant=Decimal("120000")),
                Enveloppe(organisation_id=organisations["departement"].id, montant=Decimal("60000")),
                Enveloppe(organisation_id=organisations["caf"].id, montant=Decimal("40000")),
            ]
            db.session.add(campagne)
        contrats.append(contrat)
        financeurs.append(organisations)
    db.session.flush()

    comptes = _comptes(contrats, financeurs)
    structures = _structures(comptes)
    db.session.commit()
    _demandes(contrats, financeurs, structures, comptes)
    return (
        f"Données de démonstration chargées : {len(contrats)} contrats de ville, "
        f"{len(structures)} structures, {db.session.query(Demande).count()} demandes. "
        f"Mot de passe de tous les comptes : {MOT_DE_PASSE} ; code de double authentification de "
        f"admin@{DOMAINE} : make code-demo"
    )


def _comptes(contrats, financeurs) -> dict[str, Utilisateur]:
    c = {
        "admin": _utilisateur(
            "admin",
            "Nadia",
            "Rahmani",
            administrateur_national=True,
            totp_secret=SECRET_TOTP_DEMO,
            totp_active_le=maintenant(),
        ),
        "pilote": _utilisateur("pilote", "Thomas", "Lefebvre"),
        "porteur.admin": _utilisateur("porteur.admin", "Claire", "Martin"),
        "porteur.signataire": _utilisateur("porteur.signataire", "Karim", "Benali"),
        "porteur.contributeur": _utilisateur("porteur.contributeur", "Julie", "Petit"),
        "partenaire": _utilisateur("partenaire.caf", "Sophie", "Durand"),
    }
    db.session.flush()
    # Un instructeur par financeur ; ceux de Lille ont des adresses faciles à retenir.
    noms = {"etat": "etat", "commune": "ville", "epci": "epci", "departement": "departement", "caf": "caf"}
    personnes = iter(
        [
            ("Marion", "Leroy"),
            ("Paul", "Garnier"),
            ("Inès", "Moreau"),
            ("Hugo", "Lambert"),
            ("Léa", "Fontaine"),
            ("Samir", "Haddad"),
            ("Chloé", "Roux"),
            ("Bruno", "Masson"),
        ]
    )
    for index, organisations in enumerate(financeurs):
        suffixe = "" if index == 0 else f".{contrats[index].departement}"
        for cle, organisation in organisations.items():
            if cle == "caf":
                continue  # la CAF est partenaire : elle lit, note et vote, sans ligne instruite ici
            compte = _utilisateur(f"instructeur.{noms[cle]}{suffixe}", *next(personnes))
            db.session.flush()
            db.session.add(
                MembreOrganisation(
                    utilisateur_id=compte.id,
                    organisation_id=organisation.id,
                    role=RoleOrganisation.instructeur,
                )
            )
            c[f"instructeur.{cle}.{index}"] = compte
        db.session.add(
            Pilotage(
                utilisateur_id=c["pilote"].id,
                contrat_id=contrats[index].id,
                organisation_id=organisations["epci"].id,
            )
        )
    db.session.add(
        MembreOrganisation(
            utilisateur_id=c["partenaire"].id,
            organisation_id=financeurs[0]["caf"].id,
            role=RoleOrganisation.partenaire,
        )
    )
    return c


STRUCTURES = (
    # base SIREN (8 chiffres), raison sociale, sigle, forme, commune, INSEE, contrat (index)
    ("77567227", "Association Lien Sud", "ALS", FormeJuridique.association, "Lille", "59350", 0),
    ("41234567", "Régie de quartier Moulins Services", None, FormeJuridique.association, "Lille", "59350", 0),
    ("52345678", "Sport et Citoyenneté Pissevin", "SCP", FormeJuridique.association, "Nîmes", "30189", 1),
    ("63456789", "Centre social du Mas de Mingue", None, FormeJuridique.association, "Nîmes", "30189", 1),
)


def _structures(comptes) -> list[Structure]:
    structures = []
    for index, (base, raison, sigle, forme, commune, insee, _) in enumerate(STRUCTURES):
        structure = Structure(
            siret=siret_depuis(base),
            siren=siret_depuis(base)[:9],
            rna=f"W{59 + index:02d}{1000000 + index:07d}",
            raison_sociale=raison,
            sigle=sigle,
            forme_juridique=forme,
            adresse=f"{12 + index} rue de la République",
            code_postal="59000" if insee == "59350" else "30000",
            commune=commune,
            code_insee=insee,
            email=f"contact{index}@{DOMAINE}",
            representant_nom="Benali" if index == 0 else f"Président{index}",
            representant_prenom="Karim" if index == 0 else "Alex",
            representant_qualite="Président",
            nb_benevoles=25 + index * 5,
            nb_salaries=3 + index,
            etp_salaries=Decimal("2.5") + index,
            nb_adherents=120 + 10 * index,
        )
        structure.comptes_bancaires = [
            CompteBancaire(
                titulaire=raison,
                iban=iban_depuis(f"3000200550{index:011d}{index:02d}"),
                bic="CRLYFRPPXXX",
                domiciliation="Crédit Lyonnais",
            )
        ]
        db.session.add(structure)
        db.session.flush()
        if index == 0:
            membres = [
                (comptes["porteur.admin"], RoleStructure.contributeur, True),
                (comptes["porteur.signataire"], RoleStructure.signataire, False),
                (comptes["porteur.contributeur"], RoleStructure.contributeur, False),
            ]
        else:
            signataire = _utilisateur(f"signataire.structure{index + 1}", "Alex", f"Président{index}")
            db.session.flush()
            membres = [(signataire, RoleStructure.signataire, True)]
            comptes[f"signataire.{index}"] = signataire
        for utilisateur, role, administrateur in membres:
            db.session.add(
                MembreStructure(
                    utilisateur_id=utilisateur.id,
                    structure_id=structure.id,
                    role=role,
                    administrateur=administrateur,
                )
            )
        for type_piece in PIECES_REQUISES:
            documents.stocker(structure, type_piece, f"{type_piece.value}.pdf", PDF_DEMO, "application/pdf")
        structures.append(structure)
    db.session.flush()
    return structures


def _brouillon(
    structure,
    campagne,
    intitule,
    financeurs: dict[Organisation, Decimal],
    qpv: Qpv,
    thematique: str,
    createur: Utilisateur,
    complet: bool = True,
) -> Demande:
    demande = Demande(
        structure_id=structure.id,
        campagne_id=campagne.id,
        exercice=campagne.exercice,
        intitule=intitule,
        cree_par_id=createur.id,
        statut=StatutDemande.brouillon,
    )
    db.session.add(demande)
    if not complet:
        demande.objectifs = "À préciser avec les partenaires."
        db.session.commit()
        return demande
    total_subventions = sum(financeurs.values(), Decimal("0"))
    autofinancement = Decimal("1500")
    total = total_subventions + autofinancement
    personnel = (total * Decimal("0.6")).quantize(Decimal("1"))
    achats = (total * Decimal("0.15")).quantize(Decimal("1"))
    indirects = (total * Decimal("0.1")).quantize(Decimal("1"))
    services = total - personnel - achats - indirects
    demande.responsable_nom = "Karim Benali"
    demande.responsable_fonction = "Président"
    demande.responsable_email = f"porteur.signataire@{DOMAINE}"
    demande.compte_bancaire_id = structure.comptes_bancaires[0].id
    demande.objectifs = "Renforcer le lien social et l’accès aux droits des habitants du quartier."
    demande.description = (
        f"{intitule} : ateliers hebdomadaires animés par des professionnels et des bénévoles, "
        "en lien avec les écoles et le centre social."
    )
    demande.public_cible = "Familles et jeunes de 11 à 25 ans du quartier"
    demande.nb_beneficiaires = 120
    demande.thematique_code = thematique
    demande.date_debut = date(campagne.exercice, 1, 1)
    demande.date_fin = date(campagne.exercice, 12, 31)
    demande.moyens_humains = "Deux animateurs salariés (1,5 ETP) et huit bénévoles."
    demande.indicateurs_evaluation = "Nombre de participants, assiduité, questionnaire de satisfaction."
    demande.qpvs = [qpv]
    lignes = [
        ("64", personnel, None),
        ("60", achats, None),
        ("61", services, None),
        ("CI", indirects, None),
        ("864", Decimal("3000"), None),
        ("870", Decimal("3000"), None),
        ("75", autofinancement, None),
    ]
    lignes += [("74", montant, organisation) for organisation, montant in financeurs.items()]
    demande.lignes_budget = [
        LigneBudget(
            compte=compte,
            montant=montant,
            financeur_id=organisation.id if organisation else None,
            ordre=ordre,
        )
        for ordre, (compte, montant, organisation) in enumerate(lignes)
    ]
    demande.reponses = [
        ReponseEligibilite(question_id=q.id, reponse=q.reponse_attendue)
        for q in campagne.questions_eligibilite
    ]
    for document in db.session.scalars(
        select(documents.Document).where(documents.Document.structure_id == structure.id)
    ):
        demande.pieces_jointes.append(PieceJointe(document_id=document.id, type_piece=document.type_piece))
    db.session.commit()
    return demande


def _comite(demande, campagne, comptes, contrat_index, organisations, objectif) -> None:
    """Le dossier passe par une vraie séance du comité de pilotage : ouverte (vote en cours, convocation
    envoyée, le département excusé d'avance) pour un dossier programmé, close — feuille de présence remplie,
    procès-verbal produit — pour un dossier attribué ou rejeté."""
    pilote = comptes["pilote"]
    jour = date(campagne.exercice, 4, 10)
    if objectif != StatutDemande.programmee:  # close : une séance déjà tenue (pas avant sa date)
        jour = min(jour, aujourdhui())
    seance = comites.creer_seance(pilote, campagne.id, jour, "Hôtel de ville")
    comites.inscrire(seance.id, [demande.id], pilote)
    if jour >= aujourdhui():  # une séance à venir : ses partenaires sont convoqués, ordre du jour joint
        comites.convoquer(seance.id, pilote)
    comites.ouvrir_vote(seance.id, pilote)
    seance = comites.charger(seance.id)
    point = seance.points[0]
    votants = [
        (comptes[f"instructeur.{cle}.{contrat_index}"], organisations[cle]) for cle in ("etat", "commune")
    ]
    if objectif != StatutDemande.programmee:
        votants += [(comptes[f"instructeur.{cle}.{contrat_index}"], organisations[cle]) for cle in ("epci",)]
        if contrat_index == 0:
            votants.append((comptes["partenaire"], organisations["caf"]))
    choix = "contre" if objectif == StatutDemande.rejetee else "pour"
    for compte, organisation in votants:
        comites.voter(point.id, organisation.id, choix, None, compte)
    for ligne in point.demande.lignes_financement:
        if ligne.statut == StatutLigne.recevable:
            instructeur = next(c for c, o in votants if o.id == ligne.organisation_id)
            comites.saisir_montant(point.id, ligne.id, ligne.montant_demande, instructeur)
    # La feuille de présence : ceux qui ont voté siègent (l'EPCI par un représentant), les autres sont
    # excusés. Le département s'est excusé d'avance ; la séance ouverte attend le reste de la feuille.
    presences = {organisations["departement"].id: ("excuse", None)}
    if objectif != StatutDemande.programmee:
        for cle, organisation in organisations.items():
            if any(o.id == organisation.id for _, o in votants):
                presences[organisation.id] = (
                    ("represente", "Vice-président chargé de la politique de la ville")
                    if cle == "epci"
                    else ("present", None)
                )
            else:
                presences[organisation.id] = ("excuse", None)
    comites.enregistrer_presences(seance.id, presences, pilote)
    if objectif != StatutDemande.programmee:
        comites.clore(seance.id, pilote)


def _demandes(contrats, financeurs, structures, comptes) -> None:
    campagnes = {(c.contrat_id, c.exercice): c for c in db.session.scalars(select(Campagne))}
    qpvs = {q.code: q for q in db.session.scalars(select(Qpv))}

    def signataire(structure_index):
        return (
            comptes["porteur.signataire"]
            if structure_index == 0
            else comptes[f"signataire.{structure_index}"]
        )

    def parcours(
        structure_index,
        exercice,
        intitule,
        objectif: StatutDemande,
        montants=(Decimal("12000"), Decimal("8000")),
    ):
        contrat_index = STRUCTURES[structure_index][6]
        organisations = financeurs[contrat_index]
        campagne = campagnes[(contrats[contrat_index].id, exercice)]
        sollicites = {organisations["etat"]: montants[0], organisations["commune"]: montants[1]}
        qpv = list(qpvs.values())[contrat_index * 3 + structure_index % 3]
        createur = comptes["porteur.contributeur"] if structure_index == 0 else signataire(structure_index)
        demande = _brouillon(
            structures[structure_index],
            campagne,
            intitule,
            sollicites,
            qpv,
            "1.5" if structure_index % 2 else "1.1",
            createur,
            complet=objectif != StatutDemande.brouillon or "complet" in intitule,
        )
        if objectif == StatutDemande.brouillon:
            return demande

        def finir_par(declencheur: str, acteur: Utilisateur, commentaire: str) -> Demande:
            """La dernière transition du parcours, motivée."""
            declencher_demande(demande.id, declencheur, acteur, commentaire=commentaire)
            return demande

        depot = campagne.date_ouverture  # les transitions passées sont datées pendant la campagne
        declencher_demande(demande.id, "soumettre", createur, aujourdhui=depot)
        if objectif == StatutDemande.attente_attestation:
            return demande
        declencher_demande(
            demande.id, "attester", signataire(structure_index), attestation=True, aujourdhui=depot
        )
        if objectif == StatutDemande.transmise:
            return demande
        if objectif == StatutDemande.retiree:
            return finir_par(
                "retirer",
                signataire(structure_index),
                "L’action sera portée par un autre partenaire du quartier.",
            )
        instructeurs = {
            ligne.id: comptes[f"instructeur.{cle}.{contrat_index}"]
            for ligne in demande.lignes_financement
            for cle, org in organisations.items()
            if org.id == ligne.organisation_id
        }
        lignes = list(demande.lignes_financement)
        declencher_ligne(lignes[0].id, "prendre_en_charge", instructeurs[lignes[0].id])
        if objectif == StatutDemande.en_instruction:
            return demande
        if objectif == StatutDemande.a_completer:
            return finir_par(
                "demander_complements",
                instructeurs[lignes[0].id],
                "Merci de préciser le calendrier des ateliers et de joindre le devis.",
            )
        if objectif == StatutDemande.classee_sans_suite:
            return finir_par(
                "classer_sans_suite", instructeurs[lignes[0].id], "Action déjà financée par le droit commun."
            )
        for ligne in lignes[1:]:
            declencher_ligne(ligne.id, "prendre_en_charge", instructeurs[ligne.id])
        rejet = objectif == StatutDemande.rejetee
        for ligne in lignes:
            if rejet:
                declencher_ligne(
                    ligne.id,
                    "declarer_non_recevable",
                    instructeurs[ligne.id],
                    commentaire="Action hors des priorités du contrat de ville.",
                )
            else:
                declencher_ligne(
                    ligne.id, "declarer_recevable", instructeurs[ligne.id], montant=ligne.montant_demande
                )
        if objectif == StatutDemande.instruite:
            return demande
        if objectif in (StatutDemande.programmee, StatutDemande.attribuee, StatutDemande.rejetee):
            _comite(demande, campagne, comptes, contrat_index, organisations, objectif)
            return demande
        # Les années passées : décisions reprises telles quelles (sans séance de comité dans la démonstration)
        declencher_demande(demande.id, "programmer", comptes["pilote"])
        for ligne in lignes:
            if rejet:
                declencher_ligne(ligne.id, "refuser", instructeurs[ligne.id])
            else:
                declencher_ligne(
                    ligne.id,
                    "voter",
                    instructeurs[ligne.id],
                    montant=ligne.montant_demande,
                    aujourdhui=date(exercice, 4, 10),
                )
        # Engagement et versements par les écrans du financeur (services) : acte PDF, convention signée
        # déposée par le signataire, numéro d'engagement, échéancier (avance de 80 %, solde) et avance payée.
        soldes = {}
        for ligne in lignes:
            instructeur = instructeurs[ligne.id]
            ligne = engagements.etablir_acte(ligne.id, instructeur)
            if ligne.statut == StatutLigne.convention_a_signer:
                engagements.deposer_convention_signee(
                    ligne.id, signataire(structure_index), PDF_DEMO, "convention-signee.pdf"
                )
            engagements.enregistrer_engagement(ligne.id, instructeur, f"21{exercice % 100:02d}{ligne.id:06d}")
            vote = ligne.montant_vote
            avance = (vote * Decimal("0.8")).quantize(Decimal("0.01"))
            echeance = engagements.prevoir_echeance(
                ligne.id, instructeur, "avance", date(exercice, 5, 15), avance
            )
            soldes[ligne.id] = engagements.prevoir_echeance(
                ligne.id, instructeur, "solde", date(exercice + 1, 9, 30), vote - avance
            ).id
            engagements.enregistrer_paiement(
                echeance.id,
                instructeur,
                date(exercice, 5, 15),
                avance,
                f"DP-{exercice}-{ligne.id:05d}",
                aujourdhui=max(aujourdhui(), date(exercice, 5, 15)),
            )
        if objectif == StatutDemande.versee:
            return demande
        declencher_demande(demande.id, "cloturer_exercice", comptes["pilote"])
        if objectif == StatutDemande.a_justifier:
            return demande
        comptes_rendus.enregistrer(
            demande.id,
            signataire(structure_index),
            None,
            comptes_rendus.saisie_conforme_au_budget(
                db.session.get(Demande, demande.id),
                "Les ateliers se sont tenus chaque semaine, de janvier à décembre, comme prévu.",
                "Habitants du quartier, dont une majorité de femmes et de jeunes de 16 à 25 ans.",
            ),
        )
        declencher_demande(demande.id, "deposer_justification", signataire(structure_index), attestation=True)
        if objectif == StatutDemande.justification_en_cours:
            return demande
        if objectif == StatutDemande.justification_a_modifier:
            return finir_par(
                "retourner_justification",
                instructeurs[lignes[0].id],
                "Le tableau financier ne reprend pas les frais de personnel réels.",
            )
        for ligne in lignes:
            declencher_ligne(ligne.id, "valider_compte_rendu", instructeurs[ligne.id])
        for ligne in lignes:  # compte rendu validé : le solde est payé, la ligne soldée
            db.session.refresh(ligne)
            engagements.enregistrer_paiement(
                soldes[ligne.id],
                instructeurs[ligne.id],
                date(exercice + 1, 9, 30),
                ligne.montant_vote - ligne.montant_verse,
                f"DP-{exercice + 1}-{ligne.id:05d}",
                aujourdhui=max(aujourdhui(), date(exercice + 1, 9, 30)),
            )
        return demande

    annee = aujourdhui().year
    plan = (
        (0, annee + 1, "Ateliers d’écriture pour les collégiens", StatutDemande.brouillon),
        (0, annee + 1, "Jardins partagés de Lille-Sud (brouillon complet)", StatutDemande.brouillon),
        (0, annee + 1, "Permanences d’accès aux droits", StatutDemande.attente_attestation),
        (0, annee + 1, "Fête de quartier des Moulins", StatutDemande.transmise),
        (1, annee + 1, "Chantier d’insertion « espaces verts »", StatutDemande.en_instruction),
        (0, annee + 1, "Accompagnement à la scolarité", StatutDemande.a_completer),
        (1, annee + 1, "Repair café mobile", StatutDemande.instruite),
        (2, annee + 1, "Sport santé au féminin", StatutDemande.programmee),
        (3, annee + 1, "Café des parents", StatutDemande.retiree),
        (2, annee + 1, "Tournoi citoyen inter-quartiers", StatutDemande.classee_sans_suite),
        (0, annee, "Ateliers numériques pour les seniors", StatutDemande.attribuee),
        (1, annee, "Médiation de nuit", StatutDemande.rejetee),
        (3, annee, "Ludothèque itinérante", StatutDemande.versee),
        (0, annee - 1, "Chorale intergénérationnelle", StatutDemande.a_justifier),
        (2, annee - 1, "École des sports", StatutDemande.justification_en_cours),
        (3, annee - 1, "Atelier cuisine et santé", StatutDemande.justification_a_modifier),
        (0, annee - 1, "Journal du quartier", StatutDemande.justifiee),
    )
    for structure_index, exercice, intitule, objectif in plan:
        demande = parcours(structure_index, exercice, intitule, objectif)
        db.session.refresh(demande)
        if demande.statut != objectif:
            raise RuntimeError(f"Démonstration : « {intitule} » est {demande.statut}, attendu {objectif}.")
