"""Les modèles SQLAlchemy, un module par partie du domaine."""

from dauphin.models.api import JetonApi
from dauphin.models.audit import EvenementReferentiel
from dauphin.models.campagnes import Campagne, Enveloppe, PieceRequise, QuestionEligibilite
from dauphin.models.comites import (
    ChoixVote,
    DecisionPoint,
    MontantComite,
    PointOrdreDuJour,
    SeanceComite,
    StatutSeance,
    VoteComite,
)
from dauphin.models.comptes import (
    EvenementConnexion,
    MembreOrganisation,
    MembreStructure,
    Pilotage,
    RoleOrganisation,
    RoleStructure,
    Utilisateur,
)
from dauphin.models.courriels import Courriel, StatutCourriel
from dauphin.models.demandes import (
    CompteurNumero,
    Demande,
    LigneBudget,
    LigneFinancement,
    Message,
    Note,
    PieceJointe,
    ReponseEligibilite,
    demande_axe,
    demande_qpv,
)
from dauphin.models.journal import EvenementJournal
from dauphin.models.referentiel import (
    AxeTransversal,
    ContratDeVille,
    Organisation,
    PartenaireContrat,
    Qpv,
    RegleMajorite,
    Thematique,
    TypeOrganisation,
)
from dauphin.models.structures import (
    AidePublique,
    CompteBancaire,
    DemandeAcces,
    Document,
    FormeJuridique,
    Invitation,
    Structure,
    TypePiece,
)
from dauphin.models.types import maintenant
from dauphin.models.versements import NatureVersement, Versement
from workflows.statuts import StatutDemande, StatutLigne

__all__ = [
    "VoteComite",
    "StatutSeance",
    "SeanceComite",
    "PointOrdreDuJour",
    "MontantComite",
    "DecisionPoint",
    "ChoixVote",
    "AidePublique",
    "AxeTransversal",
    "Campagne",
    "CompteBancaire",
    "CompteurNumero",
    "ContratDeVille",
    "Courriel",
    "Demande",
    "DemandeAcces",
    "Document",
    "Enveloppe",
    "EvenementConnexion",
    "EvenementJournal",
    "EvenementReferentiel",
    "FormeJuridique",
    "Invitation",
    "JetonApi",
    "LigneBudget",
    "LigneFinancement",
    "MembreOrganisation",
    "MembreStructure",
    "Message",
    "NatureVersement",
    "Note",
    "Organisation",
    "PartenaireContrat",
    "PieceJointe",
    "PieceRequise",
    "Pilotage",
    "Qpv",
    "QuestionEligibilite",
    "RegleMajorite",
    "ReponseEligibilite",
    "RoleOrganisation",
    "RoleStructure",
    "StatutCourriel",
    "StatutDemande",
    "StatutLigne",
    "Structure",
    "Thematique",
    "TypeOrganisation",
    "TypePiece",
    "Utilisateur",
    "Versement",
    "demande_axe",
    "demande_qpv",
    "maintenant",
]
