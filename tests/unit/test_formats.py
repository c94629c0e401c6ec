"""Les filtres de gabarit `euros`, `date_fr`, `date_courte` et `horodatage` écrivent eux-mêmes le format
français (un appel à flask_babel coûte vingt fois plus, et une liste en fait des centaines) : ils doivent
rester identiques à ce que Babel produit pour la locale « fr » et le fuseau de Paris."""

from datetime import UTC, date, datetime
from decimal import Decimal

import flask_babel
from babel.dates import format_date
from babel.numbers import format_currency
from flask import Flask
from flask_babel import Babel
from hypothesis import assume, given
from hypothesis import strategies as st

from dauphin import _heure_de_paris, date_courte, date_fr, euros, horodatage
from dauphin.libelles import cle_alphabetique, quantite

montants = st.decimals(min_value=-(10**12), max_value=10**12, allow_nan=False, allow_infinity=False, places=3)
jours = st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31))
# Horodatages UTC comme en base, y compris autour des changements d'heure. Flask-Babel passe par pytz, dont
# les tables s'arrêtent en 2037 (heure d'hiver ensuite) : comparés à lui jusque-là, au-delà à la règle.
moments = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2037, 12, 31))

application = Flask(__name__)
application.config.update(BABEL_DEFAULT_LOCALE="fr", BABEL_DEFAULT_TIMEZONE="Europe/Paris")
Babel(application)


@given(montants)
def test_euros_comme_babel(montant):
    assume(not (montant == 0 and montant.is_signed()))  # -0 : voir ci-dessous
    assert euros(montant) == format_currency(montant, "EUR", locale="fr")


def test_zero_negatif_sans_signe():
    # Babel écrit « -0,00 € » ; un montant nul n'a pas de signe à l'écran.
    assert euros(Decimal("-0")) == euros(Decimal("-0.000")) == "0,00\u00a0€"
    assert euros(Decimal("-0.001")) == "-0,00\u00a0€"  # comme Babel : arrondi d'un montant négatif


def test_ordre_alphabetique_a_la_francaise():
    noms = ["Ville de Lyon", "État — préfecture du Rhône", "île-de-France", "Etablissement public", "CAF"]
    assert sorted(noms, key=cle_alphabetique) == [
        "CAF",
        "Etablissement public",
        "État — préfecture du Rhône",
        "île-de-France",
        "Ville de Lyon",
    ]


def test_euros_vide_et_entiers():
    assert euros(None) == "—"
    assert euros(1234) == "1\u202f234,00\u00a0€"


@given(jours)
def test_dates_comme_babel(jour):
    assert date_fr(jour) == format_date(jour, "d MMMM y", locale="fr")
    assert date_courte(jour) == format_date(jour, "dd/MM/y", locale="fr")


@given(moments)
def test_horodatage_a_l_heure_de_paris_comme_flask_babel(moment):
    with application.test_request_context():
        assert horodatage(moment) == flask_babel.format_datetime(moment, "d MMMM y 'à' HH'h'mm")
        assert date_fr(moment) == flask_babel.format_date(moment, "d MMMM y")
        assert date_courte(moment) == flask_babel.format_date(moment, "dd/MM/y")


@given(moments, st.booleans())
def test_heure_de_paris_comme_flask_babel_sans_relire_le_fuseau(moment, avec_fuseau):
    # Le fuseau lu une fois (dauphin.libelles.PARIS) donne la conversion de Flask-Babel, qui le relit à
    # chaque date (naïf : UTC), et sans contexte de requête.
    moment = moment.replace(tzinfo=UTC) if avec_fuseau else moment
    local = _heure_de_paris(moment)
    with application.test_request_context():
        attendu = flask_babel.to_user_timezone(moment)
    assert (local, local.utcoffset(), local.tzname()) == (attendu, attendu.utcoffset(), attendu.tzname())


def test_heure_d_ete_apres_2037():
    # Le dernier dimanche de mars, 1 h UTC, tous les ans (pytz, faute de tables, resterait à l'heure d'hiver).
    assert horodatage(datetime(2038, 4, 1, 0, 0)) == "1 avril 2038 à 02h00"
    assert horodatage(datetime(2099, 3, 29, 0, 59, tzinfo=UTC)) == "29 mars 2099 à 01h59"
    assert horodatage(datetime(2099, 3, 29, 1, 0, tzinfo=UTC)) == "29 mars 2099 à 03h00"


def test_horodatage_utc_lu_a_paris():
    with application.test_request_context():
        assert horodatage(datetime(2026, 7, 14, 22, 30)) == "15 juillet 2026 à 00h30"  # UTC+2 l'été
        assert horodatage(datetime(2026, 1, 31, 23, 5, tzinfo=UTC)) == "1 février 2026 à 00h05"


def test_valeurs_absentes():
    assert date_fr(None) == date_courte(None) == horodatage(None) == "—"


def test_echeance_a_minuit_est_le_jour_precedent_inclus():
    """Un jeton « valable jusqu'au 6 mars » expire le 7 à 00h00, heure de Paris : on lit le 6, inclus."""
    from dauphin import echeance

    with application.test_request_context():
        assert echeance(datetime(2027, 3, 6, 23, 0, tzinfo=UTC)) == "6 mars 2027 inclus"  # minuit à Paris
        assert echeance(datetime(2027, 7, 14, 22, 30, tzinfo=UTC)) == "15 juillet 2027 à 00h30"
        assert echeance(None) == "—"


def test_quantite_accorde_le_nom_a_la_francaise():
    assert [quantite(n, "demande") for n in (0, 1, 2, 966)] == [
        "0 demande",
        "1 demande",
        "2 demandes",
        "966 demandes",
    ]
    assert quantite(3, "travail", "travaux") == "3 travaux"
