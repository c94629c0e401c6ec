"""La pagination DSFR (macros/dsfr.html) écrit les liens « première », « précédente », « suivante » et
« dernière page » par l'adresse des pages numérotées (`url_par_identifiant`, construite une fois par page)
au lieu d'un `url_for` par lien : le HTML doit rester, au caractère près, celui des macros d'avant
(recopiées ici), avec ou sans filtres (valeurs répétées, textes à échapper), curseurs et plafond."""

from types import SimpleNamespace as Objet

import pytest
from werkzeug.datastructures import MultiDict

# Les macros _lien_de_page et pagination avant le changement
AVANT = """
{%- macro _lien_de_page(sens, libelle, numero, endpoint, parametres, curseur=none) -%}
{%- if numero -%}
<a class="fr-pagination__link fr-pagination__link--{{ sens }}" href="{{ url_for(endpoint, **(dict(parametres, page=numero, curseur=curseur) if curseur else dict(parametres, page=numero))) }}" title="{{ libelle }}">{{ libelle }}</a>
{%- else -%}
<a class="fr-pagination__link fr-pagination__link--{{ sens }}" aria-disabled="true" role="link">{{ libelle }}</a>
{%- endif -%}
{%- endmacro %}
{%- macro pagination(page, endpoint, args=None) -%}
{%- if page.pages and page.pages > 1 -%}
{%- set parametres = parametres_de_lien(args, 'page', 'curseur') -%}
{%- set adresse_de_page = url_par_identifiant(endpoint, 'page', **parametres) -%}
<nav class="fr-pagination" role="navigation" aria-label="Pagination">
  <ul class="fr-pagination__list">
    <li>{{ _lien_de_page('first', 'Première page', 1 if page.has_prev, endpoint, parametres) }}</li>
    <li>{{ _lien_de_page('prev fr-pagination__link--lg-label', 'Page précédente', page.prev_num if page.has_prev, endpoint, parametres, page.curseur_precedent) }}</li>
    {%- for numero in page.iter_pages() %}
    <li>
      {%- if numero is none %}
      <span class="fr-pagination__link fr-hidden fr-unhidden-lg" aria-hidden="true">…</span>
      {%- elif numero == page.page %}
      <a class="fr-pagination__link" aria-current="page" title="Page {{ numero }}">{{ numero }}</a>
      {%- else %}
      <a class="fr-pagination__link" href="{{ adresse_de_page(numero) }}" title="Page {{ numero }}">{{ numero }}</a>
      {%- endif %}
    </li>
    {%- endfor %}
    <li>{{ _lien_de_page('next fr-pagination__link--lg-label', 'Page suivante', page.next_num if page.has_next, endpoint, parametres, page.curseur_suivant) }}</li>
    {%- if not (page.plafonnee is defined and page.plafonnee) %}
    <li>{{ _lien_de_page('last', 'Dernière page', page.pages if page.has_next, endpoint, parametres) }}</li>
    {%- endif %}
  </ul>
</nav>
{%- endif -%}
{%- endmacro %}
{{- pagination(page, endpoint, args) -}}
"""  # noqa: E501
APRES = '{% import "macros/dsfr.html" as dsfr %}{{- dsfr.pagination(page, endpoint, args) -}}'


def _page(numero, pages, curseurs=False, plafonnee=None):
    page = Objet(
        page=numero,
        pages=pages,
        has_prev=numero > 1,
        has_next=numero < pages,
        prev_num=numero - 1 if numero > 1 else None,
        next_num=numero + 1 if numero < pages else None,
        iter_pages=lambda: [
            n if abs(n - numero) < 3 or n in (1, pages) else None for n in range(1, pages + 1)
        ],
    )
    if curseurs:
        page.curseur_precedent = "avant:2026-01-01:12" if numero > 1 else None
        page.curseur_suivant = "apres:2026&<x>:'34'" if numero < pages else None
    if plafonnee is not None:
        page.plafonnee = plafonnee
    return page


ARGS = [
    None,
    {},
    MultiDict(
        [("statut", "a"), ("statut", "b&c"), ("q", '<script>"x"</script>'), ("page", "3"), ("curseur", "z")]
    ),
    {"espace": "financeur-7", "q": "l'été & co", "endpoint": "x", "_external": "1"},
]


@pytest.mark.parametrize("endpoint", ["usager.tableau_de_bord", "instruction.corbeille"])
@pytest.mark.parametrize("args", ARGS)
@pytest.mark.parametrize("curseurs, plafonnee", [(False, None), (True, None), (False, True), (True, False)])
def test_la_pagination_est_celle_des_macros_d_avant(app, endpoint, args, curseurs, plafonnee):
    env = app.jinja_env
    with app.test_request_context("/"):
        for pages in (1, 2, 3, 9):
            for numero in range(1, pages + 1):
                contexte = {
                    "page": _page(numero, pages, curseurs, plafonnee),
                    "endpoint": endpoint,
                    "args": args,
                }
                attendu = env.from_string(AVANT).render(contexte)
                assert env.from_string(APRES).render(contexte) == attendu, (pages, numero)
                assert ("fr-pagination__link--next" in attendu) is (pages > 1)
