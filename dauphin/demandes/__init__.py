"""Dépôt d'une demande : campagnes ouvertes, formulaire en étapes, soumission, attestation, retrait,
renouvellement.

Chaque envoi passe par `dauphin.vues` : une étape s'enregistre à la validation ; une erreur de saisie ou
un conflit de version réaffiche le formulaire avec tout ce qui a été tapé, sans rien perdre. Une
transition n'est proposée qu'à qui peut la faire maintenant (`transitions_proposees`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from dauphin.extensions import db
from dauphin.models import Demande, TypePiece
from dauphin.pdf import dernier_recepisse, recepisse_en_cours
from dauphin.policies import est_membre, qualite_pour
from dauphin.services import demandes as service
from dauphin.services.workflow import aujourdhui, declencher_demande, dernier_evenement
from dauphin.vues import charger_ou_404, exiger, traiter_bouton, traiter_formulaire
from forms.demande import (
    ActionForm,
    ActionSimpleForm,
    AttestationForm,
    MotifForm,
    StructureEtapeForm,
    budget_form,
    eligibilite_form,
    pieces_form,
)
from workflows import DEMANDE, StatutDemande
from workflows.budget import PLAN_COMPTABLE, Sens, verifier_budget
from workflows.gardes import Probleme

bp = Blueprint("demandes", __name__, url_prefix="/demandes")

# Les transitions que le porteur déclenche depuis ses écrans (récapitulatif, dossier, retrait).
TRANSITIONS_DU_PORTEUR = ("soumettre", "modifier", "attester", "retirer")


def transitions_proposees(demande: Demande) -> frozenset[str]:
    """Les transitions du porteur que l'utilisateur peut faire maintenant : il en a le droit
    (`policies.qualite_pour`, le contrôle même qui répond 403) et elles existent depuis le statut actuel
    (ce qui manque encore pour les gardes, le récapitulatif le dit). Les écrans ne proposent qu'elles."""
    possibles = DEMANDE.possibles(demande)
    return frozenset(
        declencheur
        for declencheur in TRANSITIONS_DU_PORTEUR
        if declencheur in possibles and qualite_pour(current_user, declencheur, demande) is not None
    )


def _plus_possible(demande: Demande, declencheur: str) -> str | None:
    if declencheur in DEMANDE.possibles(demande):
        return None
    return f"Cette action n’est plus possible : le statut est désormais « {demande.statut.libelle} »."


def _demande_du_membre(demande_id: int) -> Demande:
    """La demande d'une structure de l'utilisateur ; celle d'une autre structure n'existe pas pour lui."""
    return charger_ou_404(Demande, demande_id, lambda demande: est_membre(current_user, demande))


def _a_completer_par_etape(demande: Demande) -> dict[str, int]:
    """Le nombre de points à corriger de chaque étape (ceux que les gardes opposeraient maintenant) : l'état
    de chaque étape dans la navigation, complète ou à compléter."""
    compte = Counter(p.etape for p in _problemes_de_depot(demande) if p.etape)
    return {nom: compte[nom] for nom, _ in service.ETAPES if nom != "recapitulatif"}


def _contexte(demande: Demande, etape: str, **valeurs):
    noms = [nom for nom, _ in service.ETAPES]
    index = noms.index(etape)
    return {
        "demande": demande,
        "etape": etape,
        "etapes": service.ETAPES,
        "a_completer": _a_completer_par_etape(demande),
        "numero_etape": index + 1,
        "etape_suivante": service.ETAPES[index + 1][1] if index + 1 < len(noms) else None,
        "modifiable": demande.statut in service.MODIFIABLES,
        **valeurs,
    }


def _suivante(etape: str) -> str:
    noms = [nom for nom, _ in service.ETAPES]
    return noms[noms.index(etape) + 1]


# --- Campagnes et création ----------------------------------------------------------------


@bp.route("/campagnes")
@login_required
def campagnes():
    structures = service.structures_du_membre(current_user)
    if not structures:
        flash("Inscrivez d’abord votre structure, ou demandez à y être invité.", "info")
        return redirect(url_for("public.accueil"))
    departement = (request.args.get("departement") or "").strip().upper()[:3] or None
    page = db.paginate(
        service.campagnes_ouvertes(departement=departement),
        page=request.args.get("page", 1, type=int),
        per_page=current_app.config["PAGE_TAILLE"],
        error_out=False,
    )
    return render_template(
        "demandes/campagnes.html",
        page=page,
        structures=structures,
        departement=departement or "",
        form=ActionSimpleForm(),
    )


def _identifiant(nom: str) -> int | None:
    """L'identifiant envoyé par le formulaire ; absent, illisible ou hors des bornes d'une clé : None."""
    valeur = request.form.get(nom, type=int)
    return valeur if valeur is not None and 0 < valeur < 2**31 else None


@bp.route("/nouvelle", methods=["POST"])
@login_required
def nouvelle():
    structure_id, campagne_id = _identifiant("structure_id"), _identifiant("campagne_id")
    if structure_id is None or campagne_id is None:
        abort(404)
    return traiter_bouton(
        ActionSimpleForm(),
        executer=lambda: service.creer_brouillon(current_user, structure_id, campagne_id),
        succes="Brouillon créé : chaque étape est enregistrée dès que vous la validez.",
        suite=lambda demande: url_for("demandes.etape", demande_id=demande.id, etape="eligibilite"),
        retour=url_for("demandes.campagnes"),  # une campagne close entre-temps : le message y est montré
    )


@bp.route("/<int:demande_id>/renouveler", methods=["POST"])
@login_required
def renouveler(demande_id: int):
    precedente = _demande_du_membre(demande_id)
    return traiter_bouton(
        ActionSimpleForm(),
        executer=lambda: service.renouveler(precedente.id, current_user),
        succes="La demande a été reprise pour la nouvelle campagne : vérifiez chaque étape, joignez les "
        "pièces à jour, puis soumettez-la.",
        suite=lambda nouvelle: url_for("demandes.etape", demande_id=nouvelle.id, etape="eligibilite"),
        retour=url_for("dossiers.voir", demande_id=precedente.id),
    )


# --- Étapes --------------------------------------------------------------------------------


@bp.route("/<int:demande_id>/etape/<etape>", methods=["GET", "POST"])
@login_required
def etape(demande_id: int, etape: str):
    if etape not in service.NOMS_ETAPES:
        abort(404)
    demande = _demande_du_membre(demande_id)
    if etape == "recapitulatif":
        return recapitulatif(demande)
    vue = {
        "eligibilite": _eligibilite,
        "structure": _structure,
        "action": _action,
        "budget": _budget,
        "pieces": _pieces,
    }[etape]
    return vue(demande)


def _enregistrer(demande, etape, form, gabarit, enregistrement, **valeurs):
    """L'étape et son formulaire ; à l'envoi, l'enregistrement puis l'étape suivante (ou la même :
    « Enregistrer sans quitter l'étape ») — sinon l'étape réaffichée telle que saisie, avec ses erreurs
    (422) ou le conflit (409 : la demande a changé, ou n'est plus modifiable)."""
    if not form.is_submitted():
        form.version.data = demande.version
    suivante = etape if request.form.get("rester") else _suivante(etape)
    return traiter_formulaire(
        form,
        executer=lambda: enregistrement(
            service.charger_pour_modifier(demande.id, current_user, form.version.data)
        ),
        rendre=lambda code, conflit: (
            render_template(
                f"demandes/{gabarit}.html", form=form, conflit=conflit, **_contexte(demande, etape, **valeurs)
            ),
            code,
        ),
        succes="Étape enregistrée.",
        suite=url_for("demandes.etape", demande_id=demande.id, etape=suivante),
        version=lambda: demande.version,
        perimee=service.MODIFIEE_ENTRE_TEMPS,
    )


def _eligibilite(demande):
    questions = demande.campagne.questions_eligibilite
    form = eligibilite_form(
        questions, request.form if request.method == "POST" else None, demande.reponses_eligibilite
    )

    def enregistrement(cible):
        reponses = {}
        for question in questions:
            valeur = getattr(form, f"question_{question.id}").data
            reponses[question.id] = None if valeur not in ("oui", "non") else valeur == "oui"
        service.enregistrer_eligibilite(cible, reponses)

    return _enregistrer(demande, "eligibilite", form, "eligibilite", enregistrement, questions=questions)


def _structure(demande):
    form = StructureEtapeForm(obj=demande if request.method == "GET" else None)
    comptes = [
        c for c in demande.structure.comptes_bancaires if c.actif or c.id == demande.compte_bancaire_id
    ]
    form.compte_bancaire_id.choices = [SelectChoice(0, "— Choisir —")] + [
        SelectChoice(c.id, f"{c.titulaire} — {c.iban_masque} ({c.bic})") for c in comptes
    ]

    def enregistrement(cible):
        service.enregistrer_champs(
            cible,
            {
                "responsable_nom": form.responsable_nom.data,
                "responsable_fonction": form.responsable_fonction.data,
                "responsable_email": (form.responsable_email.data or "").lower(),
                "responsable_telephone": form.responsable_telephone.data,
                "compte_bancaire_id": form.compte_bancaire_id.data or None,
            },
        )

    return _enregistrer(demande, "structure", form, "structure", enregistrement)


def _action(demande):
    form = ActionForm(obj=demande if request.method == "GET" else None)
    qpvs = service.qpvs_du_contrat(demande)
    form.qpvs.choices = [SelectChoice(q.id, f"{q.libelle} ({q.code})") for q in qpvs]
    form.thematique_code.choices = [SelectChoice("", "— Choisir —")] + [
        SelectChoice(t.code, f"{t.code} — {t.libelle}") for t in service.sous_thematiques_actives()
    ]
    form.axes.choices = [SelectChoice(a.code, a.libelle) for a in service.axes_transversaux()]
    if request.method == "GET":
        form.qpvs.data = [q.id for q in demande.qpvs]
        form.axes.data = [a.code for a in demande.axes]
        form.thematique_code.data = demande.thematique_code or ""

    def enregistrement(cible):
        champs = {
            nom: getattr(form, nom).data
            for nom in (
                "intitule",
                "objectifs",
                "description",
                "public_cible",
                "nb_beneficiaires",
                "date_debut",
                "date_fin",
                "renouvellement",
                "duree_annees",
                "moyens_humains",
                "indicateurs_evaluation",
            )
        }
        champs["thematique_code"] = form.thematique_code.data or None
        service.enregistrer_action(cible, champs, form.qpvs.data or [], form.axes.data or [])

    return _enregistrer(demande, "action", form, "action", enregistrement)


def _budget(demande):
    financeurs = service.financeurs_de_la_campagne(demande.campagne_id)
    form = budget_form(
        PLAN_COMPTABLE, financeurs, request.form if request.method == "POST" else None, demande.lignes_budget
    )

    def enregistrement(cible):
        service.enregistrer_budget(cible, _lignes_saisies(form, financeurs))

    erreurs_budget = verifier_budget(demande.lignes_budget) if demande.lignes_budget else []
    charges = [c for c in PLAN_COMPTABLE if c.sens is Sens.charge]
    produits = [c for c in PLAN_COMPTABLE if c.sens is Sens.produit and c.code != "74"]
    return _enregistrer(
        demande,
        "budget",
        form,
        "budget",
        enregistrement,
        charges=charges,
        produits=produits,
        financeurs=financeurs,
        erreurs_budget=erreurs_budget,
    )


def _lignes_saisies(form, financeurs) -> list[service.LigneSaisie]:
    lignes = []
    for compte in PLAN_COMPTABLE:
        if compte.code == "74":
            for financeur in financeurs:
                montant = getattr(form, f"financeur_{financeur.id}").data
                if montant:
                    lignes.append(service.LigneSaisie("74", montant, financeur_id=financeur.id))
            for entree in form.libres.entries:
                if entree.form.montant.data:
                    lignes.append(
                        service.LigneSaisie(
                            "74",
                            entree.form.montant.data,
                            financeur_libelle=entree.form.financeur_libelle.data,
                        )
                    )
        else:
            montant = getattr(form, f"compte_{compte.code}").data
            if montant:
                lignes.append(service.LigneSaisie(compte.code, montant))
    return lignes


@dataclass(frozen=True)
class PieceFacultative:
    """Une pièce utile que la campagne n'exige pas : proposée, facultative."""

    type_piece: TypePiece
    obligatoire: bool = False

    @property
    def libelle(self):
        return self.type_piece.libelle


def _pieces(demande):
    requises = list(demande.campagne.pieces_requises)
    requises_types = {p.type_piece for p in requises}
    for type_piece in (TypePiece.liste_dirigeants, TypePiece.rapport_activite, TypePiece.budget_structure):
        if type_piece not in requises_types:
            requises.append(PieceFacultative(type_piece))
    documents = service.documents_du_porte_documents(demande.structure_id)
    choisis = {p.type_piece.value: p.document_id for p in demande.pieces_jointes}
    form = pieces_form(requises, documents, request.form if request.method == "POST" else None, choisis)

    def enregistrement(cible):
        service.enregistrer_pieces(
            cible, {p.type_piece: getattr(form, f"piece_{p.type_piece.value}").data for p in requises}
        )

    return _enregistrer(
        demande, "pieces", form, "pieces", enregistrement, requises=requises, documents=documents
    )


# --- Récapitulatif, soumission, attestation, retrait ------------------------------------


def _problemes_de_depot(demande) -> list[Probleme]:
    if demande.statut == StatutDemande.brouillon:
        return DEMANDE.problemes(demande, "soumettre", aujourdhui=aujourdhui())
    if demande.statut in (StatutDemande.attente_attestation, StatutDemande.a_completer):
        return [p for p in DEMANDE.problemes(demande, "attester", aujourdhui=aujourdhui(), attestation=True)]
    return []


def recapitulatif(demande, code=200, conflit=None, soumis=None, problemes=None):
    """Le récapitulatif : ce qui manque encore, et les seules transitions que l'utilisateur peut faire.
    `soumis` : le formulaire envoyé ; celui de l'attestation revient avec ses cases et ses erreurs."""
    proposees = transitions_proposees(demande)
    if not isinstance(soumis, AttestationForm):
        soumis = AttestationForm(formdata=None, version=demande.version)
    return render_template(
        "demandes/recapitulatif.html",
        problemes=_problemes_de_depot(demande) if problemes is None else problemes,
        attestation_form=soumis,
        action_form=ActionSimpleForm(formdata=None, version=demande.version),
        proposees=proposees,
        peut_attester="attester" in proposees,
        peut_retirer="retirer" in proposees,
        erreurs_budget=verifier_budget(demande.lignes_budget),
        complements=dernier_evenement(demande, "demander_complements"),
        conflit=conflit,
        **_contexte(demande, "recapitulatif"),
    ), code


def _vers_le_recapitulatif(demande: Demande) -> str:
    return url_for("demandes.etape", demande_id=demande.id, etape="recapitulatif")


def _transmise(demande: Demande) -> str:
    # Sans Redis le récépissé est déjà produit ; sinon une tâche le produit dans les instants qui suivent.
    # Le commit a expiré la demande : relire ce que le message et `recepisse_en_cours` lisent, sans ses
    # lignes (que la lecture sous verrou chargeait avec elle et qu'un rechargement complet relirait).
    db.session.refresh(demande, ["id", "numero", "atteste_le"])
    en_cours = recepisse_en_cours(demande, dernier_recepisse(demande))
    recepisse = "en cours de production" if en_cours else "disponible ci-dessous"
    return f"Demande transmise sous le numéro {demande.numero}. Le récépissé est {recepisse}."


def _route_de_transition(declencheur: str, formulaire=ActionSimpleForm, *, succes, suite, arguments=None):
    """La route POST /<demande_id>/<declencheur> (soumettre, remettre en brouillon, attester), depuis le
    récapitulatif, qui revient avec ce qui manque encore (422, chaque point lié à son étape) ou avec l'état
    actuel de la demande (409). `arguments(form)` : ce que la transition reçoit en plus de la version."""

    @login_required
    def vue(demande_id: int):
        form = formulaire()
        demande = _demande_du_membre(demande_id)
        exiger(qualite_pour(current_user, declencheur, demande) is not None)
        manques: list[Probleme] = []
        return traiter_formulaire(
            form,
            executer=lambda: declencher_demande(
                demande.id,
                declencheur,
                current_user,
                version=form.version.data or None,
                **(arguments(form) if arguments else {}),
            ),
            rendre=lambda code, conflit: recapitulatif(demande, code, conflit, form, manques or None),
            signaler_refus=lambda _form, refus: manques.extend(refus.problemes),
            succes=succes,
            suite=suite(demande),
            version=lambda: demande.version,
            impossible=lambda: _plus_possible(demande, declencheur),
        )

    vue.__name__ = vue.__qualname__ = declencheur  # lisible dans les traces et les profils
    bp.add_url_rule(f"/<int:demande_id>/{declencheur}", declencheur, vue, methods=["POST"])


_route_de_transition(
    "soumettre",
    succes="Demande soumise : elle attend maintenant l’attestation sur l’honneur d’un signataire.",
    suite=_vers_le_recapitulatif,
)
_route_de_transition(
    "modifier",
    succes="La demande est de nouveau en brouillon : vous pouvez la modifier.",
    suite=lambda demande: url_for("demandes.etape", demande_id=demande.id, etape="eligibilite"),
)
_route_de_transition(
    "attester",
    AttestationForm,
    succes=_transmise,
    suite=lambda demande: url_for("dossiers.voir", demande_id=demande.id),
    arguments=lambda form: {"attestation": True, "commentaire": form.commentaire.data},
)


@bp.route("/<int:demande_id>/retirer", methods=["GET", "POST"])
@login_required
def retirer(demande_id: int):
    demande = _demande_du_membre(demande_id)
    # Ni le formulaire ni sa page pour qui ne peut pas l'envoyer : le motif tapé ne serait pas perdu en 403.
    exiger(qualite_pour(current_user, "retirer", demande) is not None)
    form = MotifForm()
    if not form.is_submitted():
        form.version.data = demande.version
    return traiter_formulaire(
        form,
        executer=lambda: declencher_demande(
            demande.id,
            "retirer",
            current_user,
            version=form.version.data or None,
            commentaire=form.commentaire.data,
        ),
        rendre=lambda code, conflit: (
            render_template(
                "demandes/retirer.html",
                demande=demande,
                form=form,
                conflit=conflit,
                possible=_plus_possible(demande, "retirer") is None,
            ),
            code,
        ),
        succes="La demande est retirée ; les financeurs en sont informés.",
        suite=url_for("dossiers.voir", demande_id=demande.id),
        version=lambda: demande.version,
        impossible=lambda: _plus_possible(demande, "retirer"),
    )
