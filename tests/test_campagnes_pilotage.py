"""Campagnes : le pilote les crée et les modifie par ses écrans ; ce que les demandes utilisent ne peut
pas être retiré (chaque refus à côté de son champ, la saisie conservée) ; un pilote ne touche pas aux
campagnes d'un autre contrat ; une page périmée donne un conflit. Sur SQLite et sur PostgreSQL."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from dauphin.models import (
    Campagne,
    Enveloppe,
    EvenementReferentiel,
    LigneFinancement,
    PieceRequise,
    Pilotage,
    QuestionEligibilite,
    TypePiece,
)
from dauphin.services import campagnes as service
from tests.fabriques_db import demande_complete, utilisateur
from tests.formulaires_html import champs, html, titre

# --- Outils -------------------------------------------------------------------------------------


def erreur_du_champ(reponse, identifiant: str) -> str | None:
    """Le message affiché sous le champ (lié par aria-describedby), ou None."""
    trouve = re.search(
        rf'<p id="{re.escape(identifiant)}-erreur" class="fr-error-text">(.*?)</p>', html(reponse), re.S
    )
    return trouve.group(1).strip() if trouve else None


def url_modifier(campagne) -> str:
    return f"/pilotage/campagnes/{campagne.id}/modifier"


def formulaire(client, url: str) -> dict[str, str]:
    reponse = client.get(url)
    assert reponse.status_code == 200, html(reponse)
    return champs(html(reponse))


def index_question(donnees: dict, question_id: int) -> str:
    return next(k.split("-")[1] for k, v in donnees.items() if k.endswith("-id") and v == str(question_id))


@pytest.fixture
def pilote(connexion, monde):
    connexion.en_tant_que(monde.pilote)
    return monde.pilote


@pytest.fixture
def avec_demande(monde):
    """Un brouillon qui répond à la question, joint les statuts et sollicite l'État et la commune."""
    return demande_complete(monde)


# --- Créer et modifier --------------------------------------------------------------------------


def test_le_pilote_cree_une_campagne_depuis_sa_page(client, db, monde, pilote):
    accueil = html(client.get("/pilotage/"))
    assert f'href="/pilotage/campagnes/nouvelle?contrat={monde.contrat.id}"' in accueil
    assert f'href="{url_modifier(monde.campagne)}"' in accueil
    donnees = formulaire(client, f"/pilotage/campagnes/nouvelle?contrat={monde.contrat.id}")
    exercice = monde.campagne.exercice + 1
    donnees.update(
        {
            "libelle": f"Appel à projets {exercice}",
            "exercice": str(exercice),
            "date_ouverture": f"{exercice - 1}-11-01",
            "date_cloture": f"{exercice}-01-15",
            "questions-0-libelle": "L’action a-t-elle lieu dans un QPV ?",
            "questions-1-libelle": "L’action est-elle à but lucratif ?",
            "questions-1-reponse_attendue": "non",
            "piece_rapport_activite": "facultative",
            f"enveloppe_{monde.etat.id}": "120 000",
            f"enveloppe_{monde.commune.id}": "0",
        }
    )
    reponse = client.post(f"/pilotage/campagnes/nouvelle?contrat={monde.contrat.id}", data=donnees)
    assert reponse.status_code == 302, html(reponse)
    campagne = db.session.scalar(select(Campagne).where(Campagne.exercice == exercice))
    assert campagne.contrat_id == monde.contrat.id
    assert [(q.libelle, q.reponse_attendue) for q in campagne.questions_eligibilite] == [
        ("L’action a-t-elle lieu dans un QPV ?", True),
        ("L’action est-elle à but lucratif ?", False),
    ]
    assert {(p.type_piece, p.obligatoire) for p in campagne.pieces_requises} == {
        (TypePiece.statuts, True),
        (TypePiece.rib, True),
        (TypePiece.rapport_activite, False),
    }
    assert {e.organisation_id: e.montant for e in campagne.enveloppes} == {
        monde.etat.id: Decimal("120000.00"),
        monde.commune.id: Decimal("0.00"),
    }
    trace = db.session.scalar(
        select(EvenementReferentiel).where(
            EvenementReferentiel.objet_type == "campagne", EvenementReferentiel.objet_id == str(campagne.id)
        )
    )
    assert trace.action == "creer" and trace.acteur_id == monde.pilote.id
    assert "Campagne « Appel à projets" in html(client.get("/pilotage/"))


def test_modifier_sans_demandes_tout_est_permis(client, db, monde, pilote):
    url = url_modifier(monde.campagne)
    ancien = monde.campagne.exercice
    donnees = formulaire(client, url)
    i = index_question(donnees, monde.campagne.questions_eligibilite[0].id)
    donnees.update(
        {
            "exercice": str(ancien + 3),
            f"questions-{i}-supprimer": "y",
            "piece_statuts": "",
            f"enveloppe_{monde.commune.id}": "",
            f"enveloppe_{monde.etat.id}": "10",
        }
    )
    assert client.post(url, data=donnees).status_code == 302
    db.session.expire_all()
    campagne = db.session.get(Campagne, monde.campagne.id)
    assert campagne.exercice == ancien + 3
    assert campagne.questions_eligibilite == [] and campagne.pieces_requises == []
    assert [(e.organisation_id, e.montant) for e in campagne.enveloppes] == [
        (monde.etat.id, Decimal("10.00"))
    ]
    assert campagne.version == 2
    trace = db.session.scalars(
        select(EvenementReferentiel).where(EvenementReferentiel.action == "modifier")
    ).one()
    assert trace.details["exercice"] == [ancien, ancien + 3]


def test_erreurs_de_saisie_en_francais_et_saisie_conservee(client, monde, pilote):
    url = url_modifier(monde.campagne)
    donnees = formulaire(client, url)
    donnees.update(
        {
            "libelle": "",
            "exercice": "deux mille",
            "date_ouverture": "2027-03-01",
            "date_cloture": "2027-02-01",
            "questions-1-libelle": "Une nouvelle question tapée",
            f"enveloppe_{monde.etat.id}": "-5",
            f"enveloppe_{monde.commune.id}": "12 345,67",
        }
    )
    reponse = client.post(url, data=donnees)
    assert reponse.status_code == 422
    assert titre(reponse).startswith("Erreur : ")
    assert "Le formulaire contient des erreurs" in html(reponse)
    assert erreur_du_champ(reponse, "libelle") == "Indiquez l’intitulé de la campagne."
    assert (
        erreur_du_champ(reponse, "exercice") == "Saisissez l’exercice sur quatre chiffres, par exemple 2027."
    )
    assert erreur_du_champ(reponse, "date_cloture") == "La date de clôture doit suivre la date d’ouverture."
    assert erreur_du_champ(reponse, f"enveloppe_{monde.etat.id}") == "Le montant ne peut pas être négatif."
    apres = champs(html(reponse))
    assert apres["exercice"] == "deux mille"
    assert apres["questions-1-libelle"] == "Une nouvelle question tapée"
    # La saisie revient telle quelle : pas de question vide de plus (1 existante, 1 tapée, 1 vide)
    assert sorted(k for k in apres if k.endswith("-libelle")) == [f"questions-{i}-libelle" for i in range(3)]
    # Chaque question porte son numéro dans son étiquette, pas « Question » trois fois
    etiquettes = re.findall(
        r'<label class="fr-label" for="questions-\d+-libelle">\s*([^<]*?)\s*<', html(reponse)
    )
    assert etiquettes == ["Question 1", "Question 2", "Question 3"]
    assert apres[f"enveloppe_{monde.commune.id}"] == "12 345,67"
    assert apres[f"enveloppe_{monde.etat.id}"] == "-5"


def test_ajouter_une_ligne_de_question_garde_la_saisie(client, db, monde, pilote):
    url = url_modifier(monde.campagne)
    donnees = formulaire(client, url)
    donnees.update({"libelle": "Intitulé changé", "questions-1-libelle": "Q tapée"})
    reponse = client.post(url, data={**donnees, "ajouter_question": "1"})
    assert reponse.status_code == 200
    apres = champs(html(reponse))
    assert apres["libelle"] == "Intitulé changé" and apres["questions-1-libelle"] == "Q tapée"
    assert sum(1 for k in apres if k.endswith("-libelle")) == 4  # 1 existante, 1 tapée, 2 vides
    db.session.expire_all()
    assert db.session.get(Campagne, monde.campagne.id).libelle == "Appel à projets de test"


# --- Ce que les demandes utilisent --------------------------------------------------------------


def envoyer_refuse(client, url, donnees, champ_id: str, attendu: str):
    reponse = client.post(url, data=donnees)
    assert reponse.status_code == 422, html(reponse)
    assert titre(reponse).startswith("Erreur : ")
    message = erreur_du_champ(reponse, champ_id)
    assert message is not None and attendu in message, html(reponse)
    return reponse


def test_question_repondue_ni_supprimee_ni_changee(client, db, monde, pilote, avec_demande):
    url = url_modifier(monde.campagne)
    question = monde.campagne.questions_eligibilite[0]
    donnees = formulaire(client, url)
    assert "répondue par des demandes" in html(client.get(url))
    i = index_question(donnees, question.id)
    reponse = envoyer_refuse(
        client,
        url,
        {**donnees, f"questions-{i}-supprimer": "y", "libelle": "Saisie gardée"},
        f"questions-{i}-libelle",
        "Des demandes ont déjà répondu à cette question : elle ne peut pas être supprimée.",
    )
    apres = champs(html(reponse))
    assert apres["libelle"] == "Saisie gardée" and apres[f"questions-{i}-supprimer"] == "y"
    envoyer_refuse(
        client,
        url,
        {**donnees, f"questions-{i}-reponse_attendue": "non"},
        f"questions-{i}-libelle",
        "la réponse attendue ne peut plus changer",
    )
    # Corriger une faute dans le libellé reste possible
    donnees[f"questions-{i}-libelle"] = "L’action vise-t-elle les quartiers prioritaires ?"
    assert client.post(url, data=donnees).status_code == 302
    db.session.expire_all()
    assert db.session.get(QuestionEligibilite, question.id).libelle.endswith("quartiers prioritaires ?")


def test_piece_jointe_ne_peut_plus_etre_retiree(client, db, monde, pilote, avec_demande):
    url = url_modifier(monde.campagne)
    donnees = formulaire(client, url)
    envoyer_refuse(
        client,
        url,
        {**donnees, "piece_statuts": ""},
        "piece_statuts",
        "Des demandes ont déjà joint cette pièce : elle ne peut plus être retirée",
    )
    assert client.post(url, data={**donnees, "piece_statuts": "facultative"}).status_code == 302
    db.session.expire_all()
    piece = db.session.scalar(select(PieceRequise).where(PieceRequise.campagne_id == monde.campagne.id))
    assert piece.type_piece == TypePiece.statuts and piece.obligatoire is False


def test_financeur_sollicite_ne_peut_pas_etre_retire(client, db, monde, pilote, avec_demande):
    url = url_modifier(monde.campagne)
    donnees = formulaire(client, url)
    envoyer_refuse(
        client,
        url,
        {**donnees, f"enveloppe_{monde.commune.id}": ""},
        f"enveloppe_{monde.commune.id}",
        "Des demandes de cette campagne sollicitent Ville de Lille : ce financeur ne peut pas en être "
        "retiré.",
    )
    # Refusé sans rien écrire : l'enveloppe de la commune est toujours là.
    assert db.session.scalar(
        select(Enveloppe).where(
            Enveloppe.campagne_id == monde.campagne.id, Enveloppe.organisation_id == monde.commune.id
        )
    )


def test_enveloppe_pas_sous_le_vote(client, db, monde, pilote, avec_demande):
    db.session.add(
        LigneFinancement(
            demande_id=avec_demande.id,
            organisation_id=monde.etat.id,
            montant_demande=Decimal("6000"),
            montant_vote=Decimal("5000"),
        )
    )
    db.session.commit()
    url = url_modifier(monde.campagne)
    donnees = formulaire(client, url)
    assert "Déjà voté" in html(client.get(url))
    envoyer_refuse(
        client,
        url,
        {**donnees, f"enveloppe_{monde.etat.id}": "4 999,99"},
        f"enveloppe_{monde.etat.id}",
        "L’enveloppe ne peut pas être inférieure à ce que ce financeur a déjà voté : 5\u202f000,00\xa0€.",
    )
    assert client.post(url, data={**donnees, f"enveloppe_{monde.etat.id}": "5000"}).status_code == 302


def test_exercice_et_contrat_figes_des_qu_il_y_a_des_demandes(client, db, monde, pilote, avec_demande):
    db.session.add(
        Pilotage(
            utilisateur_id=monde.pilote.id, contrat_id=monde.autre_contrat.id, organisation_id=monde.etat.id
        )
    )
    db.session.commit()
    url = url_modifier(monde.campagne)
    donnees = formulaire(client, url)
    envoyer_refuse(
        client,
        url,
        {**donnees, "exercice": str(monde.campagne.exercice + 1)},
        "exercice",
        "1 demande est déjà rattachée à cette campagne : son exercice",
    )
    envoyer_refuse(
        client,
        url,
        {**donnees, "contrat_id": str(monde.autre_contrat.id)},
        "contrat_id",
        "elle ne peut plus changer de contrat de ville",
    )
    db.session.expire_all()
    campagne = db.session.get(Campagne, monde.campagne.id)
    assert (campagne.exercice, campagne.contrat_id, campagne.version) == (
        monde.campagne.exercice,
        monde.contrat.id,
        1,
    )


def test_exercice_deja_pris_par_une_autre_campagne(client, db, monde, pilote):
    autre = Campagne(
        contrat_id=monde.contrat.id,
        exercice=monde.campagne.exercice + 1,
        libelle="Suivante",
        date_ouverture=date(2030, 1, 1),
        date_cloture=date(2030, 2, 1),
    )
    db.session.add(autre)
    db.session.commit()
    url = url_modifier(monde.campagne)
    donnees = formulaire(client, url)
    envoyer_refuse(
        client,
        url,
        {**donnees, "exercice": str(autre.exercice)},
        "exercice",
        f"Ce contrat de ville a déjà une campagne pour l’exercice {autre.exercice}.",
    )
    db.session.expire_all()
    assert db.session.get(Campagne, monde.campagne.id).exercice == autre.exercice - 1  # rien d'écrit


# --- Droits et concurrence ----------------------------------------------------------------------


def test_pilote_d_un_contrat_ne_touche_pas_aux_campagnes_d_un_autre(client, connexion, db, monde, pilote):
    campagne_b = Campagne(
        contrat_id=monde.autre_contrat.id,
        exercice=2030,
        libelle="Campagne du Gard",
        date_ouverture=date(2029, 11, 1),
        date_cloture=date(2030, 1, 15),
    )
    db.session.add(campagne_b)
    db.session.commit()
    donnees = formulaire(client, url_modifier(monde.campagne))
    assert client.get(url_modifier(campagne_b)).status_code == 404
    reponse = client.post(url_modifier(campagne_b), data={**donnees, "libelle": "Piratée"})
    assert reponse.status_code == 404
    assert "Campagne du Gard" not in html(reponse)
    assert client.get(f"/pilotage/campagnes/nouvelle?contrat={monde.autre_contrat.id}").status_code == 404
    # Créer pour le contrat B en forgeant le champ contrat : refusé, à côté du champ
    donnees = formulaire(client, f"/pilotage/campagnes/nouvelle?contrat={monde.contrat.id}")
    donnees.update(
        {
            "contrat_id": str(monde.autre_contrat.id),
            "libelle": "x",
            "exercice": "2031",
            "date_ouverture": "2030-11-01",
            "date_cloture": "2031-01-15",
            f"enveloppe_{monde.etat.id}": "1",
        }
    )
    reponse = client.post(f"/pilotage/campagnes/nouvelle?contrat={monde.contrat.id}", data=donnees)
    assert reponse.status_code == 422
    assert db.session.scalar(select(Campagne).where(Campagne.exercice == 2031)) is None
    db.session.expire_all()
    assert db.session.get(Campagne, campagne_b.id).libelle == "Campagne du Gard"
    assert client.get("/pilotage/campagnes/999999/modifier").status_code == 404
    # Sans pilotage : 403 ; un instructeur ne crée pas de campagne
    connexion.deconnexion()
    connexion.en_tant_que(monde.instructeur_etat)
    assert client.get(url_modifier(monde.campagne)).status_code == 403
    assert client.get("/pilotage/campagnes/nouvelle").status_code == 403


def test_page_perimee_conflit_sans_ecriture_perdue(client, db, monde, pilote):
    url = url_modifier(monde.campagne)
    lue = formulaire(client, url)
    # Un autre pilote du contrat enregistre entre-temps
    collegue = utilisateur("collegue.pilote@test.fr")
    db.session.add(
        Pilotage(utilisateur_id=collegue.id, contrat_id=monde.contrat.id, organisation_id=monde.etat.id)
    )
    db.session.commit()
    saisie = service.SaisieCampagne(
        contrat_id=monde.contrat.id,
        champs={nom: getattr(monde.campagne, nom) for nom in service.CHAMPS}
        | {"libelle": "Version du collègue"},
        questions=[
            service.Question(q.id, q.libelle, q.reponse_attendue)
            for q in monde.campagne.questions_eligibilite
        ],
        pieces={TypePiece.statuts: True},
        enveloppes={monde.etat.id: Decimal("50000"), monde.commune.id: Decimal("20000")},
    )
    service.enregistrer(collegue, monde.campagne.id, saisie, version=1)
    reponse = client.post(url, data={**lue, "libelle": "Ma version"})
    assert reponse.status_code == 409
    assert titre(reponse).startswith("Conflit : ")
    assert "modifiée entre-temps par quelqu’un d’autre" in html(reponse)
    apres = champs(html(reponse))
    assert apres["libelle"] == "Ma version" and apres["version"] == "2"
    db.session.expire_all()
    assert db.session.get(Campagne, monde.campagne.id).libelle == "Version du collègue"
    # En connaissance de cause, l'usager enregistre de nouveau : cette fois c'est accepté
    assert client.post(url, data=apres).status_code == 302


# --- Aucune saisie ne provoque d'erreur serveur ------------------------------------------------

NOMS = st.sampled_from(
    [
        "contrat_id",
        "libelle",
        "exercice",
        "date_ouverture",
        "date_cloture",
        "description",
        "version",
        "questions-0-id",
        "questions-0-libelle",
        "questions-0-reponse_attendue",
        "questions-0-supprimer",
        "questions-7-id",
        "questions-99999999999-libelle",
        "questions-x-libelle",
        "piece_statuts",
        "piece_rib",
        "enveloppe_1",
        "enveloppe_2",
        "enveloppe_999",
        "ajouter_question",
    ]
)
VALEURS = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "",
            "1",
            "0",
            "-1",
            "2027",
            "99999999999999999999",
            "2027-02-30",
            "2026-01-01",
            "oui",
            "non",
            "obligatoire",
            "facultative",
            "1 000,50",
            "1e9",
            "NaN",
            "\x00",
            "y",
        ]
    ),
    st.integers(min_value=-(10**12), max_value=10**12).map(str),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(saisie=st.dictionaries(NOMS, VALEURS, max_size=12), modifier=st.booleans())
def test_aucune_saisie_ne_donne_une_erreur_serveur(client, monde, pilote, saisie, modifier):
    url = (
        url_modifier(monde.campagne)
        if modifier
        else f"/pilotage/campagnes/nouvelle?contrat={monde.contrat.id}"
    )
    reponse = client.post(url, data=saisie)
    assert reponse.status_code in (200, 302, 409, 422), (saisie, html(reponse)[-2000:])


def test_campagnes_ouvertes_par_date_de_cloture(client, db, connexion, monde):
    """Le porteur voit d'abord la campagne qui ferme le plus tôt, quel que soit son département (celle du
    Gard, 30, ferme après celle du Nord, 59)."""
    cloture = monde.campagne.date_cloture
    plus_tard = Campagne(
        contrat_id=monde.autre_contrat.id,
        exercice=monde.campagne.exercice,
        libelle="Appel qui ferme plus tard",
        date_ouverture=monde.campagne.date_ouverture,
        date_cloture=cloture.replace(year=cloture.year + 1),
    )
    db.session.add(plus_tard)
    db.session.commit()
    connexion.en_tant_que(monde.signataire)
    page = html(client.get("/demandes/campagnes"))
    titres = re.findall(r'<h2 class="fr-card__title">(.*?)</h2>', page)
    assert titres == ["Appel à projets de test", "Appel qui ferme plus tard"]
