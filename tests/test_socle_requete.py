"""Le socle de chaque requête (dauphin/socle.py, adresses de la mise en page, en-têtes de sécurité) : ce qui
est fait une fois au lieu d'une fois par page donne exactement ce que donnait le calcul de chaque page."""

from __future__ import annotations

import inspect
import re

import pytest
from flask import g, request, url_for
from flask_login import current_user
from flask_login.utils import _get_user
from itsdangerous import BadSignature

from dauphin.extensions import limiter
from dauphin.navigation import ADRESSES, MISE_EN_PAGE, liens_de_la_mise_en_page, morceau_fixe
from dauphin.socle import Application, compte_courant
from dauphin.urls import urls_fixes


def test_adresses_de_la_mise_en_page_comme_url_for_et_par_prefixe(app):
    for prefixe in ("", "/portail", ""):
        with app.test_request_context("/", environ_overrides={"SCRIPT_NAME": prefixe}):
            liens = liens_de_la_mise_en_page()
            assert liens is liens_de_la_mise_en_page()  # gardées par processus et par préfixe
            assert liens["accessibilite"] == f"{prefixe}/accessibilite"
            for cle, (endpoint, valeurs) in MISE_EN_PAGE.items():
                assert liens[cle] == url_for(endpoint, **valeurs)
            adresses = urls_fixes("navigation", ADRESSES)
            assert adresses is urls_fixes("navigation", ADRESSES) and adresses.keys() == ADRESSES.keys()
            for endpoint, (nom, valeurs) in ADRESSES.items():
                assert adresses[endpoint] == url_for(nom, **valeurs) == url_for(endpoint)
                assert adresses[endpoint].startswith(f"{prefixe}/")
            assert "?v=" in liens["dsfr_css"]  # la version du DSFR, posée par dsfr._ajouter_version


def test_morceaux_fixes_de_la_mise_en_page_rendus_une_fois_par_prefixe(app, client, monkeypatch):
    for prefixe in ("/portail", ""):
        with app.test_request_context("/", environ_overrides={"SCRIPT_NAME": prefixe}):
            for nom in ("mise_en_page/tete.html", "mise_en_page/pied_de_page.html"):
                rendu = morceau_fixe(nom)
                assert morceau_fixe(nom) is rendu  # gardé
                assert rendu == app.jinja_env.get_template(nom).render(_fixes=liens_de_la_mise_en_page())
            pied = morceau_fixe("mise_en_page/pied_de_page.html")
            assert f'<a class="fr-footer__bottom-link" href="{prefixe}/accessibilite">' in pied
            assert pied.startswith('<footer class="fr-footer"') and pied.endswith("</footer>")
            tete = morceau_fixe("mise_en_page/tete.html")
            assert tete.startswith(f'<link rel="stylesheet" href="{prefixe}/')
    html = client.get("/accessibilite", environ_overrides={"SCRIPT_NAME": "/portail"}).get_data(as_text=True)
    assert "</main>\n\n  <footer" in html and '<link rel="stylesheet" href="/portail/' in html
    monkeypatch.setattr(app.jinja_env, "auto_reload", True)  # en développement : relu à chaque page
    with app.test_request_context("/"):
        nom = "mise_en_page/tete.html"
        app.extensions["dauphin.morceaux_fixes"].pop((nom, ""))
        assert morceau_fixe(nom) == morceau_fixe(nom)
        assert (nom, "") not in app.extensions["dauphin.morceaux_fixes"]


def test_les_morceaux_fixes_ne_lisent_que_les_adresses_fixes(app):
    """Un morceau de mise_en_page/ est rendu une fois pour tous les comptes (`morceau_fixe`) : s'il lisait
    `request`, `session`, `current_user` ou `g`, la page du premier compte servirait à tous."""
    from jinja2 import meta

    env = app.jinja_env
    noms = [nom for nom in env.list_templates() if nom.startswith("mise_en_page/")]
    assert sorted(noms) == ["mise_en_page/pied_de_page.html", "mise_en_page/tete.html"]
    for nom in noms:
        source = env.loader.get_source(env, nom)[0]
        assert meta.find_undeclared_variables(env.parse(source)) == {"_fixes"}, nom


def test_un_nom_d_adresses_fixes_ne_designe_qu_une_table(app):
    with app.test_request_context("/"):
        autre = {"accessibilite": ("public.accessibilite", {})}
        assert urls_fixes("mise en page", MISE_EN_PAGE) is liens_de_la_mise_en_page()
        assert urls_fixes("navigation", ADRESSES) is urls_fixes("navigation", ADRESSES)
        with pytest.raises(ValueError, match="mise en page"):
            urls_fixes("mise en page", autre)
        with pytest.raises(ValueError, match="navigation"):
            urls_fixes("navigation", dict(ADRESSES))  # même contenu, autre table
        assert urls_fixes("essai d'une autre table", autre)["accessibilite"] == "/accessibilite"


def test_navigation_et_mise_en_page_sous_un_prefixe(client, connexion, monde):
    connexion.en_tant_que(monde.instructeur_etat)
    html = client.get("/instruction/", environ_overrides={"SCRIPT_NAME": "/portail"}).get_data(as_text=True)
    adresses = re.findall(r'(?:href|src|action|data-etat)="([^"#]*)"', html)
    internes = [a for a in adresses if not a.startswith("https://")]
    assert internes and all(a.startswith("/portail/") for a in internes), internes
    assert '<a class="fr-nav__link" href="/portail/instruction/" aria-current="page">Instruction</a>' in html
    assert 'href="/portail/cycle-de-vie">Cycle de vie' in html
    html = client.get("/cycle-de-vie").get_data(as_text=True)
    assert '<a class="fr-nav__link" href="/cycle-de-vie" aria-current="page">Cycle de vie' in html
    assert 'href="/instruction/">Instruction</a>' in html


def test_en_tetes_de_securite_sans_ecraser_ceux_d_une_vue(app, client):
    with app.test_request_context("/"):
        vue = {"X-Frame-Options": "SAMEORIGIN", "referrer-policy": "no-referrer"}
        reponse = app.process_response(app.make_response(("ok", 200, vue)))
    assert reponse.headers.getlist("X-Frame-Options") == ["SAMEORIGIN"]  # celui de la vue, seul
    assert reponse.headers.getlist("Referrer-Policy") == ["no-referrer"]  # nom en minuscules compris
    assert reponse.headers["X-Content-Type-Options"] == "nosniff"
    assert reponse.headers["Content-Security-Policy"].startswith("default-src 'self';")
    assert "Strict-Transport-Security" not in reponse.headers
    app.config["SESSION_COOKIE_SECURE"] = True
    try:
        reponse = client.get("/accessibilite")
    finally:
        app.config["SESSION_COOKIE_SECURE"] = False
    assert reponse.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert reponse.headers.getlist("X-Frame-Options") == ["DENY"]


def test_globaux_des_gabarits_partages_sans_etre_ecrits(app):
    env = app.jinja_env
    gabarit = env.get_template("macros/dsfr.html")
    assert gabarit.globals is env.globals  # pas de ChainMap à parcourir à chaque import
    env.globals["essai_ajoute_apres"] = "vu"
    try:
        assert env.from_string("{{ essai_ajoute_apres }}").render() == "vu"
        # Des globaux propres à un gabarit déjà chargé ne vont pas dans ceux de l'environnement.
        avec = env.get_template("macros/dsfr.html", globals={"essai_propre": 1})
        assert avec.globals["essai_propre"] == 1 and avec.globals["url_fixe"] is env.globals["url_fixe"]
        assert "essai_propre" not in env.globals
        assert env.from_string("{{ x }}", globals={"x": 2}).render() == "2" and "x" not in env.globals
    finally:
        del env.globals["essai_ajoute_apres"]
        if env.cache is not None:
            env.cache.clear()  # le macros/dsfr.html gardé portait `essai_propre`


def test_cookie_de_session_signe_par_la_cle_courante_et_lu_avec_les_anciennes(app):
    interface = app.session_interface
    serialiseur = interface.get_signing_serializer(app)
    assert interface.get_signing_serializer(app) is serialiseur  # construit une fois
    cookie = serialiseur.dumps({"a": 1})
    ancienne, app.secret_key = app.secret_key, "une-nouvelle-cle-de-test-assez-longue"
    try:
        with pytest.raises(BadSignature):
            interface.get_signing_serializer(app).loads(cookie)
        app.config["SECRET_KEY_FALLBACKS"] = [ancienne]
        assert interface.get_signing_serializer(app).loads(cookie) == {"a": 1}
        assert interface.get_signing_serializer(app).dumps({"a": 1}) != cookie  # signé par la nouvelle
    finally:
        app.secret_key = ancienne
        app.config["SECRET_KEY_FALLBACKS"] = []


def test_ensure_sync_rend_les_fonctions_ordinaires_telles_quelles():
    application = Application(__name__)

    def ordinaire():
        return 1

    class Objet:
        def methode(self):
            return 2

    async def coroutine():
        return 3

    assert application.ensure_sync(ordinaire) is ordinaire
    methode = Objet().methode
    assert application.ensure_sync(methode) is methode
    appelee = []
    application.async_to_sync = lambda f: appelee.append(f) or f  # asgiref n'est pas installé
    application.ensure_sync(coroutine)
    assert appelee == [coroutine]


# La fonction de Flask-Login que refait `compte_courant` : si une version de Flask-Login la change, ce test
# échoue, et `compte_courant` est à relire avec elle.
_GET_USER_DE_FLASK_LOGIN = """def _get_user():
    if has_request_context():
        if "_login_user" not in g:
            current_app.login_manager._load_user()

        return g._login_user

    return None
"""


def test_current_user_lu_comme_par_flask_login(app, monde):
    assert inspect.getsource(_get_user) == _GET_USER_DE_FLASK_LOGIN
    assert current_user._get_current_object is compte_courant  # branché par create_app
    assert compte_courant() is None and _get_user() is None  # hors d'une requête
    with app.test_request_context("/"):
        assert "_login_user" not in g
        anonyme = current_user._get_current_object()  # chargé au premier usage : personne
        assert anonyme.is_anonymous and g._login_user is anonyme and _get_user() is anonyme
        assert current_user.is_authenticated is False
        app.login_manager._update_request_context_with_user(monde.instructeur_etat)  # comme login_user
        assert compte_courant() is monde.instructeur_etat is _get_user()
        assert current_user.id == monde.instructeur_etat.id
        app.login_manager._update_request_context_with_user()  # comme logout_user
        assert current_user.is_anonymous and compte_courant() is _get_user()


def test_current_user_d_une_session_ouverte(client, connexion, monde):
    connexion.en_tant_que(monde.instructeur_etat)
    html = client.get("/accessibilite").get_data(as_text=True)
    assert f'<span class="fr-sr-only">Mon compte : </span>{monde.instructeur_etat.nom_complet}</a>' in html


def test_limites_examinees_avant_la_requete_comme_par_flask_limiter(app):
    """`Limiteur` ne saute l'examen d'avant la requête que là où Flask-Limiter n'y trouverait aucune limite :
    comparé, page par page, à ce qu'il trouve (limites de l'application, par défaut, méta, du blueprint)."""
    sautees, examinees = set(), set()
    for regle in app.url_map.iter_rules():
        for methode in sorted(regle.methods - {"HEAD", "OPTIONS"}):
            with app.test_request_context("/", method=methode) as contexte:
                contexte.request.url_rule = regle
                if limiter._sans_limite(request.blueprint):
                    trouvees = limiter._Limiter__filter_limits(regle.endpoint, request.blueprint, None, True)
                    assert trouvees == [], (regle, methode)
                    sautees.add(regle.endpoint)
                else:
                    examinees.add(regle.endpoint)
    assert "public.accessibilite" in sautees and "dossiers.voir" in sautees
    assert "auth.connexion" in sautees  # ses limites sont celles de la vue, vérifiées par la vue
    assert examinees and all(endpoint.startswith("api.") for endpoint in examinees)  # la limite de l'API
