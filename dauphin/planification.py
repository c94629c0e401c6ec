"""Reprises planifiées avec le planificateur de RQ (RQ 2.5 et suivants) :

    rq cron --url "$DAUPHIN_REDIS_URL" dauphin.planification

Un seul processus `rq cron` suffit (à côté des travailleurs `rq worker … dauphin`). Il dépose chaque minute
dans la file une tâche qui reprend les courriels restés en attente (SMTP ou Redis en panne au moment de
la transition), et toutes les cinq minutes une qui produit les récépissés dont la tâche s'est perdue ; un
travailleur les exécute. Sans Redis, les mêmes reprises se planifient par cron : `flask courriels envoyer`
et `flask recepisses rattraper` (voir le README, « Production »).
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
