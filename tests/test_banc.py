"""Le banc HTTP (`make bench`) : ses parties pures (percentiles, résumé, rapport, lecture des
formulaires) et les instruments qu'il branche dans l'application (absents sans le drapeau)."""

from __future__ import annotations

import pickle
import random
import statistics
from pathlib import Path

import pytest
from sqlalchemy import event

import config as configuration
from bench import rapport
from bench.pilote import donnees, formulaire, formulaires
from dauphin import mesures

# --- Percentiles et résumé ------------------------------------------------------------------


def test_percentile_suit_l_interpolation_lineaire():
    rng = random.Random(7)
    valeurs = [rng.uniform(1, 500) for _ in range(1001)]
    # statistics.quantiles(method="inclusive") est la même interpolation linéaire entre rangs
    attendus = statistics.quantiles(valeurs, n=100, method="inclusive")
    assert rapport.percentile(valeurs, 50) == pytest.approx(statistics.median(valeurs))
    assert rapport.percentile(valeurs, 95) == pytest.approx(attendus[94])
    assert rapport.percentile(valeurs, 99) == pytest.approx(attendus[98])
    assert rapport.percentile([4, 1, 3, 2], 0) == 1
    assert rapport.percentile([4, 1, 3, 2], 100) == 4
    assert rapport.percentile([10, 20], 50) == 15
    assert rapport.percentile([42], 99) == 42
    assert rapport.percentile([], 50) is None
    with pytest.raises(ValueError):
        rapport.percentile([1, 2], 101)


def test_resume_compte_les_erreurs_dans_le_debit_et_pas_dans_les_latences():
    resume = rapport.resumer(
        [10.0, 20.0, 30.0, 40.0], erreurs=1, duree_totale_s=2.0, requetes_sql=[7, 7, 9, 9]
    )
    assert resume["requetes"] == 5
    assert resume["erreurs"] == 1
    assert resume["debit_rps"] == 2.5
    assert resume["p50_ms"] == 25.0
    assert resume["max_ms"] == 40.0
    assert resume["sql_par_requete"] == 8.0
    assert resume["sql_max"] == 9
    vide = rapport.resumer([], 0, 1.0)
    assert vide["p95_ms"] is None and vide["sql_par_requete"] is None


# --- Rapport ----------------------------------------------------------------------------------


def _resultat(demandes: int, p95_instruction: float, p95_depot: float) -> dict:
    return {
        "demandes": demandes,
        "date": "2026-11-22 08:00 UTC",
        "machine": {"coeurs": 2, "memoire_gio": 24, "postgresql": "PostgreSQL 15.20", "workers": 4},
        "utilisateurs": 4,
        "limites": {
            "route_vide": {"debit_rps": 400.0, "p50_ms": 8.0, "p95_ms": 12.0, "p99_ms": 15.0, "erreurs": 0}
        },
        "scenarios": {
            "instruction": {
                "libelle": "Espace d’instruction",
                "genre": "page",
                "debit_rps": 40.0,
                "p50_ms": 60.0,
                "p95_ms": p95_instruction,
                "p99_ms": 150.0,
                "erreurs": 0,
                "sql_par_requete": 16.0,
                "cpu_app_ms": 31.0,
                "sql_direct_p50_ms": 12.0,
                "route_temoin_rps": 320.0,  # la machine ralentie depuis le début du banc
                "route_temoin_p50_ms": 3.0,
            },
            "depot": {
                "libelle": "Soumission puis attestation",
                "genre": "transition",
                "debit_rps": 20.0,
                "p50_ms": 90.0,
                "p95_ms": p95_depot,
                "p99_ms": 200.0,
                "erreurs": 0,
                "sql_par_requete": 33.0,
                "sql_direct_p50_ms": 18.0,
            },
        },
        "absents": ["vote du comité"],
        "rafale": {
            "porteurs": 1000,
            "etalement_s": 180.0,
            "duree_s": 185.2,
            "debit_depots_par_s": 5.4,
            "etapes": {
                "soumettre": {"requetes": 1000, "erreurs": 0, "p50_ms": 40.0, "p95_ms": 90.0, "p99_ms": 120.0}
            },
            "controle": {
                "attendues": 1000,
                "transmises": 1000,
                "numeros_distincts": 1000,
                "lignes_attester": 1000,
                "demandes_avec_une_attestation": 1000,
                "journal_verify": "intègre",
                "intact": True,
            },
        },
    }


def test_rapport_markdown_donne_limites_cibles_rafale_et_croissance():
    petit = _resultat(25_000, p95_instruction=80.0, p95_depot=100.0)
    grand = _resultat(250_000, p95_instruction=96.0, p95_depot=160.0)
    texte = rapport.rapport_markdown(grand, petit)

    ligne_instruction = next(
        ligne for ligne in texte.splitlines() if ligne.startswith("| Espace d’instruction")
    )
    cellules = [c.strip() for c in ligne_instruction.strip("|").split("|")]
    assert cellules[1:9] == ["page", "40 req/s", "60 ms", "96 ms", "150 ms", "0", "16", "31 ms"]
    # p50 ÷ (route témoin juste avant + SQL seul) = 60 / (3 + 12) = 4 : au-delà de 3 pour une page principale.
    # Rapport à la route témoin mesurée juste avant le scénario : 320 / 40 = 8 (et non 400 / 40)
    assert cellules[9:] == ["12 ms", "4 × : dépassé", "320 req/s, p50 3 ms", "8 ×", "≤ 100 ms : tenu"]
    ligne_depot = next(ligne for ligne in texte.splitlines() if ligne.startswith("| Soumission puis"))
    assert ligne_depot.rstrip().endswith("| — | 20 × | ≤ 150 ms : dépassé |")  # sans mesure : celle du début
    assert "| route témoin (constante, même serveur) | limite | 400 req/s | 8 ms |" in texte
    assert "250\u202f000 demandes" in texte
    assert "Scénarios absents de cette version : vote du comité." in texte
    assert "**Aucun dépôt perdu ni dupliqué.**" in texte
    # Croissance : 96 / 80 = 1,2 (tenu), 160 / 100 = 1,6 (dépassé)
    assert "| Espace d’instruction | 80 ms | 96 ms | 1,2 × | 1 × | 1 × |" in texte
    assert "| Soumission puis attestation | 100 ms | 160 ms | 1,6 × (dépassé) | — | 1 × |" in texte


def test_detail_par_url_met_en_tete_la_variante_la_plus_lente():
    detail = rapport.detailler(
        {"/instruction/": [10.0, 12.0, 14.0], "/instruction/?q=association": [40.0, 60.0, 80.0]}
    )
    assert list(detail) == ["/instruction/?q=association", "/instruction/"]
    assert detail["/instruction/?q=association"] == {"requetes": 3, "p50_ms": 60.0, "p95_ms": 78.0}
    resultat = _resultat(250_000, p95_instruction=96.0, p95_depot=100.0)
    resultat["scenarios"]["instruction"]["par_cible"] = detail
    texte = rapport.rapport_markdown(resultat)
    assert "| `/instruction/?q=association` | 3 | 60 ms | 78 ms |" in texte
    assert texte.index("?q=association`") < texte.index("| `/instruction/` |")


def test_croissance_ignore_les_scenarios_absents_d_un_des_deux_volumes():
    petit = _resultat(25_000, 80.0, 100.0)
    del petit["scenarios"]["depot"]
    lignes = rapport.croissance(petit, _resultat(250_000, 104.0, 100.0))
    assert [(ligne["scenario"], ligne["ratio"], ligne["tenu"]) for ligne in lignes] == [
        ("instruction", 1.3, True)
    ]


def test_croissance_d_un_export_se_lit_par_demande_exportee():
    """L'export d'une campagne de 362 demandes à 25 000, de 966 à 250 000 : la cible de croissance porte
    sur le p95 par demande exportée, les deux tailles dites à côté."""
    petit, grand = _resultat(25_000, 80.0, 100.0), _resultat(250_000, 96.0, 100.0)
    for resultat, p95, demandes in ((petit, 422.0, 362), (grand, 784.0, 966)):
        resultat["scenarios"]["export"] = {
            "libelle": "Export",
            "genre": "export",
            "p95_ms": p95,
            "erreurs": 0,
            "taille": {"valeur": demandes, "unite": "demandes exportées"},
        }
    lignes = {ligne["scenario"]: ligne for ligne in rapport.croissance(petit, grand)}
    assert lignes["export"]["ratio"] == 1.86  # 784 / 422 : dépassé si on comparait les durées
    assert lignes["export"]["ratio_par_unite"] == 0.7  # (784 / 966) / (422 / 362)
    assert lignes["export"]["tenu"] is True
    assert "taille" not in lignes["instruction"]  # une page : même taille aux deux volumes
    texte = rapport.rapport_markdown(grand, petit)
    assert "| Export | 422 ms | 784 ms | 1,9 × ; 362 → 966 demandes exportées, par unité : 0,7 × |" in texte
    # À taille égale, rien ne change : la cible porte sur le rapport des p95
    grand["scenarios"]["export"]["taille"]["valeur"] = 362
    assert rapport.croissance(petit, grand)[-1]["tenu"] is False
    # Un export sans mesure au grand volume (toutes ses requêtes en erreur) n'est jamais tenu
    grand["scenarios"]["export"].update(p95_ms=None, erreurs=5, taille={"valeur": 966, "unite": "demandes"})
    echec = rapport.croissance(petit, grand)[-1]
    assert echec["ratio_par_unite"] is None and echec["tenu"] is False
    assert "par unité : — (dépassé)" in rapport.rapport_markdown(grand, petit)


def test_une_rafale_incomplete_est_signalee():
    rafale = _resultat(1, 1, 1)["rafale"]
    rafale["controle"].update(transmises=999, intact=False)
    assert "**Écart constaté.**" in rapport.rapport_rafale(rafale)


def test_verdict_echoue_des_qu_il_y_a_une_erreur():
    assert rapport.verdict("page", 50.0, 0) == "tenu"
    assert rapport.verdict("page", 150.0, 0) == "dépassé"
    assert rapport.verdict("transition", 150.0, 0) == "tenu"
    assert rapport.verdict("page", 50.0, 2) == "échec"


# --- Lecture des formulaires (ce qu'un navigateur enverrait) ----------------------------------

PAGE = """
<form method="post" action="/compte/deconnexion"><input type="hidden" name="csrf_token" value="a"></form>
<form method="post" novalidate>
  <input type="hidden" name="csrf_token" value="jeton">
  <input type="hidden" name="version" value="3">
  <input name="compte_60" value="1 200,00">
  <input type="checkbox" name="declarations" value="y">
  <input type="checkbox" name="exactitude" value="y" checked>
  <select name="compte_bancaire_id">
    <option value="0">—</option><option value="7" selected>FR76…</option>
  </select>
  <select name="thematique"><option value="">— Choisir —</option><option value="1.5">1.5</option></select>
  <textarea name="commentaire">Bonjour &amp; merci</textarea>
  <input type="submit" name="rester" value="Enregistrer">
</form>
"""


def test_formulaire_lu_comme_un_navigateur():
    assert len(formulaires(PAGE)) == 2
    form = formulaire(PAGE)  # celui de la page elle-même, pas la déconnexion
    assert dict(form["champs"]) == {
        "csrf_token": "jeton",
        "version": "3",
        "compte_60": "1 200,00",
        "exactitude": "y",
        "compte_bancaire_id": "7",
        "thematique": "",
        "commentaire": "Bonjour & merci",
    }
    assert form["cases"] == ["declarations", "exactitude"]
    assert formulaire(PAGE, "/deconnexion")["champs"] == [("csrf_token", "a")]
    envoye = donnees(form, compte_60="1 300,00", declarations="y")
    assert envoye["compte_60"] == ["1 300,00"] and envoye["declarations"] == ["y"]
    assert envoye["version"] == ["3"]


# --- Instruments dans l'application -----------------------------------------------------------


def test_sans_drapeau_ni_entete_ni_route_temoin(client, monde, connexion):
    connexion.en_tant_que(monde.instructeur_etat)
    reponse = client.get("/instruction/", headers={mesures.ENTETE_CAPTURER: "1"})
    assert reponse.status_code == 200
    assert mesures.ENTETE_REQUETES_SQL not in reponse.headers
    assert mesures.ENTETE_CAPTURE not in reponse.headers
    assert client.get(mesures.ROUTE_VIDE).status_code == 404


def test_la_production_ignore_le_drapeau(monkeypatch):
    monkeypatch.setenv("DAUPHIN_BENCH", "1")
    assert configuration.DevelopmentConfig().BENCH_MESURES is True
    assert configuration.ProductionConfig().BENCH_MESURES is False


@pytest.mark.transactions_reelles  # une seconde application, son propre moteur
def test_avec_drapeau_l_entete_compte_les_ordres_sql_de_la_requete(app, monde, tmp_path, monkeypatch):
    from dauphin import create_app
    from dauphin.extensions import db

    monkeypatch.setenv("DAUPHIN_INSTANCE_PATH", str(tmp_path))
    cfg = configuration.TestConfig()
    cfg.BENCH_MESURES = True
    banc = create_app(cfg)  # même base que la suite
    with banc.app_context():
        client = banc.test_client()
        reponse = client.post(
            "/compte/connexion",
            data={"email": monde.instructeur_etat.email, "mot_de_passe": "mot-de-passe-de-test"},
        )
        assert reponse.status_code == 302
        ordres = []
        compteur = lambda *a: ordres.append(a[2])  # noqa: E731 — un témoin indépendant du banc
        event.listen(db.engine, "before_cursor_execute", compteur)
        try:
            reponse = client.get("/instruction/", headers={mesures.ENTETE_CAPTURER: "1"})
        finally:
            event.remove(db.engine, "before_cursor_execute", compteur)
        assert reponse.status_code == 200
        assert int(reponse.headers[mesures.ENTETE_REQUETES_SQL]) == len(ordres) > 0
        capture = Path(banc.instance_path) / "banc-sql" / reponse.headers[mesures.ENTETE_CAPTURE]
        assert [ordre for ordre, _, _ in pickle.loads(capture.read_bytes())] == ordres

        # La route témoin, demandée par un usager connecté : une constante servie avant Flask, sans lire sa
        # session ni son compte en base (sinon le plancher compterait ces ordres SQL).
        ordres.clear()
        event.listen(db.engine, "before_cursor_execute", compteur)
        try:
            vide = client.get(mesures.ROUTE_VIDE)
        finally:
            event.remove(db.engine, "before_cursor_execute", compteur)
        assert vide.status_code == 200 and vide.get_data(as_text=True) == "ok" and ordres == []
        assert mesures.ENTETE_CAPTURE not in client.get("/instruction/").headers
        db.session.remove()
        db.engine.dispose()


def test_detail_et_croissance_variante_par_variante_par_leur_libelle():
    """Les variantes d'URL de l'espace d'instruction se comparent par leur libellé : le numéro de la dernière
    page change d'un volume à l'autre. Chaque variante est jugée à son p95, et son SQL seul suit."""

    def resultat(demandes, derniere, p95_mot, sql_mot):
        r = _resultat(demandes, p95_instruction=90.0, p95_depot=100.0)
        r["scenarios"]["instruction"]["par_cible"] = {
            "/instruction/?q=quartier": {
                "libelle": "mot fréquent « quartier »",
                "requetes": 100,
                "p50_ms": 40.0,
                "p95_ms": p95_mot,
                "sql_direct_p50_ms": sql_mot,
            },
            f"/instruction/?onglet=terminees&page={derniere}": {
                "libelle": "« terminées », dernière page",
                "requetes": 100,
                "p50_ms": 30.0,
                "p95_ms": 50.0,
                "sql_direct_p50_ms": 4.0,
            },
        }
        return r

    texte = rapport.rapport_markdown(resultat(250_000, 900, 130.0, 34.1), resultat(25_000, 90, 60.0, 19.8))
    assert (
        "| mot fréquent « quartier » | `/instruction/?q=quartier` | 100 | 40 ms | 130 ms | 34,1 ms "
        "| dépassé |" in texte
    )
    assert (
        "| « terminées », dernière page | `/instruction/?onglet=terminees&page=900` | 100 | 30 ms | 50 ms "
        "| 4 ms | tenu |" in texte
    )
    assert (
        "| mot fréquent « quartier » | 60 ms | 130 ms | 2,2 × (dépassé) | 19,8 ms → 34,1 ms | 1,7 × |"
        in texte
    )
    assert "| « terminées », dernière page | 50 ms | 50 ms | 1 × | 4 ms → 4 ms | 1 × |" in texte
