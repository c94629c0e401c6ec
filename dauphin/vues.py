"""Le chemin unique de toute modification faite par un formulaire d'écran.

Une vue déclare *quoi* : l'objet (chargé ou 404), le droit (ou 403), le formulaire, l'appel au service,
le message et la page de retour. `traiter_formulaire` fait le *comment*, dans cet ordre :

1. GET : la page et son formulaire (200) ;
2. page périmée — la version envoyée n'est plus celle de l'objet : 409, rien n'est tenté, le formulaire
   est réaffiché avec tout ce qui a été tapé et la version actuelle, avec l'explication ;
3. action devenue impossible (le statut a changé depuis l'affichage) : 409, de même ;
4. saisie invalide (validateurs du formulaire) : 422, les messages à côté des champs ;
5. le service : un `Conflit` (écriture concurrente) donne 409 comme en 2 ; un refus (`Refus` d'un service,
   `TransitionRefusee` des gardes du workflow) donne 422, chaque problème à côté de son champ ;
6. succès : message flash et redirection (ou, pour un résultat à lire sur place comme le rapport d'un
   import, la page du résultat : `montrer`).

`traiter_bouton` est le même chemin pour un bouton posté depuis une page (désactiver, retirer, supprimer) :
rien n'a été tapé, l'échec revient donc à la page avec son message, comme le succès.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from flask import abort, flash, g, redirect, render_template
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm

from dauphin.extensions import db
from dauphin.models import Demande, LigneFinancement
from dauphin.policies import VOIR_DEMANDE
from dauphin.services.erreurs import Conflit, NonAutorise, Refus
from dauphin.unite_de_travail import version_perimee
from workflows import TransitionRefusee

Probleme = tuple[str | None, str]  # (champ du formulaire ou None, message)


def charger_ou_404(modele, cle, visible: Callable[[Any], bool] | None = None, options=()):
    """L'objet, ou 404 s'il n'existe pas ou si l'utilisateur ne doit pas en connaître l'existence ;
    `options` : ses chargements (`joinedload`…), passés à `Session.get`."""
    objet = db.session.get(modele, cle, options=options) if cle is not None else None
    if objet is None or (visible is not None and not visible(objet)):
        abort(404)
    return objet


def demande_visible(demande_id: int) -> Demande:
    """La demande, si l'utilisateur la voit (`policies.VOIR_DEMANDE`) ; sinon 404, sans rien révéler."""
    return charger_ou_404(Demande, demande_id, lambda demande: VOIR_DEMANDE.permet(current_user, demande))


def ligne_visible(ligne_id: int) -> LigneFinancement:
    """La ligne de financement, si l'utilisateur voit sa demande ; sinon 404."""
    return charger_ou_404(
        LigneFinancement, ligne_id, lambda ligne: VOIR_DEMANDE.permet(current_user, ligne.demande)
    )


def page(gabarit: str, **contexte) -> Callable[[int, str | None], ResponseReturnValue]:
    """Le `rendre` le plus courant : le gabarit avec son contexte et le message de conflit (`conflit`),
    au code donné."""
    return lambda code, conflit: (render_template(gabarit, conflit=conflit, **contexte), code)


def exiger(droit: bool) -> None:
    """403 : l'utilisateur voit l'objet mais n'a pas le droit d'y faire cette action."""
    if not droit:
        abort(403)


def problemes(refus: Exception) -> list[Probleme]:
    if isinstance(refus, TransitionRefusee):
        return [(p.champ, p.message) for p in refus.problemes]
    return refus.problemes


def signaler(form: FlaskForm, liste: Iterable[Probleme]) -> None:
    """Chaque message à côté de son champ ; en tête du formulaire s'il n'en a pas (ou un champ inconnu)."""
    for champ, message in liste:
        cible = getattr(form, champ, None) if champ else None
        if cible is not None and isinstance(getattr(cible, "errors", None), list | tuple):
            cible.errors = [*cible.errors, message]
        else:
            form.form_errors.append(message)


def _perimee(form: FlaskForm, version) -> bool:
    envoyee = getattr(form, "version", None)
    return envoyee is not None and version_perimee(version, envoyee.data)


def _remettre_a_jour(form: FlaskForm, version) -> None:
    if getattr(form, "version", None) is not None:
        form.version.data = version


def _arret_avant_le_service(form, version, impossible, perimee) -> tuple[int, str | None] | None:
    """Ce qui arrête une saisie avant l'appel au service : page périmée, action devenue impossible (409),
    saisie invalide (422)."""
    if version is not None and _perimee(form, version()):
        _remettre_a_jour(form, version())
        return 409, perimee or str(Conflit())
    raison = impossible() if impossible is not None else None
    if raison:
        return 409, raison
    return None if form.validate() else (422, None)


def _valeur(texte_ou_fonction, resultat):
    return texte_ou_fonction(resultat) if callable(texte_ou_fonction) else texte_ou_fonction


def _titre_selon_le_code(rendre):
    """Le titre de la page renvoyée dit l'état de la saisie : « Conflit : » (409) ou « Erreur : » (422),
    que base.html — le seul endroit où le préfixe s'écrit — lit dans `g.etat_saisie`, quel que soit le
    formulaire de la page qui porte les erreurs (l'attestation du récapitulatif, le vote d'un comité…)."""

    def rendre_avec_etat(code: int, conflit: str | None):
        g.etat_saisie = "Conflit" if code == 409 else ("Erreur" if code >= 400 else None)
        return rendre(code, conflit)

    return rendre_avec_etat


def traiter_formulaire(
    form: FlaskForm,
    *,
    executer: Callable[[], Any],
    rendre: Callable[[int, str | None], ResponseReturnValue],
    succes: str | Callable[[Any], str] | None = None,
    suite: str | Callable[[Any], str] | None = None,
    version: Callable[[], Any] | None = None,
    perimee: str | None = None,
    impossible: Callable[[], str | None] | None = None,
    signaler_refus: Callable[[FlaskForm, Exception], None] | None = None,
    montrer: Callable[[Any], ResponseReturnValue] | None = None,
) -> ResponseReturnValue:
    """`executer()` appelle le service (il lit le formulaire validé) ; `rendre(code, conflit)` affiche la
    page avec le formulaire ; `succes` et `suite` : le message (aucun s'il est vide) et l'adresse de retour,
    ou des fonctions du résultat du service ; `version()` : la version actuelle de l'objet modifié,
    comparée à celle du champ caché `version` ; `perimee` : le message d'une page périmée quand celui de
    `Conflit` (« Ce dossier… ») ne nomme pas l'objet ; `impossible()` : la raison pour laquelle l'action
    n'est plus possible, ou None ; `signaler_refus(form, refus)` : pour un formulaire dont les champs ne se
    nomment pas comme les problèmes du service ; `montrer(resultat)` : la page du résultat, au lieu du
    message et de la redirection."""
    rendre = _titre_selon_le_code(rendre)
    if not form.is_submitted():
        return rendre(200, None)
    arret = _arret_avant_le_service(form, version, impossible, perimee)
    if arret is not None:
        return rendre(*arret)
    try:
        resultat = executer()
    except Conflit as erreur:
        # Rien n'a été écrit : l'état actuel est relu, la saisie reste avec la version actuelle, et
        # l'usager décide en connaissance de cause de valider de nouveau ou non.
        db.session.rollback()
        db.session.expire_all()
        if version is not None:
            _remettre_a_jour(form, version())
        return rendre(409, str(erreur))
    except (Refus, TransitionRefusee) as refus:
        db.session.rollback()
        if signaler_refus is not None:
            signaler_refus(form, refus)
        else:
            signaler(form, problemes(refus))
        return rendre(422, None)
    except NonAutorise:
        abort(403)
    if montrer is not None:
        return montrer(resultat)
    message = _valeur(succes, resultat)
    if message:  # une page de suite qui dit elle-même ce qui s'est passé n'a pas de message
        flash(message, "succes")
    return redirect(_valeur(suite, resultat))


def messages_du_formulaire(form: FlaskForm) -> list[str]:
    """Les erreurs d'un formulaire dont les champs ne s'affichent pas (un bouton) : les siennes, puis celles
    de ses champs. (Un jeton CSRF refusé n'arrive pas jusque-là : CSRFProtect répond 400 avant la vue.)"""
    return [*form.form_errors, *(message for champ in form for message in champ.errors)]


def traiter_bouton(
    form: FlaskForm,
    *,
    executer: Callable[[], Any],
    succes: str | Callable[[Any], str],
    suite: str | Callable[[Any], str],
    retour: str | None = None,
) -> ResponseReturnValue:
    """Un bouton posté depuis une page (activer, désactiver, retirer, supprimer) : le chemin de
    `traiter_formulaire`, mais rien n'a été tapé qui serait à garder — un refus, un conflit ou une valeur
    refusée par le formulaire reviennent à `suite` avec leur message, comme le succès avec le sien. Quand
    le succès mène ailleurs que la page du bouton (l'objet créé : `suite` fonction du résultat), l'échec
    revient à `retour`."""

    def revenir(_code: int, conflit: str | None):
        for message in [conflit] if conflit else messages_du_formulaire(form):
            flash(message, "erreur")
        return redirect(retour or suite)

    return traiter_formulaire(form, executer=executer, rendre=revenir, succes=succes, suite=suite)
