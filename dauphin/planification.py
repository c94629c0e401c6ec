"""Reprises planifiées avec le planificateur de RQ (RQ 2.5 et suivants) :

    rq cron --url "$DAUPHIN_REDIS_URL" dauphin.planification

Un seul processus `rq cron` suffit (à côté des travailleurs `rq worker … dauphin`). Il dépose chaque minute
dans la file une tâche qui reprend les courriels restés en attente (SMTP ou Redis en panne au moment de
la transition), toutes les cinq minutes une qui produit les récépissés dont la tâche s'est perdue, et
chaque nuit une qui efface la trace des lectures au-delà de sa durée de conservation ; un travailleur les
exécute ; chaque minute aussi, une qui distribue le flux aux webhooks et livre les envois dus. Sans Redis, les
mêmes tâches se planifient par cron : `flask courriels envoyer`, `flask recepisses rattraper`,
`flask lectures purger` et `flask webhooks livrer` (voir le README, « Production »).
"""

from rq import cron

from dauphin import jobs, taches

REPRISE_COURRIELS_SECONDES = 60
REPRISE_RECEPISSES_SECONDES = 300

# ttl : sans travailleur pendant un moment, les reprises ne s'empilent pas dans la file (une suffit).
cron.register(
    taches.envoyer_courriels,
    jobs.FILE,
    interval=REPRISE_COURRIELS_SECONDES,
    ttl=5 * REPRISE_COURRIELS_SECONDES,
)
cron.register(
    taches.rattraper_recepisses,
    jobs.FILE,
    interval=REPRISE_RECEPISSES_SECONDES,
    ttl=REPRISE_RECEPISSES_SECONDES,
)
# Chaque nuit à 3 h 17 (UTC) : pas au premier démarrage du planificateur, ni à l'heure ronde des autres
# tâches d'exploitation. Une nuit manquée (planificateur arrêté) est rattrapée la suivante.
PURGE_LECTURES = "17 3 * * *"
# Chaque minute : le flux distribué aux webhooks (ce qu'une tâche perdue avec Redis n'a pas fait) et les
# nouvelles tentatives venues à échéance.
REPRISE_WEBHOOKS_SECONDES = 60
cron.register(
    taches.webhooks, jobs.FILE, interval=REPRISE_WEBHOOKS_SECONDES, ttl=5 * REPRISE_WEBHOOKS_SECONDES
)
cron.register(taches.purger_lectures, jobs.FILE, cron=PURGE_LECTURES, ttl=6 * 3600)
