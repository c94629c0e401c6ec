"""Parties pures du banc : percentiles, résumé d'un scénario, rapport Markdown, croissance.

Aucune dépendance à Flask, à la base ou au réseau : testé par tests/test_banc.py.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

# export : la programmation d'une campagne de ~1 000 demandes
CIBLES_P95_MS = {"page": 100.0, "transition": 150.0, "export": 2000.0}
CIBLE_CROISSANCE = 1.3
# Les trois pages principales : p50 ≤ 3 × (plancher du serveur + SQL seul), le plancher étant le p50 de la
# route témoin mesurée juste avant le scénario — ce que la page coûte au-delà de ce qu'elle ne peut éviter.
CIBLE_PLANCHER = 3.0
PAGES_AU_PLANCHER = ("instruction", "dossier", "tableau")


def percentile(valeurs: Sequence[float], rang: float) -> float | None:
    """Percentile par interpolation linéaire entre rangs voisins (méthode « linear » de NumPy)."""
    if not valeurs:
        return None
    if not 0 <= rang <= 100:
        raise ValueError("le rang d'un percentile est compris entre 0 et 100")
    tries = sorted(valeurs)
    position = (len(tries) - 1) * rang / 100
    bas, haut = math.floor(position), math.ceil(position)
    return tries[bas] + (tries[haut] - tries[bas]) * (position - bas)


def _arrondi(valeur: float | None, chiffres: int = 1) -> float | None:
    return None if valeur is None else round(valeur, chiffres)


def resumer(
    durees_ms: Sequence[float], erreurs: int, duree_totale_s: float, requetes_sql: Sequence[int] = ()
) -> dict:
    """Débit, latences et requêtes SQL d'une série de requêtes HTTP réussies (les erreurs à part)."""
    total = len(durees_ms) + erreurs
    return {
        "requetes": total,
        "erreurs": erreurs,
        "debit_rps": _arrondi(total / duree_totale_s if duree_totale_s > 0 else None),
        "p50_ms": _arrondi(percentile(durees_ms, 50)),
        "p95_ms": _arrondi(percentile(durees_ms, 95)),
        "p99_ms": _arrondi(percentile(durees_ms, 99)),
        "max_ms": _arrondi(max(durees_ms) if durees_ms else None),
        "sql_par_requete": _arrondi(sum(requetes_sql) / len(requetes_sql) if requetes_sql else None),
        "sql_max": max(requetes_sql) if requetes_sql else None,
    }


CIBLES_DETAILLEES = 30  # au-delà (un dossier par itération), le détail par cible n'apprendrait rien


def detailler(durees_par_cible: dict[str, list[float]]) -> dict[str, dict]:
    """Latences de chaque cible (URL) d'un scénario, de la plus lente à la plus rapide au p95 : la
    variante qui fait le p95 du scénario se lit en tête."""
    detail = {
        cible: {
            "requetes": len(durees),
            "p50_ms": _arrondi(percentile(durees, 50)),
            "p95_ms": _arrondi(percentile(durees, 95)),
        }
        for cible, durees in durees_par_cible.items()
    }
    return dict(sorted(detail.items(), key=lambda item: -(item[1]["p95_ms"] or 0)))


def ratio(numerateur: float | None, denominateur: float | None) -> float | None:
    if numerateur is None or not denominateur:
        return None
    return round(numerateur / denominateur, 2)


def rapport_au_plancher(mesure: dict) -> float | None:
    """p50 ÷ (p50 de la route témoin juste avant + SQL seul au p50)."""
    temoin, sql = mesure.get("route_temoin_p50_ms"), mesure.get("sql_direct_p50_ms")
    if temoin is None or sql is None:
        return None
    return ratio(mesure.get("p50_ms"), temoin + sql)


def verdict_plancher(nom: str, mesure: dict) -> str:
    valeur = rapport_au_plancher(mesure)
    if nom not in PAGES_AU_PLANCHER or valeur is None:
        return ""
    return " : tenu" if valeur <= CIBLE_PLANCHER else " : dépassé"


def verdict(genre: str, p95_ms: float | None, erreurs: int) -> str:
    cible = CIBLES_P95_MS.get(genre)
    if p95_ms is None or erreurs:
        return "échec" if erreurs else "—"
    if cible is None:
        return "—"
    return "tenu" if p95_ms <= cible else "dépassé"


def croissance(petit: dict, grand: dict) -> list[dict]:
    """p95 au grand volume / p95 au petit volume, scénario par scénario (cible ≤ 1,3)."""
    lignes = []
    for nom, mesure in grand.get("scenarios", {}).items():
        avant = petit.get("scenarios", {}).get(nom)
        if not avant:
            continue
        r = ratio(mesure.get("p95_ms"), avant.get("p95_ms"))
        ligne = {
            "scenario": nom,
            "libelle": mesure.get("libelle", nom),
            "p95_petit_ms": avant.get("p95_ms"),
            "p95_grand_ms": mesure.get("p95_ms"),
            "ratio": r,
            "tenu": r is not None and r <= CIBLE_CROISSANCE,
            # Le CPU de l'application par requête dépend peu de la charge de la machine : sur une
            # machine partagée, c'est lui qui dit si le coût d'une page croît avec le volume.
            "cpu_ratio": ratio(mesure.get("cpu_app_ms"), avant.get("cpu_app_ms")),
            "sql_ratio": ratio(mesure.get("sql_direct_p50_ms"), avant.get("sql_direct_p50_ms")),
        }
        # Un travail dont la taille dépend du jeu (l'export : les demandes de la campagne choisie) se
        # compare à taille égale : le p95 par unité (demande exportée), et la cible porte sur ce rapport.
        petite, grande = avant.get("taille") or {}, mesure.get("taille") or {}
        if petite.get("valeur") and grande.get("valeur") and petite["valeur"] != grande["valeur"]:
            p95_petit, p95_grand = avant.get("p95_ms"), mesure.get("p95_ms")
            par_unite = (
                ratio(p95_grand / grande["valeur"], p95_petit / petite["valeur"])
                if p95_petit is not None and p95_grand is not None
                else None  # un export sans mesure (toutes ses requêtes en erreur) n'est pas tenu
            )
            ligne["taille"] = {
                "petite": petite["valeur"],
                "grande": grande["valeur"],
                "unite": grande["unite"],
            }
            ligne["ratio_par_unite"] = par_unite
            ligne["tenu"] = par_unite is not None and par_unite <= CIBLE_CROISSANCE
        lignes.append(ligne)
    return lignes


def croissance_par_variante(petit: dict, grand: dict) -> list[dict]:
    """La croissance variante par variante des scénarios détaillés par URL (l'espace d'instruction) : deux
    URL se comparent par leur libellé (un numéro de page ou de contrat change d'un volume à l'autre)."""
    lignes = []
    for nom, mesure in grand.get("scenarios", {}).items():
        avant = petit.get("scenarios", {}).get(nom) or {}
        anciennes = {d.get("libelle") or url: d for url, d in (avant.get("par_cible") or {}).items()}
        for url, d in (mesure.get("par_cible") or {}).items():
            cle = d.get("libelle") or url
            a = anciennes.get(cle)
            if a is None:
                continue
            r = ratio(d.get("p95_ms"), a.get("p95_ms"))
            lignes.append(
                {
                    "scenario": nom,
                    "variante": cle,
                    "p95_petit_ms": a.get("p95_ms"),
                    "p95_grand_ms": d.get("p95_ms"),
                    "ratio": r,
                    "tenu": r is not None and r <= CIBLE_CROISSANCE,
                    "sql_petit_ms": a.get("sql_direct_p50_ms"),
                    "sql_grand_ms": d.get("sql_direct_p50_ms"),
                    "sql_ratio": ratio(d.get("sql_direct_p50_ms"), a.get("sql_direct_p50_ms")),
                }
            )
    return lignes


def _ms(valeur) -> str:
    return "—" if valeur is None else f"{valeur:.0f} ms"


def _ms_precis(valeur) -> str:
    """Une durée de quelques millisecondes (SQL seul) : au dixième."""
    return "—" if valeur is None else _nombre(round(valeur, 1), " ms")


def _nombre(valeur, suffixe: str = "") -> str:
    if valeur is None:
        return "—"
    texte = f"{valeur:,.1f}".replace(",", "\u202f").replace(".", ",")
    if texte.endswith(",0"):
        texte = texte[:-2]
    return texte + suffixe


def _entier(valeur) -> str:
    return "—" if valeur is None else f"{valeur:,}".replace(",", "\u202f")


def tableau_markdown(resultat: dict) -> str:
    """Le tableau du README : une ligne par scénario, ses limites mesurées dans la même exécution."""
    vide = resultat.get("limites", {}).get("route_vide", {})
    lignes = [
        "| scénario | type | débit | p50 | p95 | p99 | erreurs | SQL/req. | CPU app (+ base)/req. "
        "| SQL seul (p50) "
        f"| p50 ÷ (route témoin + SQL seul), cible ≤ {_nombre(CIBLE_PLANCHER)} pour les pages principales "
        "| route témoin juste avant | débit route témoin ÷ débit | cible p95 |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for nom, m in resultat.get("scenarios", {}).items():
        cible = CIBLES_P95_MS.get(m.get("genre"))
        lignes.append(
            "| {libelle} | {genre} | {debit} | {p50} | {p95} | {p99} | {erreurs} | {sql} | {cpu} "
            "| {sql_seul} | {r_sql} | {temoin} | {r_vide} | {cible} |".format(
                libelle=m.get("libelle", nom),
                genre=m.get("genre", ""),
                debit=_nombre(m.get("debit_rps"), " req/s"),
                p50=_ms(m.get("p50_ms")),
                p95=_ms(m.get("p95_ms")),
                p99=_ms(m.get("p99_ms")),
                erreurs=_entier(m.get("erreurs")),
                sql=_nombre(m.get("sql_par_requete")),
                cpu=_ms(m.get("cpu_app_ms"))
                + (f" (+ {_ms(m['cpu_base_ms'])})" if m.get("cpu_base_ms") is not None else ""),
                sql_seul=_ms(m.get("sql_direct_p50_ms")),
                r_sql=_nombre(rapport_au_plancher(m), " ×") + verdict_plancher(nom, m),
                # Rapporté à la route témoin mesurée juste avant le scénario (sinon, à celle du début)
                temoin=_nombre(m.get("route_temoin_rps"), " req/s")
                + (
                    f", p50 {_ms(m['route_temoin_p50_ms'])}"
                    if m.get("route_temoin_p50_ms") is not None
                    else ""
                ),
                r_vide=_nombre(
                    ratio(m.get("route_temoin_rps") or vide.get("debit_rps"), m.get("debit_rps")), " ×"
                ),
                cible=(f"≤ {cible:.0f} ms : " if cible else "")
                + verdict(m.get("genre", ""), m.get("p95_ms"), m.get("erreurs", 0)),
            )
        )
    if vide:
        lignes.append(
            f"| route témoin (constante, même serveur) | limite | {_nombre(vide.get('debit_rps'), ' req/s')} "
            f"| {_ms(vide.get('p50_ms'))} | {_ms(vide.get('p95_ms'))} | {_ms(vide.get('p99_ms'))} "
            f"| {_entier(vide.get('erreurs'))} | 0 | {_ms(vide.get('cpu_app_ms'))} | — | — | — | 1 × | — |"
        )
    return "\n".join(lignes)


def rapport_markdown(resultat: dict, precedent: dict | None = None) -> str:
    """Le rapport complet d'une exécution : machine, tableau, rafale, croissance, scénarios absents."""
    machine = resultat.get("machine", {})
    parties = [
        f"## Banc HTTP — {_entier(resultat.get('demandes'))} demandes ({resultat.get('date', '')})",
        "",
        f"Machine : {machine.get('coeurs', '?')} cœurs, {machine.get('memoire_gio', '?')} Gio, "
        f"{machine.get('postgresql', 'PostgreSQL')} sur le même hôte ; "
        f"gunicorn {machine.get('workers', '?')} processus ; "
        f"{resultat.get('utilisateurs', '?')} utilisateurs simultanés par scénario ; "
        f"charge moyenne (1, 5, 15 min) au départ : {machine.get('charge_depart', '?')}, "
        f"à la fin : {machine.get('charge_fin', '?')}.",
        "",
        tableau_markdown(resultat),
    ]
    for m in resultat.get("scenarios", {}).values():
        if m.get("par_cible"):
            cible_p95 = CIBLES_P95_MS.get(m.get("genre"))
            parties += [
                "",
                f"**{m.get('libelle')}**, par URL :",
                "",
                "| variante | URL | requêtes | p50 | p95 | SQL seul (p50) | cible p95 |",
                "|---|---|---|---|---|---|---|",
            ]
            for cible, d in m["par_cible"].items():
                tenu = (
                    "—"
                    if cible_p95 is None or d["p95_ms"] is None
                    else ("tenu" if d["p95_ms"] <= cible_p95 else "dépassé")
                )
                parties.append(
                    f"| {d.get('libelle', '')} | `{cible}` | {_entier(d['requetes'])} | {_ms(d['p50_ms'])} "
                    f"| {_ms(d['p95_ms'])} | {_ms_precis(d.get('sql_direct_p50_ms'))} | {tenu} |"
                )
    absents = resultat.get("absents") or []
    if absents:
        parties += ["", "Scénarios absents de cette version : " + ", ".join(absents) + "."]
    rafale = resultat.get("rafale")
    if rafale:
        parties += ["", rapport_rafale(rafale)]
    if precedent is not None:
        lignes = croissance(precedent, resultat)
        if lignes:
            parties += [
                "",
                f"**Croissance** ({_entier(precedent.get('demandes'))} → {_entier(resultat.get('demandes'))} "
                f"demandes, p95, cible ≤ {_nombre(CIBLE_CROISSANCE)}) :",
                "",
                "| scénario | p95 petit volume | p95 grand volume | rapport des p95 | rapport du CPU app "
                "| rapport du SQL seul |",
                "|---|---|---|---|---|---|",
            ]
            for ligne in lignes:
                marque = "" if ligne["tenu"] else " (dépassé)"
                rapport_p95 = _nombre(ligne["ratio"], " ×")
                if "taille" in ligne:
                    taille = ligne["taille"]
                    rapport_p95 += (
                        f" ; {_entier(taille['petite'])} → {_entier(taille['grande'])} {taille['unite']}, "
                        f"par unité : {_nombre(ligne['ratio_par_unite'], ' ×')}"
                    )
                parties.append(
                    f"| {ligne['libelle']} | {_ms(ligne['p95_petit_ms'])} | {_ms(ligne['p95_grand_ms'])} "
                    f"| {rapport_p95}{marque} | {_nombre(ligne.get('cpu_ratio'), ' ×')} "
                    f"| {_nombre(ligne.get('sql_ratio'), ' ×')} |"
                )
        variantes = croissance_par_variante(precedent, resultat)
        if variantes:
            parties += [
                "",
                "**Croissance URL par URL** (p95 ; SQL seul au p50, rejoué sur la base) :",
                "",
                "| variante | p95 petit volume | p95 grand volume | rapport des p95 | SQL seul petit → grand "
                "| rapport du SQL seul |",
                "|---|---|---|---|---|---|",
            ]
            for ligne in variantes:
                marque = "" if ligne["tenu"] else " (dépassé)"
                parties.append(
                    f"| {ligne['variante']} | {_ms(ligne['p95_petit_ms'])} | {_ms(ligne['p95_grand_ms'])} "
                    f"| {_nombre(ligne['ratio'], ' ×')}{marque} "
                    f"| {_ms_precis(ligne['sql_petit_ms'])} → {_ms_precis(ligne['sql_grand_ms'])} "
                    f"| {_nombre(ligne['sql_ratio'], ' ×')} |"
                )
    return "\n".join(parties) + "\n"


def main(argv=None) -> None:
    """Réécrit le rapport Markdown d'un résultat JSON, avec la croissance depuis un autre volume."""
    import argparse
    import json
    from pathlib import Path

    p = argparse.ArgumentParser(description=main.__doc__)
    p.add_argument("resultat", type=Path)
    p.add_argument("--precedent", type=Path)
    args = p.parse_args(argv)
    resultat = json.loads(args.resultat.read_text())
    precedent = json.loads(args.precedent.read_text()) if args.precedent else None
    texte = rapport_markdown(resultat, precedent)
    args.resultat.with_suffix(".md").write_text(texte)
    print(texte)


def rapport_rafale(rafale: dict) -> str:
    controle = rafale.get("controle", {})
    source = f" — {rafale['source']}" if rafale.get("source") else ""
    lignes = [
        f"**Rafale de clôture**{source} : {_entier(rafale.get('porteurs'))} porteurs "
        "soumettent puis attestent en "
        f"{_nombre(rafale.get('duree_s'), ' s')} ({_nombre(rafale.get('debit_depots_par_s'), ' dépôts/s')}, "
        f"arrivées réparties sur {_nombre(rafale.get('etalement_s'), ' s')}).",
        "",
        "| étape | requêtes | erreurs | p50 | p95 | p99 |",
        "|---|---|---|---|---|---|",
    ]
    for nom, m in rafale.get("etapes", {}).items():
        lignes.append(
            f"| {nom} | {_entier(m.get('requetes'))} | {_entier(m.get('erreurs'))} | {_ms(m.get('p50_ms'))} "
            f"| {_ms(m.get('p95_ms'))} | {_ms(m.get('p99_ms'))} |"
        )
    if controle:
        lignes += [
            "",
            f"Contrôle en base : {_entier(controle.get('transmises'))} demandes transmises sur "
            f"{_entier(controle.get('attendues'))}, {_entier(controle.get('numeros_distincts'))} numéros "
            f"distincts, {_entier(controle.get('demandes_avec_une_attestation'))} avec exactement une ligne "
            f"« attester » au journal ({_entier(controle.get('lignes_attester'))} lignes), "
            f"`flask journal verify` : {controle.get('journal_verify', '—')}. "
            + ("**Aucun dépôt perdu ni dupliqué.**" if controle.get("intact") else "**Écart constaté.**"),
        ]
    return "\n".join(lignes)


if __name__ == "__main__":
    main()
