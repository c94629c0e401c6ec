"""Le socle de chaque requête : ce que Flask, Jinja et la session signée refont à chaque page sans que rien
n'ait changé, fait une fois (mesuré par `bench.profil_pages` : une page triviale d'un compte connecté
faisait 5 900 appels de fonctions Python, dont près de 600 pour ce qui suit).

- `Application.ensure_sync` : Flask demande à `inspect` si chaque fonction appelée (vue, une vingtaine de
  crochets avant et après la requête, processeurs de contexte) est une coroutine, 7 appels chacune ; une
  fonction ou une méthode ordinaire se lit à son drapeau de code.
- `Gabarits.make_globals` : un gabarit sans globaux propres lit ceux de l'environnement tels quels (un
  dict) au lieu d'une ChainMap ; chaque `{% import %}` comparait les clés des deux (160 appels Python par
  import, pour conclure qu'elles sont les mêmes) et chaque rendu recopiait la ChainMap clé par clé.
- `SessionSignee` : le sérialiseur du cookie de session, construit une fois par jeu de clés au lieu d'une
  fois par requête.
- `compte_courant` : ce que lit `current_user` de Flask-Login à chaque usage (`_get_user`), sans repasser
  par les proxys `g` et `current_app` (une quinzaine d'appels Python par lecture, une cinquantaine de
  lectures par vue d'un dossier).
- `Gabarit` : chaque `{{ valeur }}` d'un gabarit HTML passe par `escape` ; un texte (str), le cas courant,
  y est échappé par `echapper_en_markup` en quatre appels au lieu de six (sans le `Markup.__new__` de
  markupsafe, écrit en Python, ni son `hasattr`) : le même Markup. Quelque 350 valeurs par vue d'un dossier.
"""

from __future__ import annotations

import functools
from inspect import CO_COROUTINE
from types import FunctionType, MethodType

import flask_login
from flask import Flask
from flask.globals import _cv_app, _cv_request
from flask.sessions import SecureCookieSessionInterface
from flask.templating import Environment
from jinja2 import Template
from markupsafe import Markup, escape

from forms.champs import echapper

_ORDINAIRES = (FunctionType, MethodType)


_NOUVEAU_TEXTE = str.__new__


def echapper_en_markup(valeur) -> Markup:
    """`markupsafe.escape`, plus court pour un texte : la même fonction C (`forms.champs.echapper`) et le
    Markup construit sans passer par son `__new__` (qui ne fait, pour un texte, que le construire). Le reste
    (Markup, objet qui a `__html__`, nombre, None…) : `escape`."""
    if type(valeur) is str:
        return _NOUVEAU_TEXTE(Markup, echapper(valeur))
    return escape(valeur)


class Gabarit(Template):
    """Un gabarit compilé dont les `{{ … }}` échappent par `echapper_en_markup` : le code que Jinja produit
    lit `escape` dans l'espace de noms du gabarit (importé de jinja2.runtime, qui le tient de markupsafe)."""

    @classmethod
    def _from_namespace(cls, environment, namespace, globals):
        if namespace.get("escape") is escape:
            namespace["escape"] = echapper_en_markup
        return super()._from_namespace(environment, namespace, globals)


class Gabarits(Environment):
    """L'environnement Jinja du portail : celui de Flask, aux globaux partagés sans ChainMap, aux gabarits
    qui échappent par `echapper_en_markup`."""

    template_class = Gabarit

    def make_globals(self, d):
        # Les globaux de l'environnement eux-mêmes (les ajouts ultérieurs restent vus) ; Jinja ne les écrit
        # que par `get_template(…, globals=…)`, repris dans `_load_template`.
        if not d:
            return self.globals
        return super().make_globals(d)

    def _load_template(self, name, globals):
        gabarit = super()._load_template(name, None)
        if globals:
            if gabarit.globals is self.globals:  # jamais écrire dans ceux de l'environnement
                gabarit.globals = super().make_globals(globals)
            else:
                gabarit.globals.update(globals)
        return gabarit


class SessionSignee(SecureCookieSessionInterface):
    """La session de Flask (cookie signé), au sérialiseur construit une fois par jeu de clés."""

    def get_signing_serializer(self, app: Flask):
        if not app.secret_key:
            return None
        return self._serialiseur(app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))

    @functools.lru_cache(maxsize=8)  # noqa: B019  (une instance par application, quelques clés)
    def _serialiseur(self, cle, anciennes: tuple):
        return _SessionDeFlask.get_signing_serializer(self, _Cles(cle, anciennes))


class _Cles:
    """Ce que `SecureCookieSessionInterface.get_signing_serializer` lit d'une application."""

    def __init__(self, cle, anciennes: tuple):
        self.secret_key = cle
        self.config = {"SECRET_KEY_FALLBACKS": list(anciennes)}


_SessionDeFlask = SecureCookieSessionInterface


class Application(Flask):
    jinja_environment = Gabarits
    session_interface = SessionSignee()

    def ensure_sync(self, func):
        # `inspect.iscoroutinefunction` lit le même drapeau (et, depuis Python 3.12, une marque posée par
        # `inspect.markcoroutinefunction`) : le reste (partial, objet appelable) passe par Flask.
        if (
            type(func) in _ORDINAIRES
            and not func.__code__.co_flags & CO_COROUTINE
            and not hasattr(func, "_is_coroutine_marker")
        ):
            return func
        return super().ensure_sync(func)


def compte_courant():
    """Le compte de la requête, comme `flask_login.utils._get_user` : None hors d'une requête ; sinon celui
    que Flask-Login a rangé dans `g`, chargé au premier usage (`LoginManager._load_user`). Lu directement
    dans les contextes de Flask (ce que font les proxys `g` et `current_app`)."""
    if _cv_request.get(None) is None:
        return None
    contexte = _cv_app.get()
    try:
        return contexte.g._login_user
    except AttributeError:
        contexte.app.login_manager._load_user()
        return contexte.g._login_user


def brancher_compte_courant() -> None:
    """`current_user` (un `LocalProxy` de werkzeug autour d'une fonction, qu'il appelle à chaque usage)
    appelle `compte_courant` au lieu de `lambda: _get_user()`."""
    object.__setattr__(flask_login.current_user, "_get_current_object", compte_courant)
