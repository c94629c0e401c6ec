"""La trace des lectures, branchée sur les requêtes.

Une vue de lecture (dossier, téléchargement d'un document ou d'un export, lecture par l'API) dit ce qu'elle
sert : `noter(services.lectures.lecture_du_…(…))`. La lecture est écrite après la vue, une fois la réponse
prête et seulement si elle est servie (code < 400) : un refus, une erreur ou un fichier introuvable ne
laissent pas de trace de lecture. L'écriture est une insertion suivie du commit de la transaction que la
lecture a ouverte (`services.lectures.enregistrer`).

Si la trace ne peut pas être écrite (base en panne), la réponse prête est remplacée par la page d'erreur
500 de l'application : rien n'est lu sans être tracé.

La lecture en attente est rangée dans l'environnement de la requête, et non dans `g`, que plusieurs
requêtes partagent quand un contexte d'application est déjà ouvert (les tests).
"""

from __future__ import annotations

from flask import Flask, request

from dauphin.services import lectures as service

CLE = "dauphin.lecture"


def noter(lu: service.Lu | None) -> None:
    """Ce que la requête en cours sert, à tracer quand sa réponse partira ; None : rien à tracer (le porteur
    qui lit ses propres demandes)."""
    if lu is not None:
        request.environ[CLE] = lu


def init_app(app: Flask) -> None:
    @app.after_request
    def tracer_la_lecture(reponse):
        lu = request.environ.pop(CLE, None)
        # HEAD ne transmet rien du contenu : seule une réponse servie avec son contenu est une lecture.
        if lu is None or reponse.status_code >= 400 or request.method == "HEAD":
            return reponse
        try:
            service.enregistrer(lu, request.remote_addr)
        except Exception as erreur:
            # Rien n'est servi sans sa trace : la réponse prête est abandonnée pour la page d'erreur de
            # l'application (en JSON sous /api/), qui annule la transaction et journalise l'erreur.
            reponse.close()
            return app.make_response(app.handle_user_exception(erreur))
        return reponse
