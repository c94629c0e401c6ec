"""Données de test en base : un « monde » minimal mais complet, construit en quelques millisecondes."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select, update

from dauphin.extensions import db
from dauphin.models import (
    Campagne,
    CompteBancaire,
    ContratDeVille,
    Demande,
    Document,
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
from dauphin.seeds.demo import iban_depuis, siret_depuis
from dauphin.seeds.referentiel import charger_nomenclature
from dauphin.services.workflow import aujourdhui

MOT_DE_PASSE = "mot-de-passe-de-test"
# Le secret TOTP de l'administration nationale du monde (la double authentification lui est obligatoire)
SECRET_TOTP = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def code_totp(email: str) -> str:
    """Le code du moment de l'application d'authentification du compte, calculé par pyotp depuis son secret.
    Un code ne sert qu'une fois par pas de 30 s : le dernier pas accepté est oublié, comme si le pas suivant
    était venu (les tests se connectent plusieurs fois en quelques secondes)."""
    import pyotp

    secret = db.session.scalar(select(Utilisateur.totp_secret).where(Utilisateur.email == email))
    assert secret, f"{email} n'a pas de double authentification"
    db.session.execute(update(Utilisateur).where(Utilisateur.email == email).values(totp_dernier_pas=None))
    db.session.commit()
    return pyotp.TOTP(secret).now()


def utilisateur(email: str, **champs) -> Utilisateur:
    champs.setdefault("email_confirme_le", maintenant())
    compte = Utilisateur(
        email=email,
        prenom=champs.pop("prenom", "Prénom"),
        nom=champs.pop("nom", email.split("@")[0]),
        **champs,
    )
    compte.definir_mot_de_passe(MOT_DE_PASSE)
    db.session.add(compte)
    db.session.flush()
    return compte


@dataclass
class Monde:
    contrat: ContratDeVille
    autre_contrat: ContratDeVille
    campagne: Campagne
    etat: Organisation
    commune: Organisation
    caf: Organisation
    structure: Structure
    autre_structure: Structure
    qpv: Qpv
    signataire: Utilisateur
    contributeur: Utilisateur
    administrateur: Utilisateur
    signataire_autre: Utilisateur
    instructeur_etat: Utilisateur
    instructeur_commune: Utilisateur
    partenaire_caf: Utilisateur
    partenaire_autre_contrat: Utilisateur
    pilote: Utilisateur
    admin_national: Utilisateur
    sans_role: Utilisateur


def structure(base: str, nom: str) -> Structure:
    s = Structure(
        siret=siret_depuis(base),
        siren=siret_depuis(base)[:9],
        raison_sociale=nom,
        forme_juridique=FormeJuridique.association,
        adresse="1 place de la Mairie",
        code_postal="59000",
        commune="Lille",
        code_insee="59350",
        representant_nom="Dupont",
        representant_prenom="Lou",
        representant_qualite="Présidente",
    )
    s.comptes_bancaires = [
        CompteBancaire(titulaire=nom, iban=iban_depuis("3000200550" + base + "000"), bic="CRLYFRPPXXX")
    ]
    db.session.add(s)
    db.session.flush()
    return s


def creer_monde(ouverture: date | None = None, cloture: date | None = None) -> Monde:
    charger_nomenclature()
    jour = aujourdhui()
    contrat = ContratDeVille(code="CV-TEST-1", libelle="59 - Contrat de test", departement="59")
    autre = ContratDeVille(code="CV-TEST-2", libelle="30 - Autre contrat", departement="30")
    etat = Organisation(nom="Préfecture du Nord (État – P147)", type_organisation=TypeOrganisation.etat)
    commune = Organisation(nom="Ville de Lille", type_organisation=TypeOrganisation.commune)
    caf = Organisation(nom="CAF du Nord", type_organisation=TypeOrganisation.caf)
    caf_autre = Organisation(nom="CAF du Gard", type_organisation=TypeOrganisation.caf)
    db.session.add_all([contrat, autre, etat, commune, caf, caf_autre])
    db.session.flush()
    for organisation in (etat, commune, caf):
        db.session.add(PartenaireContrat(contrat_id=contrat.id, organisation_id=organisation.id))
    db.session.add(PartenaireContrat(contrat_id=autre.id, organisation_id=caf_autre.id))
    qpv = Qpv(code="QN05901M", libelle="Lille-Sud", departement="59", contrat_id=contrat.id)
    db.session.add(qpv)
    campagne = Campagne(
        contrat_id=contrat.id,
        exercice=jour.year + 1,
        libelle="Appel à projets de test",
        date_ouverture=ouverture or date(jour.year - 1, 1, 1),
        date_cloture=cloture or date(jour.year + 1, 12, 31),
    )
    campagne.questions_eligibilite = [
        QuestionEligibilite(ordre=1, libelle="L’action vise-t-elle les QPV ?", reponse_attendue=True)
    ]
    campagne.pieces_requises = [PieceRequise(type_piece=TypePiece.statuts)]
    campagne.enveloppes = [
        Enveloppe(organisation_id=etat.id, montant=Decimal("50000")),
        Enveloppe(organisation_id=commune.id, montant=Decimal("20000")),
    ]
    db.session.add(campagne)
    s1 = structure("11111111", "Association des Jardins")
    s2 = structure("22222222", "Association Voisine")
    comptes = {
        role: utilisateur(email, administrateur_national=role == "admin_national")
        for role, email in COMPTES_DU_MONDE.items()
    }
    comptes["admin_national"].totp_secret = SECRET_TOTP
    comptes["admin_national"].totp_active_le = maintenant()
    db.session.add_all(
        [
            MembreStructure(
                utilisateur_id=comptes["signataire"].id, structure_id=s1.id, role=RoleStructure.signataire
            ),
            MembreStructure(
                utilisateur_id=comptes["contributeur"].id, structure_id=s1.id, role=RoleStructure.contributeur
            ),
            MembreStructure(
                utilisateur_id=comptes["administrateur"].id,
                structure_id=s1.id,
                role=RoleStructure.contributeur,
                administrateur=True,
            ),
            MembreStructure(
                utilisateur_id=comptes["signataire_autre"].id,
                structure_id=s2.id,
                role=RoleStructure.signataire,
                administrateur=True,
            ),
            MembreOrganisation(
                utilisateur_id=comptes["instructeur_etat"].id,
                organisation_id=etat.id,
                role=RoleOrganisation.instructeur,
            ),
            MembreOrganisation(
                utilisateur_id=comptes["instructeur_commune"].id,
                organisation_id=commune.id,
                role=RoleOrganisation.instructeur,
            ),
            MembreOrganisation(
                utilisateur_id=comptes["partenaire_caf"].id,
                organisation_id=caf.id,
                role=RoleOrganisation.partenaire,
            ),
            MembreOrganisation(
                utilisateur_id=comptes["partenaire_autre_contrat"].id,
                organisation_id=caf_autre.id,
                role=RoleOrganisation.partenaire,
            ),
            Pilotage(utilisateur_id=comptes["pilote"].id, contrat_id=contrat.id, organisation_id=etat.id),
        ]
    )
    db.session.commit()
    return charger_monde()


# Le compte de chaque rôle du monde, par son adresse
COMPTES_DU_MONDE = {
    "signataire": "signataire@test.fr",
    "contributeur": "contributeur@test.fr",
    "administrateur": "administrateur@test.fr",
    "signataire_autre": "signataire.autre@test.fr",
    "instructeur_etat": "instructeur.etat@test.fr",
    "instructeur_commune": "instructeur.commune@test.fr",
    "partenaire_caf": "partenaire.caf@test.fr",
    "partenaire_autre_contrat": "partenaire.gard@test.fr",
    "pilote": "pilote@test.fr",
    "admin_national": "admin@test.fr",
    "sans_role": "personne@test.fr",
}


def charger_monde() -> Monde | None:
    """Le monde déjà en base (celui de la base modèle de la suite, ou que `creer_monde` vient de valider),
    relu dans la session courante ; None s'il n'y est pas."""
    contrats = {c.code: c for c in db.session.scalars(select(ContratDeVille))}
    if "CV-TEST-1" not in contrats:
        return None
    contrat = contrats["CV-TEST-1"]
    organisations = {o.nom: o for o in db.session.scalars(select(Organisation))}
    structures = {s.raison_sociale: s for s in db.session.scalars(select(Structure))}
    comptes = {
        u.email: u
        for u in db.session.scalars(
            select(Utilisateur).where(Utilisateur.email.in_(COMPTES_DU_MONDE.values()))
        )
    }
    return Monde(
        contrat=contrat,
        autre_contrat=contrats["CV-TEST-2"],
        campagne=db.session.scalars(
            select(Campagne).filter_by(contrat_id=contrat.id).order_by(Campagne.id)
        ).first(),
        etat=organisations["Préfecture du Nord (État – P147)"],
        commune=organisations["Ville de Lille"],
        caf=organisations["CAF du Nord"],
        structure=structures["Association des Jardins"],
        autre_structure=structures["Association Voisine"],
        qpv=db.session.scalars(select(Qpv).filter_by(code="QN05901M")).one(),
        **{role: comptes[email] for role, email in COMPTES_DU_MONDE.items()},
    )


def demande_complete(
    monde: Monde,
    *,
    etat: Decimal = Decimal("6000"),
    commune: Decimal = Decimal("4000"),
    structure: Structure | None = None,
    intitule: str = "Ateliers de quartier",
) -> Demande:
    """Un brouillon que toutes les gardes de dépôt acceptent (budget équilibré, pièces, éligibilité)."""
    structure = structure or monde.structure
    demande = Demande(
        structure_id=structure.id,
        campagne_id=monde.campagne.id,
        exercice=monde.campagne.exercice,
        intitule=intitule,
        objectifs="Créer du lien",
        description="Des ateliers chaque semaine",
        public_cible="Habitants",
        nb_beneficiaires=50,
        thematique_code="1.5",
        date_debut=date(monde.campagne.exercice, 1, 1),
        date_fin=date(monde.campagne.exercice, 12, 31),
        moyens_humains="Deux animateurs",
        indicateurs_evaluation="Participation",
        responsable_nom="Lou Dupont",
        responsable_email="lou@test.fr",
        compte_bancaire_id=structure.comptes_bancaires[0].id,
    )
    demande.qpvs = [monde.qpv]
    total = etat + commune + Decimal("1000")
    demande.lignes_budget = [
        LigneBudget(compte="64", montant=total - Decimal("500"), ordre=1),
        LigneBudget(compte="60", montant=Decimal("500"), ordre=2),
        LigneBudget(compte="75", montant=Decimal("1000"), ordre=3),
        LigneBudget(compte="74", montant=etat, financeur_id=monde.etat.id, ordre=4),
        LigneBudget(compte="74", montant=commune, financeur_id=monde.commune.id, ordre=5),
    ]
    demande.reponses = [
        ReponseEligibilite(question_id=q.id, reponse=True) for q in monde.campagne.questions_eligibilite
    ]
    document = Document(
        structure_id=structure.id,
        type_piece=TypePiece.statuts,
        nom_fichier="statuts.pdf",
        cle_stockage=f"cle-{secrets.token_hex(12)}",  # unique : un fichier laissé ne sert pas au test suivant
        type_mime="application/pdf",
        taille=10,
        sha256="0" * 64,
    )
    db.session.add(document)
    db.session.flush()
    demande.pieces_jointes = [PieceJointe(document_id=document.id, type_piece=TypePiece.statuts)]
    db.session.add(demande)
    db.session.commit()
    return demande
